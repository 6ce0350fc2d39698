"""A lifespan startup failure under a real ``qake run`` (one process, or ``--workers 2``):
the process exits non-zero (3), the error (with its traceback) is printed once per
process that tried, and no request is ever served."""

from __future__ import annotations

import subprocess
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.faults.launch import drain_command, qake_run_command, start
from tests.e2e.faults.shutdown_app import STARTUP_FAULT

pytestmark = [pytest.mark.fault, pytest.mark.e2e]

LAUNCHERS = {
    "qake-run": qake_run_command,
    "qake-run-workers": partial(qake_run_command, workers=2),
    "drain-module": partial(drain_command, drain_seconds=5),
}


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_startup_failure_exits_non_zero_with_the_error_once(tmp_path: Path, launcher: str) -> None:
    log = tmp_path / "server.log"
    env = {"FAULT_MARKERS": str(tmp_path), "FAULT_STARTUP": "fail"}
    proc = start(LAUNCHERS[launcher](0), log, env)
    try:
        status = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure under test
        proc.kill()
        proc.wait()
        raise
    output = log.read_text()
    assert status == 3, output  # uvicorn's STARTUP_FAILURE
    # Once per process that tried: each of two workers may fail before uvicorn stops them.
    tries = 2 if launcher == "qake-run-workers" else 1
    assert 1 <= output.count(f"RuntimeError: startup fault: {STARTUP_FAULT}") <= tries, output
    assert 1 <= output.count("Traceback (most recent call last)") <= tries, output
    assert "Application startup failed. Exiting." in output
    if launcher == "qake-run-workers":
        # The parent binds the socket and says so before its workers start; the first
        # worker that fails stops it.
        assert "failed to start, stopping the parent process" in output
    else:
        assert "Uvicorn running on" not in output
    assert not (tmp_path / "lifespan-shutdown").exists()
