"""Real workloads S8-S10, every framework side by side: in-process CPU time and end to end.

S8 ``GET /fortunes`` (TechEmpower style: PostgreSQL rows + one added in memory, sorted,
an autoescaped Jinja2 template), S9 ``GET /queries`` (20 single-row queries, a JSON list
of 20 validated pydantic models) and S10 ``GET /large-json`` (1,000 pydantic models with
nested models and datetimes, serialised per request). The apps are
``workload_apps/<framework>.py``; what they share is ``workload_apps/common.py``.

PostgreSQL must answer on 127.0.0.1:5432 (trust auth, database ``test``, user
``postgres``; ``QAKE_BENCH_DSN`` overrides). The driver creates and fills the tables
``fortune`` and ``world`` when they are missing or hold other rows, and starts nothing:
when the server does not answer it says why and measures S10 alone.

    python benchmarks/workloads.py --check                 # correctness only (CI), ~20 s
    python benchmarks/workloads.py --no-e2e                # in-process CPU µs/request
    python benchmarks/workloads.py --e2e-frameworks bare,qakeapi --duration 5
    python benchmarks/workloads.py --e2e-only --frameworks bare,qakeapi,fastapi
    python benchmarks/workloads.py --instructions --frameworks bare,qakeapi --output ''
    python benchmarks/workloads.py --profile qakeapi:S8 --seconds 3
    python benchmarks/workloads.py --fake-db --scenarios S8,S9   # no driver, no database

``--fake-db`` gives every app ``common.FakePool``, which answers the same rows from
memory: the framework's own cost of S8 and S9 without asyncpg's and PostgreSQL's, which
are the same for every app and dominate their time (written to
``results/workloads-fake-db.md``).

In-process, the app is awaited directly (``inprocess.py``'s ``Target`` and ``Lifespan``)
in a fresh subprocess per framework and round, timed by the worker thread's CPU time
(PostgreSQL's own work is not counted: it is the same for every app). End to end, the
apps run under uvicorn with ``e2e.py``'s ``serve``, ``check_http`` and ``run_wrk``
(server pinned to core 0, wrk to core 1; PostgreSQL unpinned).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import importlib
import json
import math
import os
import re
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    DASH,
    DEFAULT_FRAMEWORKS,
    FRAMEWORKS,
    RESULTS_DIR,
    TIMES,
    Scenario,
    fmt_number,
    machine_info,
    machine_line,
    markdown_table,
    parse_list,
    setup_import_path,
    summarise,
    version_of,
)

setup_import_path()

from inprocess import report_problem, run_worker, spawn  # noqa: E402
from workload_apps import common  # noqa: E402

Verify = Callable[[bytes], "str | None"]
OUTPUT = RESULTS_DIR / "workloads.md"
FAKE_DB_OUTPUT = RESULTS_DIR / "workloads-fake-db.md"


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Workload(Scenario):
    """A scenario whose answer is checked by ``verify`` (HTML rows, JSON models)."""

    content_type: str = "application/json"
    needs_db: bool = False
    verify: Verify | None = None

    def check(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> str | None:
        if status != self.status:
            return f"status {status}, expected {self.status}; body {body[:200]!r}"
        content_type = ""
        for name, value in headers:
            if name.lower() == "content-type":
                content_type = value
        if not content_type.startswith(self.content_type):
            return f"content-type {content_type!r}, expected {self.content_type}"
        assert self.verify is not None
        return self.verify(body)


ROW = re.compile(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>")


def expected_fortunes() -> list[tuple[str, str]]:
    from markupsafe import escape

    rows = sorted([*common.FORTUNES, common.ADDITIONAL], key=common.by_message)
    return [(str(i), str(escape(message))) for i, message in rows]


def verify_fortunes(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc}"
    if "<script>" in text:
        return "the <script> fortune is not escaped"
    rows = ROW.findall(text)
    expected = expected_fortunes()
    if rows != expected:
        return f"rows {rows!r}, expected {expected!r}"
    return None


def verify_queries(body: bytes) -> str | None:
    expected = [{"id": i, "randomNumber": common.random_number(i)} for i in common.QUERY_IDS]
    try:
        value = json.loads(body)
    except ValueError:
        return f"body is not JSON: {body[:200]!r}"
    if value != expected:
        return f"JSON {str(value)[:300]}, expected {str(expected)[:300]}"
    return None


def verify_large_json(body: bytes) -> str | None:
    from pydantic import TypeAdapter, ValidationError

    try:
        value = json.loads(body)
        # Every key present and no other (the models forbid extras), datetimes parsed
        # back whichever way an encoder writes UTC ("Z" or "+00:00").
        customers = TypeAdapter(list[common.Customer]).validate_python(value)
    except (ValueError, ValidationError) as exc:
        return f"not {len(common.CUSTOMERS)} customers: {str(exc)[:300]}"
    if customers != common.CUSTOMERS:
        return "the customers differ from common.CUSTOMERS"
    return None


WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        Workload(
            "S8",
            "fortunes: 12 rows + 1, sorted, Jinja2 HTML",
            "GET",
            "/fortunes",
            content_type="text/html",
            needs_db=True,
            verify=verify_fortunes,
        ),
        Workload(
            "S9",
            "20 single-row queries, JSON of 20 models",
            "GET",
            "/queries",
            needs_db=True,
            verify=verify_queries,
        ),
        Workload(
            "S10",
            "1,000 nested models with datetimes as JSON",
            "GET",
            "/large-json",
            verify=verify_large_json,
        ),
    )
}

#: The frameworks with a workload app: the suite's peers (bare first).
WORKLOAD_FRAMEWORKS = list(DEFAULT_FRAMEWORKS)


def app_module(key: str) -> str:
    return f"workload_apps.{key}"


# --------------------------------------------------------------------------- database


async def _prepare_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(common.DSN, timeout=5)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS fortune (id integer PRIMARY KEY, message text NOT NULL)"
        )
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS world (id integer PRIMARY KEY, randomnumber integer "
            "NOT NULL)"
        )
        fortunes = sorted(tuple(r) for r in await conn.fetch(common.FORTUNES_SQL))
        if fortunes != list(common.FORTUNES):
            async with conn.transaction():
                await conn.execute("DELETE FROM fortune")
                await conn.copy_records_to_table("fortune", records=common.FORTUNES)
        worlds = [(i, common.random_number(i)) for i in range(1, common.WORLD_ROWS + 1)]
        found = [
            tuple(r) for r in await conn.fetch("SELECT id, randomnumber FROM world ORDER BY id")
        ]
        if found != worlds:
            async with conn.transaction():
                await conn.execute("DELETE FROM world")
                await conn.copy_records_to_table("world", records=worlds)
            await conn.execute("ANALYZE world")
    finally:
        await conn.close()


def prepare_database() -> str | None:
    """Create and fill the tables if needed; the reason when PostgreSQL cannot be used."""
    try:
        asyncio.run(asyncio.wait_for(_prepare_database(), 60))
    except Exception as exc:
        return f"PostgreSQL at {common.DSN} unusable ({type(exc).__name__}: {exc})"
    return None


# --------------------------------------------------------------------------- worker side


async def worker_main(args: argparse.Namespace) -> dict[str, Any]:
    from inprocess import CLOCKS, Lifespan, Target

    key = args.worker
    scenarios = [WORKLOADS[s] for s in args.scenarios.split(",")]
    result: dict[str, Any] = {"framework": key, "version": version_of(FRAMEWORKS[key])}
    try:
        app = importlib.import_module(app_module(key)).app
        lifespan = Lifespan(app)
        await lifespan.startup()
    except Exception as exc:
        result["unavailable"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
        return result
    try:
        failures = {}
        for scenario in scenarios:
            problem = await Target(app, lifespan.state, scenario).check()
            if problem is not None:
                failures[scenario.key] = problem
        result["failures"] = failures
        if failures or args.mode == "check":
            return result
        clock = CLOCKS[args.clock]
        timings: dict[str, list[float]] = {}
        for scenario in scenarios:
            target = Target(app, lifespan.state, scenario)
            n = 1
            while True:  # double n until a batch takes a tenth of the target
                us = await target.batch(n, clock)
                if us * n / 1e6 >= args.target / 10 or n >= 1 << 20:
                    break
                n *= 2
            n = max(1, math.ceil(args.target * 1e6 / us))
            samples = []
            for _ in range(args.samples):
                gc.collect()
                samples.append(await target.batch(n, clock))
            timings[scenario.key] = samples
        result["timings"] = timings
        return result
    finally:
        await lifespan.shutdown()


def run_profile(args: argparse.Namespace) -> int:
    """pyinstrument on one framework and scenario, in-process (as ``profile.py`` does)."""
    import uvloop
    from inprocess import Lifespan, Target
    from pyinstrument import Profiler

    key, _, scenario = args.profile.partition(":")
    if key not in WORKLOAD_FRAMEWORKS or scenario not in WORKLOADS:
        raise SystemExit(f"--profile FRAMEWORK:SCENARIO, e.g. qakeapi:S8 (got {args.profile!r})")

    async def prepare() -> tuple[Target, Lifespan]:
        app = importlib.import_module(app_module(key)).app
        lifespan = Lifespan(app)
        await lifespan.startup()
        target = Target(app, lifespan.state, WORKLOADS[scenario])
        problem = await target.check()
        if problem is not None:
            raise SystemExit(f"{key} {scenario}: wrong response: {problem}")
        return target, lifespan

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        # The lifespan object is kept: its task holds the pool open between runs.
        target, lifespan = runner.run(prepare())
        us = runner.run(target.batch(100, time.thread_time))
        n = max(100, int(args.seconds * 1e6 / us))
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        runner.run(target.batch(n, time.thread_time))
        profiler.stop()
        runner.run(lifespan.shutdown())
    print(f"{FRAMEWORKS[key].label} {scenario}: {us:.0f} CPU µs/request unprofiled; {n:,} profiled")
    print(profiler.output_text(unicode=True, color=False))
    return 0


# --------------------------------------------------------------------------- parent side


def app_env(db_problem: str | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    if db_problem:
        env["QAKE_BENCH_NO_DB"] = "1"
    return env


def run_check(
    args: argparse.Namespace, frameworks: list[str], scenarios: list[str], env: dict[str, str]
) -> int:
    failed = False
    for key in frameworks:
        started = time.perf_counter()
        result = spawn(key, "check", args, scenarios, script=Path(__file__), env=env)
        if "error" in result or "unavailable" in result or result.get("failures"):
            print("FAIL " + report_problem(result), flush=True)
            failed = True
            continue
        name = f"{FRAMEWORKS[key].label} {result['version']}".strip()
        took = time.perf_counter() - started
        print(f"ok   {name}: {', '.join(scenarios)} correct ({took:.1f} s)", flush=True)
    print("workload check: " + ("FAILED" if failed else "all apps answer correctly"))
    return 1 if failed else 0


Table = dict[str, dict[str, list[float]]]  # framework -> scenario -> samples


def run_inprocess(
    args: argparse.Namespace, frameworks: list[str], scenarios: list[str], env: dict[str, str]
) -> tuple[Table, dict[str, str]]:
    samples: Table = {}
    versions: dict[str, str] = {}
    for round_no in range(args.rounds):
        k = round_no % len(frameworks)
        order = frameworks[k:] + frameworks[:k]
        log(f"in-process round {round_no + 1}/{args.rounds}: {' '.join(order)}")
        for key in order:
            result = spawn(key, "time", args, scenarios, script=Path(__file__), env=env)
            if "error" in result or "unavailable" in result or result.get("failures"):
                raise SystemExit("ABORT: " + report_problem(result))
            versions[key] = result["version"]
            for scenario, values in result["timings"].items():
                samples.setdefault(key, {}).setdefault(scenario, []).extend(values)
            log(
                f"  {key}: "
                + " ".join(f"{s}={fmt_number(min(v))}" for s, v in result["timings"].items())
            )
    return samples, versions


def run_e2e(
    args: argparse.Namespace, frameworks: list[str], scenarios: list[str], env: dict[str, str]
) -> tuple[Table, Table]:
    """Requests/s and server CPU µs/request per round, with ``e2e.py``'s machinery.

    The servers are ``e2e.serve``'s (see ``register``).
    """
    import e2e

    rps: Table = {}
    cpu: Table = {}
    register(frameworks)
    with ExitStack() as stack:
        servers = {}
        for key in frameworks:
            server = stack.enter_context(
                e2e.serve(f"{key}@workloads", "app", args.startup_timeout, env=env)
            )
            e2e.check_http(server, [WORKLOADS[s] for s in scenarios], args.warmup_requests)
            servers[key] = server
        log(f"{len(servers)} servers up and checked")
        for round_no in range(args.e2e_rounds):
            order = frameworks if round_no % 2 == 0 else frameworks[::-1]
            log(f"e2e round {round_no + 1}/{args.e2e_rounds}: {' '.join(order)}")
            for s in scenarios:
                for key in order:
                    res = e2e.run_wrk(
                        servers[key], WORKLOADS[s], f"{args.duration}s", args.connections
                    )
                    rps.setdefault(key, {}).setdefault(s, []).append(res.rps)
                    cpu.setdefault(key, {}).setdefault(s, []).append(res.cpu_us)
                    log(f"  {key} {s}: {res.rps:,.0f} req/s, {res.cpu_us:.0f} µs CPU/request")
    return rps, cpu


def register(frameworks: list[str]) -> dict[str, str]:
    """Register each workload app in ``benchlib.FRAMEWORKS`` (this process only) as
    ``<key>@workloads``: ``e2e.serve``, which ``e2e.py`` and ``instructions.py`` start
    servers with, names the app by the suite's framework key. Returns key -> that key."""
    keys = {}
    for key in frameworks:
        keys[key] = f"{key}@workloads"
        FRAMEWORKS[keys[key]] = dataclasses.replace(
            FRAMEWORKS[key], key=keys[key], module=app_module(key), peer=False
        )
    return keys


def run_instructions(
    args: argparse.Namespace, frameworks: list[str], scenarios: list[str]
) -> dict[str, dict[str, float]]:
    """Instructions per request of the uvicorn worker under callgrind (``instructions.py``'s
    ``count``): deterministic where the timings of a busy machine are not."""
    import instructions

    keys = register(frameworks)
    counted = argparse.Namespace(
        warmup=args.instructions_warmup,
        requests=args.instructions_requests,
        startup_timeout=max(args.startup_timeout, 900),
        keep=False,
    )
    return {
        key: instructions.count(keys[key], "app", [WORKLOADS[s] for s in scenarios], counted)
        for key in frameworks
    }


def render_instructions(
    args: argparse.Namespace,
    table: dict[str, dict[str, float]],
    frameworks: list[str],
    scenarios: list[str],
) -> list[str]:
    header = ["scenario"] + [label(k) for k in frameworks]
    rows = []
    for s in scenarios:
        row = [f"{s} {WORKLOADS[s].title}"]
        for k in frameworks:
            value = table[k][s]
            ratios = [
                f"{TIMES}{value / table[base][s]:.2f} {base}"
                for base in ("bare", "qakeapi")
                if base in table and base != k
            ]
            row.append(f"{value:,.0f}" + (f" ({', '.join(ratios)})" if ratios else ""))
        rows.append(row)
    return [
        "",
        "## Instructions per request in the uvicorn worker (callgrind)",
        "",
        "valgrind --tool=callgrind on the uvicorn worker (httptools, uvloop; every thread, "
        + ("the fake pool" if args.fake_db else "asyncpg's protocol included, PostgreSQL not")
        + f"): {args.instructions_warmup} warm-up "
        f"then {args.instructions_requests} counted sequential keep-alive requests per "
        "scenario; ratios to the bare app and to qakeapi (lower is better).",
        "",
        markdown_table(header, rows),
    ]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- tables


def label(key: str, versions: dict[str, str] | None = None) -> str:
    version = (versions or {}).get(key) or version_of(FRAMEWORKS[key])
    return f"{FRAMEWORKS[key].label} {version}".strip()


def ratio_rows(
    medians: dict[str, dict[str, float]], frameworks: list[str], scenarios: list[str], base: str
) -> list[list[str]]:
    rows = []
    for s in scenarios:
        row = [f"{s} {WORKLOADS[s].title}"]
        for k in frameworks:
            if base not in medians or s not in medians[base] or s not in medians[k]:
                row.append("n/a")
            else:
                row.append(f"{TIMES}{medians[k][s] / medians[base][s]:.2f}")
        rows.append(row)
    return rows


def render_tables(
    title: str,
    note: str,
    values: Table,
    frameworks: list[str],
    scenarios: list[str],
    versions: dict[str, str] | None,
    unit: str,
    lower_is_better: bool,
) -> list[str]:
    shown = [k for k in frameworks if k in values]
    header = ["scenario"] + [label(k, versions) for k in shown]
    medians = {k: {s: statistics.median(v) for s, v in values[k].items()} for k in shown}
    rows = []
    for s in scenarios:
        row = [f"{s} {WORKLOADS[s].title}"]
        for k in shown:
            if s not in values[k]:
                row.append("n/a")
                continue
            summary = summarise(values[k][s])
            row.append(
                f"{fmt_number(summary.median)} "
                f"({fmt_number(summary.low)}{DASH}{fmt_number(summary.high)})"
            )
        rows.append(row)
    better = "lower is better" if lower_is_better else "higher is better"
    parts = ["", f"## {title}", "", note, "", f"{unit}, median (min{DASH}max):", ""]
    parts.append(markdown_table(header, rows))
    for base in ("bare", "qakeapi"):
        if base in shown:
            parts += ["", f"Ratio to {FRAMEWORKS[base].label} ({better}):", ""]
            parts.append(markdown_table(header, ratio_rows(medians, shown, scenarios, base)))
    return parts


# --------------------------------------------------------------------------- main


def choose_database(args: argparse.Namespace, scenarios: list[str]) -> tuple[str | None, list[str]]:
    """The fake pool (``--fake-db``), or PostgreSQL made ready: why it cannot be used
    (``None`` when it can) and the scenarios left to measure."""
    if args.fake_db:
        os.environ["QAKE_BENCH_FAKE_DB"] = "1"  # the workers and servers inherit it
        if args.output == str(OUTPUT):
            args.output = str(FAKE_DB_OUTPUT)
        return None, scenarios
    if not any(WORKLOADS[s].needs_db for s in scenarios):
        return None, scenarios
    problem = prepare_database()
    if problem:
        skipped = [s for s in scenarios if WORKLOADS[s].needs_db]
        print(f"SKIP {', '.join(skipped)}: {problem}", flush=True)
        scenarios = [s for s in scenarios if not WORKLOADS[s].needs_db]
    return problem, scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help=f"comma list of: {','.join(WORKLOAD_FRAMEWORKS)}")
    parser.add_argument("--scenarios", help=f"comma list of: {','.join(WORKLOADS)}")
    parser.add_argument("--check", action="store_true", help="only check every app's answers")
    parser.add_argument("--rounds", type=int, default=3, help="in-process rounds")
    parser.add_argument("--samples", type=int, default=2, help="timed batches per round")
    parser.add_argument("--target", type=float, default=0.3, help="seconds per timed batch")
    parser.add_argument(
        "--clock", choices=["cpu", "wall"], default="cpu", help="in-process clock (default cpu)"
    )
    parser.add_argument(
        "--fake-db", action="store_true", help="the apps' pool answers from memory (no database)"
    )
    parser.add_argument("--no-e2e", action="store_true", help="in-process only")
    parser.add_argument("--e2e-only", action="store_true", help="end to end only")
    parser.add_argument("--e2e-frameworks", help="frameworks run end to end (default: all)")
    parser.add_argument("--e2e-rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup-requests", type=int, default=20)
    parser.add_argument("--startup-timeout", type=float, default=180)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="only count instructions per request under callgrind (minutes per framework)",
    )
    parser.add_argument(
        "--profile", metavar="FRAMEWORK:SCENARIO", help="pyinstrument, e.g. qakeapi:S8"
    )
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="--profile: CPU seconds profiled"
    )
    parser.add_argument("--instructions-requests", type=int, default=200)
    parser.add_argument("--instructions-warmup", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600, help="per-subprocess timeout (s)")
    parser.add_argument("--output", default=str(OUTPUT), help="markdown file ('' for none)")
    parser.add_argument("--worker", choices=WORKLOAD_FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["check", "time"], default="time", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args, worker_main)
    if args.profile:
        if args.fake_db:
            common.FAKE_DB = True  # the profile runs in this process: common is imported
        else:
            problem = prepare_database()
            if problem:
                print(f"note: {problem}", file=sys.stderr)
        return run_profile(args)

    frameworks = parse_list(args.frameworks, WORKLOAD_FRAMEWORKS, "frameworks")
    scenarios = parse_list(args.scenarios, list(WORKLOADS), "scenarios")
    db_problem, scenarios = choose_database(args, scenarios)
    if not scenarios:
        return 0
    env = app_env(db_problem)
    if args.check:
        return run_check(args, frameworks, scenarios, env)

    info = machine_info()
    parts = [f"# Workloads S8{DASH}S10", "", f"{machine_line(info)}."]
    if args.fake_db:
        parts += [
            "",
            "**`--fake-db`**: every app's pool is `common.FakePool`, answering the tables' "
            "rows from memory: no asyncpg, no PostgreSQL.",
        ]
    if db_problem:
        parts += ["", f"S8 and S9 not measured: {db_problem}."]
    if args.instructions:
        table = run_instructions(args, frameworks, scenarios)
        parts += render_instructions(args, table, frameworks, scenarios)
    elif not args.e2e_only:
        samples, versions = run_inprocess(args, frameworks, scenarios, env)
        parts += render_tables(
            "In-process: CPU µs per request",
            f"{args.rounds} rounds {TIMES} {args.samples} samples of ~{args.target} s, each "
            "framework in a fresh subprocess per round (order rotated); uvloop; the app "
            "awaited directly; timed by the worker thread's CPU time (`time.thread_time`, "
            "so PostgreSQL's work and the other processes of a busy machine are not counted)"
            + ("" if args.clock == "cpu" else "; here wall time"),
            samples,
            frameworks,
            scenarios,
            versions,
            "µs per request",
            lower_is_better=True,
        )
    if not (args.no_e2e or args.instructions):
        e2e_frameworks = parse_list(args.e2e_frameworks, frameworks, "e2e frameworks")
        rps, cpu = run_e2e(args, e2e_frameworks, scenarios, env)
        database = (
            "the fake pool" if args.fake_db else f"PostgreSQL unpinned (pool of {common.POOL_SIZE})"
        )
        setting = (
            f"uvicorn --http httptools --loop uvloop --workers 1 on core 0, wrk -t1 "
            f"-c{args.connections} -d{args.duration}s on core 1, {database}; "
            f"{args.e2e_rounds} rounds, A B C / C B A"
        )
        parts += render_tables(
            "End to end: requests/s",
            setting,
            rps,
            e2e_frameworks,
            scenarios,
            None,
            "requests/s",
            lower_is_better=False,
        )
        parts += render_tables(
            "End to end: server CPU µs per request",
            "The uvicorn worker's user + system time from `/proc` over each measurement.",
            cpu,
            e2e_frameworks,
            scenarios,
            None,
            "server CPU µs per request",
            lower_is_better=True,
        )
    markdown = "\n".join(parts)
    print(markdown)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
