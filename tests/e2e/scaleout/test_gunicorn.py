"""The gunicorn recipe of docs/deployment-scale.md, run as written: gunicorn's master
with two ``uvicorn_worker.UvicornWorker`` processes serving the example app (issue 18).

Both workers answer (two distinct pids, each a child of the master), the example's own
routes work through either, and a SIGTERM to the master stops it cleanly (exit 0).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from qake_server import free_port

from tests.e2e.scaleout.cluster import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]

pytest.importorskip("gunicorn", reason="gunicorn is in the test environment (hatch.toml)")
pytest.importorskip("uvicorn_worker", reason="uvicorn-worker is in the test environment")


def _parent(pid: int) -> int:
    # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces: split after ")".
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def test_gunicorn_with_two_uvicorn_workers_serves_the_example(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "gunicorn",
        "tests.e2e.scaleout.gunicorn_app:app",
        "--worker-class", "uvicorn_worker.UvicornWorker",
        "--workers", "2",
        "--bind", f"127.0.0.1:{port}",
        "--graceful-timeout", "10",
    ]  # fmt: skip
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        master = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 40
        while len(pids) < 2:
            assert master.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"only {pids} answered:\n{log.read_text()}"
            try:
                # A new connection each time: the kernel hands it to either worker.
                r = httpx.get(base + "/_worker", timeout=5, headers={"connection": "close"})
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            assert r.status_code == 200
            pids.add(r.json()["pid"])
        assert master.pid not in pids
        assert {_parent(pid) for pid in pids} == {master.pid}
        for _ in range(10):
            item = httpx.get(base + "/items/1", timeout=5, headers={"connection": "close"})
            assert item.status_code == 200
            assert item.json() == {"name": "Hammer", "price": 9.5}
            missing = httpx.get(base + "/items/999", timeout=5)
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
        master.send_signal(signal.SIGTERM)
        assert master.wait(timeout=30) == 0, log.read_text()
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or _state(pid) == "Z"
        output = log.read_text()
        assert "Traceback" not in output, output
        assert output.count("Application startup complete.") == 2, output
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return "gone"
