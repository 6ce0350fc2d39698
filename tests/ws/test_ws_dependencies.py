"""WebSocket routes on the compiled plan: typed parameters, Depends (with yield
clean-ups run when the socket ends), Security scopes, router and app dependencies,
overrides, and handshake refusals from dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest

from qake_core import (
    App,
    Cookie,
    Depends,
    Header,
    HTTPConnection,
    HTTPException,
    Path,
    Query,
    Router,
    Security,
    SecurityScopes,
)
from qake_testing import TestClient, WebSocketRejected
from qake_testing import WebSocketDisconnect as ClientDisconnect
from qake_ws import WebSocket, WebSocketDisconnect

MakeClient = Callable[[App], TestClient]
MakeApp = Callable[[], App]


def test_typed_path_query_header_and_cookie_parameters(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/rooms/{room}")
    async def room(
        ws: WebSocket,
        room: Annotated[str, Path(max_length=8)],
        page: Annotated[int, Query(ge=1)] = 1,
        tags: Annotated[list[str] | None, Query()] = None,
        x_client: Annotated[str | None, Header()] = None,
        theme: Annotated[str, Cookie()] = "light",
    ) -> None:
        await ws.accept()
        await ws.send_json([room, page, tags, x_client, theme])

    client = client_for(app)
    client.cookies.set("theme", "dark")
    with client.websocket_connect(
        "/rooms/lobby?page=3&tags=a&tags=b", headers={"x-client": "cli"}
    ) as session:
        assert session.receive_json() == ["lobby", 3, ["a", "b"], "cli", "dark"]


def test_invalid_parameters_refuse_the_handshake_with_422(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    ran: list[str] = []

    @app.websocket("/feed")
    async def feed(ws: WebSocket, since: int, limit: Annotated[int, Query(le=100)] = 10) -> None:
        ran.append("handler")
        await ws.accept()

    client = client_for(app)
    for url in ("/feed", "/feed?since=x", "/feed?since=1&limit=1000"):
        with pytest.raises(WebSocketRejected) as info, client.websocket_connect(url):
            pass
        assert info.value.status_code == 422
        assert info.value.headers["content-type"] == "application/problem+json"
        assert b'"errors"' in info.value.body
    assert ran == []


async def room_name(websocket: WebSocket, room: str, prefix: str = "r-") -> str:
    return prefix + room + ":" + websocket.url.path


def client_label(connection: HTTPConnection) -> str:  # sync: runs in a thread
    return connection.headers.get("user-agent", "?")


def test_a_dependency_gets_the_websocket_and_its_parameters(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/rooms/{room}")
    async def room(
        ws: WebSocket,
        name: Annotated[str, Depends(room_name)],
        label: str = Depends(client_label),
    ) -> None:
        await ws.accept()
        await ws.send_json([name, label])

    with client_for(app).websocket_connect(
        "/rooms/a?prefix=p-", headers={"user-agent": "ua"}
    ) as session:
        assert session.receive_json() == ["p-a:/rooms/a", "ua"]


def test_yield_dependency_exits_run_when_the_socket_ends(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    events: list[str] = []

    async def database() -> AsyncIterator[str]:
        events.append("open")
        try:
            yield "db"
        except WebSocketDisconnect as exc:
            events.append(f"saw disconnect {exc.code}")
            raise
        finally:
            events.append("closed")

    def lock() -> Iterator[str]:
        events.append("lock")
        try:
            yield "lock"
        finally:
            events.append("unlock")

    @app.websocket("/ws")
    async def handler(
        ws: WebSocket, db: str = Depends(database), held: str = Depends(lock)
    ) -> None:
        await ws.accept()
        await ws.send_text(db + held)
        await ws.receive_text()  # the client leaves: WebSocketDisconnect

    with client_for(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "dblock"
        assert events == ["open", "lock"]
    # newest first, the disconnect thrown into the async one
    assert events == ["open", "lock", "unlock", "saw disconnect 1000", "closed"]


def test_yield_dependency_exits_run_after_a_normal_return(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    events: list[str] = []

    async def resource() -> AsyncIterator[int]:
        yield 1
        events.append("released")

    @app.websocket("/once")
    async def once(ws: WebSocket, value: int = Depends(resource)) -> None:
        await ws.accept()
        await ws.send_json(value)

    with client_for(app).websocket_connect("/once") as session:
        assert session.receive_json() == 1
        with pytest.raises(ClientDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1000
    assert events == ["released"]


def _token_user(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization != "Bearer good":
        raise HTTPException(401, "bad token", headers={"WWW-Authenticate": "Bearer"})
    return "ada"


def test_an_auth_dependency_refuses_the_handshake_with_its_status_and_headers(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/me")
    async def me(ws: WebSocket, user: str = Depends(_token_user)) -> None:
        await ws.accept()
        await ws.send_text(user)

    client = client_for(app)
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/me"):
        pass
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert b"bad token" in info.value.body
    with client.websocket_connect("/me", headers={"authorization": "Bearer good"}) as session:
        assert session.receive_text() == "ada"


def test_router_and_app_dependencies_guard_websocket_routes(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    app.app_dependencies.append(Depends(lambda: order.append("app")))
    order: list[str] = []

    def router_guard(x_key: Annotated[str, Header()]) -> None:
        order.append("router")
        if x_key != "k":
            raise HTTPException(403, "wrong key")

    inner = Router(prefix="/inner", dependencies=[Depends(router_guard)])

    @inner.websocket("/{item}")
    async def item(ws: WebSocket, item: int) -> None:
        order.append("handler")
        await ws.accept()
        await ws.send_json(item)

    outer = Router(prefix="/v1")
    outer.include_router(inner, prefix="/api")
    app.include_router(outer)
    client = client_for(app)
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/v1/api/inner/5"):
        pass
    assert info.value.status_code == 422  # the guard's required header is missing
    with (
        pytest.raises(WebSocketRejected) as info,
        client.websocket_connect("/v1/api/inner/5", headers={"x-key": "no"}),
    ):
        pass
    assert info.value.status_code == 403
    order.clear()
    with client.websocket_connect("/v1/api/inner/5", headers={"x-key": "k"}) as session:
        assert session.receive_json() == 5
    assert order == ["app", "router", "handler"]


def test_security_scopes_reach_websocket_dependencies(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    granted = {"read"}

    def require(scopes: SecurityScopes) -> list[str]:
        missing = [s for s in scopes.scopes if s not in granted]
        if missing:
            raise HTTPException(403, f"missing scope {missing[0]}")
        return scopes.scopes

    @app.websocket("/read")
    async def read(ws: WebSocket, scopes: list[str] = Security(require, scopes=["read"])) -> None:
        await ws.accept()
        await ws.send_json(scopes)

    @app.websocket("/write")
    async def write(ws: WebSocket, scopes: list[str] = Security(require, scopes=["write"])) -> None:
        await ws.accept()

    client = client_for(app)
    with client.websocket_connect("/read") as session:
        assert session.receive_json() == ["read"]
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect("/write"):
        pass
    assert info.value.status_code == 403


def test_dependency_overrides_apply_to_websocket_routes(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    @app.websocket("/me")
    async def me(ws: WebSocket, user: str = Depends(_token_user)) -> None:
        await ws.accept()
        await ws.send_text(user)

    app.dependency_overrides[_token_user] = lambda: "tester"
    with client_for(app).websocket_connect("/me") as session:
        assert session.receive_text() == "tester"


def test_one_call_per_dependency_per_connection(make_app: MakeApp, client_for: MakeClient) -> None:
    app = make_app()
    calls: list[int] = []

    def counted() -> int:
        calls.append(1)
        return len(calls)

    def uses(value: int = Depends(counted)) -> int:
        return value

    @app.websocket("/ws")
    async def ws_route(ws: WebSocket, a: int = Depends(counted), b: int = Depends(uses)) -> None:
        await ws.accept()
        await ws.send_json([a, b])

    client = client_for(app)
    for expected in ([1, 1], [2, 2]):
        with client.websocket_connect("/ws") as session:
            assert session.receive_json() == expected


def test_a_dependency_error_after_a_yield_dependency_still_runs_its_exit(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()
    events: list[str] = []

    async def opened() -> AsyncIterator[None]:
        events.append("open")
        try:
            yield
        finally:
            events.append("exit")

    def refuse() -> None:
        raise HTTPException(401, "no")

    @app.websocket("/ws", dependencies=[Depends(opened), Depends(refuse)])
    async def ws_route(ws: WebSocket) -> None:
        events.append("handler")

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/ws"):
        pass
    assert info.value.status_code == 401
    assert events == ["open", "exit"]


def test_a_yield_dependency_may_turn_an_error_into_a_refusal(
    make_app: MakeApp, client_for: MakeClient
) -> None:
    app = make_app()

    async def translate() -> AsyncIterator[None]:
        try:
            yield
        except LookupError:
            raise HTTPException(404, "no such room") from None

    @app.websocket("/rooms/{room}", dependencies=[Depends(translate)])
    async def room(ws: WebSocket, room: str) -> None:
        raise LookupError(room)

    with pytest.raises(WebSocketRejected) as info, client_for(app).websocket_connect("/rooms/x"):
        pass
    assert info.value.status_code == 404


@pytest.mark.parametrize("annotation", [WebSocket, HTTPConnection, Any])
def test_the_connection_parameter_may_be_named_anything(
    make_app: MakeApp, client_for: MakeClient, annotation: Any
) -> None:
    app = make_app()

    async def handler(sock, n: int = 0) -> None:  # type: ignore[no-untyped-def]
        await sock.accept()
        await sock.send_json(n)

    handler.__annotations__["sock"] = annotation
    app.add_websocket_route("/n", handler)
    with client_for(app).websocket_connect("/n?n=4") as session:
        assert session.receive_json() == 4
