"""Authorization: ``Permission`` objects and the ``requires(...)`` dependency.

A :class:`Permission` wraps a check ``check(request) -> bool`` (a plain function or an
``async def``); permissions combine with ``&``, ``|`` and ``~``. :func:`requires` turns
role names and permissions into a dependency for ``dependencies=[...]`` (route, router
or app) or ``Depends(...)``. A denied request is answered before the handler runs:
401 when the user is not authenticated (RFC 9110 §15.5.2: with a ``WWW-Authenticate``
challenge), 403 when it is but is not allowed (RFC 9110 §15.5.4).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from qake_core import Depends, HTTPConnection, HTTPException, Request
from qake_security._users import BaseUser, credentials_of, user_of

__all__ = [
    "HasRole",
    "HasScope",
    "IsAuthenticated",
    "Permission",
    "PermissionCheck",
    "requires",
]

#: What a permission runs: ``check(request)`` returning ``True`` to allow, sync or async.
#: It is given the ``Request`` on HTTP routes and the ``WebSocket`` on WebSocket routes;
#: a check that reads only what both have (headers, user, auth, path params) is
#: annotated ``HTTPConnection`` to say so (one annotated ``Request`` is accepted too).
PermissionCheck = Callable[[Request], "bool | Awaitable[bool]"]
_SyncCheck = Callable[[HTTPConnection], bool]
_AsyncCheck = Callable[[HTTPConnection], Awaitable[bool]]

#: The challenge sent with a 401 when the authentication layer names none (RFC 6750).
DEFAULT_CHALLENGE = "Bearer"


def _verdict(name: str, result: object) -> bool:
    """``result`` as a verdict. Anything but a bool is a bug in the check: refusing it
    keeps ``~Permission(check)`` from allowing what a check forgot to ``return``."""
    if result is True or result is False:
        return result
    raise TypeError(f"permission {name!r}: the check returned {result!r}; return True or False")


class Permission:
    """A rule a request must satisfy: ``Permission(check, name="owner")``.

    ``check(request)`` returns ``True`` to allow and ``False`` to deny; it may be an
    ``async def`` and sees ``request.user``, ``request.auth`` and
    ``request.path_params`` (``request`` is the ``WebSocket`` on WebSocket routes).
    ``a & b``, ``a | b`` (both short-circuit) and ``~a`` make new permissions; a
    combination of synchronous checks stays synchronous (no coroutine per request).
    """

    __slots__ = ("_async", "_sync", "name")

    def __init__(self, check: PermissionCheck, *, name: str | None = None) -> None:
        if not callable(check):
            raise TypeError(f"Permission(check): {check!r} is not callable")
        self.name: str = name or getattr(check, "__name__", None) or repr(check)
        self._sync: _SyncCheck | None = None
        self._async: _AsyncCheck | None = None
        label = self.name
        # The connection it is given: a Request (HTTP) or the WebSocket (WebSocket routes).
        call = cast("Callable[[HTTPConnection], Any]", check)
        if inspect.iscoroutinefunction(check) or inspect.iscoroutinefunction(
            getattr(check, "__call__", None)  # noqa: B004 - an async __call__ method
        ):

            async def run_async(request: HTTPConnection) -> bool:
                return _verdict(label, await call(request))

            self._async = run_async
        else:

            def run_sync(request: HTTPConnection) -> bool:
                return _verdict(label, call(request))

            self._sync = run_sync

    @classmethod
    def _of(cls, name: str, sync: _SyncCheck | None, async_: _AsyncCheck | None) -> Permission:
        made = cls.__new__(Permission)
        made.name, made._sync, made._async = name, sync, async_
        return made

    @property
    def is_async(self) -> bool:
        """Whether evaluating it awaits (some check in it is an ``async def``)."""
        return self._sync is None

    async def allows(self, request: HTTPConnection) -> bool:
        """Whether ``request`` passes."""
        if self._sync is not None:
            return self._sync(request)
        assert self._async is not None
        return await self._async(request)

    def _as_async(self) -> _AsyncCheck:
        if self._async is not None:
            return self._async
        sync = self._sync
        assert sync is not None

        async def lifted(request: HTTPConnection) -> bool:
            return sync(request)

        return lifted

    def __and__(self, other: Permission) -> Permission:
        return self._combine(other, "&", both=True)

    def __or__(self, other: Permission) -> Permission:
        return self._combine(other, "|", both=False)

    def _combine(self, other: Permission, symbol: str, both: bool) -> Permission:
        """``a & b`` (``both``) or ``a | b``, short-circuiting: the second check runs
        only when the first did not decide (False for ``&``, True for ``|``)."""
        if not isinstance(other, Permission):
            return NotImplemented
        name = f"({self.name} {symbol} {other.name})"
        a, b = self._sync, other._sync
        if a is not None and b is not None:
            sync_a, sync_b = a, b

            def combined_sync(request: HTTPConnection) -> bool:
                first = sync_a(request)
                return first if first is not both else sync_b(request)

            return Permission._of(name, combined_sync, None)
        first_check, second_check = self._as_async(), other._as_async()

        async def combined(request: HTTPConnection) -> bool:
            first = await first_check(request)
            return first if first is not both else await second_check(request)

        return Permission._of(name, None, combined)

    def __invert__(self) -> Permission:
        name = f"~{self.name}"
        sync, async_ = self._sync, self._async
        if sync is not None:
            return Permission._of(name, lambda r: not sync(r), None)
        assert async_ is not None

        async def negated(request: HTTPConnection) -> bool:
            return not await async_(request)

        return Permission._of(name, None, negated)

    def __repr__(self) -> str:
        return f"Permission({self.name})"


def _is_authenticated(request: HTTPConnection) -> bool:
    return user_of(request.scope).is_authenticated is True


#: Allows any authenticated user.
IsAuthenticated = Permission(_is_authenticated, name="IsAuthenticated")


class HasRole(Permission):
    """Allows an authenticated user with ``role`` among its roles."""

    __slots__ = ()

    def __init__(self, role: str) -> None:
        if not isinstance(role, str) or not role:
            raise TypeError(f"HasRole(role): give one role name as a string, got {role!r}")

        def has_role(request: HTTPConnection) -> bool:
            user = user_of(request.scope)
            return user.is_authenticated is True and role in user.roles

        super().__init__(has_role, name=f"HasRole({role!r})")


class HasScope(Permission):
    """Allows a request whose credentials were granted the OAuth2 scope ``scope``
    (``request.auth.scopes``: a token's ``scope`` claim, RFC 8693 §4.2)."""

    __slots__ = ()

    def __init__(self, scope: str) -> None:
        if not isinstance(scope, str) or not scope or " " in scope:
            raise TypeError(f"HasScope(scope): give one scope name, got {scope!r}")

        def has_scope(request: HTTPConnection) -> bool:
            credentials = credentials_of(request.scope)
            return credentials is not None and scope in credentials.scopes

        super().__init__(has_scope, name=f"HasScope({scope!r})")


def _permission_of(need: object) -> Permission:
    if isinstance(need, Permission):
        return need
    if isinstance(need, str) and need:
        return HasRole(need)
    if isinstance(need, list | tuple | set | frozenset):
        raise TypeError(
            f"requires({need!r}): pass the roles as separate arguments: requires(*roles)"
        )
    if callable(need):
        raise TypeError(
            f"requires({need!r}): wrap a check function in Permission: "
            "requires(Permission(check, name='...'))"
        )
    raise TypeError(
        f"requires({need!r}): pass role names (strings) or Permission objects, e.g. "
        "requires('admin') or requires(HasScope('items:write'))"
    )


def _attribute(target: Any, name: str) -> Any:
    if isinstance(target, Mapping):
        return target.get(name)
    return getattr(target, name, None)


def _challenge_of(auth: Any) -> str:
    """The ``WWW-Authenticate`` value the authentication layer ``auth`` names: its
    ``challenge`` (qake-security's schemes) or ``www_authenticate`` attribute, else its
    OpenAPI ``security_scheme``'s HTTP scheme, else ``Bearer``."""
    targets = [auth.dependency, auth.meta] if isinstance(auth, Depends) else [auth]
    for target in targets:
        for name in ("challenge", "www_authenticate"):
            value = _attribute(target, name)
            if isinstance(value, str) and value:
                return value
        scheme = _attribute(target, "security_scheme")
        if isinstance(scheme, Mapping) and scheme.get("type") == "http" and scheme.get("scheme"):
            return str(scheme["scheme"]).capitalize()
    return DEFAULT_CHALLENGE


def _denial(request: HTTPConnection, challenge: str) -> HTTPException:
    if user_of(request.scope).is_authenticated is not True:
        return HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": challenge})
    return HTTPException(403, "Not enough permissions")


def requires(*needs: str | Permission, auth: Any = None) -> Callable[..., Awaitable[BaseUser]]:
    """A dependency that lets a request through only when it meets every one of
    ``needs`` (role names and :class:`Permission` objects, combined with ``&``).

    Use it in ``dependencies=[requires("admin")]`` on a route, a ``Router`` or the app
    (they run before the handler's own dependencies), or as ``user =
    Depends(requires("admin"))`` (it returns the user). ``auth`` is the authentication
    dependency to run first (``requires("admin", auth=jwt)``); its ``WWW-Authenticate``
    challenge answers an unauthenticated request. Denied: 401 when the user is not
    authenticated, 403 when it is.
    """
    if not needs:
        raise TypeError(
            "requires() needs at least one role or Permission, e.g. requires('admin') or "
            "requires(IsAuthenticated)"
        )
    if auth is not None and not (isinstance(auth, Depends) or callable(auth)):
        raise TypeError(f"requires(auth={auth!r}): give the authentication dependency (callable)")
    permission = _permission_of(needs[0])
    for need in needs[1:]:
        permission = permission & _permission_of(need)
    challenge = _challenge_of(auth)
    sync, async_ = permission._sync, permission._async

    async def enforce(request: HTTPConnection) -> BaseUser:
        # PERF: a combination of sync checks is evaluated without a coroutine.
        allowed = sync(request) if sync is not None else await async_(request)  # type: ignore[misc]
        if not allowed:
            raise _denial(request, challenge)
        return user_of(request.scope)

    guard: Callable[..., Awaitable[BaseUser]] = enforce
    if auth is not None:
        marker = auth if isinstance(auth, Depends) else Depends(auth)

        async def authenticated_guard(request: HTTPConnection, _auth: Any = marker) -> BaseUser:
            return await enforce(request)

        guard = authenticated_guard
    guard.__qualname__ = guard.__name__ = f"requires[{permission.name}]"
    return guard
