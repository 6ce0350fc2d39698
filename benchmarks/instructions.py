"""Instructions per request of the whole uvicorn worker, counted by callgrind.

Deterministic where timings on a shared machine are not: the same app, requests and
environment give the same count, whatever else the machine is doing. Each app is served
by ``uvicorn --http httptools --loop uvloop`` under ``valgrind --tool=callgrind``; per
scenario, warm-up requests, a counter dump, ``--requests`` sequential keep-alive
requests, another dump: the second dump's total divided by the requests is the cost of
one request in the worker (uvicorn, httptools, uvloop and the app; not the kernel).

    python benchmarks/instructions.py                                  # bare, qakeapi: S1, S2
    python benchmarks/instructions.py --frameworks bare,qakeapi,blacksheep --scenarios S2,S4
    python benchmarks/instructions.py --keep    # then: callgrind_annotate <folder>/cg.<pid>.2

Needs valgrind (Debian package). Under callgrind a worker runs ~50x slower: apps whose
start-up registers 2,000 routes slowly (Litestar, Falcon) take minutes to start.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
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
from e2e import Unavailable, serve


def send_requests(port: int, scenario: Scenario, count: int) -> None:
    """``count`` sequential requests on one keep-alive connection, each answer checked."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = scenario.header_dict()
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
    prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/cg.%p"]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    results: dict[str, float] = {}
    try:
        with serve(framework, attribute, args.startup_timeout, prefix, env) as server:
            pid = str(server.proc.pid)
            for dumps, scenario in enumerate(scenarios, start=1):
                send_requests(server.port, scenario, args.warmup)
                subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
                send_requests(server.port, scenario, args.requests)
                subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
                total = read_total(out_dir / f"cg.{pid}.{2 * dumps}")
                results[scenario.key] = total / args.requests
                print(
                    f"  {framework} {scenario.key}: {results[scenario.key]:,.0f} "
                    "instructions/request",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if args.keep:
            print(f"  callgrind dumps kept in {out_dir}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(out_dir, ignore_errors=True)
    return results


def read_total(dump: Path) -> int:
    """The instruction total of a callgrind dump (written asynchronously: wait for it)."""
    for _ in range(100):
        if dump.exists():
            for line in dump.read_text(errors="replace").splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1])
        time.sleep(0.2)
    raise SystemExit(f"no callgrind dump at {dump}")


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
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the callgrind dumps (for callgrind_annotate); their folder is printed",
    )
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
            try:
                table.setdefault(framework, {}).update(count(framework, attribute, group, args))
            except Unavailable as exc:
                print(f"  {framework} {attribute}: unavailable ({exc})", file=sys.stderr)
    header = ["scenario"] + [
        f"{FRAMEWORKS[k].label} {version_of(FRAMEWORKS[k])}".strip() for k in frameworks
    ]
    rows = []
    for scenario in scenarios:
        base = table.get("bare", {}).get(scenario.key)
        row = [f"{scenario.key} {scenario.title}"]
        for k in frameworks:
            if scenario.key not in table[k]:
                row.append("n/a")
                continue
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
