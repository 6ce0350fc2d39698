"""``heartbeat``: application-level liveness on top of the server's protocol pings.

uvicorn's ``--ws-ping-interval`` / ``--ws-ping-timeout`` send protocol Ping frames that
browsers answer without the page's JavaScript; they find dead TCP peers. This helper
sends an application message instead, so it also finds a page that is frozen, hidden
behind a proxy that answers pings for it, or a client whose code stopped reading.
"""

from __future__ import annotations

import time
from types import TracebackType

import anyio
from anyio.abc import TaskGroup

from qake_ws._exceptions import WebSocketDisconnect
from qake_ws._websocket import WebSocket

__all__ = ["HEARTBEAT_TIMEOUT_CODE", "heartbeat"]

#: The close code when the peer stops answering: 1011, as the websockets library
#: (behind uvicorn) closes on its own keepalive timeout.
HEARTBEAT_TIMEOUT_CODE = 1011

_PING = '{"type":"ping"}'


class heartbeat:
    """``async with heartbeat(ws, interval=20, timeout=20):`` around the receive loop.

    Every ``interval`` seconds it sends ``message`` (``{"type":"ping"}`` by default); if
    no message at all arrives from the peer within ``timeout`` seconds after it, the
    connection is closed with 1011, the block is cancelled and
    :class:`WebSocketDisconnect` (1011) is raised at its end. Any message counts as an
    answer: clients reply ``{"type":"pong"}`` and the handler ignores it.
    """

    def __init__(
        self,
        websocket: WebSocket,
        *,
        interval: float = 20.0,
        timeout: float = 20.0,
        message: str = _PING,
    ) -> None:
        for name, value in (("interval", interval), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"heartbeat: {name} must be a positive number, got {value!r}")
        self.websocket = websocket
        self.interval = float(interval)
        self.timeout = float(timeout)
        self.message = message
        self.timed_out = False
        self._group: TaskGroup | None = None

    async def _beat(self) -> None:
        websocket = self.websocket
        try:
            while True:
                await anyio.sleep(self.interval)
                sent_at = time.monotonic()
                await websocket.send_text(self.message)
                await anyio.sleep(self.timeout)
                if websocket.last_received_at < sent_at:
                    break
        except (WebSocketDisconnect, RuntimeError):
            return  # the connection ended or closed meanwhile: nothing to watch
        self.timed_out = True
        try:
            await websocket.close(HEARTBEAT_TIMEOUT_CODE, "heartbeat timeout")
        except (OSError, RuntimeError, WebSocketDisconnect):
            pass
        assert self._group is not None
        self._group.cancel_scope.cancel()

    async def __aenter__(self) -> heartbeat:
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        group.start_soon(self._beat)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        group, self._group = self._group, None
        assert group is not None
        group.cancel_scope.cancel()
        suppressed = await group.__aexit__(exc_type, exc, tb)
        if self.timed_out:
            raise WebSocketDisconnect(HEARTBEAT_TIMEOUT_CODE, "heartbeat timeout")
        return bool(suppressed)
