"""A guestbook on qakeapi: server-rendered pages, forms, sessions and live updates.

* ``GET /``: the entries, newest first, rendered by Jinja2 with autoescaping (an entry
  holding ``<script>`` is shown as text). Logged in, a form signs the guestbook.
* ``GET /login``: a log-in form and a sign-up form. ``POST /login`` checks the password
  against its argon2id (or scrypt) hash, gives the session a new id (``login``) and
  flashes a welcome; ``POST /signup`` creates an account; ``POST /logout`` ends the
  session. Log-in and sign-up attempts are rate limited per client.
* ``POST /entries``: a new entry, then 303 back to ``/`` (Post/Redirect/Get).
* ``GET /events``: server-sent events. Each new entry reaches every open page as an
  ``entry`` event whose id is the entry's id (``/static/guestbook.js`` adds it with
  ``textContent``, never ``innerHTML``). Entries after ``?after=`` (the newest one the
  page showed) or after the ``Last-Event-ID`` a reconnecting browser sends are sent
  first, so nothing is lost between the page and the stream or across a reconnection.
  A stream ends after ``stream_seconds``, and as soon as the server begins to stop; the
  browser reconnects on its own.
* ``/static/...``: the stylesheet and the script (``examples/static/fullstack/``).
* ``GET /healthz``, ``GET /readyz``: liveness and readiness for a load balancer.

Every form carries a CSRF token (``CSRFMiddleware``, bound to the session); the session
and its flash messages live in a signed ``__Host-`` cookie; QakeAPI's security headers
are on (a CSP allowing scripts, styles and connections to this origin only); errors are
HTML pages for browsers and problem+json for other clients.

Serve it with ``qake run examples.fullstack_app:app`` and open http://localhost:8000
(the cookies are ``Secure``: browsers send them to ``https://`` sites and to
``http://localhost``). :class:`FullstackSettings` reads ``FULLSTACK_APP_*`` variables
(the environment, a ``.env`` file or files in ``/run/secrets``)::

    FULLSTACK_APP_DEMO_PASSWORD='a long demo password' qake run examples.fullstack_app:app

Without ``FULLSTACK_APP_SECRET`` each process signs with a random key (a safe default
for development: sessions end when it restarts); set it to 32+ random bytes in
production. One process: entries are pushed to the pages of the process that stored
them (``examples/websocket_app.py`` shows the Redis broadcast for several workers).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, Field, SecretStr

from qakeapi import (
    PROBLEM_JSON,
    Depends,
    Form,
    Header,
    Health,
    HTTPException,
    Jinja2Templates,
    MemoryStore,
    QakeAPI,
    Query,
    RedirectResponse,
    Request,
    RequestValidationError,
    Response,
    Settings,
    SettingsConfigDict,
    StaticFiles,
    negotiate,
    run_in_threadpool,
)
from qakeapi.exception_handlers import http_exception_handler
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
    needs_rehash,
    verify_password,
)
from qakeapi.sse import EventSourceResponse, ServerSentEvent
from qakeapi.ws import Broadcast, MemoryBroadcast, Subscriber, SubscriberDropped

HERE = Path(__file__).parent
logger = logging.getLogger("examples.fullstack_app")
USERNAME = r"^[a-z0-9_]{3,32}$"
MAX_TEXT = 500
MAX_ID = 2**63 - 1  # SQLite's largest rowid
CHANNEL = "guestbook"
RETRY_MS = 2000  # how long a browser waits before reconnecting to /events

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY, author TEXT NOT NULL, text TEXT NOT NULL, created REAL NOT NULL);
"""


class FullstackSettings(Settings):
    """The ``FULLSTACK_APP_*`` variables; empty means unset."""

    model_config = SettingsConfigDict(env_prefix="FULLSTACK_APP_")

    #: ``FULLSTACK_APP_SECRET``: signs sessions and CSRF tokens (unset: a random key).
    secret: SecretStr | None = Field(None, min_length=32)
    #: ``FULLSTACK_APP_DB``: the SQLite database (``:memory:``: gone at exit).
    db: str = ":memory:"
    #: ``FULLSTACK_APP_DEMO_USER`` / ``_DEMO_PASSWORD``: an account created (or reset)
    #: at start-up when a password is given.
    demo_user: str = Field("demo", pattern=USERNAME)
    demo_password: SecretStr | None = Field(None, min_length=12)
    #: ``FULLSTACK_APP_STREAM_SECONDS``: how long one ``/events`` stream lasts.
    stream_seconds: float = Field(300.0, gt=0, le=3600)
    #: ``FULLSTACK_APP_LOGIN_RATE``: log-in and sign-up attempts per client.
    login_rate: str = "10/minute"


class Database:
    """SQLite with bound parameters only; calls run in a worker thread, one at a time."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._conn:
            self._conn.executescript(SCHEMA)

    def _run(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock, self._conn:
            return self._conn.execute(sql, params).fetchall()

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await run_in_threadpool(self._run, sql, params)

    def close(self) -> None:
        self._conn.close()


class Entry(BaseModel):
    id: int
    author: str
    text: str
    created: str  # ISO 8601, UTC


def _entry(row: tuple[Any, ...]) -> Entry:
    id_, author, text, created = row
    stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds")
    return Entry(id=id_, author=author, text=text, created=stamp)


@dataclass
class Board:
    """What the routes share, opened by the lifespan: the database and the broadcast
    that carries new entries to the open ``/events`` streams."""

    db: Database
    broadcast: Broadcast
    stream_seconds: float
    streams: set[Subscriber] = field(default_factory=set)
    ending: bool = False

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscriber]:
        """New entries, for one stream, until :meth:`end_streams`."""
        async with self.broadcast.subscribe(CHANNEL) as subscriber:
            if self.ending:
                subscriber.close()
            self.streams.add(subscriber)
            try:
                yield subscriber
            finally:
                self.streams.discard(subscriber)

    def end_streams(self) -> None:
        """End the open streams, and each new one after its catch-up (the server stops)."""
        self.ending = True
        for subscriber in self.streams:
            subscriber.close()

    async def add(self, author: str, text: str) -> Entry:
        rows = await self.db.query(
            "INSERT INTO entries (author, text, created) VALUES (?, ?, ?) "
            "RETURNING id, author, text, created",
            author,
            text,
            time.time(),
        )
        entry = _entry(rows[0])
        await self.broadcast.publish(CHANNEL, entry.model_dump())
        return entry

    async def latest(self, limit: int = 50) -> list[Entry]:
        sql = "SELECT id, author, text, created FROM entries ORDER BY id DESC LIMIT ?"
        return [_entry(row) for row in await self.db.query(sql, limit)]

    async def since(self, after: int, limit: int = 100) -> list[Entry]:
        sql = "SELECT id, author, text, created FROM entries WHERE id > ? ORDER BY id LIMIT ?"
        return [_entry(row) for row in await self.db.query(sql, after, limit)]


def get_board(request: Request) -> Board:
    board: Board = request.state.board
    return board


BoardDep = Annotated[Board, Depends(get_board)]
Text = Annotated[str, Form(min_length=1, max_length=MAX_TEXT)]
_DUMMY_HASH: list[str] = []  # an unknown user costs a verification too (no timing oracle)


async def check_password(db: Database, username: str, password: str) -> bool:
    rows = await db.query("SELECT password_hash FROM users WHERE username = ?", username)
    if not rows:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(await hash_password(secrets.token_urlsafe(16)))
        await verify_password(password, _DUMMY_HASH[0])
        return False
    if not await verify_password(password, rows[0][0]):
        return False
    if needs_rehash(rows[0][0]):
        await add_user(db, username, password, replace=True)
    return True


async def add_user(db: Database, username: str, password: str, *, replace: bool = False) -> bool:
    """Create a user (``replace``: or set their password); ``False`` if the name is taken."""
    sql = "INSERT INTO users VALUES (?, ?)"
    if replace:
        sql += " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash"
    try:
        await db.query(sql, username, await hash_password(password))
    except sqlite3.IntegrityError:
        return False
    return True


def flash(request: Request, text: str, level: str = "info") -> None:
    """A message for the next page this session shows."""
    messages = [*request.session.get("flash", []), {"level": level, "text": text}]
    request.session["flash"] = messages[-5:]


templates = Jinja2Templates(directory=HERE / "templates" / "fullstack")


def page(request: Request, name: str, **context: Any) -> Response:
    """A template with what every page shows: the user, flash messages, a CSRF field."""
    values = {
        "user": request.user,
        "flashes": request.session.pop("flash", []),
        "csrf_input": csrf_input(request),
        **context,
    }
    return templates.TemplateResponse(request, name, values)


async def error_page(request: Request, exc: HTTPException) -> Response:
    """An HTML page for a browser (it prefers text/html), problem+json for the others."""
    if negotiate(request, (PROBLEM_JSON, "text/html")) != "text/html":
        return await http_exception_handler(request, exc)
    errors = exc.errors if isinstance(exc, RequestValidationError) else []
    context = {"status": exc.status_code, "title": exc.title, "detail": exc.detail}
    context["errors"] = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in errors]
    return templates.TemplateResponse(
        request, "error.html", context, status_code=exc.status_code, headers=exc.headers
    )


async def _next_entry(subscriber: Subscriber, seconds: float) -> Entry | None:
    """The next published entry; ``None`` after ``seconds``, at shutdown, or when this
    stream fell too far behind (the browser reconnects and catches up from the table)."""
    with anyio.move_on_after(seconds):
        try:
            return Entry.model_validate(await anext(subscriber))
        except (StopAsyncIteration, SubscriberDropped):
            return None
    return None


def add_pages(app: QakeAPI, login_rate: str) -> None:
    """The pages and the forms they post (each with the session's CSRF token)."""
    limit = RateLimit(login_rate, name="login", store=MemoryStore())

    @app.get("/")
    async def home(request: Request, board: BoardDep) -> Response:
        entries = await board.latest()
        last_id = entries[0].id if entries else 0
        return page(request, "index.html", entries=entries, last_id=last_id, max_text=MAX_TEXT)

    @app.get("/login")
    async def login_page(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login", status_code=303, dependencies=[limit])
    async def web_login(
        request: Request,
        board: BoardDep,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> RedirectResponse:
        if not await check_password(board.db, username, password):
            flash(request, "Incorrect username or password.", "error")
            return RedirectResponse("/login", status_code=303)
        login(request, username)  # a new session id: one planted before is worth nothing
        flash(request, f"Welcome back, {username}!")
        return RedirectResponse("/", status_code=303)

    @app.post("/signup", status_code=303, dependencies=[limit])
    async def web_signup(
        request: Request,
        board: BoardDep,
        username: Annotated[str, Form(pattern=USERNAME)],
        password: Annotated[str, Form(min_length=12, max_length=1024)],
    ) -> RedirectResponse:
        if not await add_user(board.db, username, password):
            flash(request, "That username is taken.", "error")
            return RedirectResponse("/login", status_code=303)
        login(request, username)
        flash(request, f"Welcome, {username}!")
        return RedirectResponse("/", status_code=303)

    @app.post("/logout", status_code=303)
    async def web_logout(request: Request) -> RedirectResponse:
        logout(request)
        flash(request, "You are logged out.")
        return RedirectResponse("/", status_code=303)

    @app.post("/entries", status_code=303)
    async def sign(
        request: Request,
        board: BoardDep,
        user: Annotated[SimpleUser, Depends(SessionAuth())],
        text: Text,
    ) -> RedirectResponse:
        if not text.strip():
            flash(request, "An entry needs some text.", "error")
        else:
            await board.add(user.identity, text.strip())
            flash(request, "Thank you for signing!")
        return RedirectResponse("/", status_code=303)


def add_stream(app: QakeAPI) -> None:
    @app.get("/events", response_class=EventSourceResponse)
    async def events(
        board: BoardDep,
        after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
        last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    ) -> AsyncIterator[ServerSentEvent]:
        """New entries as ``entry`` events, those after ``after`` (or ``Last-Event-ID``)
        first; the stream ends after the app's ``stream_seconds``."""
        if last_event_id is not None and last_event_id.isdecimal():
            after = min(int(last_event_id), MAX_ID)
        # Subscribed before the table is read: no entry falls between the two.
        async with board.subscribe() as subscriber:
            yield ServerSentEvent(comment="subscribed", retry=RETRY_MS)
            deadline = anyio.current_time() + board.stream_seconds
            for entry in await board.since(after):
                yield ServerSentEvent(entry.model_dump(), event="entry", id=str(entry.id))
                after = entry.id
            while (left := deadline - anyio.current_time()) > 0:
                new = await _next_entry(subscriber, left)
                if new is None:
                    break
                if new.id > after:  # one read from the table too is sent once
                    yield ServerSentEvent(new.model_dump(), event="entry", id=str(new.id))
                    after = new.id


class Probes(Health):
    """``/healthz`` and ``/readyz`` for a load balancer. When the server begins to stop
    (``qake run`` drains on SIGTERM and Ctrl+C), the open ``/events`` streams end: uvicorn
    waits for every open response before it stops, and a browser reconnects by itself."""

    board: Board | None = None

    def begin_draining(self) -> None:
        super().begin_draining()
        if self.board is not None:
            self.board.end_streams()


def derive(secret: bytes, purpose: str) -> bytes:
    """One 32-byte key per purpose from the app secret (HMAC-SHA256 as a KDF)."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def create_app(settings: FullstackSettings | None = None) -> QakeAPI:
    """The guestbook configured by ``settings`` (by default: the environment's)."""
    settings = settings or FullstackSettings.load()
    if settings.secret is None:
        logger.warning(
            "FULLSTACK_APP_SECRET is not set: sessions are signed with a random key and "
            "end when this process exits"
        )
        secret = secrets.token_bytes(32)
    else:
        secret = settings.secret.get_secret_value().encode()

    @asynccontextmanager
    async def lifespan(app: QakeAPI) -> AsyncIterator[dict[str, Any]]:
        db = Database(settings.db)
        try:
            if settings.demo_password is not None:
                password = settings.demo_password.get_secret_value()
                await add_user(db, settings.demo_user, password, replace=True)
            async with MemoryBroadcast() as broadcast:
                probes.board = Board(db, broadcast, settings.stream_seconds)
                yield {"board": probes.board}
        finally:
            db.close()

    probes = Probes()
    app = QakeAPI(title="Guestbook", version="1.0", lifespan=lifespan)
    probes.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static" / "fullstack"), name="static")
    add_pages(app, settings.login_rate)
    add_stream(app)
    app.add_exception_handler(HTTPException, error_page)
    # Added last = outermost: the session wraps CSRF (tokens are bound to the session),
    # which wraps the session user.
    app.add_middleware(SessionAuthMiddleware)
    app.add_middleware(CSRFMiddleware, secret_keys=[derive(secret, "csrf")])
    app.add_middleware(SessionMiddleware, secret_keys=[derive(secret, "session")])
    return app


app = create_app()
