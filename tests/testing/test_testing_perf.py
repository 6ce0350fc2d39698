from __future__ import annotations

import pytest
from testing_apps import EchoApp

from qake_testing import MeasureError, Measurement, ameasure, measure


def test_measure_returns_stats() -> None:
    result = measure(EchoApp(), "GET", "/echo", n=50, warmup=5, params={"q": "1"})
    assert isinstance(result, Measurement)
    assert result.n == 50
    assert result.status == 200
    assert 0 < result.min_us <= result.median_us <= result.p95_us <= result.max_us
    assert result.mean_us > 0
    assert result.requests_per_s > 0
    assert "req/s" in str(result)


def test_measure_sends_body_and_runs_lifespan() -> None:
    app = EchoApp()
    measure(app, "POST", "/echo", n=5, warmup=0, json={"a": 1}, lifespan=True, backend="trio")
    assert (app.startups, app.shutdowns) == (1, 1)


def test_measure_rejects_server_errors_and_unexpected_status() -> None:
    with pytest.raises(MeasureError, match="answered 404"):
        measure(EchoApp(), "GET", "/missing-is-404", n=5, expect_status=500, warmup=0)
    with pytest.raises(MeasureError, match="404"):
        measure(EchoApp(), "GET", "/nope", n=5, expect_status=200, warmup=0)
    with pytest.raises(ValueError, match="boom"):
        measure(EchoApp(), "GET", "/boom", n=5, warmup=0)


def test_measure_allows_server_errors_on_request() -> None:
    async def failing(scope: dict[str, object], receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    with pytest.raises(MeasureError):
        measure(failing, "GET", "/", n=3, warmup=0)
    assert measure(failing, "GET", "/", n=3, warmup=0, allow_server_errors=True).status == 503


@pytest.mark.anyio
async def test_ameasure() -> None:
    result = await ameasure(EchoApp(), "GET", "/echo", n=10, warmup=1)
    assert result.n == 10
