"""qake-security: protective middleware for qakeapi (security headers, CORS)."""

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

__all__ = [
    "API_CSP",
    "DEFAULT_CSP",
    "DOCUMENT_ONLY_HEADERS",
    "CORSMiddleware",
    "SecurityHeaderSets",
    "SecurityHeadersMiddleware",
    "security_header_sets",
    "security_headers",
]
