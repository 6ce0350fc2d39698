"""qake-security: authentication, authorization and protective middleware for qakeapi."""

from qake_core import Security, SecurityScopes
from qake_security._cors import CORSMiddleware
from qake_security._security_headers import (
    API_CSP,
    DEFAULT_CSP,
    DOCUMENT_ONLY_HEADERS,
    SecurityHeaderSets,
    SecurityHeadersMiddleware,
    security_header_sets,
    security_headers,
)
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
    "DOCUMENT_ONLY_HEADERS",
    "AnonymousUser",
    "AuthCredentials",
    "BaseUser",
    "CORSMiddleware",
    "Security",
    "SecurityHeaderSets",
    "SecurityHeadersMiddleware",
    "SecurityScopes",
    "SimpleUser",
    "credentials_of",
    "security_header_sets",
    "security_headers",
    "set_user",
    "user_of",
]
