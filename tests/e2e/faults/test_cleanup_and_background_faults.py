"""A yield dependency whose clean-up raises and a background task that raises, under a
real ``qake run``: the response is unaffected (the clean-up runs after it was sent),
the error is logged once, later tasks still run and the server keeps serving."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.faults.launch import Launched, launched, qake_run_command, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.e2e]


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("markers")


@pytest.fixture(scope="module")
def server(markers: Path) -> Iterator[Launched]:
    env = {"FAULT_MARKERS": str(markers)}
    with launched(qake_run_command, markers / "server.log", env) as running:
        yield running


def logged_once(server: Launched, marker: str) -> bool:
    wait_for(lambda: marker in server.output(), 10, f"{marker!r} in the log")
    time.sleep(0.3)  # a duplicate record would land by now
    return server.output().count(marker) == 1


def test_a_clean_up_that_raises_after_a_good_answer(server: Launched) -> None:
    fid = uuid.uuid4().hex
    response = httpx.get(f"{server.base}/cleanup-fails", params={"fid": fid}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"resource": "resource"}
    assert logged_once(server, f"RuntimeError: clean-up fault {fid}")
    assert httpx.get(server.base + "/ping", timeout=10).status_code == 200


def test_a_clean_up_that_raises_after_the_handler_raised(server: Launched) -> None:
    fid = uuid.uuid4().hex
    response = httpx.get(
        f"{server.base}/cleanup-fails-after-error", params={"fid": fid}, timeout=10
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text
    assert "fault" not in response.text
    # One record, the clean-up's error chained to the handler's.
    assert logged_once(server, f"RuntimeError: clean-up fault {fid}")
    assert httpx.get(server.base + "/ping", timeout=10).status_code == 200


def test_a_failing_background_task(server: Launched, markers: Path) -> None:
    fid = uuid.uuid4().hex
    response = httpx.get(f"{server.base}/background-fails", params={"fid": fid}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"scheduled": fid}
    assert logged_once(server, f"RuntimeError: background fault {fid}")
    assert "background task 'failing_task' failed" in server.output()
    # The task after it ran, and the server keeps serving.
    wait_for(lambda: (markers / f"after-{fid}").exists(), 10, "the next task")
    for _ in range(5):
        assert httpx.get(server.base + "/ping", timeout=10).status_code == 200
