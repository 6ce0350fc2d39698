"""Soak: the example apps at full load for a bounded time, with flat memory (issue 18).

Each app (``examples/basic_app.py``, ``examples/db_app.py`` on a throwaway SQLite file)
runs under ``qake run`` (uvicorn, one worker, pinned to core 0) and ``wrk`` (pinned to
core 1, loopback only) drives it through a mix of its routes for ``--seconds``
(``benchmarks/wrk/soak.lua`` cycles through the plan and counts answers by status
class). The server's RSS and open file count are read from ``/proc`` every second.

An app passes when, after the warm-up (the first ``--warmup`` seconds of load), its RSS
grew by less than 5 % (the median of the last three samples against the median of the
three at the end of the warm-up), wrk saw no 5xx, no other non-2xx/3xx answer and no
socket error (connect, read, write, timeout), and the server is alive to the end and
stops cleanly without a traceback in its output.

    python benchmarks/soak.py --seconds 60                  # CI (.ci/run)
    python benchmarks/soak.py --seconds 600                 # hatch run bench:soak
    python benchmarks/soak.py --apps db_app --connections 64

Results: ``<results dir>/soak-<app>.json`` (default ``benchmarks/results``), ``soak.md``
there (a table of every app's latest run) and the table on standard output; exit status 1 when an app fails a check. Needs
``wrk`` (Debian: ``apt-get install -y wrk``), the example apps' dependencies (jinja2,
aiosqlite) and Linux's ``/proc``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LUA = BENCH_DIR / "wrk" / "soak.lua"
RESULTS_DIR = BENCH_DIR / "results"
MAX_GROWTH = 5.0  # percent
#: Books in db_app's table before the load: about 6 MB of SQLite pages, more than the
#: page cache holds (2 MB), so that the cache is full before the RSS baseline.
FILL_ROWS = 30_000

BOOK = (
    '{"title":"Soak {n}","author":"Load Tester","isbn":"978{n}",'
    '"published":"2020-01-02","in_stock":true}'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(core: str) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", core]
    return []


def http(base: str, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
    data = None if body is None else body.encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def basic_plan(base: str) -> list[str]:
    """JSON, a template page, a stream, a static file and the OpenAPI document."""
    return [
        "GET /items/1",
        "GET /?name=soak",
        "GET /items/1",
        "GET /countdown",
        "GET /static/style.css",
        "GET /openapi.json",
    ]


def db_plan(base: str) -> list[str]:
    """Seeds 20 books, then fills the table (so that SQLite's page cache, 2 MB, is full
    before the warm-up ends); the plan: reads of the 20, filtered pages (which count the
    whole table) and one new book in ten."""
    ids = []
    for i in range(20):
        body = BOOK.replace("{n}", f"{9_000_000_000 + i}")
        status, raw = http(base, "POST", "/books", body)
        if status != 201:
            raise SystemExit(f"db_app: seeding a book answered {status}: {raw[:300]!r}")
        ids.append(json.loads(raw)["id"])
    fill(base)
    reads = [f"GET /books/{book_id}" for book_id in ids[:6]]
    pages = ["GET /books?limit=10&author=Load%20Tester&sort=-published", "GET /books?limit=5"]
    return [*reads, pages[0], reads[0], pages[1], f"POST /books {BOOK}"]


def fill(base: str, rows: int = FILL_ROWS, limit: float = 120.0) -> None:
    """POSTs new books with wrk, 3 s at a time, until the table holds ``rows``."""
    started = time.monotonic()
    while True:
        status, raw = http(base, "GET", "/books?limit=1")
        total = json.loads(raw)["total"] if status == 200 else -1
        if total >= rows:
            return
        if time.monotonic() - started > limit:
            raise SystemExit(f"db_app: {total} books after {limit:.0f} s of filling")
        posted, _ = run_wrk(
            base, [f"POST /books {BOOK}"], 3, 16, lambda _t: None, start=next(_RUNS)
        )
        if posted["non_2xx_3xx"] or posted["requests"] != posted["2xx"]:
            raise SystemExit(f"db_app: filling the table failed: {posted}")


@dataclass(frozen=True)
class AppSpec:
    target: str
    plan: Callable[[str], list[str]]
    env: Callable[[Path], dict[str, str]] = lambda _tmp: {}


APPS: dict[str, AppSpec] = {
    "basic_app": AppSpec("examples.basic_app:app", basic_plan),
    "db_app": AppSpec(
        "examples.db_app:app",
        db_plan,
        lambda tmp: {"DB_APP_SQLITE": str(tmp / "soak.sqlite3")},
    ),
}


@dataclass
class Sample:
    t: float  # seconds since the load started
    rss_kib: int
    fds: int


@dataclass
class Result:
    app: str
    seconds: int
    warmup: int
    connections: int
    plan: list[str]
    wrk: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    rss_after_warmup_kib: int = 0
    rss_end_kib: int = 0
    rss_peak_after_warmup_kib: int = 0
    growth_percent: float = 0.0
    fds_after_warmup: int = 0
    fds_end: int = 0
    requests_per_second: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def proc_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def proc_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            http(base, "GET", "/openapi.json")
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.1)


#: Each wrk run against a server numbers its requests from its own range (see soak.lua).
_RUNS = (n * 10_000_000 for n in itertools.count(1))


def run_wrk(
    base: str,
    plan: list[str],
    seconds: int,
    connections: int,
    on_tick: Callable[[float], None],
    *,
    start: int = 0,
) -> tuple[dict[str, Any], str]:
    """wrk for ``seconds``; ``on_tick(elapsed)`` about every second while it runs; the
    request counter of soak.lua starts at ``start``."""
    command = [
        *pinned("1"),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        base,
        "--",
        *plan,
    ]
    started = time.monotonic()
    env = {**os.environ, "SOAK_START": str(start)}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    while proc.poll() is None:
        on_tick(time.monotonic() - started)
        try:
            proc.wait(timeout=max(0.0, 1.0 - (time.monotonic() - started) % 1.0))
        except subprocess.TimeoutExpired:
            pass
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
    line = next((x for x in out.splitlines() if x.startswith("SOAK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no SOAK line:\n{out}\n{err}")
    return json.loads(line[5:]), out


def median_rss(samples: list[Sample]) -> int:
    return int(statistics.median(s.rss_kib for s in samples))


def soak(name: str, spec: AppSpec, args: argparse.Namespace, tmp: Path) -> Result:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / f"{name}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), **spec.env(tmp)}
    command = [*pinned("0"), sys.executable, "-m", "qakeapi", "run", spec.target]
    command += ["--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    result = Result(name, args.seconds, args.warmup, args.connections, [])
    try:
        wait_ready(base, server, log)
        plan = result.plan = spec.plan(base)
        for item in plan:  # every request of the plan answers 2xx before the load
            method, _, rest = item.partition(" ")
            path, _, body = rest.partition(" ")
            status, raw = http(base, method, path, body.replace("{n}", "1000000000") or None)
            if not 200 <= status < 300:
                raise SystemExit(f"{name}: {item} answered {status}: {raw[:300]!r}")

        def sample(elapsed: float) -> None:
            if server.poll() is None:
                pid = server.pid
                result.samples.append(Sample(round(elapsed, 2), proc_rss_kib(pid), proc_fds(pid)))

        print(f"soak: {name}: {args.seconds} s of wrk -c{args.connections}...", file=sys.stderr)
        result.wrk, wrk_output = run_wrk(
            base, plan, args.seconds, args.connections, sample, start=next(_RUNS)
        )
        if server.poll() is not None:
            result.failures.append(f"the server died (exit {server.returncode})")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                result.failures.append("the server did not stop within 20 s of SIGTERM")
    output = log.read_text(errors="replace")
    if "Traceback" in output or "ERROR" in output:
        result.failures.append("the server logged an error:\n" + output[-3000:])
    judge(result, wrk_output)
    return result


def judge(result: Result, wrk_output: str) -> None:
    w = result.wrk
    result.requests_per_second = round(w["requests"] / (w["duration_us"] / 1e6), 1)
    after = [s for s in result.samples if s.t >= result.warmup]
    edge = [s for s in after if s.t < result.warmup + 3] or after[:3]
    if len(after) < 6:
        result.failures.append(f"too few RSS samples after the warm-up ({len(after)})")
        return
    result.rss_after_warmup_kib = median_rss(edge)
    result.rss_end_kib = median_rss(after[-3:])
    result.rss_peak_after_warmup_kib = max(s.rss_kib for s in after)
    result.fds_after_warmup = edge[0].fds
    result.fds_end = after[-1].fds
    growth = 100.0 * (result.rss_end_kib - result.rss_after_warmup_kib)
    result.growth_percent = round(growth / result.rss_after_warmup_kib, 2)
    if result.growth_percent >= MAX_GROWTH:
        result.failures.append(f"RSS grew {result.growth_percent} % after the warm-up")
    if w["5xx"]:
        result.failures.append(f"{w['5xx']} answers were 5xx")
    if w["non_2xx_3xx"]:
        result.failures.append(f"{w['non_2xx_3xx']} answers were not 2xx/3xx: {w}")
    if "Non-2xx or 3xx responses" in wrk_output:
        result.failures.append("wrk reports non-2xx/3xx responses")
    errors = sum(w[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    if errors or "Socket errors" in wrk_output:
        result.failures.append(f"{errors} socket errors: {w}")
    if w["requests"] == 0 or w["2xx"] + w["3xx"] != w["requests"]:
        result.failures.append(f"answers do not add up: {w}")


def write_result(result: Result, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"soak-{result.app}.json"
    doc = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "pinning": "server on core 0, wrk on core 1" if pinned("0") else "none",
        },
        "passed": result.passed,
        **asdict(result),
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def write_summary(directory: Path) -> Path:
    """``soak.md``: the table of every app's latest ``soak-*.json`` in ``directory``."""
    docs = [json.loads(p.read_text()) for p in sorted(directory.glob("soak-*.json"))]
    rows = []
    for doc in docs:
        samples = [Sample(**s) for s in doc.pop("samples")]
        fields = {k: v for k, v in doc.items() if k in Result.__dataclass_fields__}
        rows.append(Result(**fields, samples=samples))
    notes = [
        f"{d['app']}: {d['date']}, {d['seconds']} s ({d['warmup']} s warm-up), "
        f"{d['connections']} connections, {d['machine']['cpus']} CPUs, "
        f"Python {d['machine']['python']}, {d['machine']['pinning']}"
        for d in docs
    ]
    text = [
        "# Soak (benchmarks/soak.py)",
        "",
        "Each example app under `qake run` (uvicorn, one worker) at full load from `wrk -t1` "
        "on loopback; RSS growth is the median of the last three one-second samples against "
        "the median of the three at the end of the warm-up (limit 5 %). Runs:",
        "",
        *(f"- {note}" for note in notes),
        "",
        table(rows),
        "",
    ]
    path = directory / "soak.md"
    path.write_text("\n".join(text))
    return path


def table(results: list[Result]) -> str:
    lines = [
        "| app | seconds | requests | req/s | p50 ms | p99 ms | RSS after warm-up MiB "
        "| RSS at end MiB | growth | fds | 5xx | non-2xx/3xx | socket errors | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        w = r.wrk
        errors = sum(w.get(k, 0) for k in ("connect_errors", "read_errors", "write_errors"))
        errors += w.get("timeouts", 0)
        lines.append(
            f"| {r.app} | {r.seconds} | {w.get('requests', 0)} | {r.requests_per_second:.0f} "
            f"| {w.get('p50_us', 0) / 1000:.2f} | {w.get('p99_us', 0) / 1000:.2f} "
            f"| {r.rss_after_warmup_kib / 1024:.1f} | {r.rss_end_kib / 1024:.1f} "
            f"| {r.growth_percent:+.2f} % | {r.fds_after_warmup}\u2192{r.fds_end} "
            f"| {w.get('5xx', 0)} | {w.get('non_2xx_3xx', 0)} | {errors} "
            f"| {'pass' if r.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="load per app (default 60)")
    parser.add_argument(
        "--warmup", type=int, help="seconds of load before the RSS baseline (default: 1/6)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--apps", default=",".join(APPS), help="comma-separated: " + ", ".join(APPS)
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = max(5, min(60, args.seconds // 6))
    if args.seconds < args.warmup + 10:
        parser.error("--seconds must leave at least 10 s of load after the warm-up")
    if shutil.which("wrk") is None:
        print("soak: wrk not found: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    missing = [m for m in ("jinja2", "aiosqlite") if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f"soak: the example apps need {', '.join(missing)} in this environment "
            "(pip install jinja2 aiosqlite)",
            file=sys.stderr,
        )
        return 2
    names = [n.strip() for n in args.apps.split(",") if n.strip()]
    unknown = sorted(set(names) - set(APPS))
    if unknown:
        parser.error(f"unknown app(s): {', '.join(unknown)}")
    results = []
    with tempfile.TemporaryDirectory(prefix="qake-soak-") as tmp:
        for name in names:
            result = soak(name, APPS[name], args, Path(tmp))
            path = write_result(result, args.results_dir)
            print(f"soak: {name}: {'pass' if result.passed else 'FAIL'} ({path})", file=sys.stderr)
            for failure in result.failures:
                print(f"soak: {name}: {failure}", file=sys.stderr)
            results.append(result)
    write_summary(args.results_dir)
    print(table(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
