"""qake-security: protective middleware for qakeapi (security headers, CORS)."""

from qake_security._cors import CORSMiddleware
from qake_security._security_headers import (
    DEFAULT_CSP,
    SecurityHeadersMiddleware,
    security_headers,
)

__all__ = ["DEFAULT_CSP", "CORSMiddleware", "SecurityHeadersMiddleware", "security_headers"]
