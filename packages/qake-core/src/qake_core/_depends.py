"""``Depends``: the dependency marker.

A dependency is any callable: a function, a class, a coroutine function, or a
(sync or async) generator function whose code after ``yield`` is its clean-up.
Its own parameters are resolved like a handler's. Within one request a dependency
is called once however many times it is declared (``use_cache=False`` opts out).
``scope="app"`` makes a singleton: created on first use and kept until the
lifespan shuts down (generators are resumed then; the app's store of them is
``_typed._app_scoped.AppScopedValues``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

__all__ = ["DependencyScope", "Depends"]

#: How long a dependency's value lives: one request, or the app's lifespan.
DependencyScope = Literal["request", "app"]


class Depends:
    """Declare a dependency: ``user: User = Depends(current_user)``.

    ``Annotated[User, Depends(current_user)]`` works too, and ``Depends()`` without a
    callable uses the annotation (a class) as the dependency. Extra keyword arguments
    are kept in ``meta`` for the layers above (qake-security reads a
    ``security_scheme`` from the dependency callable or from this marker).
    """

    __slots__ = ("dependency", "meta", "scope", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: DependencyScope = "request",
        **meta: Any,
    ) -> None:
        if scope not in ("request", "app"):
            raise ValueError(f"Depends(scope={scope!r}): use 'request' or 'app'")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope: DependencyScope = scope
        self.meta = meta

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        extra = "" if self.use_cache else ", use_cache=False"
        if self.scope != "request":
            extra += f", scope={self.scope!r}"
        return f"Depends({name}{extra})"
