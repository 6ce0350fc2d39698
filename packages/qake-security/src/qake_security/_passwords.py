"""Password hashing: argon2id when ``argon2-cffi`` is installed, scrypt otherwise.

Both are memory-hard functions OWASP's Password Storage Cheat Sheet recommends:
argon2id with argon2-cffi's RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4), or
scrypt with N=2^17, r=8, p=1 (128 MiB). Hashing takes tens to hundreds of
milliseconds of CPU and that much memory, so the async functions run it in a worker
thread under a :class:`anyio.CapacityLimiter` (per event loop): a burst of logins
waits its turn instead of exhausting memory or blocking the event loop.

A password never reaches a log record, an exception message or a ``repr`` here, and
neither does a stored hash: a malformed hash makes :meth:`PasswordHasher.verify`
return ``False``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from typing import Any, Literal

import anyio
import anyio.lowlevel
import anyio.to_thread

__all__ = [
    "PasswordHasher",
    "hash_password",
    "hash_password_sync",
    "needs_rehash",
    "verify_password",
    "verify_password_sync",
]

Backend = Literal["auto", "argon2", "scrypt"]

SCRYPT_PREFIX = "$scrypt$"
_SCRYPT = re.compile(
    r"\$scrypt\$ln=(?P<ln>[0-9]{1,2}),r=(?P<r>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    r"\$(?P<salt>[A-Za-z0-9+/]{16,88})\$(?P<hash>[A-Za-z0-9+/]{16,88})"
)
SCRYPT_SALT_BYTES = 16
SCRYPT_HASH_BYTES = 32
#: Stored parameters beyond these are refused (a hash is data, not a way to make the
#: server allocate gigabytes).
SCRYPT_MAX_LN, SCRYPT_MAX_R, SCRYPT_MAX_P = 22, 32, 16
#: ... and so is a stored cost above 1 GiB of memory (128 * N * r bytes).
SCRYPT_MAX_MEMORY = 1 << 30
#: Longer passwords are refused rather than hashed (OWASP: limit input to bound cost;
#: 4 KiB is far beyond any passphrase).
MAX_PASSWORD_BYTES = 4096


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _argon2_available() -> bool:
    try:
        import argon2  # noqa: F401
    except ImportError:
        return False
    return True


def _encode(password: str) -> bytes:
    if not isinstance(password, str):
        raise TypeError("a password is a str")
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password longer than {MAX_PASSWORD_BYTES} bytes")
    return data


class PasswordHasher:
    """Hash and verify passwords with one set of parameters.

    ``backend="auto"`` uses argon2id when ``argon2-cffi`` is importable (the
    ``qake-security[argon2]`` extra), scrypt otherwise; ``"scrypt"`` or ``"argon2"``
    force one. ``scrypt_log_n`` is log2 of scrypt's N (17 by default; lower it only in
    tests). ``max_concurrency`` bounds the hashes running at once in each event loop.
    Either backend verifies hashes of the other (when argon2-cffi is installed).
    """

    def __init__(
        self,
        *,
        backend: Backend = "auto",
        scrypt_log_n: int = 17,
        scrypt_r: int = 8,
        scrypt_p: int = 1,
        argon2_time_cost: int | None = None,
        argon2_memory_cost: int | None = None,
        argon2_parallelism: int | None = None,
        max_concurrency: int = 2,
    ) -> None:
        if backend not in ("auto", "argon2", "scrypt"):
            raise ValueError(
                f"PasswordHasher(backend={backend!r}): use 'auto', 'argon2' or 'scrypt'"
            )
        has_argon2 = _argon2_available()
        if backend == "argon2" and not has_argon2:
            raise ValueError(
                "PasswordHasher(backend='argon2'): argon2-cffi is not installed; "
                "pip install 'qake-security[argon2]'"
            )
        self.backend: Literal["argon2", "scrypt"] = (
            "argon2" if backend == "argon2" or (backend == "auto" and has_argon2) else "scrypt"
        )
        if not _scrypt_params_ok(scrypt_log_n, scrypt_r, scrypt_p):
            raise ValueError(
                "PasswordHasher: scrypt_log_n must be 1..22, scrypt_r 1..32, scrypt_p 1..16, "
                "and 128 * 2**scrypt_log_n * scrypt_r at most 1 GiB"
            )
        self.scrypt_params = (scrypt_log_n, scrypt_r, scrypt_p)
        self._argon2: Any = None
        if has_argon2:
            self._argon2 = self._argon2_hasher(
                argon2_time_cost, argon2_memory_cost, argon2_parallelism
            )
        if max_concurrency < 1:
            raise ValueError("PasswordHasher: max_concurrency must be >= 1")
        self.max_concurrency = max_concurrency
        self._limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar(
            f"qake_security.passwords.{id(self)}"
        )
        #: What a check for a user without a usable hash runs against (``_dummy_hash``).
        self._dummy: str | None = None

    @staticmethod
    def _argon2_hasher(time_cost: int | None, memory_cost: int | None, lanes: int | None) -> Any:
        import argon2

        # RFC 9106 §4 "second recommended option" (argon2-cffi's default profile).
        profile = argon2.profiles.RFC_9106_LOW_MEMORY
        return argon2.PasswordHasher(
            time_cost=time_cost or profile.time_cost,
            memory_cost=memory_cost or profile.memory_cost,
            parallelism=lanes or profile.parallelism,
            hash_len=profile.hash_len,
            salt_len=profile.salt_len,
            type=argon2.Type.ID,
        )

    def __repr__(self) -> str:
        return f"PasswordHasher(backend={self.backend!r})"

    # -- sync -------------------------------------------------------------------------

    def hash_sync(self, password: str) -> str:
        """The hash of ``password`` (blocks for the whole computation)."""
        data = _encode(password)
        if self.backend == "argon2":
            return str(self._argon2.hash(data))
        ln, r, p = self.scrypt_params
        salt = os.urandom(SCRYPT_SALT_BYTES)
        digest = _scrypt(data, salt, ln, r, p)
        return f"{SCRYPT_PREFIX}ln={ln},r={r},p={p}${_b64(salt)}${_b64(digest)}"

    def verify_sync(self, password: str, hashed: str | None) -> bool:
        """Whether ``password`` matches ``hashed``; ``False`` for a malformed hash or
        ``None`` (an unknown user, an account without a password) — after the same work
        as a real check against a hash of this hasher's own, so that the time taken does
        not tell whether the account exists (OWASP's authentication cheat sheet)."""
        try:
            data = _encode(password)
        except (TypeError, ValueError):
            return False
        if isinstance(hashed, str):
            matched = self._check(data, hashed)
            if matched is not None:
                return matched
        self._check(data, self._dummy_hash())
        return False

    def _check(self, data: bytes, hashed: str) -> bool | None:
        """Whether ``data`` matches ``hashed``; ``None`` when no backend reads it."""
        if hashed.startswith(SCRYPT_PREFIX) and _SCRYPT.fullmatch(hashed):
            return _scrypt_verify(data, hashed)
        if hashed.startswith("$argon2") and self._argon2 is not None:
            import argon2.exceptions

            try:
                return bool(self._argon2.verify(hashed, data))
            except argon2.exceptions.VerificationError:
                return False
            except (argon2.exceptions.InvalidHashError, ValueError, TypeError):
                return None
        return None

    def _dummy_hash(self) -> str:
        """A hash of a random password, made once per hasher: what a check for a user
        without a usable hash runs against (it never matches)."""
        if self._dummy is None:
            self._dummy = self.hash_sync(_b64(os.urandom(16)))
        return self._dummy

    def needs_rehash(self, hashed: str | None) -> bool:
        """Whether ``hashed`` should be replaced (after a successful verify) by a hash
        with the current backend and parameters."""
        if not isinstance(hashed, str):
            return True
        if self.backend == "argon2":
            if not hashed.startswith("$argon2id$"):
                return True
            try:
                return bool(self._argon2.check_needs_rehash(hashed))
            except Exception:  # a malformed hash: replace it
                return True
        match = _SCRYPT.fullmatch(hashed)
        if match is None:
            return True
        stored = (int(match["ln"]), int(match["r"]), int(match["p"]))
        return stored != self.scrypt_params

    # -- async ------------------------------------------------------------------------

    def _current_limiter(self) -> anyio.CapacityLimiter:
        limiter = self._limiter.get(None)
        if limiter is None:
            limiter = anyio.CapacityLimiter(self.max_concurrency)
            self._limiter.set(limiter)
        return limiter

    async def hash(self, password: str) -> str:
        """:meth:`hash_sync` in a worker thread, under the concurrency limit."""
        _encode(password)  # refuse bad input here, before taking a worker
        return await anyio.to_thread.run_sync(
            self.hash_sync, password, limiter=self._current_limiter()
        )

    async def verify(self, password: str, hashed: str | None) -> bool:
        """:meth:`verify_sync` in a worker thread, under the concurrency limit."""
        return await anyio.to_thread.run_sync(
            self.verify_sync, password, hashed, limiter=self._current_limiter()
        )


def _scrypt(data: bytes, salt: bytes, ln: int, r: int, p: int) -> bytes:
    n = 1 << ln
    # scrypt needs 128 * N * r * p bytes (plus a little); hashlib's default cap is 32 MiB.
    maxmem = 128 * n * r * (p + 1) + (16 << 20)
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=SCRYPT_HASH_BYTES)


def _scrypt_params_ok(ln: int, r: int, p: int) -> bool:
    in_range = 1 <= ln <= SCRYPT_MAX_LN and 1 <= r <= SCRYPT_MAX_R and 1 <= p <= SCRYPT_MAX_P
    return in_range and 128 * (1 << ln) * r <= SCRYPT_MAX_MEMORY


def _scrypt_verify(data: bytes, hashed: str) -> bool:
    match = _SCRYPT.fullmatch(hashed)
    if match is None:
        return False
    ln, r, p = int(match["ln"]), int(match["r"]), int(match["p"])
    if not _scrypt_params_ok(ln, r, p):
        return False
    try:
        salt, expected = _unb64(match["salt"]), _unb64(match["hash"])
        actual = _scrypt(data, salt, ln, r, p)
    except (ValueError, MemoryError):
        return False
    # Constant time: how much of the hash matched says nothing (OWASP).
    return len(expected) == len(actual) and hmac.compare_digest(actual, expected)


_default: PasswordHasher | None = None


def default_hasher() -> PasswordHasher:
    """The hasher behind the module-level functions (argon2id when available), built on
    first use so that importing qake-security does not import argon2-cffi."""
    global _default
    if _default is None:
        _default = PasswordHasher()
    return _default


async def hash_password(password: str) -> str:
    """Hash ``password`` (in a worker thread) with the default :class:`PasswordHasher`."""
    return await default_hasher().hash(password)


async def verify_password(password: str, hashed: str | None) -> bool:
    """Whether ``password`` matches ``hashed`` (constant time; ``False`` if malformed)."""
    return await default_hasher().verify(password, hashed)


def needs_rehash(hashed: str | None) -> bool:
    """Whether ``hashed`` was made with another backend or weaker parameters."""
    return default_hasher().needs_rehash(hashed)


def hash_password_sync(password: str) -> str:
    """:func:`hash_password` for sync code (blocks the calling thread)."""
    return default_hasher().hash_sync(password)


def verify_password_sync(password: str, hashed: str | None) -> bool:
    """:func:`verify_password` for sync code (blocks the calling thread)."""
    return default_hasher().verify_sync(password, hashed)
