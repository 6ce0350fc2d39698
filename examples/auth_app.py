"""Authentication and authorization with qakeapi: every battery of qake-security in one app.

* ``POST /signup``: a user with an argon2id (or scrypt) password hash.
* ``POST /token``: OAuth2 password login (rate limited) issuing a short-lived access
  JWT and a single-use refresh JWT; ``POST /token/refresh`` rotates them, and a refresh
  token used twice revokes its whole family (OWASP's refresh-token reuse detection).
* ``GET /me`` (bearer), ``GET /admin/users`` (role ``admin``, a sort column checked by
  ``safe_identifier``), ``GET /users/{username}/notes`` (a permission: the user
  themself or an admin).
* ``POST /admin/api-keys`` (admin) issues an API key for a machine client, stored only
  as a SHA-256 digest; ``GET /machine/report`` takes it in ``X-API-Key``.
* ``GET /``: a session-backed HTML page with a login form and a notes form, both
  protected by CSRF tokens; notes are stored with bound parameters and shown through
  autoescaping templates, so SQL and HTML payloads stay data.

Serve it with ``qake run examples.auth_app:app`` (set ``AUTH_APP_SECRET`` to 32+ bytes
to keep tokens valid across restarts and ``AUTH_APP_ADMIN_PASSWORD`` to create an
``admin`` user: ``AuthAppSettings`` reads them from the environment, a ``.env`` file or
``/run/secrets``). The session and CSRF cookies are ``__Host-``/``Secure``: browsers send
them to ``https://`` sites and to ``http://localhost``.
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
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, SecretStr

from qakeapi import (
    Depends,
    Form,
    HTMLResponse,
    HTTPException,
    Jinja2Templates,
    MemoryStore,
    QakeAPI,
    RedirectResponse,
    RedisStore,
    Request,
    Settings,
    SettingsConfigDict,
    Store,
    run_in_threadpool,
)
from qakeapi.security import (
    APIKeyHeader,
    CSRFMiddleware,
    HasRole,
    InvalidToken,
    JWTAuth,
    OAuth2PasswordRequestForm,
    Permission,
    RateLimit,
    SessionAuth,
    SessionAuthMiddleware,
    SessionMiddleware,
    SimpleUser,
    by_api_key,
    csrf_exempt,
    csrf_input,
    hash_password,
    login,
    logout,
    needs_rehash,
    requires,
    safe_identifier,
    verify_password,
)

HERE = Path(__file__).parent
ISSUER = "qakeapi-auth-example"
USERNAME = r"^[a-z0-9_]{3,32}$"
#: Columns a client may sort the user list by (the identifier allow-list).
SORTABLE = ("username", "created")


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


SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, roles TEXT NOT NULL,
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  jti TEXT PRIMARY KEY, family TEXT NOT NULL, username TEXT NOT NULL, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
  digest TEXT PRIMARY KEY, client TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
  id INTEGER PRIMARY KEY, owner TEXT NOT NULL, text TEXT NOT NULL);
"""


class SignUp(BaseModel):
    username: str = Field(pattern=USERNAME)
    # SecretStr: the password never appears in a repr, a log line or a validation error.
    password: SecretStr = Field(min_length=12, max_length=1024)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=4096)


class NewClient(BaseModel):
    client: str = Field(min_length=1, max_length=64)


def derive(secret: bytes, purpose: str) -> bytes:
    """One 32-byte key per purpose from the app secret (HMAC-SHA256 as a KDF)."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Auth:
    """What the routes share: the token issuers, the rate-limit store and settings."""

    access: JWTAuth
    refresh: JWTAuth
    limits: Store
    login_rate: str

    @classmethod
    def from_secret(cls, secret: bytes, limits: Store, login_rate: str) -> Self:
        access = JWTAuth(
            key=derive(secret, "access"),
            algorithms=["HS256"],
            issuer=ISSUER,
            audience="api",
            expires_in=900,
        )
        # Refresh tokens: another key and audience (never accepted as access tokens),
        # no verified-token cache (each is used once and checked against the database).
        refresh = JWTAuth(
            key=derive(secret, "refresh"),
            algorithms=["HS256"],
            issuer=ISSUER,
            audience="refresh",
            expires_in=14 * 24 * 3600,
            cache_size=0,
        )
        return cls(access, refresh, limits, login_rate)

    async def issue(self, db: Database, user: SimpleUser, family: str) -> TokenPair:
        """A new access token and a new single-use refresh token in ``family``."""
        access_token = self.access.create_token(user.identity, {"roles": sorted(user.roles)})
        jti = secrets.token_urlsafe(16)
        refresh_token = self.refresh.create_token(user.identity, {"fam": family, "rti": jti})
        await db.query("INSERT INTO refresh_tokens VALUES (?, ?, ?, 0)", jti, family, user.identity)
        return TokenPair(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=int(self.access.expires_in),
        )


def get_db(request: Request) -> Database:
    """The database the lifespan opened (lifespan state)."""
    db: Database = request.state.db
    return db


Db = Annotated[Database, Depends(get_db)]
# An unknown user costs a password verification too (no user enumeration by timing).
_DUMMY_HASH: list[str] = []


async def check_password(db: Database, username: str, password: str) -> SimpleUser | None:
    """The user, when ``password`` is theirs; rehashes a hash with outdated parameters."""
    rows = await db.query("SELECT password_hash, roles FROM users WHERE username = ?", username)
    if not rows:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(await hash_password(secrets.token_urlsafe(16)))
        await verify_password(password, _DUMMY_HASH[0])
        return None
    stored, roles = rows[0]
    if not await verify_password(password, stored):
        return None
    if needs_rehash(stored):
        await db.query(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            await hash_password(password),
            username,
        )
    return SimpleUser(username, roles=roles.split())


def add_token_routes(app: QakeAPI, auth: Auth) -> None:
    """Sign-up, OAuth2 password login and refresh (JSON: no cookies, so no CSRF token)."""

    @app.post(
        "/signup", status_code=201, responses={409: {"description": "That username is taken"}}
    )
    @csrf_exempt
    async def signup(body: SignUp, db: Db) -> dict[str, str]:
        stored = await hash_password(body.password.get_secret_value())
        try:
            await db.query(
                "INSERT INTO users VALUES (?, ?, ?, ?)", body.username, stored, "", time.time()
            )
        except sqlite3.IntegrityError:
            raise HTTPException(409, "That username is taken") from None
        return {"username": body.username}

    login_limit = RateLimit(
        auth.login_rate, name="login", store=auth.limits, on_store_error="closed"
    )

    @app.post(
        "/token",
        dependencies=[login_limit],
        responses={401: {"description": "Incorrect username or password"}},
    )
    @csrf_exempt
    async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: Db) -> TokenPair:
        user = await check_password(db, form.username, form.password)
        if user is None:
            raise HTTPException(
                401, "Incorrect username or password", headers={"WWW-Authenticate": "Bearer"}
            )
        return await auth.issue(db, user, family=secrets.token_urlsafe(16))

    @app.post("/token/refresh", responses={401: {"description": "Invalid refresh token"}})
    @csrf_exempt
    async def refresh_tokens(body: RefreshRequest, db: Db) -> TokenPair:
        invalid = HTTPException(401, "Invalid refresh token")
        try:
            claims = auth.refresh.verify(body.refresh_token).claims
        except InvalidToken:
            raise invalid from None
        rows = await db.query(
            "SELECT family, used FROM refresh_tokens WHERE jti = ?", claims.get("rti", "")
        )
        if not rows or rows[0][0] != claims.get("fam"):
            raise invalid
        family, used = rows[0]
        if used:  # a replayed token (stolen, or a race): end the whole login
            await db.query("DELETE FROM refresh_tokens WHERE family = ?", family)
            raise invalid
        await db.query("UPDATE refresh_tokens SET used = 1 WHERE jti = ?", claims["rti"])
        users = await db.query("SELECT roles FROM users WHERE username = ?", claims["sub"])
        if not users:
            raise invalid
        user = SimpleUser(claims["sub"], roles=users[0][0].split())
        return await auth.issue(db, user, family=family)


def is_self(request: Request) -> bool:
    """The permission check: the path's ``username`` is the authenticated user."""
    return bool(request.user.identity == request.path_params.get("username"))


def add_api_routes(app: QakeAPI, auth: Auth) -> None:
    """Bearer-authenticated routes: the user, roles, a permission, API keys."""
    access = auth.access
    admin_only = requires("admin", auth=access)
    owner_or_admin = requires(HasRole("admin") | Permission(is_self, name="self"), auth=access)

    @app.get("/me")
    async def me(user: Annotated[SimpleUser, Depends(access)]) -> dict[str, Any]:
        return {"username": user.identity, "roles": sorted(user.roles)}

    @app.get("/admin/users", dependencies=[admin_only])
    async def list_users(db: Db, sort: str = "username") -> list[dict[str, Any]]:
        try:
            column = safe_identifier(sort, allowed=SORTABLE)
        except ValueError:
            raise HTTPException(422, f"sort must be one of {', '.join(SORTABLE)}") from None
        # The one SQL text built at run time: an allow-listed, quoted identifier.
        rows = await db.query(f"SELECT username, roles FROM users ORDER BY {column}")
        return [{"username": name, "roles": roles.split()} for name, roles in rows]

    @app.get("/users/{username}/notes", dependencies=[owner_or_admin])
    async def user_notes(username: str, db: Db) -> list[str]:
        rows = await db.query("SELECT text FROM notes WHERE owner = ? ORDER BY id", username)
        return [text for (text,) in rows]

    @app.post("/admin/api-keys", status_code=201, dependencies=[admin_only])
    @csrf_exempt
    async def new_api_key(body: NewClient, request: Request, db: Db) -> dict[str, str]:
        api_key = "qk_" + secrets.token_urlsafe(32)
        await db.query(
            "INSERT INTO api_keys VALUES (?, ?, ?)",
            digest(api_key),
            body.client,
            request.user.identity,
        )
        return {"client": body.client, "api_key": api_key}  # shown once, stored as a digest

    machine_key = APIKeyHeader(name="X-API-Key")

    async def machine_client(api_key: Annotated[str, Depends(machine_key)], db: Db) -> str:
        rows = await db.query("SELECT client FROM api_keys WHERE digest = ?", digest(api_key))
        if not rows:
            raise HTTPException(401, "Invalid API key", headers={"WWW-Authenticate": "APIKey"})
        return str(rows[0][0])

    per_key = RateLimit("60/minute", key=by_api_key("X-API-Key"), store=auth.limits)

    @app.get(
        "/machine/report",
        dependencies=[per_key],
        responses={401: {"description": "Invalid API key"}},
    )
    async def machine_report(
        client: Annotated[str, Depends(machine_client)], db: Db
    ) -> dict[str, Any]:
        (count,) = (await db.query("SELECT COUNT(*) FROM users"))[0]
        return {"client": client, "users": count}


def add_pages(app: QakeAPI, auth: Auth) -> None:
    """The session-backed HTML pages: every form carries a CSRF token."""
    templates = Jinja2Templates(directory=HERE / "templates")
    session_user = SessionAuth(auto_error=False)

    @app.get("/")
    async def home(
        request: Request, db: Db, user: Annotated[Any, Depends(session_user)]
    ) -> HTMLResponse:
        notes: list[str] = []
        if user is not None:
            rows = await db.query(
                "SELECT text FROM notes WHERE owner = ? ORDER BY id", user.identity
            )
            notes = [text for (text,) in rows]
        context = {"user": user, "notes": notes, "csrf_input": csrf_input(request)}
        return templates.TemplateResponse(request, "auth_home.html", context)

    web_limit = RateLimit(auth.login_rate, name="web-login", store=auth.limits)

    @app.post(
        "/login",
        status_code=303,
        dependencies=[web_limit],
        responses={401: {"description": "Incorrect username or password"}},
    )
    async def web_login(
        request: Request,
        db: Db,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> RedirectResponse:
        user = await check_password(db, username, password)
        if user is None:
            raise HTTPException(401, "Incorrect username or password")
        login(request, user.identity, roles=sorted(user.roles))  # a new session id
        return RedirectResponse("/", status_code=303)

    @app.post("/logout", status_code=303)
    async def web_logout(request: Request) -> RedirectResponse:
        logout(request)
        return RedirectResponse("/", status_code=303)

    @app.post("/notes", status_code=303)
    async def add_note(
        db: Db,
        user: Annotated[SimpleUser, Depends(SessionAuth())],
        text: Annotated[str, Form(min_length=1, max_length=2000)],
    ) -> RedirectResponse:
        await db.query("INSERT INTO notes (owner, text) VALUES (?, ?)", user.identity, text)
        return RedirectResponse("/", status_code=303)


def create_app(
    *,
    secret: bytes | None = None,
    database: str = ":memory:",
    admin_password: str | None = None,
    store: Store | None = None,
    login_rate: str = "5/minute",
) -> QakeAPI:
    """The example app; ``store`` shares rate limits between workers (a ``RedisStore``)."""
    secret = secret or secrets.token_bytes(32)
    auth = Auth.from_secret(secret, store or MemoryStore(), login_rate)

    @asynccontextmanager
    async def lifespan(app: QakeAPI) -> AsyncIterator[dict[str, Any]]:
        db = Database(database)
        if admin_password:
            await db.query(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                "admin",
                await hash_password(admin_password),
                "admin",
                time.time(),
            )
        try:
            yield {"db": db}
        finally:
            db.close()

    app = QakeAPI(title="Auth example", version="1.0", lifespan=lifespan)
    add_token_routes(app, auth)
    add_api_routes(app, auth)
    add_pages(app, auth)
    session_key = derive(secret, "session")
    # Added last = outermost: sessions wrap CSRF (tokens are bound to the session id),
    # which wraps the session user.
    app.add_middleware(SessionAuthMiddleware)
    app.add_middleware(CSRFMiddleware, secret_keys=[session_key])
    app.add_middleware(SessionMiddleware, secret_keys=[session_key])
    # qake-testing's client.login_as(...) issues access tokens as /token does.
    app.login_provider = auth.access  # type: ignore[attr-defined]
    return app


class AuthAppSettings(Settings):
    """The example's configuration, from ``AUTH_APP_*`` environment variables (or a
    ``.env`` file, or files of those names in ``/run/secrets``); empty means unset."""

    model_config = SettingsConfigDict(env_prefix="AUTH_APP_")

    #: ``AUTH_APP_SECRET``: signs tokens, sessions and CSRF tokens; 32+ bytes, the same
    #: for every worker (unset: each process makes a random one).
    secret: SecretStr | None = None
    #: ``AUTH_APP_DB``: the SQLite database (a file for several workers).
    db: str = ":memory:"
    #: ``AUTH_APP_ADMIN_PASSWORD``: creates (or resets) the ``admin`` user at start-up.
    admin_password: SecretStr | None = None
    #: ``AUTH_APP_REDIS``: a Redis URL; the login rate limits are then shared by workers.
    redis: str | None = None


def app_from_settings(settings: AuthAppSettings) -> QakeAPI:
    """:func:`create_app` configured by ``settings``."""
    secret, admin = settings.secret, settings.admin_password
    return create_app(
        secret=secret.get_secret_value().encode() if secret else None,
        database=settings.db,
        admin_password=admin.get_secret_value() if admin else None,
        store=RedisStore(settings.redis) if settings.redis else None,
    )


app = app_from_settings(AuthAppSettings.load())
