"""Issue 18: Prometheus metrics. ``MetricsMiddleware`` counts and times requests by
route template (never by raw path), tracks requests in flight and open WebSocket
connections; ``add_metrics_route``/``metrics_app`` serve them, merged over worker
processes in multiprocess mode; without prometheus-client the app says which extra."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from qake_server import qake_run

from qake_core import App, MetricsMiddleware, add_metrics_route, metrics_app
from qake_testing import TestClient

prometheus_client = pytest.importorskip(
    "prometheus_client", reason="MetricsMiddleware needs prometheus-client (qake-core[metrics])"
)
CollectorRegistry = prometheus_client.CollectorRegistry
text_string_to_metric_families = pytest.importorskip(
    "prometheus_client.parser"
).text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def requests(registry: CollectorRegistry, method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return sample(registry, "http_requests_total", **labels)


def metered_app(registry: CollectorRegistry, **options: Any) -> App:
    app = App()
    app.add_middleware(MetricsMiddleware, registry=registry, **options)
    seen: dict[str, float] = {}

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.post("/items")
    async def create() -> dict[str, bool]:
        return {"created": True}

    @app.get("/in-flight")
    async def in_flight() -> dict[str, float]:
        seen["in_flight"] = sample(registry, "http_requests_in_flight")
        return seen

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("boom")

    add_metrics_route(app, registry=registry)
    return app


def test_requests_are_counted_and_timed_by_method_route_template_and_status() -> None:
    registry = CollectorRegistry()
    with TestClient(metered_app(registry), raise_server_exceptions=False) as client:
        for n in range(3):
            assert client.get(f"/items/{n}").status_code == 200
        assert client.post("/items").status_code == 200
        assert client.get("/items/x").status_code == 404  # no route: the int converter
        assert client.get("/boom").status_code == 500
    assert requests(registry, "GET", "/items/{item_id:int}", 200) == 3
    assert requests(registry, "POST", "/items", 200) == 1
    assert requests(registry, "GET", "<unmatched>", 404) == 1
    assert requests(registry, "GET", "/boom", 500) == 1
    labels = {"method": "GET", "route": "/items/{item_id:int}", "status": "200"}
    assert sample(registry, "http_request_duration_seconds_count", **labels) == 3
    total = sample(registry, "http_request_duration_seconds_sum", **labels)
    assert 0 < total < 3  # seconds, summed over the three requests
    assert sample(registry, "http_request_duration_seconds_bucket", le="+Inf", **labels) == 3
    assert sample(registry, "http_requests_in_flight") == 0


def test_a_request_is_in_flight_while_it_is_answered() -> None:
    registry = CollectorRegistry()
    with TestClient(metered_app(registry)) as client:
        assert client.get("/in-flight").json() == {"in_flight": 1.0}
    assert sample(registry, "http_requests_in_flight") == 0


def test_clients_cannot_grow_the_label_sets() -> None:
    registry = CollectorRegistry()
    with TestClient(metered_app(registry)) as client:
        for n in range(50):
            assert client.get(f"/random/{n}/path").status_code == 404
            assert client.request(f"BREW{n}", "/items").status_code in (400, 405)
    families = {f.name: f for f in registry.collect()}
    series = {tuple(sorted(s.labels.items())) for s in families["http_requests"].samples}
    # 100 different paths and methods: two series (a 404, a refused method), not 100.
    routes = {dict(labels)["route"] for labels in series}
    methods = {dict(labels)["method"] for labels in series}
    statuses = {dict(labels)["status"] for labels in series}
    assert routes == {"<unmatched>"}
    assert methods == {"GET", "<other>"}
    assert statuses == {"404", "405"}
    assert len(series) == 2


def test_the_endpoint_serves_prometheus_text_and_openmetrics() -> None:
    registry = CollectorRegistry()
    with TestClient(metered_app(registry)) as client:
        client.get("/items/1")
        text = client.get("/metrics")
        openmetrics = client.get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    parsed = {f.name: f for f in text_string_to_metric_families(text.text)}
    (counted,) = [
        s for s in parsed["http_requests"].samples if s.labels.get("route", "").startswith("/items")
    ]
    assert counted.value == 1
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")


def test_metrics_app_is_a_mountable_asgi_app() -> None:
    registry = CollectorRegistry()
    app = metered_app(registry)
    app.mount("/ops/metrics", metrics_app(registry))
    with TestClient(app) as client:
        client.get("/items/1")
        answer = client.get("/ops/metrics/")
        refused = client.post("/ops/metrics/")
    assert answer.status_code == 200
    assert 'route="/items/{item_id:int}"' in answer.text
    assert refused.status_code == 405


def test_one_registry_holds_one_set_of_metrics() -> None:
    registry = CollectorRegistry()
    # Two apps, one registry: the same metrics, no "duplicated timeseries".
    first, second = metered_app(registry), metered_app(registry)
    with TestClient(first) as a, TestClient(second) as b:
        a.get("/items/1")
        b.get("/items/1")
    assert requests(registry, "GET", "/items/{item_id:int}", 200) == 2
    with pytest.raises(ValueError, match="other options"):
        MetricsMiddleware(App(), registry=registry, namespace="shop")
    named = CollectorRegistry()
    with TestClient(metered_app(named, namespace="shop")) as client:
        client.get("/items/1")
    assert (
        sample(
            named,
            "shop_http_requests_total",
            method="GET",
            route="/items/{item_id:int}",
            status="200",
        )
        == 1
    )


def test_a_missing_multiprocess_directory_is_a_clear_startup_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "absent"))
    with pytest.raises(RuntimeError, match=r"PROMETHEUS_MULTIPROC_DIR=.*is not a directory"):
        MetricsMiddleware(App(), registry=CollectorRegistry())


WITHOUT_PROMETHEUS = textwrap.dedent(
    """
    import sys
    sys.modules["prometheus_client"] = None  # not installed
    import qake_core
    from qake_core import App, MetricsMiddleware, add_metrics_route
    from qake_testing import TestClient
    app = App()
    app.add_middleware(MetricsMiddleware)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {}

    for attempt in (lambda: TestClient(app).__enter__(), lambda: add_metrics_route(app)):
        try:
            attempt()
        except RuntimeError as exc:
            print("REFUSED:", str(exc).replace("\\n", " "))
    """
)


@pytest.mark.parametrize("every_backend", ["none"])  # a subprocess: once, not per backend
def test_without_the_extra_qake_core_imports_and_the_app_says_which_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PROMETHEUS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    refusals = [line for line in result.stdout.splitlines() if line.startswith("REFUSED:")]
    assert len(refusals) == 2, result.stdout + result.stderr
    for line in refusals:
        assert "needs prometheus-client, which is not installed" in line
        assert "pip install 'qake-core[metrics]'" in line


# -- multiprocess mode: two uvicorn workers, one PROMETHEUS_MULTIPROC_DIR ----------------

APP = "tests.core.metrics_workers_app:app"


async def _pids(base: str, count: int) -> list[int]:
    """``count`` requests, each on its own connection, all at once (30 s at most)."""

    async def one() -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(base + "/pid")
            answer.raise_for_status()
            return int(answer.json()["pid"])

    async with asyncio.timeout(30):
        return list(await asyncio.gather(*(one() for _ in range(count))))


@pytest.mark.e2e
@pytest.mark.scaleout
@pytest.mark.parametrize("every_backend", ["none"])  # no TestClient: once, not per backend
def test_two_worker_processes_report_one_merged_set_of_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Served by ``qake run --workers 2``: the qakeapi meta-package's CLI (qake-core
    # installed alone, as .ci/a_la_carte.sh does, has no server command).
    pytest.importorskip("qakeapi", reason="qake run comes with the qakeapi meta-package")
    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    with qake_run(APP, "--workers", "2", log=tmp_path / "server.log", ready="/ready") as server:
        served: list[int] = []
        # Until both workers have answered some (the kernel picks who accepts); bounded.
        deadline = time.monotonic() + 60
        while len(set(served)) < 2 and time.monotonic() < deadline:
            served += asyncio.run(_pids(server.base, 20))
        workers = set(served)
        assert len(workers) == 2, f"one worker answered everything: {server.output()}"
        scrapes = [httpx.get(server.base + "/metrics", timeout=10) for _ in range(6)]
    expected = len(served)
    for scrape in scrapes:
        assert scrape.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
        counted = [
            s.value
            for s in families["http_requests"].samples
            if s.name == "http_requests_total" and s.labels["route"] == "/pid"
        ]
        # Whichever worker answered the scrape, it counts every worker's requests.
        assert sum(counted) == expected, scrape.text
        (in_flight,) = families["http_requests_in_flight"].samples
        assert in_flight.value == 1  # the scrape itself
    files = sorted(p.name for p in folder.iterdir())
    for pid in workers:
        assert f"counter_{pid}.db" in files, files
        assert f"histogram_{pid}.db" in files, files
    assert os.getpid() not in workers
