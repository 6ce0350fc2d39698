"""``receive_model``: messages validated by pydantic; an invalid one closes with 1007
or answers an error message, per ``invalid_message`` (route option or app default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from qake_core import App
from qake_testing import TestClient
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import WebSocket

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


class Say(BaseModel):
    kind: Literal["say"]
    text: Annotated[str, Field(max_length=20)]


class Leave(BaseModel):
    kind: Literal["leave"]


Command = Annotated[Say | Leave, Field(discriminator="kind")]


def _chat_app(make_app: MakeApp, **options: str) -> App:
    app = make_app()

    @app.websocket("/chat", **options)
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            command = await ws.receive_model(Command)
            if isinstance(command, Leave):
                await ws.close(1000, "bye")
                return
            await ws.send_json({"echo": command.text})

    return app


def test_valid_messages_arrive_as_models(make_app: MakeApp, client_for: MakeClient) -> None:
    with client_for(_chat_app(make_app)).websocket_connect("/chat") as session:
        session.send_json({"kind": "say", "text": "hi"})
        assert session.receive_json() == {"echo": "hi"}
        session.send_bytes(b'{"kind": "say", "text": "binary json"}')
        assert session.receive_json() == {"echo": "binary json"}
        session.send_json({"kind": "leave"})
        with pytest.raises(ClientDisconnect) as info:
            session.receive_json()
        assert (info.value.code, info.value.reason) == (1000, "bye")


@pytest.mark.parametrize(
    "bad",
    ['{"kind": "say", "text": "' + "x" * 21 + '"}', '{"kind": "shout"}', "[1,", '"text"'],
)
def test_an_invalid_message_closes_with_1007_by_default(
    make_app: MakeApp, client_for: MakeClient, bad: str
) -> None:
    with client_for(_chat_app(make_app)).websocket_connect("/chat") as session:
        session.send_text(bad)
        with pytest.raises(ClientDisconnect) as info:
            session.receive_json()
        assert info.value.code == 1007


def test_the_error_policy_answers_and_keeps_reading(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = _chat_app(make_app)
    app.websocket_invalid_message = "error"  # type: ignore[attr-defined]  # app-wide default
    with client_for(app).websocket_connect("/chat") as session:
        session.send_json({"kind": "say", "text": 5})
        error = session.receive_json()
        assert error["type"] == "error"
        assert error["errors"][0]["loc"] == ["say", "text"]
        assert "input" not in error["errors"][0]  # the client's data is not echoed back
        session.send_json({"kind": "say", "text": "ok"})
        assert session.receive_json() == {"echo": "ok"}


def test_a_type_adapter_is_taken_as_given(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()
    numbers = TypeAdapter(list[int])

    @app.websocket("/sum")
    async def total(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json(sum(await ws.receive_model(numbers)))

    with client_for(app).websocket_connect("/sum") as session:
        session.send_json([1, 2, 3])
        assert session.receive_json() == 6


def test_an_unknown_policy_fails_at_startup(make_app: MakeApp) -> None:
    app = _chat_app(make_app, invalid_message="ignore")
    with pytest.raises(ValueError, match=r"invalid_message must be 'close'.*or 'error'"):
        app.build()
