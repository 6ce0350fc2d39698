"""``Signer``: HMAC-SHA256 signatures with key rotation, for session and CSRF cookies.

The first key signs, every key verifies, so a new key can be put first while cookies
signed with the old one stay valid until it is removed. Each use (``purpose``) signs
with its own key derived from the secret (HMAC(secret, purpose)), so a session cookie
can never be replayed as a CSRF token or the other way round. Signatures are compared
in constant time (``hmac.compare_digest``). Secrets must hold at least 32 bytes: the
HMAC key length NIST SP 800-107 recommends for SHA-256 (and RFC 7518 3.2's rule for
HS256).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["MIN_KEY_BYTES", "Signer", "b64decode", "b64encode"]

#: The shortest secret accepted, in bytes (once encoded as UTF-8).
MIN_KEY_BYTES = 32


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding (RFC 4648 section 5): cookie- and header-safe."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes | None:
    """The bytes of :func:`b64encode`'s text, or ``None`` if ``text`` is not that."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _key_bytes(owner: str, key: str | bytes) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes):
        raise TypeError(f"{owner}: a secret key is a str or bytes")
    if len(key) < MIN_KEY_BYTES:
        # NOTE: the key itself is never put in the message.
        raise ValueError(
            f"{owner}: a secret key must hold at least {MIN_KEY_BYTES} bytes "
            f"(one had {len(key)}); generate one with secrets.token_urlsafe(32)"
        )
    return key


class Signer:
    """Sign and verify ``payload.signature`` strings for one ``purpose``."""

    __slots__ = ("_keys",)

    def __init__(self, owner: str, secret_keys: Sequence[str | bytes], purpose: str) -> None:
        if isinstance(secret_keys, str | bytes) or not secret_keys:
            raise ValueError(
                f"{owner}: secret_keys must be a non-empty list of keys (the first signs, "
                "all verify), e.g. secret_keys=[os.environ['SESSION_KEY']]"
            )
        label = purpose.encode("utf-8")
        self._keys = tuple(
            hmac.new(_key_bytes(owner, key), b"qake-security/" + label, hashlib.sha256).digest()
            for key in secret_keys
        )

    def __repr__(self) -> str:
        return f"Signer(<{len(self._keys)} key(s)>)"

    def mac(self, data: bytes) -> bytes:
        """The signature of ``data`` with the first (current) key."""
        return hmac.new(self._keys[0], data, hashlib.sha256).digest()

    def verify(self, data: bytes, signature: bytes) -> bool:
        """Whether any key signed ``data`` as ``signature`` (constant-time compares)."""
        valid = False
        for key in self._keys:
            expected = hmac.new(key, data, hashlib.sha256).digest()
            valid |= hmac.compare_digest(expected, signature)
        return valid

    def sign(self, payload: bytes) -> str:
        """``base64(payload).base64(mac)``: the signature covers the encoded payload."""
        text = b64encode(payload)
        return f"{text}.{b64encode(self.mac(text.encode('ascii')))}"

    def unsign(self, token: str) -> bytes | None:
        """The payload of a token :meth:`sign` made with one of the keys, else ``None``.

        Never raises: a malformed or tampered token is simply not valid.
        """
        text, dot, signature = token.rpartition(".")
        if not dot or not text.isascii():
            return None
        raw_signature = b64decode(signature)
        if raw_signature is None or not self.verify(text.encode("ascii"), raw_signature):
            return None
        return b64decode(text)
