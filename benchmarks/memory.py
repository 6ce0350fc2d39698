"""Memory of one worker per framework, and the cost of registering 2,000 routes.

Each framework's app (``apps/<framework>.py``) is measured in fresh interpreters, one
per app size:

* **small**: the scenario routes plus ``/r0/{x}`` and ``/static-0`` (what ``app_small``
  serves: ``apps.common.N_EXTRA`` is set to 1 before the module builds its ``app``);
* **2,000 routes**: ``app`` as the other drivers serve it (the scenario routes plus the
  2,000 extra routes).

In each interpreter, what a uvicorn worker loads first (uvicorn, uvloop, httptools) is
imported, then:

1. the app module's own top-level imports (the framework): **RSS after import**;
2. the module itself (it registers the routes and builds ``app``) and the ASGI lifespan
   startup (where qakeapi compiles its routes): **RSS after build**, and the time this
   step took, in CPU seconds of the process (``time.process_time``) and wall seconds;
3. one S2 request (``GET /json``), checked, and its wall time: the first request
   pays for anything a framework builds lazily (Starlette's middleware stack);
4. ``--requests`` more S2 requests in process on uvloop, with a prebuilt scope as
   ``inprocess.py`` sends them: **peak RSS** (``VmHWM``) and RSS at the end.

Bytecode: an installed app runs from ``.pyc`` files, but this checkout's packages are
editable installs and ``.ci/run`` sets ``PYTHONDONTWRITEBYTECODE``, so every module would
be compiled from source in each worker (the compiler's work inflating RSS by 3-4 MiB for
every framework, in proportion to the source it imports). The workers therefore run
with ``PYTHONPYCACHEPREFIX`` set to a cache directory (``--pycache``) that a first, unmeasured
worker per framework fills; ``--source`` measures the compile-from-source case instead.

RSS is read from ``/proc/self/status`` (``VmRSS``, ``VmHWM``), as ``e2e.py`` reads the
uvicorn worker's. No sockets and no server: this is a cheap, reproducible proxy for
``e2e.py --rss-only`` (whose worker also holds uvicorn's connection objects). The
measured process imports neither ``benchlib`` nor ``inprocess`` (``benchlib`` imports
PyJWT, which would load ``cryptography`` into every framework's figure).

    python benchmarks/memory.py                          # every peer, 100,000 requests
    python benchmarks/memory.py --frameworks bare,qakeapi,starlette --requests 20000
    python benchmarks/memory.py --output /tmp/memory.md --json /tmp/memory.json

Results go to stdout and, unless ``--no-save``, to ``results/memory.md``.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

Message = MutableMapping[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

#: App size label -> ``apps.common.N_EXTRA`` for the module's ``app``.
SIZES = {"small": 1, "2000": 1000}
SIZE_LABELS = {"small": "small (6 routes)", "2000": "2,000 routes"}
S2_BODY = {"message": "Hello, World!"}


# --------------------------------------------------------------------------- worker side


def status_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def import_framework(module: str) -> None:
    """Run the app module's top-level imports only (not its ``build()`` calls)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"no module {module}")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import) or (
            isinstance(node, ast.ImportFrom) and node.module != "__future__"
        ):
            code = compile(ast.Module(body=[node], type_ignores=[]), spec.origin, "exec")
            exec(code, {"__name__": "memory_import_probe"})


class Exchange:
    """One request's ``receive`` and ``send``, as ``inprocess.Exchange`` (reduced): the
    body once, then a disconnect once the response is complete."""

    __slots__ = ("body", "done", "read", "status", "waiter")

    def __init__(self) -> None:
        self.status = 0
        self.body = b""
        self.read = False
        self.done = False
        self.waiter: asyncio.Event | None = None

    async def receive(self) -> Message:
        if not self.read:
            self.read = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if not self.done:
            if self.waiter is None:
                self.waiter = asyncio.Event()
            await self.waiter.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += bytes(message.get("body", b""))
            if not message.get("more_body", False):
                self.done = True
                if self.waiter is not None:
                    self.waiter.set()


S2_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/json",
    "raw_path": b"/json",
    "query_string": b"",
    "root_path": "",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"qakeapi-bench"),
        (b"accept", b"*/*"),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
    "extensions": {},
}


async def lifespan_startup(app: ASGIApp, state: dict[str, Any]) -> asyncio.Task[None] | None:
    """Send ``lifespan.startup`` and wait for the answer; ``None`` when unsupported."""
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    asked = False

    async def receive() -> Message:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "lifespan.startup"}
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        if started.done():
            return
        if message["type"] == "lifespan.startup.complete":
            started.set_result(None)
        elif message["type"] == "lifespan.startup.failed":
            started.set_exception(RuntimeError(message.get("message", "startup failed")))

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, receive, send))
    done, _ = await asyncio.wait({task, started}, timeout=60, return_when="FIRST_COMPLETED")
    if started in done:
        started.result()
        return task
    if task in done:  # the app does not speak lifespan (uvicorn's --lifespan auto)
        if not task.cancelled():
            task.exception()
        return None
    raise RuntimeError("lifespan startup did not complete in 60 s")


async def request(app: ASGIApp, state: dict[str, Any]) -> Exchange:
    exchange = Exchange()
    scope = S2_SCOPE.copy()
    scope["state"] = state.copy()
    await app(scope, exchange.receive, exchange.send)
    return exchange


async def measure(module_name: str, extra: int, requests: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH_DIR))
    # What a uvicorn worker holds before the app, then the apps' shared module.
    import apps.common
    import httptools  # noqa: F401
    import uvicorn  # noqa: F401

    result: dict[str, Any] = {"base_rss_mib": status_mib("VmRSS")}
    apps.common.N_EXTRA = extra  # read as build()'s default when the module is defined
    import_framework(module_name)
    result["import_rss_mib"] = status_mib("VmRSS")

    cpu, wall = time.process_time(), time.perf_counter()
    module = importlib.import_module(module_name)
    app = module.app
    state: dict[str, Any] = {}
    lifespan = await lifespan_startup(app, state)
    result["build_cpu_s"] = time.process_time() - cpu
    result["build_wall_s"] = time.perf_counter() - wall
    result["build_rss_mib"] = status_mib("VmRSS")

    wall = time.perf_counter()
    first = await request(app, state)
    result["first_request_ms"] = (time.perf_counter() - wall) * 1e3
    if first.status != 200 or json.loads(first.body) != S2_BODY:
        raise RuntimeError(f"S2 answered {first.status} {first.body[:200]!r}")

    for _ in range(requests):
        exchange = await request(app, state)
    if requests and exchange.status != 200:
        raise RuntimeError(f"S2 answered {exchange.status} during the run")
    result["peak_rss_mib"] = status_mib("VmHWM")
    result["end_rss_mib"] = status_mib("VmRSS")
    result["requests"] = requests
    if lifespan is not None:
        lifespan.cancel()
    return result


def run_worker(module_name: str, extra: int, requests: int) -> int:
    import uvloop

    result = uvloop.run(measure(module_name, extra, requests))
    print("MEMORY-RESULT " + json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------- driver side


def worker_env(pycache: str | None) -> dict[str, str]:
    """The workers' environment: bytecode written to and read from ``pycache`` (``None``:
    as inherited, e.g. compiled from source under ``PYTHONDONTWRITEBYTECODE``)."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def spawn(
    framework: str, module: str, size: str, requests: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", module]
    cmd += ["--extra", str(SIZES[size]), "--requests", str(requests)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH_DIR, timeout=1800, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("MEMORY-RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("MEMORY-RESULT "))
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"unavailable": f"{framework} ({size}): exit {proc.returncode}: {tail[0]}"}


def render(results: dict[str, dict[str, dict[str, Any]]], labels: dict[str, str], args: Any) -> str:
    from benchlib import MINUS, fmt_number, machine_line, markdown_table

    lines = [
        "# Memory: one worker per framework, in process",
        "",
        machine_line(args.machine),
        "",
        f"`python benchmarks/memory.py --requests {args.requests}"
        f"{' --source' if args.source else ''}`: a fresh interpreter per "
        "framework and app size, after uvicorn, uvloop and httptools are imported, "
        + (
            "every module compiled from source (no bytecode cache). "
            if args.source
            else "every module loaded from bytecode (`.pyc`) that a first, unmeasured worker "
            "wrote, as an installed app's are. "
        )
        + "RSS in "
        "MiB (`VmRSS`, peak `VmHWM` from `/proc/self/status`); *import* is the app "
        "module's imports, *build* adds the module (route registration) and the lifespan "
        f"startup; *peak* is after {args.requests:,} in-process S2 requests. "
        "Times are one sample each (CPU seconds of the process, and wall milliseconds "
        "for the first request): indicative on a shared machine.",
        "",
    ]
    unavailable = []
    for size in SIZES:
        rows = []
        for key, by_size in results.items():
            res = by_size.get(size)
            if res is None:
                continue
            if "unavailable" in res:
                unavailable.append(res["unavailable"])
                continue
            row = [
                labels[key],
                f"{res['import_rss_mib']:.1f}",
                f"{res['build_rss_mib']:.1f}",
                f"{res['peak_rss_mib']:.1f}",
                f"{res['build_rss_mib'] - res['import_rss_mib']:.1f}",
            ]
            if size == "2000":
                row += [fmt_number(res["build_cpu_s"] * 1e3), fmt_number(res["build_wall_s"] * 1e3)]
            row.append(fmt_number(res["first_request_ms"]))
            rows.append(row)
        header = [
            "framework",
            "RSS after import",
            "RSS after build",
            "peak RSS",
            f"build {MINUS} import",
        ]
        if size == "2000":
            header += ["register + build, CPU ms", "register + build, wall ms"]
        header.append("first request, ms")
        if rows:
            lines += [f"## {SIZE_LABELS[size]}", "", markdown_table(header, rows), ""]
    if unavailable:
        lines += ["Not measured:", ""] + [f"- {text}" for text in unavailable] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help="comma list (default: bare and every peer)")
    parser.add_argument("--sizes", default="small,2000", help="comma list of small,2000")
    parser.add_argument("--requests", type=int, default=100_000, help="S2 requests per worker")
    parser.add_argument("--output", help="also write the markdown to this file")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--no-save", action="store_true", help="do not write results/memory.md")
    parser.add_argument(
        "--pycache",
        default=os.path.join(tempfile.gettempdir(), "qakeapi-bench-pycache"),
        help="bytecode cache directory of the workers (PYTHONPYCACHEPREFIX)",
    )
    parser.add_argument(
        "--source",
        action="store_true",
        help="compile every module from source in each worker (no bytecode cache)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--extra", type=int, default=SIZES["2000"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args.worker, args.extra, args.requests)

    sys.path.insert(0, str(BENCH_DIR))
    from benchlib import DEFAULT_FRAMEWORKS, FRAMEWORKS, machine_info, parse_list

    frameworks = parse_list(args.frameworks, list(FRAMEWORKS), "frameworks", DEFAULT_FRAMEWORKS)
    sizes = parse_list(args.sizes, list(SIZES), "sizes")
    args.machine = machine_info()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    env = worker_env(None if args.source else args.pycache)
    for key in frameworks:
        if not args.source:  # writes the framework's bytecode: not measured
            spawn(key, FRAMEWORKS[key].module, "small", 0, env)
        for size in sizes:
            res = spawn(key, FRAMEWORKS[key].module, size, args.requests, env)
            results.setdefault(key, {})[size] = res
            if "unavailable" in res:
                print(f"  {res['unavailable']}", file=sys.stderr)
            else:
                print(
                    f"  {key} {size}: import {res['import_rss_mib']:.1f}, build "
                    f"{res['build_rss_mib']:.1f}, peak {res['peak_rss_mib']:.1f} MiB; "
                    f"build {res['build_cpu_s'] * 1e3:.0f} ms CPU",
                    file=sys.stderr,
                )
    labels = {key: FRAMEWORKS[key].label for key in frameworks}
    markdown = render(results, labels, args)
    print(markdown)
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "memory.md").write_text(markdown + "\n", encoding="utf-8")
    if args.output:
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")
    if args.json:
        data = {
            "machine": args.machine,
            "requests": args.requests,
            "bytecode": "source" if args.source else "cached",
            "results": results,
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
