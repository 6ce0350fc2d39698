"""``measure``: microseconds per request, in-process, for comparing changes to an app.

No network and no HTTP client: the scope is built once and each request costs the app's
own work plus one dict copy and two tiny closures. Compare two runs of the same
``measure`` call before and after a change; the absolute numbers depend on the machine.
"""

from __future__ import annotations

import functools
import json as _json
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import anyio

from ._lifespan import Lifespan
from ._types import ASGIApp, Message

_T = TypeVar("_T")


class MeasureError(AssertionError):
    """The app answered with an unexpected status while being measured."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """Per-request timings of ``n`` requests (after warm-up), in microseconds."""

    method: str
    path: str
    status: int
    n: int
    median_us: float
    p95_us: float
    p99_us: float
    mean_us: float
    min_us: float
    max_us: float
    requests_per_s: float

    def __str__(self) -> str:
        return (
            f"{self.method} {self.path} -> {self.status}: median {self.median_us:.1f} µs, "
            f"p95 {self.p95_us:.1f} µs, mean {self.mean_us:.1f} µs, "
            f"{self.requests_per_s:,.0f} req/s (n={self.n})"
        )


def _percentile(ordered: list[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def ameasure(
    app: ASGIApp,
    method: str,
    path: str,
    n: int = 1000,
    *,
    warmup: int = 50,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    json: Any = None,
    expect_status: int | None = None,
    allow_server_errors: bool = False,
    lifespan: bool = False,
) -> Measurement:
    """Async :func:`measure`, for use inside a running event loop."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if json is not None:
        body = _json.dumps(json).encode()
        headers = {"content-type": "application/json", **(headers or {})}
    raw_headers = [(b"host", b"testserver")]
    raw_headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
    ]
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    state: dict[str, Any] = {}
    template: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": "http",
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": urlencode(params or {}).encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "state": state,
        "extensions": {},
    }
    request_message: Message = {"type": "http.request", "body": body, "more_body": False}
    disconnect: Message = {"type": "http.disconnect"}
    status = 0

    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if body_sent:
            return disconnect
        body_sent = True
        return request_message

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    async def call() -> int:
        nonlocal body_sent, status
        body_sent, status = False, 0
        # PERF: a shallow copy, because apps may write into their scope.
        await app({**template, "state": dict(state)}, receive, send)
        failed = status >= 500 and not allow_server_errors
        if failed or (expect_status is not None and status != expect_status):
            raise MeasureError(f"{method.upper()} {path} answered {status}")
        return status

    async def timed() -> tuple[list[float], float]:
        for _ in range(warmup):
            await call()
        timings: list[float] = []
        counter = time.perf_counter_ns
        started = counter()
        for _ in range(n):
            before = counter()
            await call()
            timings.append((counter() - before) / 1000)
        return timings, (counter() - started) / 1e9

    if lifespan:
        timings, elapsed = await _with_lifespan(app, state, timed)
    else:
        timings, elapsed = await timed()
    ordered = sorted(timings)
    return Measurement(
        method=method.upper(),
        path=path,
        status=status,
        n=n,
        median_us=statistics.median(ordered),
        p95_us=_percentile(ordered, 0.95),
        p99_us=_percentile(ordered, 0.99),
        mean_us=statistics.fmean(ordered),
        min_us=ordered[0],
        max_us=ordered[-1],
        requests_per_s=n / elapsed if elapsed > 0 else float("inf"),
    )


async def _with_lifespan(
    app: ASGIApp, state: dict[str, Any], body: Callable[[], Awaitable[_T]]
) -> _T:
    manager = Lifespan(app, state)
    outcome: _T | None = None
    error: Exception | None = None
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(manager.run)
        try:
            await manager.startup()
            try:
                outcome = await body()
            finally:
                await manager.shutdown()
        except Exception as exc:
            error = exc  # raised outside the group, which would wrap it
            task_group.cancel_scope.cancel()
    manager.close()
    if error is not None:
        raise error
    return outcome  # type: ignore[return-value]


def measure(
    app: ASGIApp,
    method: str,
    path: str,
    n: int = 1000,
    *,
    backend: Literal["asyncio", "trio"] = "asyncio",
    **options: Any,
) -> Measurement:
    """Call ``app`` ``n`` times in-process and return per-request timings.

    ``options`` are those of :func:`ameasure`: ``warmup``, ``params``, ``headers``,
    ``body``, ``json``, ``expect_status``, ``allow_server_errors``, ``lifespan``.
    Raises :class:`MeasureError` on a 5xx (unless ``allow_server_errors``) or on a status
    other than ``expect_status``.
    """
    run = functools.partial(ameasure, app, method, path, n, **options)
    result: Measurement = anyio.run(run, backend=backend)
    return result
