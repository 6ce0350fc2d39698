"""S11: a 10 MiB multipart upload streamed to disk and a 10 MiB file download, per framework.

Each app (``transfer_apps/*.py``: ``POST /upload``, ``GET /download``, ``GET /ping``) runs
under uvicorn (httptools, uvloop, one worker) pinned to core 0, started by
``e2e.serve``; this process is the client, pinned to core 1, with plain blocking
sockets: an upload sends the multipart body with ``sendall`` (no client-side parsing
or encoding cost), a download reads the answer with ``recv_into`` into one buffer.
Every answer is checked: the upload's ``{"size": ...}``, the download's status,
Content-Length and bytes.

While a batch of transfers runs, a probe process (also on core 1) requests ``GET /ping``
on its own keep-alive connection every ``--probe-interval`` (10 ms): its latencies show
whether the server's event loop stays responsive during the transfer (p50, p99, max).
The server's CPU time (user + system, from ``/proc``) over each transfer gives CPU ms
per MiB.

    python benchmarks/transfers.py --check                      # correctness (CI), ~15 s
    python benchmarks/transfers.py                              # 3 rounds x 10 transfers
    python benchmarks/transfers.py --frameworks bare,qakeapi --rounds 5 --transfers 20
    python benchmarks/transfers.py --only-inprocess --output /tmp/s11.md   # CPU only, ~1 min
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    DASH,
    FRAMEWORKS,
    RESULTS_DIR,
    TIMES,
    Framework,
    fmt_number,
    machine_info,
    machine_line,
    markdown_table,
    parse_list,
    version_of,
)
from e2e import CLIENT_CORE, SERVER_CORE, BenchError, Server, Unavailable, pinned, serve

#: S11's apps: the bare app and the peers, in the suite's order.
TRANSFER_FRAMEWORKS: dict[str, Framework] = {
    f.key: f
    for f in (
        Framework("bare", "bare ASGI", "transfer_apps.bare_asgi", None),
        Framework("qakeapi", "qakeapi", "transfer_apps.qakeapi_app", "qakeapi"),
        Framework("blacksheep", "BlackSheep", "transfer_apps.blacksheep_app", "blacksheep"),
        Framework("falcon", "Falcon", "transfer_apps.falcon_app", "falcon"),
        Framework("starlette", "Starlette", "transfer_apps.starlette_app", "starlette"),
        Framework("litestar", "Litestar", "transfer_apps.litestar_app", "litestar"),
        Framework("fastapi", "FastAPI", "transfer_apps.fastapi_app", "fastapi"),
    )
}
# e2e.serve() starts ``FRAMEWORKS[key].module``: S11's apps are registered there under keys
# of their own (in this process only), so its server start and pinning are reused as is.
_PREFIX = "s11-"
for _key, _framework in TRANSFER_FRAMEWORKS.items():
    FRAMEWORKS.setdefault(_PREFIX + _key, _framework)

HOST = "127.0.0.1"
MIB = 1024 * 1024
BOUNDARY = b"s11-benchmark-boundary-7d3f9a"
DIRECTIONS = ("upload", "download")
RECV_CHUNK = 256 * 1024


# -- HTTP/1.1 over a plain socket --------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes | memoryview  # a view into the caller's buffer: no copy of a large body


def read_answer(sock: socket.socket, buffer: bytearray | None = None) -> Answer:
    """Read one answer (Content-Length or chunked). A Content-Length body goes into
    ``buffer`` when it is large enough (no copy per chunk)."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise BenchError(f"connection closed before the answer's head ({bytes(data)!r})")
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        length = int(headers[b"content-length"])
        if buffer is None or len(buffer) < length:
            buffer = bytearray(length)
        view = memoryview(buffer)[:length]
        got = len(rest[:length])
        view[:got] = rest[:length]
        while got < length:
            n = sock.recv_into(view[got:], min(RECV_CHUNK, length - got))
            if not n:
                raise BenchError(f"connection closed after {got} of {length} body bytes")
            got += n
        return Answer(status, headers, view)
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return Answer(status, headers, read_chunked(sock, bytearray(rest)))
    raise BenchError(f"an answer without Content-Length or chunked encoding: {headers}")


def read_chunked(sock: socket.socket, data: bytearray) -> bytes:
    body = bytearray()

    def need(n: int) -> None:
        while len(data) < n:
            chunk = sock.recv(RECV_CHUNK)
            if not chunk:
                raise BenchError("connection closed inside a chunked body")
            data.extend(chunk)

    while True:
        while b"\r\n" not in data:
            need(len(data) + 1)
        line, _, _ = bytes(data).partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        del data[: len(line) + 2]
        need(size + 2)
        body += data[:size]
        del data[: size + 2]
        if size == 0:
            return bytes(body)


def multipart_parts(payload: bytes) -> tuple[bytes, bytes]:
    """The bytes before and after the file's content in S11's multipart body."""
    before = (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="payload.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    after = b"\r\n--" + BOUNDARY + b"--\r\n"
    return before, after


@dataclass
class Transfer:
    framework: str
    direction: str
    round: int
    seconds: float
    start: float  # time.monotonic() (CLOCK_MONOTONIC: the probe process's clock too)
    end: float

    @property
    def mib_per_s(self) -> float:
        return PAYLOAD_MIB / self.seconds


PAYLOAD_MIB = 10.0  # set from --size-mib in main()


def upload(server: Server, payload: bytes) -> tuple[Answer, float, float]:
    """POST the payload as the ``file`` part: (answer, start, end) in ``time.monotonic()``."""
    before, after = multipart_parts(payload)
    length = len(before) + len(payload) + len(after)
    head = (
        f"POST /upload HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY.decode()}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    with socket.create_connection((HOST, server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.monotonic()
        sock.sendall(head + before)
        sock.sendall(payload)
        sock.sendall(after)
        answer = read_answer(sock)
        end = time.monotonic()
    return answer, start, end


def download(server: Server, buffer: bytearray) -> tuple[Answer, float, float]:
    """GET /download into ``buffer``: (answer, start, end) in ``time.monotonic()``."""
    head = f"GET /download HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n\r\n".encode()
    with socket.create_connection((HOST, server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.monotonic()
        sock.sendall(head)
        answer = read_answer(sock, buffer)
        end = time.monotonic()
    return answer, start, end


def ping(server: Server) -> Answer:
    with socket.create_connection((HOST, server.port)) as sock:
        sock.sendall(f"GET /ping HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n\r\n".encode())
        return read_answer(sock)


def check_upload(key: str, answer: Answer, payload: bytes, data_dir: Path) -> list[str]:
    problems = []
    if answer.status != 200:
        return [f"upload: status {answer.status} ({bytes(answer.body[:200])!r})"]
    try:
        size = json.loads(bytes(answer.body))["size"]
    except (ValueError, KeyError, TypeError):
        return [f"upload: the answer is not {{'size': ...}}: {bytes(answer.body[:200])!r}"]
    if size != len(payload):
        problems.append(f"upload: answered size {size}, sent {len(payload)}")
    stored = data_dir / "uploads" / f"{key}.bin"
    if not stored.is_file():
        problems.append(f"upload: {stored} was not written")
    elif stored.read_bytes() != payload:
        problems.append(f"upload: {stored} differs from the bytes sent ({stored.stat().st_size})")
    return problems


def check_download(answer: Answer, expected: bytes) -> list[str]:
    problems = []
    if answer.status != 200:
        return [f"download: status {answer.status}"]
    length = answer.headers.get(b"content-length")
    if length is None:
        problems.append("download: no Content-Length (chunked)")
    elif int(length) != len(expected):
        problems.append(f"download: Content-Length {length!r}, file size {len(expected)}")
    if answer.body != expected:
        problems.append(f"download: {len(answer.body)} bytes that differ from the file")
    return problems


# -- the probe -----------------------------------------------------------------------------


def probe_main(interval: float) -> int:
    """The probe process: commands on stdin, results on stdout, one line each.

    ``start PORT`` connects and pings every ``interval`` (the next one at once when an
    answer took longer) and answers ``ready`` after the first answer; ``stop`` answers
    a JSON list of ``[sent_at, latency]`` (``time.monotonic()`` seconds) and waits for
    the next command; end of input ends the process.
    """
    out = sys.stdout
    pending = b""
    sock: socket.socket | None = None
    samples: list[list[float]] = []
    request = b""
    next_at = 0.0
    while True:
        timeout = None if sock is None else max(0.0, next_at - time.monotonic())
        readable, _, _ = select.select([0], [], [], timeout)
        if readable:
            data = os.read(0, 4096)
            if not data:
                return 0
            pending += data
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                words = line.decode().split()
                if words and words[0] == "start":
                    port = int(words[1])
                    sock = socket.create_connection((HOST, port))
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    request = f"GET /ping HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
                    sock.sendall(request)
                    read_answer(sock)
                    samples = []
                    next_at = time.monotonic()
                    out.write("ready\n")
                    out.flush()
                elif words and words[0] == "stop":
                    if sock is not None:
                        sock.close()
                    sock = None
                    out.write(json.dumps(samples) + "\n")
                    out.flush()
            continue
        if sock is None:
            continue
        sent = time.monotonic()
        sock.sendall(request)
        answer = read_answer(sock)
        if answer.status != 200 or bytes(answer.body) != b"pong":
            raise BenchError(f"probe: unexpected answer {answer.status} {answer.body!r}")
        samples.append([sent, time.monotonic() - sent])
        next_at = max(sent + interval, time.monotonic())


class Probe:
    """The probe process (pinned to the client core), driven over its stdin and stdout."""

    def __init__(self, interval: float) -> None:
        cmd = [
            *pinned(CLIENT_CORE),
            sys.executable,
            str(Path(__file__).resolve()),
            "--probe-worker",
            "--probe-interval",
            str(interval),
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def _command(self, line: str) -> str:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise BenchError(f"the probe process ended (exit status {self.proc.wait()})")
        return reply.decode()

    def start(self, port: int) -> None:
        if self._command(f"start {port}").strip() != "ready":
            raise BenchError("the probe did not start")

    def stop(self) -> list[tuple[float, float]]:
        return [(s, lat) for s, lat in json.loads(self._command("stop"))]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


# -- the runs ------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_dir() -> str | None:
    """A tmpfs when there is one (``/dev/shm``), else the system's temporary directory."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def make_files(data_dir: Path, size: int) -> tuple[bytes, bytes]:
    """The file to download (written to ``data_dir``) and the payload to upload."""
    (data_dir / "uploads").mkdir(parents=True, exist_ok=True)
    served = os.urandom(size)
    (data_dir / "download.bin").write_bytes(served)
    return served, os.urandom(size)


def servers(
    stack: ExitStack, frameworks: list[str], data_dir: Path, startup_timeout: float
) -> Iterator[tuple[str, Server | None, str]]:
    """Start each framework's server (``None`` and the reason when unavailable)."""
    # TMPDIR too: the frameworks' spooled uploads go to the same file system as the rest.
    env = {**os.environ, "S11_DIR": str(data_dir), "TMPDIR": str(data_dir)}
    for key in frameworks:
        try:
            server = stack.enter_context(serve(_PREFIX + key, "app", startup_timeout, env=env))
        except Unavailable as exc:
            yield key, None, str(exc)
            continue
        yield key, server, ""


def check(args: argparse.Namespace, frameworks: list[str], named: bool) -> int:
    size = int(args.size_mib * MIB)
    failures = 0
    with (
        tempfile.TemporaryDirectory(prefix="s11-check-", dir=args.dir) as tmp,
        ExitStack() as stack,
    ):
        data_dir = Path(tmp)
        served, payload = make_files(data_dir, size)
        buffer = bytearray(size)
        for key, server, reason in servers(stack, frameworks, data_dir, args.startup_timeout):
            if server is None:
                log(f"{key}: unavailable ({reason})")
                failures += named
                continue
            problems: list[str] = []
            pong = ping(server)
            if pong.status != 200 or bytes(pong.body) != b"pong":
                problems.append(f"ping: {pong.status} {pong.body[:100]!r}")
            problems += check_upload(key, upload(server, payload)[0], payload, data_dir)
            problems += check_download(download(server, buffer)[0], served)
            server.stop()
            if problems:
                failures += 1
                log(f"{key}: FAILED\n  " + "\n  ".join(problems))
            else:
                log(f"{key}: ok (upload and download of {size:,} bytes byte-exact)")
    return 1 if failures else 0


@dataclass
class Results:
    transfers: list[Transfer] = field(default_factory=list)
    # (framework, direction or "idle") -> probe latencies (seconds) inside the windows
    probe: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    # (framework, direction) -> server CPU ms per MiB, one value per batch (the /proc
    # clock ticks every 10 ms: a whole batch, not one transfer, is what it can time)
    cpu: dict[tuple[str, str], list[float]] = field(default_factory=dict)


def in_windows(
    samples: list[tuple[float, float]], windows: list[tuple[float, float]]
) -> list[float]:
    """The latencies of the pings sent while a transfer was running."""
    return [lat for sent, lat in samples if any(a <= sent <= b for a, b in windows)]


def measure(args: argparse.Namespace, frameworks: list[str]) -> Results:
    global PAYLOAD_MIB
    size = int(args.size_mib * MIB)
    PAYLOAD_MIB = size / MIB
    results = Results()
    with tempfile.TemporaryDirectory(prefix="s11-", dir=args.dir) as tmp, ExitStack() as stack:
        data_dir = Path(tmp)
        served, payload = make_files(data_dir, size)
        buffer = bytearray(size)
        up: dict[str, Server] = {}
        for key, server, reason in servers(stack, frameworks, data_dir, args.startup_timeout):
            if server is None:
                results.unavailable[key] = reason
                log(f"{key}: unavailable, skipped ({reason})")
                continue
            problems = check_upload(key, upload(server, payload)[0], payload, data_dir)
            problems += check_download(download(server, buffer)[0], served)
            if problems:
                raise BenchError(f"{key}: wrong answers\n  " + "\n  ".join(problems))
            up[key] = server
        log(f"{len(up)} servers up and checked (byte-exact upload and download)")
        probe = Probe(args.probe_interval)
        stack.callback(probe.close)
        present = [k for k in frameworks if k in up]
        for key in present:  # the probe's latency with no transfer running, for reference
            probe.start(up[key].port)
            time.sleep(args.idle_seconds)
            results.probe[key, "idle"] = [lat for _, lat in probe.stop()]
        for round_no in range(args.rounds):
            order = present if round_no % 2 == 0 else present[::-1]
            log(f"round {round_no + 1}/{args.rounds}: {' '.join(order)}")
            for direction in DIRECTIONS:
                for key in order:
                    server = up[key]
                    probe.start(server.port)
                    batch: list[Transfer] = []
                    cpu0 = server.cpu_seconds()
                    for _ in range(args.transfers):
                        if direction == "upload":
                            answer, start, end = upload(server, payload)
                            if answer.status != 200:
                                raise BenchError(f"{key} upload: {answer.status}")
                        else:
                            answer, start, end = download(server, buffer)
                            if answer.status != 200 or len(answer.body) != size:
                                raise BenchError(f"{key} download: {answer.status}")
                        batch.append(Transfer(key, direction, round_no, end - start, start, end))
                    cpu_batch = server.cpu_seconds() - cpu0
                    results.cpu.setdefault((key, direction), []).append(
                        cpu_batch * 1e3 / (PAYLOAD_MIB * len(batch))
                    )
                    samples = probe.stop()
                    windows = [(t.start, t.end) for t in batch]
                    latencies = in_windows(samples, windows)
                    results.probe.setdefault((key, direction), []).extend(latencies)
                    results.transfers += batch
                    mid = statistics.median(t.mib_per_s for t in batch)
                    cpu_mib = results.cpu[key, direction][-1]
                    worst = max(latencies) * 1e3 if latencies else float("nan")
                    log(
                        f"  {key:<10} {direction:<8} {mid:7.0f} MiB/s  server "
                        f"{cpu_mib:5.2f} CPU ms/MiB  probe {len(latencies)} pings, "
                        f"max {worst:.1f} ms"
                    )
    return results


# -- in process: CPU time, no sockets --------------------------------------------------------

#: Bytes per ``http.request`` message in process: about what uvicorn handed the apps per
#: ``receive()`` in the end-to-end runs (one 256 KiB socket read).
INPROCESS_CHUNK = 256 * 1024


def asgi_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An HTTP/1.1 scope as uvicorn builds one."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }


async def exchange(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, int]:
    """Await ``app`` on one request whose body is ``chunks``: (status, body bytes sent).

    As a server does, ``receive`` reports the disconnect only once the answer is sent
    (an app listening for it meanwhile neither spins nor ends the answer early).
    """
    import asyncio

    feed = iter(chunks or [b""])
    left = len(chunks)
    finished = asyncio.Event()
    status = 0
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal left
        chunk = next(feed, None)
        if chunk is None:
            await finished.wait()
            return {"type": "http.disconnect"}
        left -= 1
        return {"type": "http.request", "body": chunk, "more_body": left > 0}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, sent
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            sent += len(message.get("body", b""))
            if not message.get("more_body"):
                finished.set()

    await app(scope, receive, send)
    return status, sent


def inprocess_worker(key: str, size: int, repeats: int) -> dict[str, list[float]]:
    """In this (fresh) process: ``key``'s app awaited directly, CPU ms per transfer.

    ``time.process_time`` counts every thread of the process, so the work a framework
    sends to its thread pool (spooled writes, file reads) is counted too. Upload and
    download are each run 3 times untimed, then ``repeats`` times timed.
    """
    import uvloop
    from inprocess import Lifespan

    app = __import__(TRANSFER_FRAMEWORKS[key].module, fromlist=["app"]).app
    served_size = (Path(os.environ["S11_DIR"]) / "download.bin").stat().st_size
    payload = os.urandom(size)
    before, after = multipart_parts(payload)
    body = before + payload + after
    chunks = [body[i : i + INPROCESS_CHUNK] for i in range(0, len(body), INPROCESS_CHUNK)]
    upload_headers = [
        (b"content-type", b"multipart/form-data; boundary=" + BOUNDARY),
        (b"content-length", str(len(body)).encode()),
    ]

    async def run() -> dict[str, list[float]]:
        lifespan = Lifespan(app)
        await lifespan.startup()
        requests = {
            "upload": (asgi_scope("POST", "/upload", upload_headers), chunks),
            "download": (asgi_scope("GET", "/download", []), []),
        }
        results: dict[str, list[float]] = {}
        for direction, (scope, body_chunks) in requests.items():
            times = []
            for i in range(3 + repeats):
                gc.collect()
                start = time.process_time()
                status, sent = await exchange(
                    app, {**scope, "state": dict(lifespan.state)}, body_chunks
                )
                if i >= 3:
                    times.append((time.process_time() - start) * 1e3)
                if status != 200 or (direction == "download" and sent != served_size):
                    raise BenchError(f"{key} {direction} in process: {status}, {sent} bytes")
            results[direction] = times
        await lifespan.shutdown()
        return results

    return uvloop.run(run())


def inprocess(args: argparse.Namespace, frameworks: list[str]) -> dict[str, dict[str, list[float]]]:
    """CPU ms per transfer, per framework and direction: a fresh process per framework and
    round, pinned to the server core, frameworks in A B C / C B A order."""
    size = int(args.size_mib * MIB)
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="s11-inprocess-", dir=args.dir) as tmp:
        data_dir = Path(tmp)
        make_files(data_dir, size)
        env = {**os.environ, "S11_DIR": str(data_dir), "TMPDIR": str(data_dir)}
        for round_no in range(args.rounds):
            order = frameworks if round_no % 2 == 0 else frameworks[::-1]
            for key in order:
                cmd = [
                    *pinned(SERVER_CORE),
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--inprocess-worker",
                    key,
                    "--size-mib",
                    str(args.size_mib),
                    "--transfers",
                    str(args.transfers),
                ]
                proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
                if proc.returncode != 0:
                    raise BenchError(f"{key} in process:\n{proc.stderr.decode()[-3000:]}")
                measured = json.loads(proc.stdout)
                for direction, values in measured.items():
                    results.setdefault(key, {}).setdefault(direction, []).extend(values)
                log(
                    f"  in process {key:<10} upload {statistics.median(measured['upload']):6.2f} "
                    f"download {statistics.median(measured['download']):6.2f} CPU ms"
                )
    return results


def render_inprocess(
    args: argparse.Namespace, results: dict[str, dict[str, list[float]]], frameworks: list[str]
) -> str:
    present = [f for f in frameworks if f in results]

    def label(key: str) -> str:
        framework = TRANSFER_FRAMEWORKS[key]
        return f"{framework.label} {version_of(framework)}".strip()

    rows = []
    for direction in DIRECTIONS:
        bare = results.get("bare", {}).get(direction, [])
        row = [
            f"{direction}: CPU ms per {args.size_mib:g} MiB, median (min{DASH}max), {TIMES} bare"
        ]
        for key in present:
            vals = results[key][direction]
            mid = statistics.median(vals)
            ratio = f", {TIMES}{mid / statistics.median(bare):.2f}" if bare else ""
            row.append(
                f"{fmt_number(mid)} ({fmt_number(min(vals))}{DASH}{fmt_number(max(vals))}){ratio}"
            )
        rows.append(row)
    return "\n".join(
        [
            f"**In process: CPU time per transfer** (`--inprocess`; every thread of the "
            f"process counted, so a framework's thread-pool work is in; the body fed in "
            f"{INPROCESS_CHUNK // 1024} KiB messages; {args.rounds} round(s) x "
            f"{args.transfers} transfers per direction, a fresh process per framework and "
            f"round, pinned to core {SERVER_CORE})",
            "",
            markdown_table(["", *(label(f) for f in present)], rows),
            "",
        ]
    )


# -- the report ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


def render(
    args: argparse.Namespace, results: Results, frameworks: list[str], info: dict[str, Any]
) -> str:
    present = [f for f in frameworks if any(t.framework == f for t in results.transfers)]

    def label(key: str) -> str:
        framework = TRANSFER_FRAMEWORKS[key]
        return f"{framework.label} {version_of(framework)}".strip()

    def values(key: str, direction: str, attr: str) -> list[float]:
        return [
            getattr(t, attr)
            for t in results.transfers
            if t.framework == key and t.direction == direction
        ]

    def cell(vals: list[float]) -> str:
        if not vals:
            return "n/a"
        return (
            f"{fmt_number(statistics.median(vals))} "
            f"({fmt_number(min(vals))}{DASH}{fmt_number(max(vals))})"
        )

    def probe_cell(key: str, what: str) -> str:
        lat = results.probe.get((key, what), [])
        if not lat:
            return "n/a"
        return (
            f"{percentile(lat, 0.5) * 1e3:.1f} / {percentile(lat, 0.99) * 1e3:.1f} / "
            f"{max(lat) * 1e3:.1f} ({len(lat)})"
        )

    out = [
        f"{machine_line(info)}. uvicorn (`--http httptools --loop uvloop`, one worker) "
        f"pinned to core {SERVER_CORE}; the client (blocking sockets) and the probe "
        f"process pinned to core {CLIENT_CORE}. {args.rounds} round(s) x "
        f"{args.transfers} transfers of {args.size_mib:g} MiB per framework and "
        f"direction, frameworks in A B C / C B A order; a new connection per transfer; "
        f"the probe sends `GET /ping` every {args.probe_interval * 1e3:g} ms on its own "
        "connection.",
        "",
    ]
    header = ["", *(label(f) for f in present)]
    for direction in DIRECTIONS:
        bare = values("bare", direction, "mib_per_s")
        rows = [
            [f"{direction}: MiB/s, median (min{DASH}max)"]
            + [cell(values(f, direction, "mib_per_s")) for f in present],
            [f"{direction}: ratio to bare (median MiB/s)"]
            + [
                f"{statistics.median(values(f, direction, 'mib_per_s')) / statistics.median(bare):.2f}"
                if bare
                else "n/a"
                for f in present
            ],
            [f"{direction}: server CPU ms per MiB, median ({TIMES} bare)"]
            + [
                _cpu_cell(
                    results.cpu.get((f, direction), []),
                    results.cpu.get(("bare", direction), []),
                )
                for f in present
            ],
            [f"{direction}: probe latency ms, p50 / p99 / max (pings)"]
            + [probe_cell(f, direction) for f in present],
        ]
        out += [f"**{direction.capitalize()}**", "", markdown_table(header, rows), ""]
    rows = [
        ["probe latency ms with no transfer, p50 / p99 / max (pings)"]
        + [probe_cell(f, "idle") for f in present]
    ]
    out += ["**Probe at rest** (for reference)", "", markdown_table(header, rows), ""]
    if results.unavailable:
        out += [
            "Unavailable (skipped): "
            + "; ".join(f"{k}: {v}" for k, v in results.unavailable.items()),
            "",
        ]
    return "\n".join(out)


def _cpu_cell(vals: list[float], bare: list[float]) -> str:
    if not vals:
        return "n/a"
    mid = statistics.median(vals)
    if not bare:
        return f"{mid:.2f}"
    return f"{mid:.2f} ({TIMES}{mid / statistics.median(bare):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help=f"comma list of: {','.join(TRANSFER_FRAMEWORKS)}")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check every app: byte-exact upload and download, Content-Length",
    )
    parser.add_argument("--size-mib", type=float, default=10.0, help="payload size (MiB)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--transfers", type=int, default=10, help="per framework, direction, round")
    parser.add_argument("--probe-interval", type=float, default=0.01, help="seconds")
    parser.add_argument("--idle-seconds", type=float, default=1.0, help="probe at rest")
    parser.add_argument(
        "--dir",
        default=default_dir(),
        help="where the files go (uploads, spooled uploads, the file to download); "
        "default /dev/shm (tmpfs: the shared machine's disk stays out of the numbers)",
    )
    parser.add_argument("--startup-timeout", type=float, default=60)
    parser.add_argument(
        "--inprocess",
        action="store_true",
        help="also measure CPU time per transfer with each app awaited in process",
    )
    parser.add_argument(
        "--only-inprocess",
        action="store_true",
        help="measure only the CPU time per transfer in process (no server, no probe)",
    )
    parser.add_argument("--probe-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inprocess-worker", metavar="FRAMEWORK", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the measurements as JSON to this file")
    parser.add_argument(
        "--output",
        default=str(RESULTS_DIR / "transfers.md"),
        help="also write the markdown here ('' for nowhere); default results/transfers.md",
    )
    args = parser.parse_args(argv)
    if args.probe_worker:
        return probe_main(args.probe_interval)
    if args.inprocess_worker:
        size = int(args.size_mib * MIB)
        print(json.dumps(inprocess_worker(args.inprocess_worker, size, args.transfers)))
        return 0
    frameworks = parse_list(args.frameworks, list(TRANSFER_FRAMEWORKS), "framework")
    if args.check:
        return check(args, frameworks, named=bool(args.frameworks))
    info = machine_info()
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(CLIENT_CORE)})
    cpu_inprocess: dict[str, dict[str, list[float]]] = {}
    if args.only_inprocess:
        cpu_inprocess = inprocess(args, frameworks)
        report = f"{machine_line(info)}\n\n{render_inprocess(args, cpu_inprocess, frameworks)}"
        print(report)
        if args.output:
            Path(args.output).write_text(report, encoding="utf-8")
        if args.json:
            only = {"machine": info, "inprocess_cpu_ms": cpu_inprocess}
            Path(args.json).write_text(json.dumps(only, indent=2) + "\n", encoding="utf-8")
        return 0
    results = measure(args, frameworks)
    report = render(args, results, frameworks, info)
    if args.inprocess:
        cpu_inprocess = inprocess(args, frameworks)
        report += "\n" + render_inprocess(args, cpu_inprocess, frameworks)
    print(report)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    if args.json:
        data = {
            "machine": info,
            "options": {k: v for k, v in vars(args).items() if k not in ("json", "output")},
            "transfers": [{**asdict(t), "mib_per_s": t.mib_per_s} for t in results.transfers],
            "cpu_ms_per_mib": {f"{k}/{d}": v for (k, d), v in results.cpu.items()},
            "probe": {f"{k}/{d}": v for (k, d), v in results.probe.items()},
            "inprocess_cpu_ms": cpu_inprocess,
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
