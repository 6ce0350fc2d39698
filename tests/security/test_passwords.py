"""Password hashing: both backends round-trip, parameters and rehash, malformed hashes,
the concurrency limit, and a password that never reaches a log record or a body."""

import base64
import logging
import re
import sys
import threading
import time
from typing import Annotated, Any

import anyio
import pytest
from pydantic import BaseModel, Field

from qake_core import App, Depends, HTTPException
from qake_security import (
    JWTAuth,
    OAuth2PasswordRequestForm,
    PasswordHasher,
    hash_password,
    hash_password_sync,
    needs_rehash,
    verify_password,
    verify_password_sync,
)
from qake_testing import TestClient

PASSWORD = "correct horse battery staple ✓"
SCRYPT_FORMAT = re.compile(
    r"\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})"
)


@pytest.fixture(params=["scrypt", "argon2"])
def hasher(request: pytest.FixtureRequest) -> PasswordHasher:
    """A cheap hasher of each backend (the defaults are tested separately)."""
    if request.param == "scrypt":
        return PasswordHasher(backend="scrypt", scrypt_log_n=10)
    return PasswordHasher(backend="argon2", argon2_memory_cost=1024, argon2_time_cost=1)


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return "asyncio"


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_round_trip(hasher: PasswordHasher) -> None:
    hashed = await hasher.hash(PASSWORD)
    assert PASSWORD not in hashed
    assert await hasher.verify(PASSWORD, hashed)
    assert not await hasher.verify(PASSWORD + " ", hashed)
    assert not await hasher.verify("", hashed)
    assert hashed != await hasher.hash(PASSWORD)  # a fresh salt each time
    assert hasher.verify_sync(PASSWORD, hasher.hash_sync(PASSWORD))


def test_the_scrypt_format_and_its_defaults() -> None:
    default = PasswordHasher(backend="scrypt")
    assert default.scrypt_params == (17, 8, 1)
    started = time.perf_counter()
    hashed = default.hash_sync(PASSWORD)  # N=2^17 needs 128 MiB: maxmem must allow it
    match = SCRYPT_FORMAT.fullmatch(hashed)
    assert match is not None, hashed
    assert match.groups()[:3] == ("17", "8", "1")
    assert len(base64.b64decode(match[4] + "==")) == 16
    assert default.verify_sync(PASSWORD, hashed)
    assert time.perf_counter() - started > 0.05  # a real cost, not a fast hash


def test_argon2id_is_the_default_when_installed() -> None:
    pytest.importorskip("argon2")
    hashed = hash_password_sync(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password_sync(PASSWORD, hashed)
    assert not needs_rehash(hashed)


def test_scrypt_is_the_fallback_without_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "argon2", None)
    fallback = PasswordHasher(scrypt_log_n=10)
    assert fallback.backend == "scrypt"
    assert fallback.hash_sync(PASSWORD).startswith("$scrypt$ln=10,r=8,p=1$")
    with pytest.raises(ValueError, match=r"qake-security\[argon2\]"):
        PasswordHasher(backend="argon2")


@pytest.mark.anyio
async def test_module_functions() -> None:
    hashed = await hash_password(PASSWORD)
    assert await verify_password(PASSWORD, hashed)
    assert not await verify_password("wrong", hashed)


def test_argon2_verifies_scrypt_hashes_and_asks_for_a_rehash() -> None:
    pytest.importorskip("argon2")
    old = PasswordHasher(backend="scrypt", scrypt_log_n=10).hash_sync(PASSWORD)
    new = PasswordHasher(backend="argon2", argon2_memory_cost=1024, argon2_time_cost=1)
    assert new.verify_sync(PASSWORD, old)
    assert new.needs_rehash(old)
    assert not new.needs_rehash(new.hash_sync(PASSWORD))
    weaker = PasswordHasher(backend="argon2", argon2_memory_cost=512, argon2_time_cost=1)
    assert new.needs_rehash(weaker.hash_sync(PASSWORD))


def test_scrypt_needs_rehash_for_other_parameters() -> None:
    current = PasswordHasher(backend="scrypt", scrypt_log_n=11)
    assert not current.needs_rehash(current.hash_sync(PASSWORD))
    weaker = PasswordHasher(backend="scrypt", scrypt_log_n=10).hash_sync(PASSWORD)
    assert current.needs_rehash(weaker)
    assert current.verify_sync(PASSWORD, weaker)  # still verifies with its own parameters
    assert current.needs_rehash("nonsense")
    assert current.needs_rehash(None)


def malformed_hashes() -> list[Any]:
    good = PasswordHasher(backend="scrypt", scrypt_log_n=10).hash_sync(PASSWORD)
    head, salt, digest = good.rsplit("$", 2)
    return [
        "",
        "nonsense",
        None,
        PASSWORD,
        good[:-5],
        good + "A",
        f"{head}${salt}$!!{digest[2:]}",
        good.replace("ln=10", "ln=99"),
        good.replace("ln=10", "ln=22").replace("r=8", "r=32"),  # 16 GiB: refused
        good.replace("r=8", "r=0"),
        f"{head}${salt}$",
        "$argon2id$v=19$m=65536,t=3,p=4$bad$bad",
        "$argon2id$",
        "$2b$12$abcdefghijklmnopqrstuv",
    ]


MALFORMED = malformed_hashes()


# ids by position: the hashes carry random salts, and xdist's workers must collect the
# same test names.
@pytest.mark.parametrize("hashed", MALFORMED, ids=[f"malformed{i}" for i in range(len(MALFORMED))])
def test_a_malformed_hash_verifies_false(hasher: PasswordHasher, hashed: Any) -> None:
    assert hasher.verify_sync(PASSWORD, hashed) is False


def test_a_too_long_password_fails_without_echo(hasher: PasswordHasher) -> None:
    long = "p" * 5000
    assert hasher.verify_sync(long, hasher.hash_sync(PASSWORD)) is False
    with pytest.raises(ValueError) as info:
        hasher.hash_sync(long)
    assert long not in str(info.value)


class ConcurrencyProbe(PasswordHasher):
    """Counts the hashes running at once."""

    def __init__(self, **options: Any) -> None:
        super().__init__(backend="scrypt", scrypt_log_n=4, **options)
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def hash_sync(self, password: str) -> str:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        return super().hash_sync(password)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.anyio
async def test_the_concurrency_limit(limit: int) -> None:
    probe = ConcurrencyProbe(max_concurrency=limit)
    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(probe.hash, PASSWORD)
    assert probe.peak == limit


def test_the_limiter_works_across_event_loops() -> None:
    probe = ConcurrencyProbe(max_concurrency=1)
    for backend in ("asyncio", "trio", "asyncio"):
        assert anyio.run(probe.hash, PASSWORD, backend=backend).startswith("$scrypt$")


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        PasswordHasher(backend="md5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 GiB"):
        PasswordHasher(backend="scrypt", scrypt_log_n=22, scrypt_r=16)
    with pytest.raises(ValueError, match="max_concurrency"):
        PasswordHasher(max_concurrency=0)


# -- a login flow that never lets the password out -------------------------------------

SECRET_PASSWORD = "Tr0ub4dor&3-never-log-me"
KEY = b"k" * 32


class SignUp(BaseModel):
    username: str = Field(max_length=20)
    password: str = Field(min_length=12, max_length=64)


def login_app() -> App:
    hasher = PasswordHasher(backend="scrypt", scrypt_log_n=10)
    auth = JWTAuth(key=KEY, algorithms=["HS256"])
    users: dict[str, str] = {}
    app = App()
    log = logging.getLogger("tests.login")

    @app.post("/signup", status_code=201)
    async def signup(body: SignUp) -> dict[str, str]:
        users[body.username] = await hasher.hash(body.password)
        log.debug("signed up %s", body.username)
        return {"username": body.username}

    @app.post("/token")
    async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        log.debug("login attempt for %s (%r)", form.username, form)
        if not await hasher.verify(form.password, users.get(form.username)):
            raise HTTPException(
                401, "Incorrect username or password", {"WWW-Authenticate": "Bearer"}
            )
        return {"access_token": auth.create_token(form.username), "token_type": "bearer"}

    @app.post("/crash")
    async def crash(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> None:
        await hasher.verify(form.password, "$scrypt$broken")
        raise RuntimeError(f"boom for {form.username}")

    return app


def test_a_password_never_reaches_logs_or_bodies(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    with TestClient(login_app(), raise_server_exceptions=False) as client:
        signup = client.post("/signup", json={"username": "ann", "password": SECRET_PASSWORD})
        assert signup.status_code == 201
        bodies.append(signup.text)
        for password in (SECRET_PASSWORD + "x", SECRET_PASSWORD[:-1]):
            wrong = client.post("/token", data={"username": "ann", "password": password})
            assert wrong.status_code == 401
            bodies.append(wrong.text)
        unknown = client.post("/token", data={"username": "bob", "password": SECRET_PASSWORD})
        assert unknown.status_code == 401
        invalid = client.post(
            "/signup", json={"username": "x" * 30, "password": SECRET_PASSWORD + "!" * 60}
        )
        assert invalid.status_code == 422
        short = client.post("/signup", json={"username": "cy", "password": SECRET_PASSWORD[:5]})
        assert short.status_code == 422
        grant = client.post(
            "/token", data={"username": "ann", "password": SECRET_PASSWORD, "grant_type": "nope"}
        )
        assert grant.status_code == 422
        crash = client.post("/crash", data={"username": "ann", "password": SECRET_PASSWORD})
        assert crash.status_code == 500
        bodies += [unknown.text, invalid.text, short.text, grant.text, crash.text]
        ok = client.post("/token", data={"username": "ann", "password": SECRET_PASSWORD})
        assert ok.status_code == 200
    assert "ann" in caplog.text  # the log captured the flow ...
    for secret in (SECRET_PASSWORD, SECRET_PASSWORD[:5], SECRET_PASSWORD[:-1]):
        assert secret not in caplog.text  # ... but no password, whole or in part
        for body in bodies:
            assert secret not in body


@pytest.mark.parametrize("stored", [None, "", "$scrypt$not-a-hash", "md5:0123", 42])
def test_no_usable_hash_costs_a_real_check(
    hasher: PasswordHasher, stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown user (``None``) or an unreadable hash answers ``False`` only after the
    same work as a real check (against a hash of a random password, made once), so the
    answer's timing does not tell whether the account exists (OWASP)."""
    from qake_security import _passwords

    checked: list[str] = []
    real_check = PasswordHasher._check

    def spy(self: PasswordHasher, data: bytes, hashed: str) -> bool | None:
        checked.append(hashed)
        return real_check(self, data, hashed)

    monkeypatch.setattr(PasswordHasher, "_check", spy)
    assert hasher.verify_sync("correct horse", stored) is False
    dummy = checked[-1]
    assert dummy.startswith(
        "$argon2id$" if hasher.backend == "argon2" else _passwords.SCRYPT_PREFIX
    )
    assert real_check(hasher, b"correct horse", dummy) is False  # a real hash, never matched
    assert hasher.verify_sync("another", None) is False
    assert checked[-1] == dummy  # made once per hasher
