"""``examples/websocket_app.py``: the chat, in process, as a browser sees it: the login
form (CSRF), then WebSockets authenticated by the session cookie — two people in one
room, history on join, rooms kept apart, presence, refused handshakes (no session, a
cross-site ``Origin``, a bad room name), invalid messages, and payloads kept as data."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.websocket_app import ROOM, Settings, create_app
from qakeapi import QakeAPI
from qakeapi.testing import (
    TestClient,
    WebSocketDisconnect,
    WebSocketRejected,
    assert_no_findings,
)

SECRET = b"c" * 32
ALICE = ("alice", "alice's long password")
BOB = ("bob", "bob's long password!")
COOKIE = "__Host-session"
STATIC = Path(__file__).resolve().parents[2] / "examples" / "static"


def chat_app(database: str = ":memory:", history: int = 50) -> QakeAPI:
    return create_app(
        Settings(SECRET, database, users=(ALICE, BOB), login_rate="1000/minute", history=history)
    )


@pytest.fixture(params=["asyncio", "trio"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A client of a fresh chat (in memory), on each anyio backend."""
    with TestClient(chat_app(), base_url="https://testserver", backend=request.param) as c:
        yield c


def csrf_field(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def log_in(client: TestClient, username: str, password: str) -> str:
    """Log in through the form in a fresh cookie jar; the session cookie's value."""
    client.cookies.clear()
    token = csrf_field(client.get("/").text)
    form = {"username": username, "password": password, "csrf_token": token}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.cookies[COOKIE]


def session_of(client: TestClient, username: str, password: str) -> str:
    """A session of ``username``, the client's cookie jar left empty (several users)."""
    session = log_in(client, username, password)
    client.cookies.clear()
    return session


def as_user(session: str, **extra: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE}={session}", **extra}


def receive_until(ws: Any, kind: str) -> dict[str, Any]:
    """The next event of type ``kind`` (presence events of others are skipped)."""
    for _ in range(20):
        event: dict[str, Any] = ws.receive_json()
        if event["type"] == kind:
            return event
    pytest.fail(f"no {kind!r} event")


def test_the_page_logs_in_with_csrf_and_shows_the_room(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'action="/login"' in page.text
    assert 'action="/signup"' in page.text
    token = csrf_field(page.text)
    assert (
        client.post("/login", data={"username": "alice", "password": ALICE[1]}).status_code == 403
    )
    wrong = client.post(
        "/login", data={"username": "alice", "password": "not it", "csrf_token": token}
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/login",
        data={"username": "alice", "password": ALICE[1], "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = client.get("/", params={"room": "python"})
    assert 'data-room="python"' in page.text
    assert '<script src="/static/chat.js">' in page.text
    assert client.get("/", params={"room": "Not A Room!"}).status_code == 422
    assert client.get("/static/chat.js").status_code == 200


def test_signup_stores_an_argon2_hash_and_logs_in(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.db")
    with TestClient(chat_app(db), base_url="https://testserver") as c:
        token = csrf_field(c.get("/").text)
        form = {"username": "carol", "password": "carol's password", "csrf_token": token}
        assert c.post("/signup", data=form, follow_redirects=False).status_code == 303
        assert "Logged in as <strong>carol</strong>" in c.get("/").text
        c.cookies.clear()
        token = csrf_field(c.get("/").text)
        taken = c.post("/signup", data={**form, "csrf_token": token})
        assert taken.status_code == 409
        short = {**form, "csrf_token": token, "username": "dave", "password": "short"}
        assert c.post("/signup", data=short).status_code == 422
        bad_name = {**form, "csrf_token": token, "username": "Dave; --"}
        assert c.post("/signup", data=bad_name).status_code == 422
    rows = sqlite3.connect(db).execute("SELECT username, password_hash FROM users").fetchall()
    stored = dict(rows)["carol"]
    assert stored.startswith(("$argon2id$", "$scrypt$"))
    assert "carol's password" not in stored


def test_two_sessions_chat_in_one_room(client: TestClient) -> None:
    alice, bob = session_of(client, *ALICE), session_of(client, *BOB)
    with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as a:
        assert a.receive_json() == {"type": "history", "room": "lobby", "messages": []}
        assert a.receive_json() == {"type": "joined", "user": "alice", "members": ["alice"]}
        with client.websocket_connect("/ws/rooms/lobby", headers=as_user(bob)) as b:
            assert b.receive_json()["type"] == "history"
            joined = {"type": "joined", "user": "bob", "members": ["alice", "bob"]}
            assert b.receive_json() == joined
            assert a.receive_json() == joined
            a.send_json({"text": "hi bob"})
            for ws in (a, b):
                event = ws.receive_json()
                assert (event["type"], event["author"], event["text"]) == (
                    "message",
                    "alice",
                    "hi bob",
                )
            b.send_json({"text": "hi alice"})
            assert receive_until(a, "message")["author"] == "bob"
            assert receive_until(b, "message")["text"] == "hi alice"
        assert a.receive_json() == {"type": "left", "user": "bob", "members": ["alice"]}


def test_history_replays_the_last_messages_on_join() -> None:
    with TestClient(chat_app(history=3), base_url="https://testserver") as client:
        alice, bob = session_of(client, *ALICE), session_of(client, *BOB)
        with client.websocket_connect("/ws/rooms/python", headers=as_user(alice)) as a:
            for i in range(5):
                a.send_json({"text": f"message {i}"})
                assert receive_until(a, "message")["text"] == f"message {i}"
        with client.websocket_connect("/ws/rooms/python", headers=as_user(bob)) as b:
            history = b.receive_json()
            assert [m["text"] for m in history["messages"]] == [
                "message 2",
                "message 3",
                "message 4",
            ]
            assert {m["author"] for m in history["messages"]} == {"alice"}
            ids = [m["id"] for m in history["messages"]]
            assert ids == sorted(ids)
        with client.websocket_connect("/ws/rooms/lobby", headers=as_user(bob)) as b:
            assert b.receive_json()["messages"] == []  # another room's history


def test_rooms_are_isolated(client: TestClient) -> None:
    alice, bob = session_of(client, *ALICE), session_of(client, *BOB)
    with (
        client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as a,
        client.websocket_connect("/ws/rooms/random", headers=as_user(bob)) as b,
    ):
        receive_until(a, "joined")
        receive_until(b, "joined")
        a.send_json({"text": "lobby only"})
        assert receive_until(a, "message")["text"] == "lobby only"
        b.send_json({"text": "random only"})
        # bob's next event is his own message: alice's never reached the other room
        assert b.receive_json()["text"] == "random only"


def test_a_handshake_without_a_session_is_denied(client: TestClient) -> None:
    with pytest.raises(WebSocketRejected) as denied, client.websocket_connect("/ws/rooms/lobby"):
        pytest.fail("connected without a session")
    assert denied.value.status_code == 401
    forged = as_user("A" * 43)
    with (
        pytest.raises(WebSocketRejected) as denied,
        client.websocket_connect("/ws/rooms/lobby", headers=forged),
    ):
        pytest.fail("connected with a made-up session id")
    assert denied.value.status_code == 401


def test_a_logged_out_session_no_longer_opens_a_socket(client: TestClient) -> None:
    alice = log_in(client, *ALICE)
    token = csrf_field(client.get("/").text)
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    with (
        pytest.raises(WebSocketRejected) as denied,
        client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)),
    ):
        pytest.fail("connected after logout")
    assert denied.value.status_code == 401


def test_a_cross_site_origin_is_refused_even_with_a_session(client: TestClient) -> None:
    alice = session_of(client, *ALICE)
    evil = as_user(alice, origin="https://evil.example")
    with (
        pytest.raises(WebSocketRejected) as refused,
        client.websocket_connect("/ws/rooms/lobby", headers=evil),
    ):
        pytest.fail("a cross-site page opened the socket")
    assert refused.value.status_code == 403
    own = as_user(alice, origin="https://testserver")
    with client.websocket_connect("/ws/rooms/lobby", headers=own) as ws:
        assert ws.receive_json()["type"] == "history"


@pytest.mark.parametrize("room", ["Lobby", "-x", "a" * 33, "a%20b", "a.b"])
def test_a_bad_room_name_is_refused(client: TestClient, room: str) -> None:
    assert not re.fullmatch(ROOM, room)
    alice = session_of(client, *ALICE)
    with (
        pytest.raises(WebSocketRejected) as refused,
        client.websocket_connect(f"/ws/rooms/{room}", headers=as_user(alice)),
    ):
        pytest.fail(f"joined room {room!r}")
    assert refused.value.status_code == 422


def test_invalid_messages_are_answered_and_the_socket_stays(client: TestClient) -> None:
    alice = session_of(client, *ALICE)
    with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as ws:
        receive_until(ws, "joined")
        for bad, where in (
            ("{}", ["text"]),
            ('{"text": ""}', ["text"]),
            ('{"text": "%s"}' % ("x" * 2001), ["text"]),
            ('{"text": 1}', ["text"]),
            ('{"text": "x", "to": "bob"}', ["to"]),
            ('["x"]', []),
            ("{not json", []),
        ):
            ws.send_text(bad)
            error = ws.receive_json()
            assert error["type"] == "error", bad
            assert [e["loc"] for e in error["errors"]] == [where], error
            assert all(e["msg"] for e in error["errors"])
        ws.send_json({"text": "still here"})
        assert ws.receive_json()["text"] == "still here"
    with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as ws:
        receive_until(ws, "joined")
        ws.send_text("x" * (8 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009


PAYLOADS = [
    "<script>alert(1)</script>",
    "'); DROP TABLE messages; --",
    '" onmouseover="alert(1)',
    "Robert'); DELETE FROM users WHERE ('1'='1",
]


def test_sql_and_html_payloads_are_stored_and_echoed_as_data(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.db")
    with TestClient(chat_app(db), base_url="https://testserver") as client:
        alice = session_of(client, *ALICE)
        with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as ws:
            receive_until(ws, "joined")
            for payload in PAYLOADS:
                ws.send_json({"text": payload})
                assert receive_until(ws, "message")["text"] == payload
        with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as ws:
            assert [m["text"] for m in ws.receive_json()["messages"]] == PAYLOADS
        assert session_of(client, *BOB)  # the users table is intact
    rows = sqlite3.connect(db).execute("SELECT text FROM messages ORDER BY id").fetchall()
    assert [text for (text,) in rows] == PAYLOADS


def test_the_page_script_writes_text_never_markup() -> None:
    lines = (STATIC / "chat.js").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.lstrip().startswith("//"))
    assert "textContent" in script
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_settings_for_several_workers_need_a_shared_secret_and_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("CHAT_APP_SECRET", raising=False)
    monkeypatch.setenv("CHAT_APP_DB", "chat.db")
    with pytest.raises(RuntimeError, match="CHAT_APP_SECRET"):
        Settings.from_env()
    monkeypatch.setenv("CHAT_APP_SECRET", "s" * 32)
    monkeypatch.delenv("CHAT_APP_DB")
    with pytest.raises(RuntimeError, match="CHAT_APP_DB"):
        Settings.from_env()
    monkeypatch.setenv("CHAT_APP_DB", "chat.db")
    monkeypatch.setenv("CHAT_APP_USERS", "alice:pw-one-1234 bob:pw:with:colons")
    settings = Settings.from_env()
    assert settings.secret == b"s" * 32
    assert settings.users == (("alice", "pw-one-1234"), ("bob", "pw:with:colons"))
    monkeypatch.setenv("CHAT_APP_USERS", "alice")
    with pytest.raises(RuntimeError, match="name:password"):
        Settings.from_env()
    monkeypatch.delenv("CHAT_APP_USERS")
    monkeypatch.delenv("CHAT_REDIS_URL")
    monkeypatch.delenv("CHAT_APP_SECRET")
    assert len(Settings.from_env().secret) == 32  # one process: a random secret


def test_presence_keeps_a_user_with_two_tabs_until_both_close(client: TestClient) -> None:
    alice, bob = session_of(client, *ALICE), session_of(client, *BOB)
    with client.websocket_connect("/ws/rooms/lobby", headers=as_user(bob)) as b:
        receive_until(b, "joined")
        with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as tab1:
            receive_until(tab1, "joined")
            assert receive_until(b, "joined")["members"] == ["bob", "alice"]
            with client.websocket_connect("/ws/rooms/lobby", headers=as_user(alice)) as tab2:
                receive_until(tab2, "joined")
                assert receive_until(b, "joined")["members"] == ["bob", "alice"]
            assert receive_until(b, "left") == {
                "type": "left",
                "user": "alice",
                "members": ["bob", "alice"],
            }
        assert receive_until(b, "left")["members"] == ["bob"]


def test_the_security_scanner_finds_nothing() -> None:
    assert_no_findings(chat_app())
