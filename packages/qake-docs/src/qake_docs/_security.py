"""Security schemes and requirements of the OpenAPI document, read from the routes'
dependencies.

A dependency declares a scheme when its callable has a ``security_scheme`` (an
OpenAPI Security Scheme Object) and a ``scheme_name`` (qake-security's dependencies,
or any callable that sets them), or when its ``Depends`` marker carries them as
``security_scheme=`` / ``scheme_name=`` keywords. The scopes an operation requires of a
scheme are those of the ``Security(..., scopes=[...])`` markers on the way to it,
outermost first, as FastAPI gathers them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qake_core import DependencySpec, RouteSpec

__all__ = ["SecuritySchemes"]


def _declared(dep: DependencySpec) -> tuple[str, dict[str, Any]] | None:
    """``(scheme_name, security_scheme)`` that ``dep`` declares, if any."""
    meta = dep.depends.meta
    call = dep.call
    scheme = meta.get("security_scheme", getattr(call, "security_scheme", None))
    if not isinstance(scheme, dict):
        return None
    name = meta.get("scheme_name") or getattr(call, "scheme_name", None)
    if not isinstance(name, str) or not name:
        name = getattr(call, "__name__", None) or type(call).__name__
    return name, scheme


class SecuritySchemes:
    """Collects ``components.securitySchemes`` while operations are described."""

    def __init__(self) -> None:
        self.schemes: dict[str, dict[str, Any]] = {}
        #: scheme name → the operation that declared it first (for the clash message)
        self.first: dict[str, str] = {}

    def requirements(self, spec: RouteSpec, where: str) -> list[dict[str, list[str]]]:
        """The operation's ``security``: one requirement per scheme its dependencies
        use, with the union of the scopes required of it (in order, no repeats)."""
        found: dict[str, list[str]] = {}
        self._walk(spec.dependencies, (), found, where)
        return [{name: scopes} for name, scopes in found.items()]

    def refuses(self, spec: RouteSpec) -> bool:
        """Whether a scheme of the route answers 401 itself when credentials are missing
        (``auto_error=False`` schemes hand ``None`` to the handler instead)."""
        return any(
            _declared(dep) is not None and getattr(dep.call, "auto_error", True) is not False
            for dep in spec.all_dependencies
        )

    def _walk(
        self,
        deps: Iterable[DependencySpec],
        scopes: tuple[str, ...],
        found: dict[str, list[str]],
        where: str,
    ) -> None:
        for dep in deps:
            here = (*scopes, *getattr(dep.depends, "scopes", ()))
            declared = _declared(dep)
            if declared is not None:
                name, scheme = declared
                self._register(name, scheme, where)
                required = found.setdefault(name, [])
                required.extend(s for s in dict.fromkeys(here) if s not in required)
            self._walk(dep.dependencies, here, found, where)

    def _register(self, name: str, scheme: dict[str, Any], where: str) -> None:
        known = self.schemes.get(name)
        if known is None:
            self.schemes[name] = scheme
            self.first[name] = where
        elif known != scheme:
            raise ValueError(
                f"OpenAPI: security scheme name {name!r} names two different schemes "
                f"({self.first[name]} and {where}); give one of them another scheme_name="
            )
