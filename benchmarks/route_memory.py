"""What registering and building the 2,000-route app allocates, by source file
(tracemalloc), per framework: where ``memory.py``'s *build - import* goes.

Each framework runs in a fresh interpreter that imports what a uvicorn worker loads
first and the app module's own imports (``memory.import_framework``), then starts
tracemalloc, imports the app module (it registers the routes) and runs the lifespan
startup (where qakeapi compiles them). What is still allocated then is grouped by the
file that allocated it. The count is exact and repeatable, unlike RSS; it does not see
memory outside Python's allocator (RSS does).

    python benchmarks/route_memory.py                       # bare, qakeapi, starlette
    python benchmarks/route_memory.py --frameworks qakeapi --top 20
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
_MARKERS = ("/src/", "/site-packages/", "/benchmarks/", "/lib/python3")


def short_name(filename: str) -> str:
    """A file's path after ``src/``, ``site-packages/`` or the standard library."""
    for marker in _MARKERS:
        if marker in filename:
            return filename.rsplit(marker, 1)[1].removeprefix(".11/")
    return filename


async def allocated_by_build(module_name: str, top: int) -> dict[str, Any]:
    """KiB the app module's registration and lifespan startup leave allocated, in all
    and for the ``top`` files that allocated most."""
    sys.path.insert(0, str(BENCH_DIR))
    import apps.common  # noqa: F401
    import httptools  # noqa: F401
    import uvicorn  # noqa: F401
    from memory import import_framework, lifespan_startup

    import_framework(module_name)
    # CPython's table of interned strings doubles when it fills: a resize landing in the
    # window (~950 KiB, wherever the count crosses the threshold: a few new identifier
    # names in any module move it) is not the routes' cost. Room for 20,000 more names
    # first; the strings stay referenced until the last snapshot, so none of it is freed.
    room = [sys.intern(f"route-memory-room-{i}") for i in range(20_000)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    module = importlib.import_module(module_name)
    lifespan = await lifespan_startup(module.app, {})
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    del room
    if lifespan is not None:
        lifespan.cancel()
    by_file: dict[str, int] = {}
    for stat in after.compare_to(before, "filename"):
        name = short_name(stat.traceback[0].filename)
        by_file[name] = by_file.get(name, 0) + stat.size_diff
    ranked = sorted(by_file.items(), key=lambda item: -item[1])
    return {
        "total_kib": sum(by_file.values()) / 1024,
        "files": [(name, size / 1024) for name, size in ranked[:top]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frameworks", default="bare,qakeapi,starlette")
    parser.add_argument("--top", type=int, default=12, help="files listed per framework")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        import uvloop

        result = uvloop.run(allocated_by_build(args.worker, args.top))
        print("ROUTE-MEMORY " + json.dumps(result), flush=True)
        return 0

    sys.path.insert(0, str(BENCH_DIR))
    from benchlib import FRAMEWORKS, parse_list

    keys = parse_list(args.frameworks, list(FRAMEWORKS), "frameworks")
    results: dict[str, dict[str, Any]] = {}
    for key in keys:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", FRAMEWORKS[key].module]
        done = subprocess.run(
            [*cmd, "--top", str(args.top)], capture_output=True, text=True, cwd=BENCH_DIR
        )
        line = next((x for x in done.stdout.splitlines() if x.startswith("ROUTE-MEMORY ")), None)
        if line is None:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"{key}: exit {done.returncode}: {tail[0]}")
        results[key] = json.loads(line.removeprefix("ROUTE-MEMORY "))
    print("Allocated by registering and building the 2,000-route app (tracemalloc, KiB):\n")
    print("| framework | KiB in all |\n|---|---:|")
    for key in keys:
        print(f"| {FRAMEWORKS[key].label} | {results[key]['total_kib']:,.0f} |")
    for key in keys:
        print(f"\n{FRAMEWORKS[key].label}: the {args.top} files allocating most\n")
        print("| file | KiB |\n|---|---:|")
        for name, kib in results[key]["files"]:
            print(f"| `{name}` | {kib:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
