"""A chat with rooms on qakeapi: WebSockets, a session login, a browser page, history.

* ``GET /``: the page. Logged out, a login form and a sign-up form (argon2id hashes via
  qake-security, CSRF tokens on both); logged in, a room picker, the room's messages
  and a message form, driven by ``/static/chat.js``.
* ``WS /ws/rooms/{room}``: the room. The handshake is authenticated by the session
  cookie (the ``current_user`` dependency; nobody logged in → HTTP 401) and by the
  ``Origin`` check qake-ws does by default (a cross-site page → HTTP 403). On connect
  the socket gets the room's last messages from the database (``history``), joins the
  room's presence and everyone sees ``joined``. Each message the client sends is
  validated (``receive_model(ChatIn)``: an invalid one is answered with an ``error``
  message), stored with bound parameters, then published to the room: every socket of
  the room, on any worker, receives it. A room name outside ``ROOM`` → HTTP 422.
* Messages are data end to end: SQL text only ever carries ``?`` placeholders, the
  server sends JSON, and the page shows every name and text through ``textContent``
  (never ``innerHTML``), so ``<script>`` or ``'; DROP TABLE`` payloads stay text (XSS-
  and SQL-injection-safe).

One process: ``qake run examples.websocket_app:app`` and open http://localhost:8000
(the session and CSRF cookies are ``__Host-``/``Secure``: browsers send them to
``https://`` sites and to ``http://localhost``). Several workers share a Redis server
(broadcast, presence, sessions, rate limits), a signing secret and a database file::

    CHAT_REDIS_URL=redis://127.0.0.1:6379/0 CHAT_APP_SECRET=$(openssl rand -hex 32) \\
    CHAT_APP_DB=chat.db qake run --workers 2 examples.websocket_app:app

``CHAT_APP_USERS="alice:password1234 bob:password5678"`` creates users at start-up.
"""

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any, Self

import anyio
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from qakeapi import (
    Depends,
    Form,
    HTMLResponse,
    HTTPConnection,
    HTTPException,
    Jinja2Templates,
    MemoryStore,
    Path,
    QakeAPI,
    Query,
    RedirectResponse,
    RedisStore,
    Request,
    SettingsConfigDict,
    StaticFiles,
    Store,
    WebSocket,
    WebSocketDisconnect,
    run_in_threadpool,
)
from qakeapi import Settings as SettingsBase
from qakeapi.security import (
    CSRFMiddleware,
    RateLimit,
    SessionAuth,
    SessionAuthMiddleware,
    SessionMiddleware,
    SimpleUser,
    csrf_input,
    hash_password,
    login,
    logout,
    verify_password,
)
from qakeapi.ws import (
    Broadcast,
    BroadcastUnavailable,
    MemoryBroadcast,
    Presence,
    RedisBroadcast,
    Subscriber,
    SubscriberDropped,
)

HERE = FilePath(__file__).parent
USERNAME = r"^[a-z0-9_]{3,32}$"
#: Room names: what may appear in ``/ws/rooms/{room}`` (and in a channel name).
ROOM = r"^[a-z0-9][a-z0-9_-]{0,31}$"
ROOMS = ("lobby", "python", "random")  # the picker's suggestions; any ROOM name works
#: Messages replayed to a socket that joins a room.
HISTORY = 50
MAX_TEXT = 2000
_TRY_AGAIN_LATER = 1013  # RFC 6455: the server is overloaded (a too slow subscriber)


SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, room TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,
  sent REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_room ON messages (room, id);
"""


class Database:
    """SQLite with bound parameters only; calls run in a worker thread, one at a time.

    A file database is shared by the workers (WAL journal: readers never wait for the
    writer; a writer waits up to ``timeout`` seconds for another process's write).
    """

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self._conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._conn:
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)

    def _run(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock, self._conn:
            return self._conn.execute(sql, params).fetchall()

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await run_in_threadpool(self._run, sql, params)

    def close(self) -> None:
        self._conn.close()


class ChatIn(BaseModel):
    """A message from a browser: ``{"text": "..."}`` and nothing else."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)


@dataclass(frozen=True)
class Chat:
    """What the routes share, opened by the lifespan: the database, the broadcast and
    the presence of each room."""

    db: Database
    broadcast: Broadcast
    presence: Presence
    history_size: int = HISTORY

    async def save(self, room: str, author: str, text: str) -> dict[str, Any]:
        """Store a message; the event every socket of the room is sent."""
        sent = time.time()
        rows = await self.db.query(
            "INSERT INTO messages (room, author, text, sent) VALUES (?, ?, ?, ?) RETURNING id",
            room,
            author,
            text,
            sent,
        )
        return {"type": "message", "id": rows[0][0], "author": author, "text": text, "sent": sent}

    async def history(self, room: str) -> list[dict[str, Any]]:
        """The room's last ``history_size`` messages, oldest first."""
        rows = await self.db.query(
            "SELECT id, author, text, sent FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?",
            room,
            self.history_size,
        )
        return [
            {"type": "message", "id": id_, "author": author, "text": text, "sent": sent}
            for id_, author, text, sent in reversed(rows)
        ]

    async def announce(self, room: str, kind: str, user: str) -> None:
        """Tell the room who joined or left, with who is there now (a user with two
        tabs open is one name)."""
        present = await self.presence.members(room)
        members = list(dict.fromkeys(member.partition("/")[0] for member in present))
        await self.broadcast.publish(
            channel(room), {"type": kind, "user": user, "members": members}
        )


def channel(room: str) -> str:
    return f"chat:{room}"


def get_chat(conn: HTTPConnection) -> Chat:
    """The chat the lifespan opened (lifespan state), for HTTP routes and WebSockets."""
    chat: Chat = conn.state.chat
    return chat


async def current_user(websocket: WebSocket) -> SimpleUser:
    """The logged-in user of a WebSocket handshake (its session cookie), else HTTP 401.

    ``SessionAuthMiddleware`` read the session before the handshake reached the route.
    """
    user = websocket.user
    if not isinstance(user, SimpleUser) or not user.is_authenticated:
        raise HTTPException(401, "Log in first", headers={"WWW-Authenticate": "Session"})
    return user


ChatDep = Annotated[Chat, Depends(get_chat)]
# An unknown user costs a password verification too (no user enumeration by timing).
_DUMMY_HASH: list[str] = []


async def check_password(db: Database, username: str, password: str) -> bool:
    rows = await db.query("SELECT password_hash FROM users WHERE username = ?", username)
    if not rows:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(await hash_password(secrets.token_urlsafe(16)))
        await verify_password(password, _DUMMY_HASH[0])
        return False
    return await verify_password(password, rows[0][0])


async def add_user(db: Database, username: str, password: str, *, replace: bool = False) -> bool:
    """Create a user (``replace``: or set their password); ``False`` when the name is taken."""
    stored = await hash_password(password)
    sql = "INSERT INTO users VALUES (?, ?, ?)"
    if replace:
        sql += " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash"
    try:
        await db.query(sql, username, stored, time.time())
    except sqlite3.IntegrityError:
        return False
    return True


def add_pages(app: QakeAPI, store: Store, login_rate: str) -> None:
    """The HTML page and its forms (session cookie + CSRF token on each form)."""
    templates = Jinja2Templates(directory=HERE / "templates")
    session_user = SessionAuth(auto_error=False)

    @app.get("/")
    async def home(
        request: Request,
        user: Annotated[Any, Depends(session_user)],
        room: Annotated[str, Query(pattern=ROOM)] = ROOMS[0],
    ) -> HTMLResponse:
        context = {
            "user": user,
            "room": room,
            "rooms": ROOMS,
            "room_pattern": ROOM.strip("^$"),
            "max_text": MAX_TEXT,
            "csrf_input": csrf_input(request),
        }
        return templates.TemplateResponse(request, "chat.html", context)

    limit = RateLimit(login_rate, name="chat-login", store=store)

    @app.post("/login", dependencies=[limit])
    async def web_login(
        request: Request,
        chat: ChatDep,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> RedirectResponse:
        if not await check_password(chat.db, username, password):
            raise HTTPException(401, "Incorrect username or password")
        login(request, username)  # a new session id
        return RedirectResponse("/", status_code=303)

    @app.post("/signup", dependencies=[limit])
    async def web_signup(
        request: Request,
        chat: ChatDep,
        username: Annotated[str, Form(pattern=USERNAME)],
        password: Annotated[str, Form(min_length=12, max_length=1024)],
    ) -> RedirectResponse:
        if not await add_user(chat.db, username, password):
            raise HTTPException(409, "That username is taken")
        login(request, username)
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def web_logout(request: Request) -> RedirectResponse:
        logout(request)
        return RedirectResponse("/", status_code=303)


async def _live(
    subscriber: Subscriber, websocket: WebSocket, after: int, done: anyio.CancelScope
) -> None:
    """The room's events to the socket (messages up to ``after`` were in the history);
    a socket too slow to keep up is closed with 1013 (try again later)."""
    try:
        async for event in subscriber:
            if event.get("type") == "message" and event["id"] <= after:
                continue
            await websocket.send_json(event)
    except SubscriberDropped:
        await websocket.close(_TRY_AGAIN_LATER, "too slow")
    except WebSocketDisconnect:
        pass
    done.cancel()


async def _stay_present(chat: Chat, room: str, member: str) -> None:
    """Join again well within the presence ttl, so a live socket never expires."""
    while True:
        await anyio.sleep(chat.presence.ttl / 3)
        await chat.presence.join(room, member)


async def _talk(chat: Chat, websocket: WebSocket, room: str, user: str) -> None:
    """The client's messages: validated, stored, published; until it disconnects.

    An invalid message (not JSON, not a ``ChatIn``) is answered with ``{"type":
    "error", "errors": [...]}`` by ``receive_model`` (the route's
    ``invalid_message="error"``) and the next one is read.
    """
    while True:
        incoming = await websocket.receive_model(ChatIn)
        event = await chat.save(room, user, incoming.text)
        try:
            await chat.broadcast.publish(channel(room), event)
        except BroadcastUnavailable:
            detail = "saved, but not delivered: the chat is unavailable"
            await websocket.send_json({"type": "error", "errors": [{"msg": detail}]})


async def join_room(chat: Chat, websocket: WebSocket, room: str, name: str) -> None:
    """One member in one room: history, presence, then messages both ways."""
    await websocket.accept()
    # Subscribed before the history is read: no message falls between the two (one in
    # both is sent once, see _live).
    async with chat.broadcast.subscribe(channel(room)) as subscriber:
        history = await chat.history(room)
        await websocket.send_json({"type": "history", "room": room, "messages": history})
        last = history[-1]["id"] if history else 0
        member = f"{name}/{secrets.token_hex(8)}"  # one presence entry per socket
        await chat.presence.join(room, member)
        try:
            await chat.announce(room, "joined", name)
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_live, subscriber, websocket, last, tasks.cancel_scope)
                tasks.start_soon(_stay_present, chat, room, member)
                try:
                    await _talk(chat, websocket, room, name)
                except WebSocketDisconnect:
                    pass
                tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await chat.presence.leave(room, member)
                try:
                    await chat.announce(room, "left", name)
                except BroadcastUnavailable:
                    pass


Room = Annotated[str, Path(pattern=ROOM)]
User = Annotated[SimpleUser, Depends(current_user)]


def add_socket(app: QakeAPI) -> None:
    # idle_timeout=None: a reader may stay silent for hours; dead peers are found by the
    # server's protocol pings (qake run --ws-ping-interval / --ws-ping-timeout).
    @app.websocket(
        "/ws/rooms/{room}",
        max_message_size=8 * 1024,
        max_messages_per_second=10,
        idle_timeout=None,
        invalid_message="error",
    )
    async def room_socket(websocket: WebSocket, room: Room, user: User, chat: ChatDep) -> None:
        await join_room(chat, websocket, room, user.identity)


class ChatEnvironment(SettingsBase):
    """The ``CHAT_*`` variables (from the environment, a ``.env`` file or files of those
    names in ``/run/secrets``; empty means unset), checked by :meth:`Settings.from_env`."""

    model_config = SettingsConfigDict(env_prefix="CHAT_APP_")

    #: ``CHAT_APP_SECRET``: signs sessions and CSRF tokens (32+ bytes for several workers).
    secret: SecretStr | None = None
    #: ``CHAT_APP_DB``: the SQLite database (a file the workers share).
    db: str = ":memory:"
    #: ``CHAT_APP_USERS``: ``name:password`` pairs, space-separated, created at start-up.
    users: SecretStr = SecretStr("")
    #: ``CHAT_REDIS_URL``: broadcast, presence, sessions and rate limits in Redis.
    redis_url: str | None = Field(None, validation_alias="CHAT_REDIS_URL")


@dataclass(frozen=True)
class Settings:
    """Where the chat keeps its state; ``from_env`` reads ``CHAT_*`` variables."""

    secret: bytes
    database: str = ":memory:"
    redis_url: str | None = None
    users: tuple[tuple[str, str], ...] = ()
    login_rate: str = "10/minute"
    history: int = HISTORY

    @classmethod
    def from_env(cls) -> Self:
        env = ChatEnvironment.load()
        redis_url = env.redis_url
        secret = env.secret.get_secret_value().encode() if env.secret else b""
        database = env.db
        if redis_url and (len(secret) < 32 or database == ":memory:"):
            raise RuntimeError(
                "CHAT_REDIS_URL is set (several workers): set CHAT_APP_SECRET (32+ bytes, "
                "the same for every worker) and CHAT_APP_DB (a database file they share)"
            )
        users = []
        for entry in env.users.get_secret_value().split():
            name, _, password = entry.partition(":")
            if not password:
                raise RuntimeError("CHAT_APP_USERS: give 'name:password' pairs, space-separated")
            users.append((name, password))
        return cls(secret or secrets.token_bytes(32), database, redis_url, tuple(users))


def create_app(settings: Settings | None = None) -> QakeAPI:
    """The chat: Redis broadcast and store when ``settings.redis_url``, else in memory."""
    settings = settings or Settings(secrets.token_bytes(32))
    store: Store = RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()
    broadcast: Broadcast = (
        RedisBroadcast(settings.redis_url) if settings.redis_url else MemoryBroadcast()
    )

    @asynccontextmanager
    async def lifespan(app: QakeAPI) -> AsyncIterator[dict[str, Any]]:
        db = Database(settings.database)
        try:
            for username, password in settings.users:
                await add_user(db, username, password, replace=True)
            async with broadcast:
                presence = Presence(store, prefix="chat:presence:")
                yield {"chat": Chat(db, broadcast, presence, settings.history)}
        finally:
            db.close()
            if isinstance(store, RedisStore):
                await store.aclose()

    app = QakeAPI(title="Chat example", version="1.0", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    add_pages(app, store, settings.login_rate)
    add_socket(app)
    # Added last = outermost: sessions (kept on the store, so logging out ends them on
    # every worker) wrap CSRF, which wraps the session user.
    app.add_middleware(SessionAuthMiddleware)
    key = hmac.new(settings.secret, b"session", hashlib.sha256).digest()
    app.add_middleware(CSRFMiddleware, secret_keys=[key])
    app.add_middleware(SessionMiddleware, secret_keys=[key], store=store)
    return app


app = create_app(Settings.from_env())
