"""What every benchmark app shares: the request model and the size of the route table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

#: ``/r{i}/{x}`` and ``/static-{i}`` are registered, interleaved, for i in range(N_EXTRA),
#: after the scenario routes: 2,000 extra routes. S5 requests the last ``/r{i}/{x}``.
#: ``app_small`` (S5s) registers them for i = 0 only: 2 extra routes.
N_EXTRA = 1000

PLAINTEXT = "Hello, World!"
STATIC_TEXT = "static"

#: S7 (``app_auth``): the one origin CORS allows, and the HS256 key (32+ bytes, RFC 7518
#: 3.2) every app verifies the bearer token with. ``benchlib`` signs the token.
CORS_ORIGIN = "https://app.example.com"
JWT_KEY = "qakeapi-benchmark-hs256-key-0123456789abcdef"
JWT_ALGORITHM = "HS256"


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def lazy_attribute(factories: Mapping[str, Callable[[], object]], namespace: dict[str, Any]) -> Any:
    """Return a module ``__getattr__`` that builds each name of ``factories`` on first access.

    The apps build ``app_mw`` (S6), ``app_small`` (S5s) and ``app_auth`` (S7) lazily so
    that a process serving only ``app`` does not pay for another route table (Litestar's
    registration alone takes seconds). The value is stored in the module: built once.
    A factory may raise ``ImportError`` when what it needs is not there (yet): the drivers
    then report that app's scenarios as unavailable and measure the others.
    """

    def __getattr__(attr: str) -> object:
        factory = factories.get(attr)
        if factory is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {attr!r}")
        value = namespace[attr] = factory()
        return value

    return __getattr__
