"""``WorkerHeader``: an ASGI middleware that adds ``x-worker: <pid>`` to every HTTP
answer, so that a test sees which worker process answered (cache hits included)."""

from __future__ import annotations

import os

from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WorkerHeader"]


class WorkerHeader:
    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.header = (b"x-worker", str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), self.header]
            await send(message)

        await self.inner(scope, receive, tagged)
