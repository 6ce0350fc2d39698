"""Reference, not a peer: the bare app, also sending the headers qakeapi adds by default.

Every answer here is JSON or text, and qakeapi's defaults give those the security headers
of ``qake_security.security_header_sets().other`` (``X-Content-Type-Options`` and
``Content-Security-Policy: frame-ancestors 'none'``). The server pays for each header
line it sends (uvicorn checks every name and value with two regular expressions), so
this app prices those lines: bare ÷ this is what the headers cost, this ÷ qakeapi what
the framework costs. Measured only when named (``--frameworks bare,bare-headers,qakeapi``).
"""

from __future__ import annotations

from apps.bare_asgi import build
from apps.common import lazy_attribute
from qake_security import security_header_sets

HEADERS = [(bytes(name), bytes(value)) for name, value in security_header_sets().other]

app = build(extra_headers=HEADERS)
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: build(middleware=True, extra_headers=HEADERS),
        "app_small": lambda: build(extra=1, extra_headers=HEADERS),
        "app_auth": lambda: build(auth=True, extra_headers=HEADERS),
    },
    globals(),
)
