"""``RateLimit``: a GCRA rate limit on qake-core's ``Store``, as a dependency.

``dependencies=[limit]`` on a route, a router or the app (or ``RateLimitMiddleware``
for a whole app). Each request is one step of the Generic Cell Rate Algorithm on one
stored timestamp per key (``Store.gcra``: atomic in ``MemoryStore``, a Lua script on
Redis's clock in ``RedisStore``, so that every worker and host shares one limit). The
key is the limit's name, the route's method and template (``GET /items/{id}``, never
the raw path) and the partition its key function returns (client, user, API key...).

Every answer it guards carries the fields of draft-ietf-httpapi-ratelimit-headers-11
(May 2026): ``RateLimit-Policy: "100/minute";q=100;w=60`` and ``RateLimit:
"100/minute";r=42;t=25`` (``r`` requests left, ``t`` seconds until the quota is whole
again). A refused request gets 429 with ``Retry-After`` (RFC 9110 §10.2.3) and the
draft's ``quota-exceeded`` problem type (RFC 9457), with ``t`` equal to ``Retry-After``
as the draft asks (§6).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import re
import time
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import anyio

from qake_core import (
    GCRAResult,
    HTTPException,
    MemoryStore,
    ProxyHeadersMiddleware,
    Request,
    Response,
    Store,
    route_template,
)
from qake_core.types import Message, Scope
from qake_security._rate_keys import KeyFunc, by_client
from qake_security._rate_parse import Rate, parse_rate

__all__ = [
    "QUOTA_EXCEEDED",
    "REDUCED_CAPACITY",
    "STORE_ERROR_RETRY_AFTER",
    "OnStoreError",
    "RateLimit",
    "Verdict",
]

#: The draft's problem types (§5.1, §5.2) for a refused and an unverifiable request.
QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded"
REDUCED_CAPACITY = "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity"
#: Seconds a client is asked to wait when a fail-closed limit cannot reach its store.
STORE_ERROR_RETRY_AFTER = 5

OnStoreError = Literal["open", "closed"]

logger = logging.getLogger("qake.security")

# scheme://user:password@host → scheme://***@host, in a store error's message.
_CREDENTIALS = re.compile(r"([a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)
_MAX_PARTITION = 128


class Verdict:
    """What a limit decided for one request: the ``headers`` to add to its answer (raw
    ASGI header lines), and the ``error`` (429, or 503 when failing closed) to answer
    with instead."""

    __slots__ = ("error", "headers")

    def __init__(
        self, headers: list[tuple[bytes, bytes]], error: HTTPException | None = None
    ) -> None:
        self.headers = headers
        self.error = error


_EXEMPT = Verdict([])


async def _nothing(*_: Any) -> Any:
    return None


def _sf_string(name: str) -> str:
    """``name`` as a Structured Field String (RFC 9651 §3.3.3)."""
    if not name or not all(" " <= c <= "~" for c in name):
        raise ValueError(
            f"RateLimit: name={name!r} must be non-empty printable ASCII (it is sent as "
            'RateLimit-Policy: "<name>";q=...;w=...)'
        )
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: ``RateLimit.check``'s default: match the route to key the quota by.
_MATCH: Any = object()


class RateLimit:
    """A rate limit: ``RateLimit("100/minute")``, keyed by client address by default.

    ``key``: ``by_client`` (default), ``by_user``, ``by_api_key("X-API-Key")`` or any
    ``(request) -> str | None`` (sync or async; ``None`` exempts the request).
    ``store``: a ``MemoryStore`` of its own by default (one process); a ``RedisStore``
    shares the limit between workers and hosts. ``burst``: how many requests may come
    at once (default: the rate's count); ``cost``: units one request takes.
    ``name`` identifies the limit in the headers and in the store (default: the rate
    as written): two limits sharing a store need different names, and the same limit
    in two processes the same one. ``per_route=False`` gives every route the limit
    guards one shared quota instead of one each. ``on_store_error``: ``"open"`` lets
    requests through while the store fails, ``"closed"`` answers 503; either way the
    failure is logged at most once per ``log_interval`` seconds and never becomes a
    500. ``store_timeout`` bounds each store call (not ``MemoryStore``'s, which never
    waits). ``trusted_proxies``: peers whose ``X-Forwarded-For``/``Forwarded`` give
    the client address, as ``ProxyHeadersMiddleware`` reads them (not needed when the
    app already has ``trusted_proxies``).
    """

    #: The error answers this dependency gives, for the OpenAPI document (qake-docs
    #: lists them on the operations it guards): status → (description, headers).
    openapi_responses: ClassVar[dict[int, tuple[str, dict[str, Any]]]] = {
        429: (
            "Too many requests: the rate limit is exhausted (RFC 6585)",
            {
                "Retry-After": {
                    "description": "Seconds until a request is allowed again",
                    "schema": {"type": "integer", "minimum": 0},
                },
                "RateLimit-Policy": {
                    "description": "The quota policy (IETF RateLimit header fields draft)",
                    "schema": {"type": "string"},
                },
            },
        ),
        503: (
            "The rate limit cannot be checked right now (its store is unreachable and "
            "on_store_error='closed')",
            {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
        ),
    }

    def __init__(
        self,
        rate: str,
        *,
        key: KeyFunc = by_client,
        store: Store | None = None,
        burst: int | None = None,
        cost: int = 1,
        name: str | None = None,
        per_route: bool = True,
        on_store_error: OnStoreError = "open",
        store_timeout: float | None = 1.0,
        trusted_proxies: Iterable[str] = (),
        log_interval: float = 60.0,
    ) -> None:
        self.rate: Rate = parse_rate(rate)
        self.burst = self.rate.limit if burst is None else burst
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"RateLimit({rate!r}): burst must be a whole number >= 1")
        if not 1 <= cost <= self.burst:
            raise ValueError(f"RateLimit({rate!r}): cost must be between 1 and burst")
        if on_store_error not in ("open", "closed"):
            raise ValueError(
                f"RateLimit({rate!r}): on_store_error={on_store_error!r}; use 'open' (let "
                "requests through while the store is down) or 'closed' (answer 503)"
            )
        if not callable(key):
            raise TypeError(f"RateLimit({rate!r}): key must be a function of the request")
        if isinstance(trusted_proxies, str):
            raise TypeError(f"RateLimit({rate!r}): trusted_proxies is a list of addresses")
        self.name = self.rate.text if name is None else name
        self._policy_item = _sf_string(self.name)
        self.key = key
        self.cost = cost
        self.store: Store = store if store is not None else MemoryStore(100_000)
        self.per_route = per_route
        self.on_store_error: OnStoreError = on_store_error
        self.store_timeout = None if isinstance(self.store, MemoryStore) else store_timeout
        self.log_interval = log_interval
        self._warned_at = -math.inf
        proxies = list(trusted_proxies)
        self._proxy = ProxyHeadersMiddleware(_nothing, proxies) if proxies else None
        self._prefix = f"ratelimit:{self.name}|"
        #: ``RateLimit-Policy`` (draft §3): the same on every answer.
        self.policy = f"{self._policy_item};q={self.rate.limit};w={self.rate.window}"
        self._policy_line = (b"ratelimit-policy", self.policy.encode())
        self._interval = self.rate.emission_interval

    def __repr__(self) -> str:
        key = getattr(self.key, "__qualname__", repr(self.key))
        return f"RateLimit({self.rate.text!r}, key={key}, burst={self.burst}, name={self.name!r})"

    # -- the dependency ----------------------------------------------------------------

    async def __call__(self, request: Request, response: Response) -> None:
        """As a dependency: raise 429 (or 503) or label the response with the fields."""
        verdict = await self.check(request)
        if verdict.error is not None:
            raise verdict.error
        response.raw_headers.extend(verdict.headers)

    # -- the decision ------------------------------------------------------------------

    async def check(self, request: Request, template: str | object | None = _MATCH) -> Verdict:
        """Count ``request`` against its quota; what to answer. ``template``: the route
        template serving it (``None``: no route), when the caller matched it already."""
        if self._proxy is not None:
            request = await self._through_proxies(request)
        partition: Any = self.key(request)
        if partition.__class__ is not str:  # PERF: the usual case is one type check
            if inspect.isawaitable(partition):
                partition = await partition
            if partition is None:
                return _EXEMPT
            partition = str(partition)
        if len(partition) > _MAX_PARTITION:
            partition = "sha256:" + hashlib.sha256(partition.encode()).hexdigest()
        route = "*"
        if self.per_route:
            scope = request.scope
            method = scope.get("method", "")
            # HEAD is answered by the GET route: one quota, or alternating doubles it.
            method = "GET" if method == "HEAD" else method
            if template is _MATCH:
                template = route_template(scope)
            route = f"{method} {template or '*'}"
        key = f"{self._prefix}{route}|{partition}"
        try:
            if self.store_timeout is None:
                result = await self.store.gcra(key, self._interval, self.burst, self.cost)
            else:
                with anyio.fail_after(self.store_timeout):
                    result = await self.store.gcra(key, self._interval, self.burst, self.cost)
        except Exception as exc:  # the store's failure is a policy decision, not a 500
            return self._store_failed(exc)
        return self._verdict(result)

    def _verdict(self, result: GCRAResult) -> Verdict:
        if result.allowed:
            state = f"{self._policy_item};r={result.remaining};t={math.ceil(result.reset_after)}"
            return Verdict([self._policy_line, (b"ratelimit", state.encode())])
        retry = str(max(1, math.ceil(result.retry_after)))
        headers = {
            "Retry-After": retry,
            "RateLimit-Policy": self.policy,
            "RateLimit": f"{self._policy_item};r=0;t={retry}",
        }
        error = HTTPException(
            429,
            f"Too many requests: the limit is {self.rate.text}; retry after {retry} s",
            headers,
            type=QUOTA_EXCEEDED,
            title="Quota Exceeded",
            extra={"violated-policies": [self.name]},
        )
        return Verdict([], error)

    def _store_failed(self, exc: Exception) -> Verdict:
        now = time.monotonic()
        if now - self._warned_at >= self.log_interval:
            self._warned_at = now
            message = _CREDENTIALS.sub(r"\1***@", str(exc))[:200]
            logger.warning(
                "rate limit %r: its store %s failed (%s: %s); failing %s (%s); "
                "logged at most once every %g s",
                self.name,
                type(self.store).__name__,
                type(exc).__name__,
                message,
                self.on_store_error,
                "requests pass unlimited" if self.on_store_error == "open" else "503",
                self.log_interval,
            )
        if self.on_store_error == "open":
            return Verdict([self._policy_line])
        error = HTTPException(
            503,
            "The rate limit cannot be checked right now; retry later",
            {"Retry-After": str(STORE_ERROR_RETRY_AFTER), "RateLimit-Policy": self.policy},
            type=REDUCED_CAPACITY,
            title="Temporary Reduced Capacity",
        )
        return Verdict([], error)

    async def _through_proxies(self, request: Request) -> Request:
        """The request as the key function should see it: its client taken from the
        proxy headers when the peer is one of ``trusted_proxies``."""
        assert self._proxy is not None
        scope = request.scope
        client = scope.get("client")
        if not client or not self._proxy.is_trusted(client[0]):
            return request
        probe: Scope = {"type": "http", "headers": scope["headers"], "client": client}
        await self._proxy(probe, _receive_nothing, _send_nothing)
        if probe["client"] == client:
            return request
        return Request({**scope, "client": probe["client"]}, request.receive)


async def _receive_nothing() -> Message:
    return {"type": "http.disconnect"}


async def _send_nothing(message: Message) -> None:
    return None
