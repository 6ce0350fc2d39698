"""``Depends``: the dependency marker.

A dependency is any callable: a function, a class, a coroutine function, or a
(sync or async) generator function whose code after ``yield`` is its clean-up.
Its own parameters are resolved like a handler's. Within one request a dependency
is called once however many times it is declared (``use_cache=False`` opts out).
``scope="app"`` makes a singleton: created on first use and kept until the
lifespan shuts down (generators are resumed then; the app's store of them is
``_typed._app_scoped.AppScopedValues``). ``scope="function"`` (FastAPI's) ends a
generator's value when the handler returns, before the response is sent; the default,
``"request"``, once the response has been sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

__all__ = ["DependencyScope", "Depends", "Security", "SecurityScopes"]

#: Extra keywords the layers above read from the marker: qake-docs' OpenAPI security
#: scheme of the dependency, and its name in the document.
_META = ("security_scheme", "scheme_name")

#: How long a dependency's value lives: the handler's call, one request, or the app's
#: lifespan.
DependencyScope = Literal["function", "request", "app"]


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
        if scope not in ("function", "request", "app"):
            raise ValueError(f"Depends(scope={scope!r}): use 'function', 'request' or 'app'")
        unknown = {k: v for k, v in meta.items() if k not in _META}
        if unknown:  # never silently ignored (FastAPI's max_concurrency...)
            from qake_core._options import reject_unknown_options

            where = f"Depends({getattr(dependency, '__qualname__', dependency)!r})"
            keys = ("dependency", "use_cache", "scope", *_META)
            reject_unknown_options("Depends", where, unknown, keys)
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


class Security(Depends):
    """A security dependency with the OAuth2 scopes it requires: ``Security(current_user,
    scopes=["items"])`` (FastAPI's name and behaviour).

    A dependency below it that takes a :class:`SecurityScopes` parameter receives the
    scopes of every ``Security`` on the way to it, outermost first. Within one request a
    security dependency is called once per distinct set of scopes.
    """

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
        **meta: Any,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache, **meta)
        if isinstance(scopes, str):
            raise TypeError(
                f"Security(scopes={scopes!r}): pass a list of scope names, not one string"
            )
        self.scopes: tuple[str, ...] = tuple(scopes or ())

    def __repr__(self) -> str:
        return f"Security({super().__repr__()[8:-1]}, scopes={list(self.scopes)!r})"


class SecurityScopes:
    """The scopes required on the way to a dependency (injected by type).

    ``scopes`` lists them (outermost ``Security`` first, no duplicates) and
    ``scope_str`` joins them with spaces, as an OAuth2 ``WWW-Authenticate`` header's
    ``scope`` attribute wants them (RFC 6750 section 3).
    """

    __slots__ = ("scope_str", "scopes")

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(dict.fromkeys(scopes or ()))
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
