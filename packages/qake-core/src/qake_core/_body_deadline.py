"""The body-read deadline: a client that stops sending its body is answered 408.

Every read of the request body (``Request.body``/``stream``, and through them forms,
uploads and typed bodies) takes its messages through here: a read that has to wait
for the client waits at most ``Limits.body_timeout`` seconds for the next message,
then answers 408 with ``Connection: close`` (RFC 9110 §15.5.9) so that the server
drops the connection and the rest of the body.

PERF: a cancel scope with a deadline costs tens of thousands of instructions per read
(anyio's, or asyncio's ``timeout()``), yet most reads wait for nothing: the server
already holds the whole body. So on asyncio ``receive()`` is first run up to its first
suspension by :func:`run_into` under a ``for`` loop: a message it returns at once
costs no deadline, and no exception either (a generator returning None ends a ``for``
loop without raising StopIteration). Only a receive that must wait for the network is
finished under a deadline, by :class:`Deadline`, which hands each future the receive
waits on to the event loop as ``await`` would and cancels that future when the time
is up. No cancel scope is entered around a receive already started: the receive may
hold scopes of its own across its suspension, and they stay nested as they were.
Under trio (not benchmarked) the read runs under an anyio deadline from the start.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from qake_core._exceptions import HTTPException
from qake_core.types import Message, Receive

__all__ = ["Deadline", "body_timed_out", "run_into", "running_loop", "steps_of", "under_scope"]


def body_timed_out(timeout: float) -> HTTPException:
    """The 408 answering a client that sent no body bytes for ``timeout`` seconds."""
    return HTTPException(
        408,
        f"The client sent no part of the request body for {timeout:g} seconds.",
        headers={"connection": "close"},
    )


def _no_loop() -> Any:
    """``asyncio._get_running_loop`` until asyncio is imported (not at all under trio)."""
    global running_loop
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    running_loop = asyncio._get_running_loop
    return running_loop()


#: The running asyncio event loop, or None (trio). PERF: one C call once asyncio is in;
#: read it as ``_body_deadline.running_loop`` (the name is rebound).
running_loop: Callable[[], Any] = _no_loop


def steps_of(awaitable: Awaitable[Message]) -> Any:
    """What ``yield from`` can step through for an awaitable that is not a coroutine."""
    dunder = getattr(awaitable, "__await__", None)
    # A generator-based coroutine (``types.coroutine``) is its own steps.
    return awaitable if dunder is None else dunder()


@types.coroutine
def run_into(steps: Any, into: Any) -> Generator[Any, Any, None]:
    """Run ``steps`` (a coroutine, or :func:`steps_of` an awaitable) and put what it
    returns in ``into._received``; iterated, it yields only what the receive waits on."""
    into._received = yield from steps


class Deadline:
    """Awaits the rest of a :func:`run_into` stopped at its first suspension on
    asyncio (``pending``: the future the receive waits on, or None for a bare yield)
    and cancels what it waits on once ``timeout`` seconds have passed."""

    __slots__ = ("late", "pending", "steps", "timeout")

    def __init__(self, steps: Any, pending: Any, timeout: float | None) -> None:
        self.steps = steps
        self.pending = pending
        self.timeout = timeout
        self.late = False

    def _expire(self) -> None:
        self.late = True
        pending = self.pending
        if pending is not None and not pending.done():
            pending.cancel()

    def __await__(self) -> Generator[Any, Any, None]:
        import asyncio

        steps, value, timeout = self.steps, self.pending, self.timeout
        self.pending = value if asyncio.isfuture(value) else None
        handle = None
        if timeout is not None:
            handle = asyncio.get_running_loop().call_later(timeout, self._expire)
        try:
            while True:
                try:
                    sent = yield value
                except BaseException as exc:  # a cancellation, GeneratorExit: passed on
                    step: Callable[[Any], Any] = steps.throw
                    arg: Any = exc
                else:
                    if self.late and self.pending is None:  # woken from a bare yield
                        step, arg = steps.throw, asyncio.CancelledError()
                    else:
                        step, arg = steps.send, sent
                try:
                    value = step(arg)
                except StopIteration:
                    return
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if self.late and timeout is not None and not (task and task.cancelling()):
                        raise body_timed_out(timeout) from None
                    raise
                if asyncio.isfuture(value):
                    self.pending = value
                    if self.late:
                        value.cancel()
                else:
                    self.pending = None
        finally:
            if handle is not None:
                handle.cancel()


async def under_scope(receive: Receive, seconds: float | None) -> Message:
    """``await receive()`` under an anyio deadline of ``seconds`` (trio)."""
    if seconds is None:
        return await receive()
    import anyio

    with anyio.move_on_after(seconds):
        return await receive()
    raise body_timed_out(seconds)
