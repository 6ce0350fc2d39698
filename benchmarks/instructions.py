"""Instructions per request of the whole uvicorn worker, counted by callgrind.

Deterministic where timings on a shared machine are not: the same app, requests and
environment give the same count, whatever else the machine is doing. Each app is served
by ``uvicorn --http httptools --loop uvloop`` under ``valgrind --tool=callgrind``; per
scenario, warm-up requests, a counter dump, ``--requests`` sequential keep-alive
requests, another dump: the second dump's total divided by the requests is the cost of
one request in the worker (uvicorn, httptools, uvloop and the app; not the kernel).

    python benchmarks/instructions.py                                  # bare, qakeapi: S1, S2
    python benchmarks/instructions.py --frameworks bare,qakeapi,blacksheep --scenarios S2,S4

Needs valgrind (Debian package). Under callgrind a worker runs ~50x slower: apps whose
start-up registers 2,000 routes slowly (Litestar, Falcon) take minutes to start.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BENCH_DIR,
    FRAMEWORKS,
    SCENARIOS,
    TIMES,
    Scenario,
    machine_info,
    machine_line,
    markdown_table,
    parse_list,
    version_of,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def send_requests(port: int, scenario: Scenario, count: int) -> None:
    """``count`` sequential requests on one keep-alive connection, each answer checked."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Content-Type": "application/json"} if scenario.body else {}
    try:
        for _ in range(count):
            conn.request(
                scenario.method, scenario.target, body=scenario.body or None, headers=headers
            )
            response = conn.getresponse()
            body = response.read()
            if response.status != scenario.status:
                raise SystemExit(f"{scenario.key}: status {response.status}: {body[:200]!r}")
    finally:
        conn.close()


def count(
    framework: str, attribute: str, scenarios: list[Scenario], args: argparse.Namespace
) -> dict[str, float]:
    """Instructions per request for each scenario served by ``module:attribute``."""
    out_dir = Path(tempfile.mkdtemp(prefix="callgrind-"))
    port = free_port()
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_dir}/cg.%p",
        sys.executable,
        "-m",
        "uvicorn",
        f"{FRAMEWORKS[framework].module}:{attribute}",
        "--app-dir",
        str(BENCH_DIR),
        "--port",
        str(port),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    log = (out_dir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR, env=env)
    results: dict[str, float] = {}
    try:
        deadline = time.monotonic() + args.startup_timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(
                    f"{framework}: server exited:\n{(out_dir / 'server.log').read_text()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"{framework}: no answer in {args.startup_timeout} s"
                    ) from None
                time.sleep(1)
        dumps = 0
        for scenario in scenarios:
            send_requests(port, scenario, args.warmup)
            subprocess.run(
                ["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True
            )
            send_requests(port, scenario, args.requests)
            subprocess.run(
                ["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True
            )
            dumps += 2
            dump = out_dir / f"cg.{proc.pid}.{dumps}"
            for _ in range(100):  # the dump is written asynchronously
                if dump.exists() and "summary:" in dump.read_text(errors="replace")[-2000:]:
                    break
                time.sleep(0.2)
            total = next(
                int(line.split()[1])
                for line in dump.read_text(errors="replace").splitlines()
                if line.startswith("summary:")
            )
            results[scenario.key] = total / args.requests
            print(
                f"  {framework} {scenario.key}: {results[scenario.key]:,.0f} instructions/request",
                file=sys.stderr,
                flush=True,
            )
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(out_dir, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--frameworks", default="bare,qakeapi", help=f"comma list of: {','.join(FRAMEWORKS)}"
    )
    parser.add_argument(
        "--scenarios", default="S1,S2", help=f"comma list of: {','.join(SCENARIOS)}"
    )
    parser.add_argument("--requests", type=int, default=2000, help="counted requests per scenario")
    parser.add_argument("--warmup", type=int, default=300, help="requests before counting")
    parser.add_argument("--startup-timeout", type=float, default=900)
    parser.add_argument("--output", help="also write the markdown to this file")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind not found: apt-get update && apt-get install -y valgrind", file=sys.stderr)
        return 1
    frameworks = parse_list(args.frameworks, list(FRAMEWORKS), "frameworks")
    scenarios = [SCENARIOS[s] for s in parse_list(args.scenarios, list(SCENARIOS), "scenarios")]
    table: dict[str, dict[str, float]] = {}
    for framework in frameworks:
        by_attribute: dict[str, list[Scenario]] = {}
        for scenario in scenarios:
            by_attribute.setdefault(scenario.app_attr, []).append(scenario)
        for attribute, group in by_attribute.items():
            table.setdefault(framework, {}).update(count(framework, attribute, group, args))
    header = ["scenario"] + [
        f"{FRAMEWORKS[k].label} {version_of(FRAMEWORKS[k])}".strip() for k in frameworks
    ]
    rows = []
    for scenario in scenarios:
        base = table.get("bare", {}).get(scenario.key)
        row = [f"{scenario.key} {scenario.title}"]
        for k in frameworks:
            value = table[k][scenario.key]
            ratio = f" ({TIMES}{value / base:.3f})" if base else ""
            row.append(f"{value:,.0f}{ratio}")
        rows.append(row)
    markdown = "\n".join(
        [
            "## Instructions per request in the uvicorn worker (callgrind)",
            "",
            f"{machine_line(machine_info())}. uvicorn --http httptools --loop uvloop under "
            f"valgrind --tool=callgrind; {args.warmup} warm-up then {args.requests:,} counted "
            "sequential keep-alive requests per scenario; ratio to the bare app.",
            "",
            markdown_table(header, rows),
        ]
    )
    print(markdown)
    if args.output:
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
