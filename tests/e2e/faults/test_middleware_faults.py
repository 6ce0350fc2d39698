"""An exception in each middleware layer, before and after the response started, under
a real uvicorn: the client gets a 500 problem+json (before) or a cut connection (after;
a 500 when the layer had not passed the start on yet), never a traceback; the error is
logged exactly once; the server keeps serving."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from qake_server import Server, qake_run

from tests.e2e.faults.fault_app import LAYERS

pytestmark = [pytest.mark.fault, pytest.mark.e2e]

FAULTS = ("mw-before", "mw-after", "handler-before", "handler-after")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("faults") / "server.log"
    with qake_run("tests.e2e.faults.fault_app:app", log=log, ready="/ping") as running:
        yield running


def logged_times(server: Server, marker: str) -> int:
    """How many times ``marker`` is in the server's log once it appeared (waits up to
    10 s for it, then a moment for a duplicate to land)."""
    deadline = time.monotonic() + 10
    while marker not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    return server.log.read_text().count(marker)


def request(server: Server, path: str, fid: str) -> tuple[str, httpx.Response | None, bytes]:
    """``("answered", response, body)`` or ``("cut", None, what arrived)``."""
    headers = {
        "x-fault-id": fid,
        "origin": "http://a.example",
        "x-forwarded-proto": "https",
        "accept-encoding": "gzip",
    }
    received = b""
    with httpx.Client(base_url=server.base, timeout=10) as client:
        try:
            with client.stream("GET", path, headers=headers) as response:
                for chunk in response.iter_bytes():  # decoded (gzip)
                    received += chunk
                return "answered", response, received
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return "cut", None, received


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("layer", list(LAYERS))
def test_a_fault_in_a_middleware_layer(server: Server, layer: str, fault: str) -> None:
    fid = uuid.uuid4().hex
    outcome, response, body = request(server, f"/{layer}/{fault}", fid)
    assert b"Traceback" not in body
    assert b"injected fault" not in body
    # A hook runs before its response is sent: its "after call_next" is still before.
    started_before_fault = fault == "handler-after" or (fault == "mw-after" and layer != "hook")
    status = None if response is None else response.status_code
    print(f"{layer}/{fault}: {outcome} {status}")  # the outcomes, for the closing note
    if outcome == "answered":
        assert response is not None
        # Before the start every layer answers 500; after it, only a layer that had not
        # passed the response on yet may (nothing of the first response was sent).
        assert response.status_code == 500, (layer, fault, response.status_code, body[:200])
        assert response.headers["content-type"] == "application/problem+json"
        assert httpx.Response(500, content=body).json()["status"] == 500
    else:
        assert started_before_fault, f"{layer}/{fault}: connection cut before a response"
    assert logged_times(server, f"injected fault {fid}") == 1
    # The sub-app keeps serving.
    with httpx.Client(base_url=server.base, timeout=10) as client:
        ok = client.get(f"/{layer}/ok", headers={"x-forwarded-proto": "https"})
    assert ok.status_code == 200
    assert ok.text == "a" * 2048 + "b" * 2048
