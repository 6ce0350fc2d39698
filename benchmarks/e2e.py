"""End-to-end benchmark: each app under uvicorn (httptools, uvloop, 1 worker) driven by wrk.

The server is pinned to core 0 and wrk to core 1 (``taskset``), on a free loopback port.
Every server starts once; each round measures scenario by scenario, frameworks in
A B C / C B A order. The tables show requests/s (median over rounds, min-max) and the
median over rounds of the ratio to the bare ASGI app measured in the same round. S6, S5s
and S7 run against servers of their own (``app_mw``, ``app_small``, ``app_auth``); a
scenario's request headers (S7's token and Origin) go to wrk as ``-H`` flags. Any
non-2xx response aborts the run. Then, per framework, the peak RSS (VmHWM) of one fresh worker after it
served at least 100k S2 requests.

    python benchmarks/e2e.py                          # 2 s per measurement, 4 rounds
    python benchmarks/e2e.py --duration 10 --rounds 3 --frameworks bare,qakeapi,fastapi
    python benchmarks/e2e.py --no-rss                 # throughput only
    python benchmarks/e2e.py --rss-only --rss-requests 100000

Needs ``wrk`` (Debian: ``apt-get update && apt-get install -y wrk``) and ``taskset``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BENCH_DIR,
    DASH,
    DEFAULT_FRAMEWORKS,
    EXTRA_CHECKS,
    FRAMEWORKS,
    SCENARIOS,
    TIMES,
    Scenario,
    machine_info,
    machine_line,
    markdown_table,
    parse_list,
    summarise,
    version_of,
)

WRK_DIR = BENCH_DIR / "wrk"
SERVER_CORE = "0"
CLIENT_CORE = "1"


class BenchError(RuntimeError):
    """A problem that aborts the run (wrong answers, non-2xx, server died)."""


class Unavailable(RuntimeError):
    """The framework's app cannot be imported: skip it with a note."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(core: str) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", core]
    return []


@dataclass
class Server:
    framework: str
    attribute: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Terminate the server (killed after 10 s) and remove its log."""
        proc = self.proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.log_path.unlink(missing_ok=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """User + system CPU time the worker has used so far."""
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status_kib(self, field: str) -> int:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise BenchError(f"{field} not found in /proc/{self.proc.pid}/status")


@contextmanager
def serve(
    framework: str,
    attribute: str,
    startup_timeout: float,
    prefix: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """One uvicorn worker serving ``module:attribute``, stopped on exit.

    ``prefix`` goes before the Python command (default: pinned to the server core; the
    instruction counter puts valgrind there), ``env`` replaces the environment.
    """
    module = FRAMEWORKS[framework].module
    port = free_port()
    cmd = [
        *(pinned(SERVER_CORE) if prefix is None else prefix),
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:{attribute}",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with tempfile.NamedTemporaryFile(
        prefix=f"e2e-{framework}-", suffix=".log", delete=False
    ) as log:
        log_path = Path(log.name)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR, env=env)
    server = Server(framework, attribute, port, proc, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                tail = server.log_tail()
                if (
                    "ModuleNotFoundError" in tail
                    or "ImportError" in tail
                    or "Error loading" in tail
                ):
                    raise Unavailable(tail.strip().splitlines()[-1] if tail.strip() else "")
                raise BenchError(f"{framework} server exited with {proc.returncode}:\n{tail}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"{framework} server did not start in {startup_timeout} s")
                time.sleep(0.1)
        yield server
    finally:
        server.stop()


def check_http(server: Server, scenarios: list[Scenario], warmup_requests: int) -> None:
    """Check each scenario's answer over HTTP, then send a few more as warm-up."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for scenario in scenarios:
            for i in range(1 + warmup_requests):
                conn.request(
                    scenario.method,
                    scenario.target,
                    body=scenario.body or None,
                    headers=scenario.header_dict(),
                )
                response = conn.getresponse()
                body = response.read()
                if i == 0:
                    problem = scenario.check(response.status, response.getheaders(), body)
                elif response.status != scenario.status:
                    problem = f"status {response.status} on repeat {i}"
                else:
                    problem = None
                if problem:
                    raise BenchError(
                        f"{FRAMEWORKS[server.framework].label} {scenario.key} "
                        f"({scenario.method} {scenario.target}): {problem}"
                    )
    finally:
        conn.close()


@dataclass
class WrkResult:
    rps: float
    requests: int
    latency_avg: str
    socket_errors: str
    cpu_us: float  # the server's CPU time per request served


def run_wrk(
    server: Server,
    scenario: Scenario,
    duration: str,
    connections: int,
) -> WrkResult:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk not found: apt-get update && apt-get install -y wrk")
    cmd = [*pinned(CLIENT_CORE), wrk, "-t1", f"-c{connections}", f"-d{duration}"]
    if scenario.body:
        cmd += ["-s", str(WRK_DIR / "post_item.lua")]
    for name, value in scenario.headers:
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{server.port}{scenario.target}")
    cpu_before = server.cpu_seconds()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    cpu_used = server.cpu_seconds() - cpu_before
    out = proc.stdout
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}): {proc.stderr}{out}")
    if server.proc.poll() is not None:
        raise BenchError(f"{server.framework} server died under load:\n{server.log_tail()}")
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    if bad:
        raise BenchError(
            f"{FRAMEWORKS[server.framework].label} {scenario.key}: "
            f"{bad.group(1)} non-2xx responses under load\n{out}"
        )
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if not rps or not total:
        raise BenchError(f"cannot parse wrk output:\n{out}")
    return WrkResult(
        float(rps.group(1)),
        int(total.group(1)),
        latency.group(1) if latency else "?",
        errors.group(1) if errors else "",
        cpu_used / max(1, int(total.group(1))) * 1e6,
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


Table = dict[str, dict[str, list[float]]]  # framework -> scenario -> one value per round


def throughput(
    args: argparse.Namespace, frameworks: list[str], scenarios: list[str]
) -> tuple[Table, Table, dict[str, str]]:
    """Requests/s per framework and scenario, one value per round.

    Every server starts once and stays up (an idle uvicorn worker takes no CPU); each
    round then measures scenario by scenario, frameworks in A B C / C B A order, so a
    slow phase of this shared machine hits neighbouring measurements alike. Also the
    server's CPU time per request (from ``/proc``): what the client side of the
    machine does cannot change it.
    """
    results: Table = {}
    cpu: Table = {}
    unavailable: dict[str, str] = {}
    # One server per framework and module attribute that the chosen scenarios need.
    groups: dict[str, list[Scenario]] = {}
    for s in scenarios:
        groups.setdefault(SCENARIOS[s].app_attr, []).append(SCENARIOS[s])
    with ExitStack() as stack:
        servers: dict[tuple[str, str], Server] = {}
        for key in frameworks:
            for attribute, group in groups.items():
                if key in unavailable:
                    continue
                try:
                    server = stack.enter_context(serve(key, attribute, args.startup_timeout))
                except Unavailable as exc:
                    if attribute != "app":
                        # That app's factory cannot import what it needs: its scenarios
                        # are n/a, the framework's others are measured.
                        log(f"  {key} {attribute}: unavailable, its scenarios skipped ({exc})")
                        continue
                    unavailable[key] = str(exc)
                    log(f"  {key}: unavailable, skipped ({exc})")
                    continue
                checks = group + [c for c in EXTRA_CHECKS if c.app_attr == attribute]
                check_http(server, checks, args.warmup_requests)
                servers[key, attribute] = server
        log(f"{len(servers)} servers up and checked")
        present = [k for k in frameworks if k not in unavailable]
        for round_no in range(args.rounds):
            order = present if round_no % 2 == 0 else present[::-1]
            log(f"round {round_no + 1}/{args.rounds}: {' '.join(order)}")
            for key_s in scenarios:
                scenario = SCENARIOS[key_s]
                for key in order:
                    measured = servers.get((key, scenario.app_attr))
                    if measured is None:
                        continue
                    if args.warmup and round_no == 0:
                        run_wrk(measured, scenario, f"{args.warmup}s", args.connections)
                    res = run_wrk(measured, scenario, f"{args.duration}s", args.connections)
                    results.setdefault(key, {}).setdefault(scenario.key, []).append(res.rps)
                    cpu.setdefault(key, {}).setdefault(scenario.key, []).append(res.cpu_us)
                    note = f" socket errors: {res.socket_errors}" if res.socket_errors else ""
                    log(
                        f"  {key} {scenario.key}: {res.rps:,.0f} req/s, "
                        f"{res.cpu_us:.1f} µs CPU/request (latency avg {res.latency_avg}){note}"
                    )
    return results, cpu, unavailable


def paired_ratio(values: list[float], base: list[float]) -> float:
    """The median over rounds of ``value / bare`` measured in the same round."""
    return statistics.median(v / b for v, b in zip(values, base, strict=True))


def measure_rss(
    args: argparse.Namespace, frameworks: list[str]
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    scenario = SCENARIOS["S2"]
    results: dict[str, dict[str, float]] = {}
    unavailable: dict[str, str] = {}
    for key in frameworks:
        try:
            with serve(key, "app", args.startup_timeout) as server:
                check_http(server, [scenario], 0)
                start_kib = server.status_kib("VmRSS")
                # wrk cannot stop after a request count (its main thread sleeps for the
                # whole duration), so run it in slices sized from the measured rate
                # until the worker has served at least rss_requests.
                served = 0
                slice_seconds = 2
                while served < args.rss_requests:
                    res = run_wrk(server, scenario, f"{slice_seconds}s", args.connections)
                    served += res.requests
                    remaining = args.rss_requests - served
                    slice_seconds = max(1, min(120, math.ceil(remaining / res.rps * 1.1)))
                results[key] = {
                    "startup_rss_mib": start_kib / 1024,
                    "peak_rss_mib": server.status_kib("VmHWM") / 1024,
                    "requests": served,
                }
                log(
                    f"  {key}: RSS {start_kib / 1024:.1f} MiB at startup, "
                    f"peak {results[key]['peak_rss_mib']:.1f} MiB after {served:,} requests"
                )
        except Unavailable as exc:
            unavailable[key] = str(exc)
            log(f"  {key}: unavailable, skipped ({exc})")
    return results, unavailable


def render(
    args: argparse.Namespace,
    info: dict[str, Any],
    frameworks: list[str],
    scenarios: list[str],
    rps: Table,
    cpu: Table,
    rss: dict[str, dict[str, float]],
    unavailable: dict[str, str],
) -> str:
    def label(key: str) -> str:
        return f"{FRAMEWORKS[key].label} {version_of(FRAMEWORKS[key])}".strip()

    parts: list[str] = []
    shown = [k for k in frameworks if k in rps]
    pinning = "server on core 0, wrk on core 1" if pinned("0") else "no CPU pinning"
    if shown:
        header = ["scenario"] + [label(k) for k in shown]
        rows, ratio_rows = [], []
        for s in scenarios:
            title = f"{s} {SCENARIOS[s].title}"
            row, ratio_row = [title], [title]
            base = rps["bare"][s] if "bare" in rps else None
            for k in shown:
                if s not in rps[k]:
                    row.append("n/a")
                    ratio_row.append("n/a")
                    continue
                summary = summarise(rps[k][s])
                row.append(f"{summary.median:,.0f} ({summary.low:,.0f}{DASH}{summary.high:,.0f})")
                ratio_row.append(f"{paired_ratio(rps[k][s], base):.2f}" if base else "")
            rows.append(row)
            ratio_rows.append(ratio_row)
        parts += [
            f"## End-to-end: requests/s, median (min{DASH}max)",
            "",
            f"{machine_line(info)}. uvicorn --http httptools --loop uvloop --workers 1, "
            f"wrk -t1 -c{args.connections} -d{args.duration}s, {pinning}; "
            f"{args.rounds} rounds; every server up for the whole run, each scenario "
            "measured framework after framework, A B C / C B A.",
            "",
            markdown_table(header, rows),
        ]
        if "bare" in shown:
            parts += [
                "",
                "Throughput relative to the bare ASGI app, the median over rounds of the "
                "ratio within each round (higher is better):",
                "",
            ]
            parts.append(markdown_table(header, ratio_rows))
        cpu_rows = []
        for s in scenarios:
            row = [f"{s} {SCENARIOS[s].title}"]
            base_cpu = statistics.median(cpu["bare"][s]) if "bare" in cpu else None
            for k in shown:
                if s not in cpu[k]:
                    row.append("n/a")
                    continue
                median = statistics.median(cpu[k][s])
                ratio = f" ({TIMES}{median / base_cpu:.2f})" if base_cpu else ""
                row.append(f"{median:.1f}{ratio}")
            cpu_rows.append(row)
        parts += [
            "",
            "Server CPU time per request, µs (median over rounds; ratio to the bare app), "
            "from the worker's user + system time in `/proc` over each measurement:",
            "",
            markdown_table(header, cpu_rows),
        ]
    if rss:
        shown_rss = [k for k in frameworks if k in rss]
        parts += [
            "",
            f"## Memory: one uvicorn worker serving S2, at least {args.rss_requests:,} requests",
            "",
        ]
        if not shown:  # --rss-only: the machine line the throughput section gives
            parts += [
                f"{machine_line(info)}. uvicorn --http httptools --loop uvloop --workers 1, "
                "one worker per framework serving the benchmark app (its 2,000 extra routes).",
                "",
            ]
        parts += [
            markdown_table(
                ["framework", "RSS after startup (MiB)", "peak RSS, VmHWM (MiB)"],
                [
                    [
                        label(k),
                        f"{rss[k]['startup_rss_mib']:.1f}",
                        f"{rss[k]['peak_rss_mib']:.1f}",
                    ]
                    for k in shown_rss
                ],
            ),
        ]
    if unavailable:
        parts.append("")
        for key, why in unavailable.items():
            parts.append(f"* {FRAMEWORKS[key].label}: unavailable, not measured ({why}).")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help=f"comma list of: {','.join(FRAMEWORKS)}")
    parser.add_argument("--scenarios", help=f"comma list of: {','.join(SCENARIOS)}")
    parser.add_argument("--duration", type=int, default=2, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=0, help="wrk warm-up seconds per scenario")
    parser.add_argument(
        "--warmup-requests", type=int, default=50, help="sequential requests before wrk"
    )
    parser.add_argument("--rss-requests", type=int, default=100_000)
    parser.add_argument("--no-rss", action="store_true", help="skip the memory measurement")
    parser.add_argument("--rss-only", action="store_true", help="only the memory measurement")
    parser.add_argument("--startup-timeout", type=float, default=180)
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--output", help="also write the markdown to this file")
    args = parser.parse_args(argv)
    frameworks = parse_list(args.frameworks, list(FRAMEWORKS), "frameworks", DEFAULT_FRAMEWORKS)
    scenarios = parse_list(args.scenarios, list(SCENARIOS), "scenarios")
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 1
    info = machine_info()
    rps: Table = {}
    cpu: Table = {}
    rss: dict[str, dict[str, float]] = {}
    unavailable: dict[str, str] = {}
    try:
        if not args.rss_only:
            rps, cpu, unavailable = throughput(args, frameworks, scenarios)
        if not args.no_rss:
            log("memory:")
            available = [k for k in frameworks if k not in unavailable]
            rss, more = measure_rss(args, available)
            unavailable.update(more)
    except BenchError as exc:
        print(f"ABORT: {exc}", file=sys.stderr)
        return 2
    markdown = render(args, info, frameworks, scenarios, rps, cpu, rss, unavailable)
    print(markdown)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")
    if args.json:
        data = {
            "machine": info,
            "duration": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "requests_per_second": rps,
            "server_cpu_us_per_request": cpu,
            "memory": rss,
            "unavailable": unavailable,
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
