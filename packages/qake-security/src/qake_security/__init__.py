"""qake-security: authentication, authorization and protective middleware for qakeapi.

Each name is imported from its module when first read (PEP 562): an app that uses
only the security headers ``QakeAPI`` installs does not load sessions, CSRF, JWT,
passwords or rate limiting. PERF: ``import qake_security`` over qake_core, VmRSS in a
uvicorn-like process: 1,292 -> 52 KiB (26 modules -> 1); ``import qakeapi``: -688 KiB.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from qake_core import Security, SecurityScopes, TrustedHostMiddleware

if TYPE_CHECKING:
    from qake_security._api_key import APIKeyBase, APIKeyCookie, APIKeyHeader, APIKeyQuery
    from qake_security._cors import CORSMiddleware
    from qake_security._csrf import CSRFMiddleware, csrf_exempt, csrf_input, csrf_token
    from qake_security._escaping import escape_html, escape_js_string, safe_identifier, safe_url
    from qake_security._http_auth import (
        BasicLogin,
        HTTPAuthorizationCredentials,
        HTTPBase,
        HTTPBasic,
        HTTPBasicCredentials,
        HTTPBearer,
        HTTPDigest,
    )
    from qake_security._https_redirect import HTTPSRedirectMiddleware
    from qake_security._jwks import JWKSKeys
    from qake_security._jwt import InvalidToken, JWTAuth, TokenCredentials, VerifiedToken
    from qake_security._jwt_middleware import JWTAuthMiddleware
    from qake_security._oauth2 import OAuth2, OAuth2AuthorizationCodeBearer, OAuth2PasswordBearer
    from qake_security._oauth2_forms import (
        OAuth2PasswordRequestForm,
        OAuth2PasswordRequestFormStrict,
    )
    from qake_security._passwords import (
        PasswordHasher,
        hash_password,
        hash_password_sync,
        needs_rehash,
        verify_password,
        verify_password_sync,
    )
    from qake_security._permissions import (
        HasRole,
        HasScope,
        IsAuthenticated,
        Permission,
        PermissionCheck,
        requires,
    )
    from qake_security._rate_keys import by_api_key, by_client, by_user
    from qake_security._rate_limit import RateLimit
    from qake_security._rate_middleware import RateLimitMiddleware
    from qake_security._schemes import SecurityBase
    from qake_security._security_headers import (
        API_CSP,
        DEFAULT_CSP,
        DEFAULT_PERMISSIONS_POLICY,
        DOCUMENT_ONLY_HEADERS,
        SecurityHeaderPlan,
        SecurityHeaderSets,
        SecurityHeadersMiddleware,
        csp_nonce,
        security_header_plan,
        security_header_sets,
        security_headers,
    )
    from qake_security._security_headers_app import install_security_headers
    from qake_security._session_auth import (
        SessionAuth,
        SessionAuthMiddleware,
        login,
        logout,
        regenerate_session,
    )
    from qake_security._sessions import Session, SessionMiddleware
    from qake_security._users import (
        ANONYMOUS,
        AnonymousUser,
        AuthCredentials,
        BaseUser,
        SimpleUser,
        credentials_of,
        set_user,
        user_of,
    )

#: Public name -> the module that defines it (imported on first access).
_MODULES: dict[str, str] = {
    "APIKeyBase": "qake_security._api_key",
    "APIKeyCookie": "qake_security._api_key",
    "APIKeyHeader": "qake_security._api_key",
    "APIKeyQuery": "qake_security._api_key",
    "CORSMiddleware": "qake_security._cors",
    "CSRFMiddleware": "qake_security._csrf",
    "csrf_exempt": "qake_security._csrf",
    "csrf_input": "qake_security._csrf",
    "csrf_token": "qake_security._csrf",
    "escape_html": "qake_security._escaping",
    "escape_js_string": "qake_security._escaping",
    "safe_identifier": "qake_security._escaping",
    "safe_url": "qake_security._escaping",
    "BasicLogin": "qake_security._http_auth",
    "HTTPAuthorizationCredentials": "qake_security._http_auth",
    "HTTPBase": "qake_security._http_auth",
    "HTTPBasic": "qake_security._http_auth",
    "HTTPBasicCredentials": "qake_security._http_auth",
    "HTTPBearer": "qake_security._http_auth",
    "HTTPDigest": "qake_security._http_auth",
    "HTTPSRedirectMiddleware": "qake_security._https_redirect",
    "JWKSKeys": "qake_security._jwks",
    "InvalidToken": "qake_security._jwt",
    "JWTAuth": "qake_security._jwt",
    "TokenCredentials": "qake_security._jwt",
    "VerifiedToken": "qake_security._jwt",
    "JWTAuthMiddleware": "qake_security._jwt_middleware",
    "OAuth2": "qake_security._oauth2",
    "OAuth2AuthorizationCodeBearer": "qake_security._oauth2",
    "OAuth2PasswordBearer": "qake_security._oauth2",
    "OAuth2PasswordRequestForm": "qake_security._oauth2_forms",
    "OAuth2PasswordRequestFormStrict": "qake_security._oauth2_forms",
    "PasswordHasher": "qake_security._passwords",
    "hash_password": "qake_security._passwords",
    "hash_password_sync": "qake_security._passwords",
    "needs_rehash": "qake_security._passwords",
    "verify_password": "qake_security._passwords",
    "verify_password_sync": "qake_security._passwords",
    "HasRole": "qake_security._permissions",
    "HasScope": "qake_security._permissions",
    "IsAuthenticated": "qake_security._permissions",
    "Permission": "qake_security._permissions",
    "PermissionCheck": "qake_security._permissions",
    "requires": "qake_security._permissions",
    "by_api_key": "qake_security._rate_keys",
    "by_client": "qake_security._rate_keys",
    "by_user": "qake_security._rate_keys",
    "RateLimit": "qake_security._rate_limit",
    "RateLimitMiddleware": "qake_security._rate_middleware",
    "SecurityBase": "qake_security._schemes",
    "API_CSP": "qake_security._security_headers",
    "DEFAULT_CSP": "qake_security._security_headers",
    "DEFAULT_PERMISSIONS_POLICY": "qake_security._security_headers",
    "DOCUMENT_ONLY_HEADERS": "qake_security._security_headers",
    "SecurityHeaderPlan": "qake_security._security_headers",
    "SecurityHeaderSets": "qake_security._security_headers",
    "SecurityHeadersMiddleware": "qake_security._security_headers",
    "csp_nonce": "qake_security._security_headers",
    "security_header_plan": "qake_security._security_headers",
    "security_header_sets": "qake_security._security_headers",
    "security_headers": "qake_security._security_headers",
    "install_security_headers": "qake_security._security_headers_app",
    "SessionAuth": "qake_security._session_auth",
    "SessionAuthMiddleware": "qake_security._session_auth",
    "login": "qake_security._session_auth",
    "logout": "qake_security._session_auth",
    "regenerate_session": "qake_security._session_auth",
    "Session": "qake_security._sessions",
    "SessionMiddleware": "qake_security._sessions",
    "ANONYMOUS": "qake_security._users",
    "AnonymousUser": "qake_security._users",
    "AuthCredentials": "qake_security._users",
    "BaseUser": "qake_security._users",
    "SimpleUser": "qake_security._users",
    "credentials_of": "qake_security._users",
    "set_user": "qake_security._users",
    "user_of": "qake_security._users",
}

__all__ = [
    "ANONYMOUS",
    "API_CSP",
    "DEFAULT_CSP",
    "DEFAULT_PERMISSIONS_POLICY",
    "DOCUMENT_ONLY_HEADERS",
    "APIKeyBase",
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "AnonymousUser",
    "AuthCredentials",
    "BaseUser",
    "BasicLogin",
    "CORSMiddleware",
    "CSRFMiddleware",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "HTTPSRedirectMiddleware",
    "HasRole",
    "HasScope",
    "InvalidToken",
    "IsAuthenticated",
    "JWKSKeys",
    "JWTAuth",
    "JWTAuthMiddleware",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "PasswordHasher",
    "Permission",
    "PermissionCheck",
    "RateLimit",
    "RateLimitMiddleware",
    "Security",
    "SecurityBase",
    "SecurityHeaderPlan",
    "SecurityHeaderSets",
    "SecurityHeadersMiddleware",
    "SecurityScopes",
    "Session",
    "SessionAuth",
    "SessionAuthMiddleware",
    "SessionMiddleware",
    "SimpleUser",
    "TokenCredentials",
    "TrustedHostMiddleware",
    "VerifiedToken",
    "by_api_key",
    "by_client",
    "by_user",
    "credentials_of",
    "csp_nonce",
    "csrf_exempt",
    "csrf_input",
    "csrf_token",
    "escape_html",
    "escape_js_string",
    "hash_password",
    "hash_password_sync",
    "install_security_headers",
    "login",
    "logout",
    "needs_rehash",
    "regenerate_session",
    "requires",
    "safe_identifier",
    "safe_url",
    "security_header_plan",
    "security_header_sets",
    "security_headers",
    "set_user",
    "user_of",
    "verify_password",
    "verify_password_sync",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'qake_security' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next read is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
