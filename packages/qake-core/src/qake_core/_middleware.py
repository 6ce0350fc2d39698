"""Middleware declarations: pure ASGI (edge) and the in-framework hook chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from qake_core._requests import Request
from qake_core._responses import Response
from qake_core.types import ASGIApp

__all__ = ["CallNext", "HookMiddleware", "Middleware", "build_hook_chain"]

CallNext = Callable[[Request], Awaitable[Response]]
HookMiddleware = Callable[[Request, CallNext], Awaitable[Response]]


class Middleware:
    """A pure ASGI middleware class and its options: ``Middleware(GZipMiddleware, minimum_size=9)``.

    The class is instantiated once, when the application builds its stack, as
    ``cls(app, *args, **kwargs)``.
    """

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Instantiate the middleware around ``app``."""
        return self.cls(app, *self.args, **self.kwargs)

    def __iter__(self) -> Any:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        return f"Middleware({name}, {self.kwargs!r})"


def build_hook_chain(endpoint: CallNext, hooks: Sequence[HookMiddleware]) -> CallNext:
    """Compose ``hooks`` around ``endpoint``; the first hook is the outermost.

    Each hook is ``async def hook(request, call_next) -> Response``. The chain is a
    plain stack of awaits: no queues, no extra tasks, so contextvars, streaming
    responses and background tasks pass through untouched.
    """
    call: CallNext = endpoint
    for hook in reversed(hooks):
        call = _link(hook, call)
    return call


def _link(hook: HookMiddleware, call_next: CallNext) -> CallNext:
    async def call(request: Request) -> Response:
        return await hook(request, call_next)

    call.__qualname__ = f"hook<{getattr(hook, '__name__', 'middleware')}>"
    return call
