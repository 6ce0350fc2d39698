"""qake-security: authentication, authorization and protective middleware for qakeapi."""

from qake_core import Security, SecurityScopes, TrustedHostMiddleware
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
from qake_security._oauth2_forms import OAuth2PasswordRequestForm, OAuth2PasswordRequestFormStrict
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
