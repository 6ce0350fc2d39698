"""``qake run --workers 2 examples.websocket_app:app`` with Redis: the chat across two
uvicorn worker processes, driven by httpx (the login form) and the ``websockets`` client.

Clients connect with the session cookie until both workers serve some of them; a message
from one reaches every client (Redis pub/sub), a later client finds it in the history
(the shared SQLite file), and the handshake still refuses a missing session, a
cross-site ``Origin`` and a bad room name.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qake_server import Server, qake_run
from redis_process import RedisProcess, redis_process
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

__all__ = ["redis_process"]  # the fixture, imported for the tests below

APP = "examples.websocket_app:app"
USERS = {"alice": "alice-long-password", "bob": "bob-long-password!"}  # no spaces
COOKIE = "__Host-session"
TIMEOUT = 5.0


def log_in(server: Server, username: str) -> str:
    """The session cookie's value after the login form (the cookies are ``Secure``:
    httpx keeps them for ``https://`` only, so this plain-HTTP test sends them itself)."""
    with httpx.Client(base_url=server.base, timeout=TIMEOUT) as http:
        page = http.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        cookies = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
        form = {"username": username, "password": USERS[username], "csrf_token": token[1]}
        answer = http.post("/login", data=form, headers={"cookie": cookies})
        assert answer.status_code == 303, answer.text
        return answer.cookies[COOKIE]


def worker_of(ws: ClientConnection, server_port: int) -> int:
    """The pid of the process holding the server side of ``ws``'s TCP connection."""
    client_port = ws.transport.get_extra_info("sockname")[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        # Only the live connection: an earlier one on the same ports may linger in
        # TIME_WAIT, owned by no process (inode 0).
        if (
            state == "01"  # ESTABLISHED
            and fields[9] != "0"
            and int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
        ):
            inode = fields[9]
    assert inode is not None, "the server side of the connection is not in /proc/net/tcp"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            for fd in fds:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
        except OSError:
            continue
    pytest.fail("no process holds the server side of the connection")


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next event of type ``kind`` (others' presence events are skipped)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            event: dict[str, Any] = json.loads(await ws.recv())
            if event["type"] == kind:
                return event


@pytest.fixture
def server(
    redis_process: RedisProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    """The chat under ``qake run --workers 2``, on a private Redis and a database file."""
    # qakeapi installed alone has qake-ws without its redis extra (RedisBroadcast)
    pytest.importorskip("redis", reason="RedisBroadcast needs redis-py (qake-ws[redis])")
    monkeypatch.setenv("CHAT_REDIS_URL", redis_process.url)
    monkeypatch.setenv("CHAT_APP_SECRET", "e2e secret of thirty-two bytes or more")
    monkeypatch.setenv("CHAT_APP_DB", str(tmp_path / "chat.db"))
    monkeypatch.setenv("CHAT_APP_USERS", " ".join(f"{u}:{p}" for u, p in USERS.items()))
    with qake_run(APP, "--workers", "2", log=tmp_path / "server.log") as running:
        yield running


def test_the_chat_runs_on_two_workers_with_redis(server: Server) -> None:
    sessions = {name: log_in(server, name) for name in USERS}
    url = f"ws://127.0.0.1:{server.port}/ws/rooms/lobby"

    def cookie(name: str) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={sessions[name]}"}

    async def main() -> None:
        clients: list[ClientConnection] = []
        pids: set[int] = set()
        try:
            async with asyncio.timeout(20):
                while len(pids) < 2 or len(clients) < 6:
                    assert len(clients) < 40, f"one worker served every client: {pids}"
                    name = "alice" if len(clients) % 2 else "bob"
                    ws = await connect(url, additional_headers=cookie(name))
                    clients.append(ws)
                    assert (await next_of(ws, "history"))["messages"] == []
                    await next_of(ws, "joined")
                    pids.add(worker_of(ws, server.port))
            sender = clients[0]
            await sender.send(json.dumps({"text": "hello both workers <b>"}))
            for ws in clients:
                event = await next_of(ws, "message")
                assert (event["author"], event["text"]) == ("bob", "hello both workers <b>")
            # a newcomer (on either worker) finds it in the shared database
            async with connect(url, additional_headers=cookie("alice")) as late:
                history = (await next_of(late, "history"))["messages"]
                assert [m["text"] for m in history] == ["hello both workers <b>"]
        finally:
            for ws in clients:
                await ws.close()

        with pytest.raises(InvalidStatus) as denied:
            async with asyncio.timeout(TIMEOUT), connect(url):
                pass
        assert denied.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as refused:
            evil = Origin("https://evil.example")
            async with (
                asyncio.timeout(TIMEOUT),
                connect(url, origin=evil, additional_headers=cookie("alice")),
            ):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as invalid:
            bad_room = url.replace("lobby", "Not-A-Room")
            async with (
                asyncio.timeout(TIMEOUT),
                connect(bad_room, additional_headers=cookie("bob")),
            ):
                pass
        assert invalid.value.response.status_code == 422

    asyncio.run(main())
    log = server.output()
    assert "Traceback" not in log, log
    for password in USERS.values():
        assert password not in log
