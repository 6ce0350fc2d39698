"""``qake run`` in a subprocess on a free loopback port, for the end-to-end tests.

One launcher for every e2e module: start the server, wait until ``ready`` answers,
yield, then stop it (terminate, then kill after 10 s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    port: int
    log: Path

    def output(self) -> str:
        """What the server wrote so far (after a moment for its last lines to land)."""
        time.sleep(0.3)
        return self.log.read_text()


@contextmanager
def qake_run(
    target: str, *args: str, log: Path, ready: str = "/", prelude: str = ""
) -> Iterator[Server]:
    """``qake run TARGET --port N ARGS`` (through ``python -c`` when ``prelude`` must run
    first in the server's process), its output in ``log``."""
    port = free_port()
    cli = ["run", target, "--port", str(port), *args]
    if prelude:
        code = f"{prelude}\nfrom qakeapi._cli import main\nraise SystemExit(main({cli!r}))"
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "qakeapi", *cli]
    with serving(command, port, log=log, ready=ready) as server:
        yield server


@contextmanager
def serving(command: list[str], port: int, *, log: Path, ready: str = "/") -> Iterator[Server]:
    """Any server ``command`` listening on ``port`` of 127.0.0.1, its output in ``log``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + ready, timeout=0.5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command[:4]} did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield Server(base, port, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
