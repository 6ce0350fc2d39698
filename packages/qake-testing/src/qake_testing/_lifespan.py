"""Run an app's ASGI lifespan: startup before the first request, shutdown after the last."""

from __future__ import annotations

import math
from contextlib import suppress
from typing import Any

import anyio

from ._types import ASGIApp, Message


class LifespanError(RuntimeError):
    """The app reported ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


class Lifespan:
    """Drives the ``lifespan`` scope; :meth:`run` is the app's task.

    An app that raises before it ever calls ``receive()``, or returns without answering
    the startup message, does not support lifespan (ASGI spec) and is run without it.
    """

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self._app = app
        self.state = state
        self._to_app_send, self._to_app_receive = anyio.create_memory_object_stream[Message](
            math.inf
        )
        self._from_app_send, self._from_app_receive = anyio.create_memory_object_stream[Message](
            math.inf
        )
        self._received = False
        self._supported = True
        self._exception: Exception | None = None

    async def run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        with self._from_app_send, self._to_app_receive:
            try:
                await self._app(scope, self._receive, self._send)
            except Exception as exc:
                self._exception = exc

    async def _receive(self) -> Message:
        self._received = True
        return await self._to_app_receive.receive()

    async def _send(self, message: Message) -> None:
        await self._from_app_send.send(message)

    async def _reply(self, phase: str) -> None:
        try:
            message = await self._from_app_receive.receive()
        except anyio.EndOfStream:
            if self._exception is not None and (self._received or phase == "shutdown"):
                raise self._exception from None
            if phase == "startup":
                self._supported = False
                return
            raise LifespanError("The app returned without answering 'lifespan.shutdown'.") from None
        kind = message["type"]
        if kind == f"lifespan.{phase}.complete":
            return
        if kind == f"lifespan.{phase}.failed":
            reason = message.get("message", "")
            raise LifespanError(f"Lifespan {phase} failed" + (f": {reason}" if reason else "."))
        raise LifespanError(f"Unexpected lifespan message {kind!r} during {phase}.")

    def close(self) -> None:
        """Release the client's ends of the channels (call once the app has finished)."""
        self._to_app_send.close()
        self._from_app_receive.close()

    async def startup(self) -> None:
        with suppress(anyio.BrokenResourceError):  # the app returned without receiving
            await self._to_app_send.send({"type": "lifespan.startup"})
        await self._reply("startup")

    async def shutdown(self) -> None:
        if not self._supported:
            return
        with suppress(anyio.BrokenResourceError):
            await self._to_app_send.send({"type": "lifespan.shutdown"})
        await self._reply("shutdown")
