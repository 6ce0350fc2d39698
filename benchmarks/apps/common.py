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


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def lazy_attribute(factories: Mapping[str, Callable[[], object]], namespace: dict[str, Any]) -> Any:
    """Return a module ``__getattr__`` that builds each name of ``factories`` on first access.

    The apps build ``app_mw`` (S6) and ``app_small`` (S5s) lazily so that a process
    serving only ``app`` does not pay for another route table (Litestar's registration
    alone takes seconds). The value is stored in the module: built once.
    """

    def __getattr__(attr: str) -> object:
        factory = factories.get(attr)
        if factory is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {attr!r}")
        value = namespace[attr] = factory()
        return value

    return __getattr__
