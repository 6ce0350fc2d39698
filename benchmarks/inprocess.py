"""In-process benchmark: each app awaited directly with prebuilt ASGI scopes on uvloop.

No sockets, no server: this measures the framework's own per-request cost. Every
framework runs in a fresh subprocess per round (imports and GC state don't leak between
frameworks), rounds rotate the framework order (ABC, BCA, CAB, ...), and the table shows
the median µs/request with the min-max over every sample of every round.

    python benchmarks/inprocess.py                      # full run, markdown to stdout
    python benchmarks/inprocess.py --quick              # development run
    python benchmarks/inprocess.py --check              # correctness only (CI)
    python benchmarks/inprocess.py --frameworks bare,qakeapi --scenarios S2,S4 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    DASH,
    DEFAULT_FRAMEWORKS,
    DIVIDE,
    EXTRA_CHECKS,
    FRAMEWORKS,
    MINUS,
    SCENARIOS,
    TIMES,
    Scenario,
    Summary,
    fmt_number,
    load_app,
    machine_info,
    machine_line,
    markdown_table,
    parse_list,
    summarise,
    version_of,
)

Message = MutableMapping[str, Any]
ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]

RESULT_PREFIX = "BENCH-RESULT "
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
EXIT_CHECK_FAILED = 2
EXIT_UNAVAILABLE = 3
DISCONNECT: Message = {"type": "http.disconnect"}


# --------------------------------------------------------------------------- worker side


class Exchange:
    """One request's ``receive`` and ``send``, like a server's.

    ``receive`` returns the body once; a later call waits until the response is complete
    and then reports a disconnect (as uvicorn does), so that frameworks that listen for
    disconnects (BaseHTTPMiddleware, streaming responses) neither spin nor hang.
    """

    __slots__ = ("chunks", "done", "headers", "read", "request", "status", "waiter")

    def __init__(self, request: Message) -> None:
        self.request = request
        self.read = False
        self.done = False
        self.waiter: asyncio.Event | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    async def receive(self) -> Message:
        if not self.read:
            self.read = True
            return self.request
        if not self.done:
            if self.waiter is None:
                self.waiter = asyncio.Event()
            await self.waiter.wait()
        return DISCONNECT

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
        elif kind == "http.response.body":
            body = message.get("body", b"")
            if body:
                self.chunks.append(bytes(body))
            if not message.get("more_body", False):
                self.done = True
                if self.waiter is not None:
                    self.waiter.set()

    def text_headers(self) -> list[tuple[str, str]]:
        return [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in self.headers]


def build_scope(scenario: Scenario) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"qakeapi-bench"),
        (b"accept", b"*/*"),
    ]
    if scenario.body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(scenario.body)).encode()),
        ]
    # As a server gives them: names lower-cased, values as sent.
    headers += [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in scenario.headers]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": scenario.method,
        "scheme": "http",
        "path": scenario.path,
        "raw_path": scenario.path.encode(),
        "query_string": scenario.query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }


class Lifespan:
    """Drive an app's ASGI lifespan: startup before the requests, shutdown after."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        self._task: asyncio.Task[None] | None = None
        self._shutdown = asyncio.Event()
        self._startup: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._asked_startup = False

    async def _receive(self) -> Message:
        if not self._asked_startup:
            self._asked_startup = True
            return {"type": "lifespan.startup"}
        await self._shutdown.wait()
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: Message) -> None:
        if self._startup.done():
            return
        if message["type"] == "lifespan.startup.complete":
            self._startup.set_result(None)
        elif message["type"] == "lifespan.startup.failed":
            self._startup.set_exception(
                RuntimeError(f"lifespan startup failed: {message.get('message', '')}")
            )

    async def startup(self, wait_seconds: float = 60.0) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self._task = asyncio.ensure_future(self.app(scope, self._receive, self._send))
        done, _ = await asyncio.wait(
            {self._task, self._startup}, timeout=wait_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        if self._startup in done:
            self._startup.result()
        elif self._task in done:
            # The app returned or raised on the lifespan scope: like uvicorn's
            # ``--lifespan auto``, run without lifespan.
            self.supported = False
            if not self._task.cancelled():
                self._task.exception()
        else:
            raise RuntimeError("lifespan startup did not complete in time")

    async def shutdown(self) -> None:
        self._shutdown.set()
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(self._task, 10)
            except Exception:
                pass


class Target:
    """One scenario against one app: prebuilt scope and request message."""

    def __init__(self, app: ASGIApp, state: dict[str, Any], scenario: Scenario) -> None:
        self.app = app
        self.state = state
        self.scenario = scenario
        self.scope = build_scope(scenario)
        self.request: Message = {"type": "http.request", "body": scenario.body, "more_body": False}

    async def one(self) -> Exchange:
        exchange = Exchange(self.request)
        scope = self.scope.copy()
        scope["state"] = self.state.copy()
        await self.app(scope, exchange.receive, exchange.send)
        return exchange

    async def check(self) -> str | None:
        try:
            exchange = await asyncio.wait_for(self.one(), 10)
        except Exception as exc:
            return f"raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        if not exchange.done:
            return "the response was never completed"
        return self.scenario.check(
            exchange.status, exchange.text_headers(), b"".join(exchange.chunks)
        )

    async def batch(self, n: int, clock: Callable[[], float] = time.perf_counter) -> float:
        """Run n requests back to back; return µs per request (by ``clock``)."""
        app, request, base, state = self.app, self.request, self.scope, self.state
        start = clock()
        for _ in range(n):
            exchange = Exchange(request)
            scope = base.copy()
            scope["state"] = state.copy()
            await app(scope, exchange.receive, exchange.send)
        elapsed = clock() - start
        if exchange.status != self.scenario.status:
            raise RuntimeError(f"status {exchange.status} during timing")
        return elapsed / n * 1e6


async def worker_main(args: argparse.Namespace) -> dict[str, Any]:
    framework = FRAMEWORKS[args.worker]
    scenarios = [SCENARIOS[k] for k in parse_list(args.scenarios, list(SCENARIOS), "scenarios")]
    result: dict[str, Any] = {"framework": framework.key, "version": version_of(framework)}
    started = time.perf_counter()
    checks = list(scenarios) + (list(EXTRA_CHECKS) if args.mode == "check" else [])
    # Only the module attributes these requests need (``app_mw`` and ``app_small`` are
    # built on first access): attribute -> (app, lifespan).
    apps: dict[str, tuple[ASGIApp, Lifespan]] = {}
    needed = list(dict.fromkeys(s.app_attr for s in checks))
    # An app other than ``app`` whose factory raises ImportError (what it needs is not
    # there yet): its scenarios are unavailable, the others are measured.
    missing: dict[str, str] = {}
    try:
        for attribute in needed:
            try:
                app = load_app(framework, attribute)
            except ImportError as exc:
                if attribute == "app":
                    raise
                missing[attribute] = f"{type(exc).__name__}: {exc}"
                continue
            lifespan = Lifespan(app)
            await lifespan.startup()
            apps[attribute] = (app, lifespan)
    except Exception as exc:
        result["unavailable"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
        return result
    result["load_seconds"] = round(time.perf_counter() - started, 2)
    result["lifespan"] = {k: v[1].supported for k, v in apps.items()}
    result["unavailable_scenarios"] = {
        s.key: missing[s.app_attr] for s in checks if s.app_attr in missing
    }
    checks = [s for s in checks if s.app_attr not in missing]
    scenarios = [s for s in scenarios if s.app_attr not in missing]

    failures: dict[str, str] = {}
    for scenario in checks:
        app, lifespan = apps[scenario.app_attr]
        problem = await Target(app, lifespan.state, scenario).check()
        if problem is not None:
            failures[scenario.key] = problem
    result["failures"] = failures
    if failures or args.mode == "check":
        for _, lifespan in apps.values():
            await lifespan.shutdown()
        return result

    timings: dict[str, list[float]] = {}
    clock = CLOCKS[args.clock]
    for scenario in scenarios:
        app, lifespan = apps[scenario.app_attr]
        target = Target(app, lifespan.state, scenario)
        # Calibrate: double n until a batch takes a tenth of the target, then scale.
        # (No gc.collect() here: a full collection of a big route table costs ~0.1 s.)
        n = 1
        while True:
            us = await target.batch(n, clock)
            if us * n / 1e6 >= args.target / 10 or n >= 1 << 22:
                break
            n *= 2
        n = max(1, math.ceil(args.target * 1e6 / us))
        samples = []
        for _ in range(args.samples):
            gc.collect()
            samples.append(await target.batch(n, clock))
        timings[scenario.key] = samples
        result.setdefault("n", {})[scenario.key] = n
    result["timings"] = timings
    for _, lifespan in apps.values():
        await lifespan.shutdown()
    return result


def run_worker(
    args: argparse.Namespace,
    main: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]] | None = None,
) -> int:
    """Run ``main`` (this driver's ``worker_main`` unless given: workloads.py passes its
    own) on uvloop and print its result, or the error that stopped it, as one line."""
    import uvloop

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run((main or worker_main)(args))
    except Exception as exc:
        result = {
            "framework": args.worker,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    if "unavailable" in result:
        return EXIT_UNAVAILABLE
    if result.get("failures") or "error" in result:
        return EXIT_CHECK_FAILED
    return 0


# --------------------------------------------------------------------------- parent side


def spawn(
    framework: str,
    mode: str,
    args: argparse.Namespace,
    scenarios: list[str],
    *,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``script``'s worker (this file's by default; ``workloads.py`` has the same
    command line) for one framework in a fresh interpreter; its result line, parsed."""
    cmd = [
        sys.executable,
        str((script or Path(__file__)).resolve()),
        "--worker",
        framework,
        "--mode",
        mode,
        "--scenarios",
        ",".join(scenarios),
        "--target",
        str(args.target),
        "--samples",
        str(args.samples),
        "--clock",
        args.clock,
    ]
    if env is None:
        env = dict(os.environ, PYTHONHASHSEED="0")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired as exc:
        return {
            "framework": framework,
            "error": f"worker did not finish in {args.timeout:.0f} s (--timeout)",
            "traceback": str(exc.stderr or "")[-4000:],
        }
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    return {
        "framework": framework,
        "error": f"worker exited with {proc.returncode} without a result",
        "traceback": (proc.stdout[-2000:] + "\n" + proc.stderr[-4000:]).strip(),
    }


def report_problem(result: dict[str, Any]) -> str:
    name = FRAMEWORKS[result["framework"]].label
    if "error" in result:
        return f"{name}: ERROR {result['error']}\n{result.get('traceback', '')}"
    if "unavailable" in result:  # workloads.py: the app's driver or database is missing
        return f"{name}: {result['unavailable']}\n{result.get('traceback', '')}"
    lines = [f"{name}: wrong responses"]
    for key, problem in result.get("failures", {}).items():
        lines.append(f"  {key}: {problem}")
    return "\n".join(lines)


def run_check(args: argparse.Namespace, frameworks: list[str], explicit: bool) -> int:
    failed = False
    for key in frameworks:
        started = time.perf_counter()
        result = spawn(key, "check", args, list(SCENARIOS))
        took = time.perf_counter() - started
        label = FRAMEWORKS[key].label
        if "unavailable" in result:
            note = f"{label}: unavailable ({result['unavailable']})"
            if explicit:
                print(f"FAIL {note}\n{result.get('traceback', '')}", flush=True)
                failed = True
            else:
                print(f"SKIP {note}", flush=True)
            continue
        if "error" in result or result.get("failures"):
            print("FAIL " + report_problem(result), flush=True)
            failed = True
            continue
        skipped = result.get("unavailable_scenarios", {})
        checked = len(SCENARIOS) + len(EXTRA_CHECKS) - len(skipped)
        name = f"{label} {result['version']}".strip()
        print(f"ok   {name}: {checked} requests checked ({took:.1f} s)", flush=True)
        for why in sorted(set(skipped.values())):
            keys = ", ".join(k for k, v in skipped.items() if v == why)
            print(f"     not checked, app unavailable: {keys} ({why})", flush=True)
    print("in-process check: " + ("FAILED" if failed else "all apps answer correctly"))
    return 1 if failed else 0


def rotate(items: list[str], k: int) -> list[str]:
    k %= len(items)
    return items[k:] + items[:k]


def run_timing(args: argparse.Namespace, frameworks: list[str], scenarios: list[str]) -> int:
    info = machine_info()
    samples: dict[str, dict[str, list[float]]] = {}
    versions: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    missing: dict[str, dict[str, str]] = {}  # framework -> scenario -> why (app unavailable)
    active = list(frameworks)
    for round_no in range(args.rounds):
        order = rotate(active, round_no)
        print(f"round {round_no + 1}/{args.rounds}: {' '.join(order)}", file=sys.stderr, flush=True)
        for key in order:
            if key in unavailable:
                continue
            started = time.perf_counter()
            result = spawn(key, "time", args, scenarios)
            if "unavailable" in result:
                unavailable[key] = result["unavailable"]
                print(f"  {key}: unavailable, skipped ({result['unavailable']})", file=sys.stderr)
                continue
            if "error" in result or result.get("failures"):
                print("ABORT: " + report_problem(result), file=sys.stderr)
                return EXIT_CHECK_FAILED
            versions[key] = result["version"]
            for scenario, why in result.get("unavailable_scenarios", {}).items():
                if scenario in scenarios:
                    missing.setdefault(key, {})[scenario] = why
            for scenario, values in result["timings"].items():
                samples.setdefault(key, {}).setdefault(scenario, []).extend(values)
            print(
                f"  {key}: {time.perf_counter() - started:.1f} s "
                + " ".join(f"{s}={fmt_number(min(v))}" for s, v in result["timings"].items()),
                file=sys.stderr,
                flush=True,
            )
    shown = [k for k in frameworks if k in samples]
    markdown = render(args, info, shown, scenarios, samples, versions, unavailable, missing)
    print(markdown)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")
    if args.json:
        data = {
            "machine": info,
            "rounds": args.rounds,
            "samples_per_round": args.samples,
            "target_seconds": args.target,
            "clock": args.clock,
            "versions": versions,
            "unavailable": unavailable,
            "unavailable_scenarios": missing,
            "results": {
                key: {scenario: vars(summarise(values)) for scenario, values in by_scenario.items()}
                for key, by_scenario in samples.items()
            },
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


def pair_table(
    first: str,
    second: str,
    frameworks: list[str],
    summaries: dict[str, dict[str, Summary]],
    header: list[str],
    caption: str,
) -> list[str]:
    """One row comparing two scenarios per framework (nothing unless both were run).

    S5 / S5s: the same parametrised lookup with 2,000 extra routes and with 2; a router
    whose lookup does not grow with the route table shows about x1. S7 - S2: what CORS,
    security headers and JWT auth add to the same JSON answer.
    """
    if not any(first in summaries[k] and second in summaries[k] for k in frameworks):
        return []
    divide = first == "S5"
    row = [f"{first} {DIVIDE if divide else MINUS} {second}"]
    for k in frameworks:
        if first not in summaries[k] or second not in summaries[k]:
            row.append("n/a")
            continue
        a, b = summaries[k][first].median, summaries[k][second].median
        if divide:
            row.append(f"{fmt_number(a)} / {fmt_number(b)} = {TIMES}{fmt_number(a / b)}")
        else:
            row.append(f"{fmt_number(a)} {MINUS} {fmt_number(b)} = {a - b:+.2f}")
    return ["", caption, "", markdown_table(header, [row])]


def render(
    args: argparse.Namespace,
    info: dict[str, Any],
    frameworks: list[str],
    scenarios: list[str],
    samples: dict[str, dict[str, list[float]]],
    versions: dict[str, str],
    unavailable: dict[str, str],
    missing: dict[str, dict[str, str]],
) -> str:
    def label(key: str) -> str:
        version = versions.get(key, "")
        return f"{FRAMEWORKS[key].label} {version}".strip()

    header = ["scenario"] + [label(k) for k in frameworks]
    summaries = {k: {s: summarise(v) for s, v in samples[k].items()} for k in frameworks}
    rows = []
    ratio_rows = []
    for s in scenarios:
        title = f"{s} {SCENARIOS[s].title}"
        row = [title]
        ratio_row = [title]
        base = summaries.get("bare", {}).get(s)
        for k in frameworks:
            summary = summaries[k].get(s)
            if summary is None:
                row.append("n/a")
                ratio_row.append("n/a")
                continue
            row.append(
                f"{fmt_number(summary.median)} "
                f"({fmt_number(summary.low)}{DASH}{fmt_number(summary.high)})"
            )
            ratio_row.append(f"{TIMES}{summary.median / base.median:.1f}" if base else "")
        rows.append(row)
        ratio_rows.append(ratio_row)
    per = args.samples * args.rounds
    parts = [
        f"## In-process: µs per request, median (min{DASH}max)",
        "",
        f"{machine_line(info)}. {args.rounds} rounds {TIMES} {args.samples} samples "
        f"(= {per} per cell) of ~{args.target} s each; frameworks in fresh subprocesses, "
        "order rotated every round; uvloop; app awaited directly with prebuilt scopes"
        + (
            "; timed by the worker's CPU time (`time.thread_time`), not wall time."
            if args.clock == "cpu"
            else "."
        ),
        "",
        markdown_table(header, rows),
    ]
    if "bare" in frameworks:
        parts += ["", "Median ratio to the bare ASGI app (lower is better):", ""]
        parts.append(markdown_table(header, ratio_rows))
    parts += pair_table(
        "S5",
        "S5s",
        frameworks,
        summaries,
        header,
        f"Flat in the number of routes: S5 {DIVIDE} S5s (median µs, ratio):",
    )
    parts += pair_table(
        "S7",
        "S2",
        frameworks,
        summaries,
        header,
        f"What CORS + security headers + JWT auth add: S7 {MINUS} S2 (median µs):",
    )
    if unavailable or missing:
        parts.append("")
        for key, why in unavailable.items():
            parts.append(f"* {FRAMEWORKS[key].label}: unavailable, not measured ({why}).")
        for key, by_scenario in missing.items():
            for why in sorted(set(by_scenario.values())):
                keys = ", ".join(s for s, w in by_scenario.items() if w == why)
                parts.append(f"* {FRAMEWORKS[key].label} {keys}: n/a, app unavailable ({why}).")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help=f"comma list of: {','.join(FRAMEWORKS)}")
    parser.add_argument("--scenarios", help=f"comma list of: {','.join(SCENARIOS)}")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--samples", type=int, default=2, help="timed batches per round")
    parser.add_argument("--target", type=float, default=0.3, help="seconds per timed batch")
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall: time.perf_counter (default); cpu: the worker thread's CPU time, which "
        "a busy machine's other processes inflate less (the time the worker waits for a "
        "core is not counted)",
    )
    parser.add_argument("--quick", action="store_true", help="2 rounds, 1 sample of 0.05 s")
    parser.add_argument("--check", action="store_true", help="only check every app's answers")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--output", help="also write the markdown to this file")
    parser.add_argument("--timeout", type=float, default=600, help="per-subprocess timeout (s)")
    parser.add_argument("--worker", choices=list(FRAMEWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["check", "time"], default="time", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args)
    if args.quick:
        args.rounds, args.samples, args.target = 2, 1, 0.05
    frameworks = parse_list(
        args.frameworks,
        list(FRAMEWORKS),
        "frameworks",
        None if args.check else DEFAULT_FRAMEWORKS,
    )
    scenarios = parse_list(args.scenarios, list(SCENARIOS), "scenarios")
    if args.check:
        return run_check(args, frameworks, explicit=bool(args.frameworks))
    return run_timing(args, frameworks, scenarios)


if __name__ == "__main__":
    sys.exit(main())
