"""Start the fault tests' servers as real subprocesses and keep their handle (to send
SIGTERM and read the exit status): ``qake run`` or ``qakeapi._drain.serve``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from qake_server import ROOT, free_port

TARGET = "tests.e2e.faults.shutdown_app:app"


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_exit(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)


def qake_run_command(port: int, target: str = TARGET, workers: int = 1) -> list[str]:
    command = [sys.executable, "-m", "qakeapi", "run", target, "--port", str(port)]
    return command if workers == 1 else [*command, "--workers", str(workers)]


def drain_command(port: int, drain_seconds: float, target: str = TARGET) -> list[str]:
    code = (
        "from qakeapi._drain import serve\n"
        f"raise SystemExit(serve({target!r}, port={port}, drain_seconds={drain_seconds}))"
    )
    return [sys.executable, "-c", code]


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT
        )


@contextmanager
def launched(
    make_command: object, log: Path, env: dict[str, str], ready: str = "/readyz"
) -> Iterator[Launched]:
    """``make_command(port)`` started; yields once ``ready`` answers 200; killed at exit
    if still running."""
    port = free_port()
    assert callable(make_command)
    proc = start(make_command(port), log, env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + ready, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield Launched(proc, base, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(predicate: object, timeout: float, what: str) -> float:
    """Poll ``predicate()`` until true; the seconds it took."""
    assert callable(predicate)
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started
