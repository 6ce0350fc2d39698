"""The hostile-input suite's tools: the server under attack, the ``/ping`` probe, the
``/proc`` readings, and raw-socket exchanges for what httpx would refuse to send.

Every attack runs inside :func:`watched`: a probe thread requests ``/ping`` every 50 ms
on its own keep-alive connection, the server's RSS (and its peak, reset before the
attack through ``/proc/<pid>/clear_refs``) and open descriptors are read before and
after, and afterwards the server must still answer, hold no more descriptors than
before (connections and spooled uploads closed) and have nothing in its temp dir.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])
MIB = 1024 * 1024
KIB = 1024
PROBE_EVERY = 0.05
PROBE_P99 = 0.2
#: What no answer body may contain: a traceback, a source path, an exception's name.
INTERNALS = (b"Traceback", b'File "', b"/work/", b"site-packages", b".py", b"Error(")


@dataclass
class Target:
    """A ``qake run`` process serving the hostile app."""

    proto: str
    port: int
    pid: int
    home: Path  # HOSTILE_DIR: data.bin, tmp/
    log: Path
    probe_log: Path

    @property
    def tmp(self) -> Path:
        return self.home / "tmp"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak) in KiB."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return values

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux ≥ 4.0; False where not allowed)."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def fds(self) -> list[str]:
        """Where each open descriptor of the server points."""
        out = []
        fd_dir = Path(f"/proc/{self.pid}/fd")
        for entry in os.listdir(fd_dir):
            with suppress(OSError):
                out.append(os.readlink(fd_dir / entry))
        return out

    def temp_fds(self) -> list[str]:
        return [f for f in self.fds() if f.startswith(str(self.tmp))]

    def tasks(self) -> int:
        """The server's asyncio tasks, but the one answering this question."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/stats")
            return int(json.loads(conn.getresponse().read())["tasks"]) - 1
        finally:
            conn.close()

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists()


#: The probe: its own process (the attacks' threads and big buffers in the test process
#: never delay it), one keep-alive connection, ``GET /ping`` every 50 ms; one line per
#: request: its start (CLOCK_MONOTONIC, shared by all processes), its latency in
#: seconds, and an error or "ok".
PROBE_CODE = """
import http.client, sys, time
port, out = int(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
conn = None
tick = time.monotonic()
errors = 0
while errors < 100:  # the server is gone (the suite crashed): stop
    started = time.monotonic()
    try:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/ping")
        response = conn.getresponse()
        body = response.read()
        status = "ok" if response.status == 200 and body == b'{"pong":true}' else (
            "answer:%d" % response.status)
        errors = 0
    except Exception as exc:
        status = "error:" + type(exc).__name__
        conn = None
        errors += 1
    out.write("%.6f %.6f %s\\n" % (started, time.monotonic() - started, status))
    tick = max(tick + 0.05, time.monotonic() - 0.05)
    time.sleep(max(0.0, tick - time.monotonic()))
"""


def start_probe(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The probe process, once it has written its first line."""
    log.touch()
    probe = subprocess.Popen([sys.executable, "-c", PROBE_CODE, str(port), str(log)])
    if not _poll(lambda: log.read_text().count("\n") >= 3, 20):
        probe.kill()
        pytest.fail(f"the probe does not answer: {log.read_text()}")
    return probe


@dataclass
class ProbeWindow:
    """The probe's requests that started between ``start`` and ``end``."""

    latencies: list[float]
    failures: list[str]

    def p99(self) -> float:
        """The nearest-rank 99th percentile (the maximum below 100 samples)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def probe_window(log: Path, start: float, end: float, timeout: float = 15) -> ProbeWindow:
    """The window's requests, once the probe has started one after ``end`` (it is
    sequential: every request of the window has then completed); at least one."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [line.split() for line in log.read_text().splitlines() if line.count(" ") == 2]
        if any(float(r[0]) > end for r in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    window = [r for r in rows if start <= float(r[0]) <= end]
    if not window:  # an attack shorter than a probe period: the next request counts
        window = [r for r in rows if float(r[0]) > start][:1]
    # The request in flight when the attack began counts too: it waited through it.
    before = [r for r in rows if float(r[0]) < start]
    if before and float(before[-1][0]) + float(before[-1][1]) > start:
        window.insert(0, before[-1])
    return ProbeWindow(
        [float(r[1]) for r in window if r[2] == "ok"],
        [f"{r[2]} after {float(r[1]):.3f} s" for r in window if r[2] != "ok"],
    )


class SlowProbe(AssertionError):
    """``/ping`` was slower than :data:`PROBE_P99` during the attack."""


def settled(test: F) -> F:
    """Run ``test`` up to 3 times while only the probe's latency fails it: on a loaded
    CI machine (2 cores, xdist, other engineers' suites) an unlucky scheduling gap can
    stall the probe once; an attack that really blocks the server does it every time.
    Any other failure fails at once."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(3):
            try:
                return test(*args, **kwargs)
            except SlowProbe:
                if attempt == 2:
                    raise
                time.sleep(0.5)
        return None  # pragma: no cover

    return run  # type: ignore[return-value]


@dataclass
class Watch:
    target: Target
    label: str
    rss_bound: int = 48 * MIB  # bytes of RSS growth allowed, at the peak and after
    seconds: float = 0.0
    notes: dict[str, object] = field(default_factory=dict)
    answer: str = ""


def _poll(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():  # type: ignore[operator]
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _record(row: dict[str, object]) -> None:
    """Append the attack's row to ``$HOSTILE_REPORT`` (JSON lines), when it is set."""
    path = os.environ.get("HOSTILE_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")


@contextmanager
def watched(
    target: Target,
    label: str,
    *,
    rss_bound: int = 48 * MIB,
    max_seconds: float = 20,
    probe_p99: float = PROBE_P99,
) -> Iterator[Watch]:
    """Run the attack in the ``with`` body under the probe and the ``/proc`` readings; it
    must be over within ``max_seconds``, ``/ping``'s p99 under ``probe_p99`` seconds."""
    assert target.alive(), "the server died before the attack"
    fds_before = len(target.fds())
    tasks_before = target.tasks()
    peak_reset = target.reset_peak()
    rss_before = target.status()["VmRSS"]
    watch = Watch(target, label, rss_bound)
    started = time.monotonic()
    try:
        yield watch
    finally:
        ended = time.monotonic()
        watch.seconds = ended - started
    probe = probe_window(target.probe_log, started, ended)
    assert target.alive(), f"the server died: {target.log.read_text()[-2000:]}"
    status = target.status()
    rss_delta = (status["VmRSS"] - rss_before) * KIB
    peak_delta = (status["VmHWM"] - rss_before) * KIB if peak_reset else rss_delta
    # Connections the attack opened are closed by the server asynchronously.
    fds_back = _poll(lambda: len(target.fds()) <= fds_before, 10)
    tasks_back = _poll(lambda: target.tasks() <= tasks_before, 10)
    temp_clean = _poll(lambda: not target.temp_fds() and not any(target.tmp.iterdir()), 10)
    row = {
        "attack": label,
        "proto": target.proto,
        "answer": watch.answer,
        "seconds": round(watch.seconds, 3),
        "rss_delta_kib": rss_delta // KIB,
        "peak_delta_kib": peak_delta // KIB,
        "probe_n": len(probe.latencies),
        "probe_p99_ms": round(probe.p99() * 1000, 1),
        "probe_failures": len(probe.failures),
        **watch.notes,
    }
    _record(row)
    assert not probe.failures, f"/ping failed during {label}: {probe.failures[:3]}"
    assert watch.seconds < max_seconds, f"{label} took {watch.seconds:.1f} s"
    assert tasks_back, f"{label}: tasks {tasks_before} -> {target.tasks()}"
    assert fds_back, f"{label}: descriptors {fds_before} -> {target.fds()}"
    assert temp_clean, f"{label}: temp files left: {target.temp_fds()}"
    assert peak_delta < watch.rss_bound, f"{label}: RSS peak grew by {peak_delta // MIB} MiB"
    assert rss_delta < watch.rss_bound, f"{label}: RSS grew by {rss_delta // MIB} MiB"
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=5)
    try:
        conn.request("GET", "/ping")
        assert conn.getresponse().status == 200, "the server does not answer after the attack"
    finally:
        conn.close()
    if probe.p99() >= probe_p99:  # last: every other check has passed
        raise SlowProbe(f"/ping p99 {probe.p99():.3f} s during {label}")


# -- raw exchanges ----------------------------------------------------------------------


@dataclass
class Answer:
    """What came back on a raw connection: ``status`` None when the server closed (or
    reset) it without answering."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    closed: bool
    seconds: float
    raw: bytes = field(repr=False)

    def json(self) -> object:
        return json.loads(self.body)

    def summary(self) -> str:
        if self.status is None:
            return "closed, no answer"
        kind = self.headers.get("content-type", "-").split(";")[0]
        return f"{self.status} {kind}" + (", closed" if self.closed else "")


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, _, v in fields}


def read_answer(s: socket.socket, started: float, wait: float) -> Answer:
    """One answer (head and Content-Length body) from ``s``; then whether it closed."""
    s.settimeout(wait)
    raw = b""
    closed = False
    while True:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if sep:
            length = parse_head(head)[1].get("content-length")
            if length is not None and len(rest) >= int(length):
                break
            if length is None and rest.endswith(b"0\r\n\r\n"):  # the end of a chunked body
                break
            # else: more of the body, or a body that ends when the connection does
        try:
            chunk = s.recv(256 * KIB)
        except TimeoutError:
            pytest.fail(f"no complete answer in {wait} s: {raw[:300]!r}")
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            closed = True
            break
        raw += chunk
    seconds = time.monotonic() - started
    if not closed:
        s.settimeout(0.5)
        try:
            closed = s.recv(1) == b""
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
    if not raw:
        return Answer(None, {}, b"", True, seconds, raw)
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    return Answer(status, headers, body, closed, seconds, raw)


#: ``qake run --head-timeout`` of the attacked server (10 s by default): short, so that
#: the slowloris tests see heads cut off, long enough for every other attack's head.
HEAD_TIMEOUT = 4.0


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def exchange(port: int, *pieces: bytes, pause: float = 0.0, wait: float = 10.0) -> Answer:
    """Send ``pieces`` on one connection (``pause`` s apart), read one answer. A server
    that closes (or resets) the connection while the client still sends is an answer."""
    started = time.monotonic()
    with connect(port) as s:
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        return read_answer(s, started, wait)


def request(
    method: str, target: str, *headers: bytes, body: bytes = b"", close: bool = True
) -> bytes:
    """A raw HTTP/1.1 request (Host, then ``headers``, Content-Length when ``body``)."""
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1"), b"Host: 127.0.0.1", *headers]
    if body and not any(h.lower().startswith(b"content-length") for h in headers):
        lines.append(b"Content-Length: %d" % len(body))
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def assert_refused(answer: Answer, *statuses: int) -> None:
    """A 4xx of ``statuses`` (problem+json when the app answered) or a clean close; no
    internal detail in the body."""
    for word in INTERNALS:
        assert word not in answer.body, f"internal detail {word!r} in {answer.body[:300]!r}"
    if answer.status is None:
        return
    assert answer.status in statuses, answer.raw[:400]
    kind = answer.headers.get("content-type", "")
    if kind.startswith("application/problem+json"):
        problem = answer.json()
        assert isinstance(problem, dict)
        assert problem["status"] == answer.status
    else:  # the server's own refusal (h11/httptools): plain text, and the connection ends
        assert kind in ("", "text/plain; charset=utf-8"), answer.raw[:400]
        assert answer.closed, answer.raw[:400]


def assert_problem(answer: Answer, *statuses: int) -> None:
    """The app's own refusal: a 4xx of ``statuses`` with a problem+json body."""
    assert answer.status in statuses, answer.raw[:400]
    assert answer.headers.get("content-type") == "application/problem+json", answer.raw[:400]
    assert_refused(answer, *statuses)
