"""``Depends``: the dependency marker, and the app-scoped dependency store.

A dependency is any callable: a function, a class, a coroutine function, or a
(sync or async) generator function whose code after ``yield`` is its clean-up.
Its own parameters are resolved like a handler's. Within one request a dependency
is called once however many times it is declared (``use_cache=False`` opts out).
``scope="app"`` makes a singleton: created on first use and kept until the
lifespan shuts down (generators are resumed then).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Literal

import anyio

from qake_core._concurrency import run_in_threadpool

__all__ = ["AppScope", "Depends"]

logger = logging.getLogger("qake.error")

Scope = Literal["request", "app"]


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
        scope: Scope = "request",
        **meta: Any,
    ) -> None:
        if scope not in ("request", "app"):
            raise ValueError(f"Depends(scope={scope!r}): use 'request' or 'app'")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope: Scope = scope
        self.meta = meta

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        extra = "" if self.use_cache else ", use_cache=False"
        if self.scope != "request":
            extra += f", scope={self.scope!r}"
        return f"Depends({name}{extra})"


class AppScope:
    """Values of ``scope="app"`` dependencies for one application, and their exits."""

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}
        self._exits: list[Callable[[], Any]] = []
        self._lock = anyio.Lock()

    async def get(self, key: Any, create: Callable[[], Any]) -> Any:
        """The value for ``key``, awaiting ``create()`` once (concurrent callers wait)."""
        try:
            return self.values[key]
        except KeyError:
            pass
        async with self._lock:
            if key not in self.values:
                self.values[key] = await create()
            return self.values[key]

    def push_async_exit(self, gen: AsyncGenerator[Any, None]) -> None:
        async def close() -> None:
            async with contextlib.aclosing(gen):
                with contextlib.suppress(StopAsyncIteration):
                    await gen.__anext__()

        self._exits.append(close)

    def push_sync_exit(self, gen: Generator[Any, None, None]) -> None:
        def step() -> None:
            with contextlib.closing(gen), contextlib.suppress(StopIteration):
                next(gen)

        async def close() -> None:
            await run_in_threadpool(step)

        self._exits.append(close)

    async def aclose(self) -> None:
        """Tear down (newest first); a failing exit is logged, the others still run."""
        exits, self._exits = self._exits, []
        self.values.clear()
        while exits:
            try:
                await exits.pop()()
            except Exception:
                logger.exception("app-scoped dependency clean-up failed")
