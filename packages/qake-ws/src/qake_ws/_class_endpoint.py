"""``WebSocketEndpoint``: a connection as an object with ``on_connect`` /
``on_receive`` / ``on_disconnect``, and its runner, built once per route."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal, get_type_hints

from qake_core import HandlerSignatureError
from qake_ws._exceptions import WebSocketDisconnect
from qake_ws._state import WebSocketState
from qake_ws._websocket import WebSocket

__all__ = ["WebSocketEndpoint", "class_runner"]

Encoding = Literal["text", "bytes", "json"] | None
_INTERNAL_ERROR = 1011


class WebSocketEndpoint:
    """Subclass it and register the class: ``app.add_websocket_route("/ws", Chat)`` or
    ``@app.websocket("/ws")`` on the class. One instance serves one connection.

    - ``on_connect(self, websocket, ...)`` declares the route's parameters as a function
      handler does (typed path/query/header/cookie values, ``Depends``, ``Security``);
      the default accepts. Not accepting (or closing) ends the connection there.
    - ``on_receive(self, websocket, data)`` runs for each message. ``data``'s annotation
      decides how it is read: ``str`` (text frames), ``bytes`` (binary frames), a pydantic
      model or any other type pydantic validates (JSON, validated: an invalid message
      closes with 1007 or answers an error message, per the route's ``invalid_message``);
      unannotated, by ``encoding`` (``"text"``, ``"bytes"``, ``"json"``, ``None`` for
      the raw text or bytes).
    - ``on_disconnect(self, websocket, close_code)`` runs once the connection is over
      (1011 when ``on_receive`` raised).
    """

    encoding: ClassVar[Encoding] = None

    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Handle one message (the default ignores it)."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Release what the connection held (the default does nothing)."""


Reader = Callable[[WebSocket], Awaitable[Any]]


async def _raw(websocket: WebSocket) -> Any:
    message = await websocket._receive_data()
    text = message.get("text")
    return text if text is not None else message.get("bytes", b"")


_READERS: dict[Encoding, Reader] = {
    "text": WebSocket.receive_text,
    "bytes": WebSocket.receive_bytes,
    "json": WebSocket.receive_json,
    None: _raw,
}


def _reader(cls: type[WebSocketEndpoint], where: str) -> Reader:
    """How ``cls.on_receive`` gets its ``data``: from the annotation, else ``encoding``."""
    encoding = cls.encoding
    if encoding not in _READERS:
        raise HandlerSignatureError(
            f"{where}: encoding = {encoding!r}; use 'text', 'bytes', 'json' or None"
        )
    params = list(inspect.signature(cls.on_receive).parameters.values())
    if len(params) != 3:
        raise HandlerSignatureError(
            f"{where}: on_receive must be `async def on_receive(self, websocket, data)`"
        )
    try:
        annotation = get_type_hints(cls.on_receive).get(params[2].name, Any)
    except Exception as exc:
        raise HandlerSignatureError(
            f"{where}: cannot resolve on_receive's annotations ({exc!r}); define the types "
            "they name at module level"
        ) from None
    if annotation is Any:
        return _READERS[encoding]
    if annotation is str:
        return WebSocket.receive_text
    if annotation is bytes:
        return WebSocket.receive_bytes
    from qake_ws._models import adapter_for

    try:
        adapter = adapter_for(annotation)
    except Exception as exc:
        raise HandlerSignatureError(
            f"{where}: on_receive's data is annotated {annotation!r}, which pydantic cannot "
            f"validate ({exc}); use str, bytes, a pydantic model or any supported type"
        ) from None

    async def read_model(websocket: WebSocket) -> Any:
        return await websocket.receive_model(adapter)

    return read_model


def class_runner(
    cls: type[WebSocketEndpoint], where: str
) -> Callable[[WebSocket, dict[str, Any]], Awaitable[None]]:
    """``run(websocket, kwargs)`` for a class endpoint (``kwargs``: on_connect's)."""
    for name in ("on_connect", "on_receive", "on_disconnect"):
        if not inspect.iscoroutinefunction(getattr(cls, name)):
            raise HandlerSignatureError(f"{where}: {name} must be an `async def`")
    required = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if required:
        raise HandlerSignatureError(
            f"{where}: {cls.__qualname__}() requires {required!r}; a class endpoint is "
            "made with no argument, once per connection (take inputs in on_connect)"
        )
    read = _reader(cls, where)

    async def run(websocket: WebSocket, kwargs: dict[str, Any]) -> None:
        endpoint = cls()
        await endpoint.on_connect(**kwargs)
        if websocket.application_state is not WebSocketState.CONNECTED:
            return  # refused or closed in on_connect
        close_code = 1000
        try:
            while True:
                data = await read(websocket)
                await endpoint.on_receive(websocket, data)
        except WebSocketDisconnect as exc:
            close_code = exc.code
        except BaseException:
            await endpoint.on_disconnect(websocket, _INTERNAL_ERROR)
            raise
        await endpoint.on_disconnect(websocket, close_code)

    return run
