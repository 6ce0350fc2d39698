"""WebSocket benchmark: echo and broadcast end to end under uvicorn, qakeapi and its peers.

Each app (``ws_apps/*.py``: ``/echo``, ``/sub``, ``/pub``) runs under uvicorn
(httptools, uvloop, one worker, the same ``--ws`` implementation for all) pinned to
core 0; this process is the client, pinned to core 1, with the lean client of
``wsclient.py`` on uvloop. Scenarios, 32-byte text messages:

* ``echo-1``: one connection, one message in flight: send, wait for the echo, repeat;
* ``echo-100``: 100 connections doing the same at once;
* ``broadcast-1000``: 1,000 ``/sub`` connections; one ``/pub`` connection publishes
  with at most ``--window`` messages not yet delivered to every subscriber; each
  message the server receives on ``/pub`` goes to all 1,000 (deliveries counted).

After a warm-up the counters and the server process's CPU time (user + system, from
``/proc``) are read at the start and end of a ``--duration`` window: messages per
second, and the server's CPU µs per message (an echo round trip, or one delivery), the
number the "within 1.2x of the bare app" target is judged by. Every echo and every
delivery is checked; a broadcast must reach every subscriber (nothing dropped).

    python benchmarks/websocket.py
    python benchmarks/websocket.py --frameworks bare,qakeapi --scenarios echo-100 --duration 5
    python benchmarks/websocket.py --rounds 3 --json benchmarks/results/websocket.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BENCH_DIR,
    DASH,
    TIMES,
    Framework,
    fmt_number,
    machine_info,
    machine_line,
    markdown_table,
    parse_list,
    version_of,
)
from e2e import CLIENT_CORE, SERVER_CORE, BenchError, Server, Unavailable, free_port, pinned
from wsclient import OP_TEXT, Connection, client_frame, connect

FRAMEWORKS: dict[str, Framework] = {
    f.key: f
    for f in (
        Framework("bare", "bare ASGI", "ws_apps.bare_asgi", None),
        Framework("qakeapi", "qakeapi", "ws_apps.qakeapi_app", "qakeapi"),
        Framework("blacksheep", "BlackSheep", "ws_apps.blacksheep_app", "blacksheep"),
        Framework("starlette", "Starlette", "ws_apps.starlette_app", "starlette"),
        Framework("litestar", "Litestar", "ws_apps.litestar_app", "litestar"),
        Framework("fastapi", "FastAPI", "ws_apps.fastapi_app", "fastapi"),
        Framework(
            "qakeapi-set",
            "qakeapi, broadcast by a set and a loop",
            "ws_apps.qakeapi_set",
            "qakeapi",
            peer=False,
        ),
    )
}
#: Measured when ``--frameworks`` is not given: the bare app and the peers.
DEFAULT_FRAMEWORKS = [key for key, framework in FRAMEWORKS.items() if framework.peer]
SCENARIOS = {
    "echo-1": "echo, 1 connection (round trips/s)",
    "echo-100": "echo, 100 connections (round trips/s)",
    "broadcast-1000": "broadcast to 1,000 subscribers (deliveries/s)",
}
PAYLOAD = b"0123456789abcdef0123456789abcdef"  # 32 bytes of text
HOST = "127.0.0.1"


@dataclass
class Measurement:
    framework: str
    scenario: str
    round: int
    messages: int
    seconds: float
    server_cpu: float  # seconds, user + system
    client_cpu: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def server_us(self) -> float:
        """Server CPU µs per message."""
        return self.server_cpu / self.messages * 1e6


# -- the server ------------------------------------------------------------------------


# uvicorn re-raises SIGTERM after its shutdown with the handler it found installed, so
# ``python -m cProfile`` dies before writing: install one that writes, then exits.
_PROFILED = """
import cProfile, signal, sys
import uvicorn.main
out = sys.argv.pop(1)
profiler = cProfile.Profile()
def stop(signum, frame):
    profiler.disable()
    profiler.dump_stats(out)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
profiler.enable()
uvicorn.main.main()
"""


@contextmanager
def serve(
    framework: str, ws: str, startup_timeout: float, profile_dir: str | None = None
) -> Iterator[Server]:
    """One uvicorn worker serving ``ws_apps.<framework>:app`` on core 0, stopped on exit.

    With ``profile_dir`` the worker runs under cProfile, written to
    ``<profile_dir>/ws-<framework>.prof`` when it stops (SIGTERM: uvicorn exits cleanly).
    """
    port = free_port()
    launcher = ["-m", "uvicorn"]
    if profile_dir is not None:
        out = Path(profile_dir).resolve() / f"ws-{framework}.prof"
        launcher = ["-c", _PROFILED, str(out)]
    cmd = [
        *pinned(SERVER_CORE),
        sys.executable,
        *launcher,
        f"{FRAMEWORKS[framework].module}:app",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--ws",
        ws,
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with tempfile.NamedTemporaryFile(prefix=f"ws-{framework}-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        # Not from BENCH_DIR under cProfile: its ``profile.py`` shadows the standard one.
        cwd = BENCH_DIR if profile_dir is None else BENCH_DIR.parent
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    server = Server(framework, "app", port, proc, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while proc.poll() is None:
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"{framework} server did not start in {startup_timeout} s")
                time.sleep(0.05)
        if proc.poll() is not None:
            tail = server.log_tail()
            if "ModuleNotFoundError" in tail or "ImportError" in tail:
                raise Unavailable(tail.strip().splitlines()[-1])
            raise BenchError(f"{framework} server exited with {proc.returncode}:\n{tail}")
        yield server
    finally:
        server.stop()


# -- the client ------------------------------------------------------------------------


async def open_many(port: int, path: str, count: int, at_once: int = 50) -> list[Connection]:
    gate = asyncio.Semaphore(at_once)

    async def one() -> Connection:
        async with gate:
            return await connect(HOST, port, path)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def close_all(conns: list[Connection]) -> None:
    await asyncio.gather(*(conn.close() for conn in conns))


def raise_errors(conns: list[Connection], what: str) -> None:
    errors = [conn.error for conn in conns if conn.error]
    if errors:
        raise BenchError(f"{what}: {len(errors)} connection(s) failed, e.g. {errors[0]}")


@dataclass
class Window:
    messages: int
    seconds: float
    server_cpu: float
    client_cpu: float


async def timed_window(
    server: Server, count: Callable[[], int], warmup: float, duration: float
) -> Window:
    """Counters and CPU times read after ``warmup`` and again ``duration`` later."""
    await asyncio.sleep(warmup)
    n0, s0, c0, t0 = count(), server.cpu_seconds(), time.process_time(), time.perf_counter()
    await asyncio.sleep(duration)
    n1, s1, c1, t1 = count(), server.cpu_seconds(), time.process_time(), time.perf_counter()
    return Window(n1 - n0, t1 - t0, s1 - s0, c1 - c0)


async def echo(server: Server, connections: int, warmup: float, duration: float) -> Window:
    conns = await open_many(server.port, "/echo", connections)
    done = 0
    running = True
    answered = asyncio.get_running_loop().create_future()
    pending = len(conns)

    def make_handler(conn: Connection) -> Callable[[bytes], None]:
        frame = client_frame(OP_TEXT, PAYLOAD)

        def on_text(data: bytes) -> None:
            nonlocal done, pending
            if data != PAYLOAD:
                conn.error = f"echo: got {data[:60]!r}"
            done += 1
            if running:
                conn.write(frame)
            else:
                pending -= 1
                if not pending and not answered.done():
                    answered.set_result(None)

        return on_text

    for conn in conns:
        conn.on_text = make_handler(conn)
        conn.write(client_frame(OP_TEXT, PAYLOAD))
    window = await timed_window(server, lambda: done, warmup, duration)
    running = False
    try:
        await asyncio.wait_for(answered, 10)
    except TimeoutError:
        raise_errors(conns, "echo")
        raise BenchError("echo: an answer did not come back within 10 s") from None
    raise_errors(conns, "echo")
    await close_all(conns)
    return window


async def broadcast(
    server: Server, subscribers: int, window_size: int, warmup: float, duration: float
) -> Window:
    subs = await open_many(server.port, "/sub", subscribers)
    (pub,) = await open_many(server.port, "/pub", 1)
    frame = client_frame(OP_TEXT, PAYLOAD)
    received = [0] * subscribers
    delivered = 0
    published = 0
    running = False

    def pump() -> None:
        nonlocal published
        while running and published - delivered // subscribers < window_size:
            pub.write(frame)
            published += 1

    def make_handler(i: int, conn: Connection) -> Callable[[bytes], None]:
        def on_text(data: bytes) -> None:
            nonlocal delivered
            if data != PAYLOAD:
                conn.error = f"broadcast: got {data[:60]!r}"
            received[i] += 1
            delivered += 1
            if running and not delivered % subscribers:
                pump()

        return on_text

    for i, conn in enumerate(subs):
        conn.on_text = make_handler(i, conn)
    # Subscribed on the server? Publish single messages until every socket got one.
    deadline = time.monotonic() + 30
    while min(received) == 0:
        raise_errors([*subs, pub], "broadcast (subscribing)")
        if time.monotonic() > deadline:
            missing = sum(1 for r in received if r == 0)
            raise BenchError(f"broadcast: {missing} subscriber(s) got nothing in 30 s")
        pub.write(frame)
        await asyncio.sleep(0.05)
    await settle(lambda: delivered)
    delivered = published = 0
    received[:] = [0] * subscribers
    running = True
    pump()
    window = await timed_window(server, lambda: delivered, warmup, duration)
    running = False
    try:
        await settle(lambda: delivered, until=lambda: delivered == published * subscribers)
    except TimeoutError:
        raise_errors([*subs, pub], "broadcast")
        short = published * subscribers - delivered
        raise BenchError(f"broadcast: {short} deliveries missing after 10 s") from None
    raise_errors([*subs, pub], "broadcast")
    if min(received) != max(received):
        raise BenchError(f"broadcast: subscribers got {min(received)} to {max(received)}")
    await close_all([pub, *subs])
    return window


async def settle(
    value: Callable[[], int], until: Callable[[], bool] | None = None, within: float = 10
) -> None:
    """Wait until ``until()`` holds, or (without it) ``value()`` stops moving."""
    deadline = time.monotonic() + within
    last = -1
    while True:
        if until is not None and until():
            return
        if until is None and value() == last:
            return
        last = value()
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.1)


async def run_scenario(server: Server, scenario: str, args: argparse.Namespace) -> Window:
    if scenario == "echo-1":
        return await echo(server, 1, args.warmup, args.duration)
    if scenario == "echo-100":
        return await echo(server, 100, args.warmup, args.duration)
    return await broadcast(server, 1000, args.window, args.warmup, args.duration)


def measure(
    args: argparse.Namespace, frameworks: list[str], scenarios: list[str]
) -> list[Measurement]:
    import uvloop

    results: list[Measurement] = []
    for round_no in range(args.rounds):
        order = frameworks[round_no % len(frameworks) :] + frameworks[: round_no % len(frameworks)]
        for framework in order:
            try:
                with serve(framework, args.ws, args.startup_timeout, args.profile) as server:
                    for scenario in scenarios:
                        window = uvloop.run(run_scenario(server, scenario, args))
                        m = Measurement(
                            framework,
                            scenario,
                            round_no,
                            window.messages,
                            window.seconds,
                            window.server_cpu,
                            window.client_cpu,
                        )
                        results.append(m)
                        log(
                            f"round {round_no + 1} {framework:<10} {scenario:<14} "
                            f"{m.per_second:>9,.0f} msg/s  server {m.server_us:6.2f} µs/msg "
                            f"({window.server_cpu / window.seconds:4.0%} of a core), client "
                            f"{window.client_cpu / window.seconds:4.0%}"
                        )
            except Unavailable as exc:
                log(f"{framework}: unavailable ({exc}), skipped")
    return results


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the report ------------------------------------------------------------------------


def median_of(results: list[Measurement], framework: str, scenario: str, key: str) -> float | None:
    values = [
        getattr(m, key) for m in results if m.framework == framework and m.scenario == scenario
    ]
    return statistics.median(values) if values else None


def cell(values: list[float], digits: Callable[[float], str] = fmt_number) -> str:
    if not values:
        return "n/a"
    mid = statistics.median(values)
    if len(values) == 1:
        return digits(mid)
    return f"{digits(mid)} ({digits(min(values))}{DASH}{digits(max(values))})"


def render(
    args: argparse.Namespace,
    results: list[Measurement],
    frameworks: list[str],
    scenarios: list[str],
    info: dict[str, Any],
) -> str:
    present = [f for f in frameworks if any(m.framework == f for m in results)]

    def label(key: str) -> str:
        framework = FRAMEWORKS[key]
        return f"{framework.label} {version_of(framework)}".strip()

    def values(framework: str, scenario: str, key: str) -> list[float]:
        return [
            getattr(m, key) for m in results if m.framework == framework and m.scenario == scenario
        ]

    out = [
        f"{machine_line(info)}. uvicorn {version_of(Framework('', '', '', 'uvicorn'))} "
        f"(`--http httptools --loop uvloop --ws {args.ws}`, one worker) pinned to core "
        f"{SERVER_CORE}, the client (`wsclient.py`, uvloop) pinned to core {CLIENT_CORE}; "
        f"{args.rounds} round(s) of {args.duration:g} s per scenario after {args.warmup:g} s "
        f"of warm-up; 32-byte text messages; broadcast window {args.window}. Cells: median "
        f"over rounds (min{DASH}max).",
        "",
        "**Messages per second** (echo: round trips; broadcast: deliveries)",
        "",
    ]
    rows = [[SCENARIOS[s], *(cell(values(f, s, "per_second")) for f in present)] for s in scenarios]
    out.append(markdown_table(["scenario", *(label(f) for f in present)], rows))
    out += ["", f"**Server CPU µs per message** (user + system; {TIMES} the bare app)", ""]
    rows = []
    for s in scenarios:
        bare = median_of(results, "bare", s, "server_us")
        row = [SCENARIOS[s]]
        for f in present:
            mid = median_of(results, f, s, "server_us")
            if mid is None:
                row.append("n/a")
            elif bare:
                row.append(f"{mid:.2f} ({TIMES}{mid / bare:.2f})")
            else:
                row.append(f"{mid:.2f}")
        rows.append(row)
    out.append(markdown_table(["scenario", *(label(f) for f in present)], rows))
    out += [
        "",
        "**Busy share of a core** (server / client, median; 100% = the side was the limit)",
        "",
    ]
    rows = []
    for s in scenarios:
        row = [SCENARIOS[s]]
        for f in present:
            server = [
                m.server_cpu / m.seconds for m in results if m.framework == f and m.scenario == s
            ]
            client = [
                m.client_cpu / m.seconds for m in results if m.framework == f and m.scenario == s
            ]
            row.append(
                f"{statistics.median(server):.0%} / {statistics.median(client):.0%}"
                if server
                else "n/a"
            )
        rows.append(row)
    out.append(markdown_table(["scenario", *(label(f) for f in present)], rows))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help=f"comma list of: {','.join(FRAMEWORKS)}")
    parser.add_argument("--scenarios", help=f"comma list of: {','.join(SCENARIOS)}")
    parser.add_argument("--duration", type=float, default=2.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=2, help="framework order rotated each round")
    parser.add_argument(
        "--window",
        type=int,
        default=8,
        help="broadcast: messages published but not yet delivered to every subscriber",
    )
    parser.add_argument(
        "--ws",
        default="websockets-sansio",
        help="uvicorn's --ws implementation (the same for every app)",
    )
    parser.add_argument("--startup-timeout", type=float, default=60)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="run each server under cProfile, written to DIR/ws-<framework>.prof "
        "(the numbers measured then include the profiler)",
    )
    parser.add_argument("--json", help="also write the measurements as JSON to this file")
    parser.add_argument("--output", help="also write the markdown to this file")
    args = parser.parse_args(argv)
    frameworks = parse_list(args.frameworks, list(FRAMEWORKS), "framework", DEFAULT_FRAMEWORKS)
    scenarios = parse_list(args.scenarios, list(SCENARIOS), "scenario")
    info = machine_info()
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(CLIENT_CORE)})
    results = measure(args, frameworks, scenarios)
    report = render(args, results, frameworks, scenarios, info)
    print(report)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    if args.json:
        data = {
            "machine": info,
            "options": {k: v for k, v in vars(args).items() if k not in ("json", "output")},
            "measurements": [
                {**asdict(m), "per_second": m.per_second, "server_us": m.server_us} for m in results
            ],
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
