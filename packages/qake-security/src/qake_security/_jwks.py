"""The keys ``JWTAuth`` verifies with: one key, a fixed set by ``kid``, or a JWKS document.

Every key is prepared once, when it is loaded: its algorithms are fixed then and
never taken from a token (RFC 8725 §3.1: "use explicit algorithm verification"), one
key serves one family only (an HMAC secret never verifies an RSA or EC token: the
"key confusion" attack), ``none`` is refused, and weak keys are refused with the fix
(RFC 7518 §3.2: an HMAC key at least as long as the hash; NIST SP 800-131A: RSA
≥ 2048 bits). A token's ``kid`` only *selects* among keys loaded beforehand; its
``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are never read (RFC 8725 §3.10).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from qake_security._lazy_jwt import jwt

__all__ = ["JWKSKeys", "KeySet", "StaticKeys", "VerifyingKey", "prepare_key"]

logger = logging.getLogger("qake_security.jwt")

#: The key family of each algorithm: a key of one family never serves another.
FAMILIES = {
    "HS256": "oct",
    "HS384": "oct",
    "HS512": "oct",
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES256K": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
    "Ed25519": "OKP",
}
#: RFC 7518 §3.2: "a key of the same size as the hash output ... or larger MUST be used".
MIN_HMAC_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
MIN_RSA_BITS = 2048
#: The curve each ECDSA algorithm is defined on (RFC 7518 §3.4, RFC 8812 §3.2).
EC_CURVES = {
    "ES256": "secp256r1",
    "ES384": "secp384r1",
    "ES512": "secp521r1",
    "ES256K": "secp256k1",
}


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    """One prepared key: the algorithms it verifies and the key objects themselves.

    The key material never appears in a ``repr``.
    """

    kid: str | None
    algorithms: tuple[str, ...]
    verify_key: Any = field(repr=False)
    #: The key that signs (an HMAC secret or a private key), ``None`` for a public key.
    signing_key: Any = field(default=None, repr=False)


class KeySet(Protocol):
    """Where ``JWTAuth`` finds the key for a token's ``kid``."""

    #: Changes whenever the keys change (``JWTAuth`` then forgets the tokens it verified).
    generation: int

    def get(self, kid: str | None) -> VerifyingKey | None: ...

    def signing_key(self) -> VerifyingKey | None: ...


def _check_algorithms(algorithms: Sequence[str], where: str) -> tuple[str, ...]:
    if isinstance(algorithms, str):
        raise TypeError(f"{where}: algorithms must be a list, e.g. algorithms=[{algorithms!r}]")
    algs = tuple(dict.fromkeys(algorithms))
    if not algs:
        raise ValueError(f"{where}: name the algorithm(s) the key verifies, e.g. ['HS256']")
    for alg in algs:
        if alg.lower() == "none":
            raise ValueError(f"{where}: 'none' is never accepted (unsigned tokens, RFC 8725 §3.2)")
        if alg not in FAMILIES:
            raise ValueError(f"{where}: unknown algorithm {alg!r}; use one of {sorted(FAMILIES)}")
    families = {FAMILIES[a] for a in algs}
    if len(families) > 1:
        raise ValueError(
            f"{where}: algorithms {list(algs)} mix key families ({', '.join(sorted(families))}); "
            "one key verifies one family: an HMAC secret must never verify an RSA/EC token. "
            "Give each key its own algorithms (keys={kid: jwt.PyJWK(...)})"
        )
    if FAMILIES[algs[0]] != "oct" and not jwt.algorithms.has_crypto:
        raise ValueError(
            f"{where}: {algs[0]} needs the 'cryptography' package: pip install 'pyjwt[crypto]'"
        )
    return algs


def _hmac_key(key: Any, algs: tuple[str, ...], where: str) -> VerifyingKey:
    if not isinstance(key, str | bytes):
        raise TypeError(f"{where}: an {algs[0]} key is a secret given as str or bytes")
    secret = key.encode() if isinstance(key, str) else bytes(key)
    try:
        secret = jwt.algorithms.get_default_algorithms()[algs[0]].prepare_key(secret)
    except jwt.InvalidKeyError:
        raise ValueError(
            f"{where}: this {algs[0]} secret looks like a PEM/SSH public or private key; "
            "an HMAC secret must be random bytes (secrets.token_bytes(32)), never an RSA/EC key"
        ) from None
    need = max(MIN_HMAC_BYTES[a] for a in algs)
    if len(secret) < need:
        raise ValueError(
            f"{where}: the {'/'.join(algs)} secret is {len(secret)} bytes; it must be at least "
            f"{need} bytes (RFC 7518 §3.2). Generate one with secrets.token_bytes({need}) "
            f"or secrets.token_urlsafe({need})"
        )
    return VerifyingKey(None, algs, secret, secret)


def _check_asymmetric(prepared: Any, algs: tuple[str, ...], where: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    family = FAMILIES[algs[0]]
    expected: dict[str, tuple[type, ...]] = {
        "RSA": (rsa.RSAPublicKey, rsa.RSAPrivateKey),
        "EC": (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey),
        "OKP": (
            ed25519.Ed25519PublicKey,
            ed25519.Ed25519PrivateKey,
            ed448.Ed448PublicKey,
            ed448.Ed448PrivateKey,
        ),
    }
    if not isinstance(prepared, expected[family]):
        raise ValueError(f"{where}: this key is not an {family} key, which {algs[0]} needs")
    if isinstance(prepared, rsa.RSAPublicKey | rsa.RSAPrivateKey) and (
        prepared.key_size < MIN_RSA_BITS
    ):
        raise ValueError(
            f"{where}: the RSA key has {prepared.key_size} bits; at least {MIN_RSA_BITS} are "
            "required (NIST SP 800-131A). Generate a new key: "
            "rsa.generate_private_key(public_exponent=65537, key_size=3072)"
        )
    if isinstance(prepared, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        for alg in algs:
            if prepared.curve.name != EC_CURVES[alg]:
                raise ValueError(
                    f"{where}: {alg} is defined on {EC_CURVES[alg]}, but the key is on "
                    f"{prepared.curve.name}; use the algorithm that matches the key's curve"
                )


def prepare_key(key: Any, algorithms: Sequence[str], kid: str | None = None) -> VerifyingKey:
    """Check ``key`` against ``algorithms`` and prepare it for verification and signing.

    ``key`` is an HMAC secret (str/bytes), a PEM/SSH/JWK-JSON string or bytes, a
    ``cryptography`` key object, a ``jwt.PyJWK``, or a JWK dict. Raises ``ValueError``
    or ``TypeError`` naming the fix.
    """
    where = "JWTAuth" if kid is None else f"JWTAuth key {kid!r}"
    if isinstance(key, Mapping):
        key = _jwk(key, algorithms, where)
    if isinstance(key, jwt.PyJWK):
        if algorithms and key.algorithm_name not in algorithms:
            raise ValueError(
                f"{where}: the key is for {key.algorithm_name}, not among algorithms "
                f"{list(algorithms)}"
            )
        algorithms, key = [key.algorithm_name], key.key
    algs = _check_algorithms(algorithms, where)
    if FAMILIES[algs[0]] == "oct":
        prepared = _hmac_key(key, algs, where)
        return VerifyingKey(kid, algs, prepared.verify_key, prepared.signing_key)
    if not isinstance(key, str | bytes):
        _check_asymmetric(key, algs, where)  # a key object: say what is wrong with it
    try:
        obj = jwt.algorithms.get_default_algorithms()[algs[0]].prepare_key(key)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ValueError(
            f"{where}: cannot load the {algs[0]} key ({type(exc).__name__}); give a PEM "
            "string/bytes, a cryptography key object, a JWK dict or a jwt.PyJWK"
        ) from None
    _check_asymmetric(obj, algs, where)
    public = obj.public_key() if hasattr(obj, "private_bytes") else obj
    signing = obj if public is not obj else None
    return VerifyingKey(kid, algs, public, signing)


def _jwk(data: Mapping[str, Any], algorithms: Sequence[str], where: str) -> jwt.PyJWK:
    """A JWK dict as a ``PyJWK``; its algorithm is its ``alg``, else the one of
    ``algorithms`` that fits its ``kty`` (exactly one must)."""
    alg = data.get("alg")
    if alg is None:
        fits = [a for a in algorithms if FAMILIES.get(a) == data.get("kty")]
        if len(fits) != 1:
            raise ValueError(
                f"{where}: the JWK has no 'alg' and algorithms {list(algorithms)} do not "
                f"name exactly one for kty {data.get('kty')!r}; add 'alg' to the JWK"
            )
        alg = fits[0]
    if not isinstance(alg, str) or alg not in FAMILIES:
        raise ValueError(f"{where}: the JWK's alg {alg!r} is not supported")
    try:
        return jwt.PyJWK(dict(data), alg)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
        # NOTE: PyJWT's messages quote the whole JWK, secrets included: never show them.
        raise ValueError(f"{where}: cannot load the JWK ({type(exc).__name__})") from None


class StaticKeys:
    """One key (any ``kid``) or a fixed mapping ``kid → key``, prepared at start-up."""

    __slots__ = ("_keys", "_single", "generation")

    def __init__(self, keys: Mapping[str, Any] | None, algorithms: Sequence[str]) -> None:
        self.generation = 0
        self._single: VerifyingKey | None = None
        self._keys: dict[str, VerifyingKey] = {}
        if keys is not None:
            if not keys:
                raise ValueError("JWTAuth(keys={}): give at least one kid → key")
            self._keys = {kid: prepare_key(k, algorithms, kid) for kid, k in keys.items()}

    @classmethod
    def single(cls, key: Any, algorithms: Sequence[str]) -> StaticKeys:
        keys = cls(None, algorithms)
        keys._single = prepare_key(key, algorithms)
        return keys

    def get(self, kid: str | None) -> VerifyingKey | None:
        if self._single is not None:
            return self._single
        return None if kid is None else self._keys.get(kid)

    def signing_key(self) -> VerifyingKey | None:
        if self._single is not None:
            return self._single if self._single.signing_key is not None else None
        return next((k for k in self._keys.values() if k.signing_key is not None), None)


JWKSLoader = Callable[[], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]


class JWKSKeys:
    """Verification keys from a JWKS document (RFC 7517 §5), loaded by the application.

    ``loader`` returns the document (sync or async: an ``httpx`` GET of your identity
    provider's ``jwks_uri``, a file read...). Keys are (re)loaded only by
    :meth:`refresh`, at start-up and on a schedule (:meth:`running` in a lifespan, or
    :meth:`run_refresh` in a task group), never because a request brought an unknown
    ``kid``: that would let anyone make the server fetch at will. A key whose ``use``
    is not ``"sig"``, whose algorithm is not in ``algorithms``, or which is too weak is
    skipped (and logged, without its material). A failed refresh keeps the old keys.
    """

    def __init__(
        self,
        loader: JWKSLoader | None = None,
        *,
        algorithms: Sequence[str],
        document: Mapping[str, Any] | None = None,
    ) -> None:
        self.algorithms = tuple(dict.fromkeys(algorithms))
        for alg in self.algorithms:  # refuse 'none' and unknown names at start-up
            _check_algorithms([alg], "JWKSKeys")
        self._loader = loader
        self._keys: dict[str, VerifyingKey] = {}
        self.generation = 0
        if document is not None:
            self.load(document)

    def load(self, document: Mapping[str, Any]) -> None:
        """Replace the keys with those of ``document`` (``{"keys": [...]}``)."""
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ValueError("JWKSKeys: a JWKS document is an object with a 'keys' list")
        keys: dict[str, VerifyingKey] = {}
        for index, entry in enumerate(entries):
            prepared = self._prepare(index, entry)
            if prepared is not None and prepared.kid is not None:
                keys[prepared.kid] = prepared
        if keys != self._keys:
            self._keys = keys
            self.generation += 1

    def _prepare(self, index: int, entry: Any) -> VerifyingKey | None:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
            logger.warning("JWKSKeys: key #%d skipped: not a JWK with a string 'kid'", index)
            return None
        kid = entry["kid"]
        if entry.get("use", "sig") != "sig":
            return None
        alg = entry.get("alg")
        if alg is not None and alg not in self.algorithms:
            logger.warning("JWKSKeys: key %r skipped: alg %r is not allowed", kid, alg)
            return None
        try:
            return prepare_key(entry, self.algorithms, kid)
        except (ValueError, TypeError) as exc:
            logger.warning("JWKSKeys: key %r skipped: %s", kid, exc)
            return None

    async def refresh(self) -> None:
        """Load the document again from the loader."""
        if self._loader is None:
            raise RuntimeError("JWKSKeys: no loader; use load(document) instead")
        result = self._loader()
        document = await result if inspect.isawaitable(result) else result
        self.load(document)

    async def run_refresh(self, interval: float = 3600.0) -> None:
        """Refresh every ``interval`` seconds, forever (start it in a task group).

        A failed refresh is logged and the previous keys are kept.
        """
        while True:
            await anyio.sleep(interval)
            try:
                await self.refresh()
            except Exception as exc:  # keep serving with the old keys
                logger.warning("JWKSKeys: refresh failed (%s); keeping the old keys", exc)

    @asynccontextmanager
    async def running(self, interval: float = 3600.0) -> AsyncIterator[JWKSKeys]:
        """Load now, then refresh every ``interval`` seconds until the block ends.

        ``async with jwks.running(): yield`` in the app's lifespan.
        """
        await self.refresh()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.run_refresh, interval)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    def get(self, kid: str | None) -> VerifyingKey | None:
        return None if kid is None else self._keys.get(kid)

    def signing_key(self) -> VerifyingKey | None:
        return None  # a JWKS document holds the keys of someone else's tokens

    @property
    def kids(self) -> frozenset[str]:
        """The ``kid`` of every loaded key."""
        return frozenset(self._keys)
