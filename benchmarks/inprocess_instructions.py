"""Instructions per request in process (issue 20's target 2: "in-process within 1.5x
bare"): each framework's app awaited directly with ``inprocess.py``'s prebuilt scopes,
under callgrind, counting only the measured batch (client requests through a small C
shim). Deterministic where timings are not: the machine's load does not change them.

    python benchmarks/inprocess_instructions.py --frameworks qakeapi,bare --scenarios S1,S3

The figure includes ``inprocess.Target``'s own per-request cost, as the in-process
timings do; ``PYTHONHASHSEED=0`` fixes the string hashes. Needs valgrind and gcc.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import FRAMEWORKS, SCENARIOS, load_app
from inprocess import Lifespan, Target
from instructions import read_total
from layers import build_shim

PREFIX = "INPROCESS-COUNT "


async def count_worker(shim_path: str, jobs: list[tuple[str, str]], n: int, warmup: int) -> None:
    """Under callgrind: zero the counters, run ``n`` requests, dump; per job."""
    shim = ctypes.CDLL(shim_path)
    folder = Path(shim_path).parent
    counts: dict[str, float] = {}
    for number, (framework, name) in enumerate(jobs, start=1):
        scenario = SCENARIOS[name]
        app = load_app(FRAMEWORKS[framework], scenario.app_attr)
        lifespan = Lifespan(app)
        await lifespan.startup()
        target = Target(app, lifespan.state, scenario)
        problem = await target.check()
        if problem is not None:
            raise SystemExit(f"{framework} {name}: wrong response: {problem}")
        await target.batch(warmup)
        shim.qb_zero()
        await target.batch(n)
        shim.qb_dump()
        counts[f"{framework} {name}"] = read_total(folder / f"cg.{os.getpid()}.{number}") / n
        await lifespan.shutdown()
    print(PREFIX + json.dumps(counts), flush=True)


def count(frameworks: list[str], scenarios: list[str], n: int, warmup: int) -> dict[str, float]:
    if shutil.which("valgrind") is None or shutil.which("gcc") is None:
        raise SystemExit("needs valgrind and gcc (Debian: valgrind, gcc)")
    jobs = ",".join(f"{f}:{s}" for f in frameworks for s in scenarios)
    with tempfile.TemporaryDirectory(prefix="inprocess-count-") as tmp:
        shim = build_shim(Path(tmp))
        command = [
            "valgrind",
            "--tool=callgrind",
            "--dump-instr=no",
            f"--callgrind-out-file={tmp}/cg.%p",
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            str(shim),
            jobs,
            str(n),
            str(warmup),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(PREFIX):
            result: dict[str, float] = json.loads(line[len(PREFIX) :])
            return result
    raise SystemExit(f"no counts from the worker:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--worker":
        shim, jobs, n, warmup = args[1:5]
        pairs = [tuple(job.split(":", 1)) for job in jobs.split(",")]
        asyncio.run(count_worker(shim, pairs, int(n), int(warmup)))  # type: ignore[arg-type]
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default="bare,qakeapi")
    parser.add_argument("--scenarios", default="S1,S2,S3,S4,S5")
    parser.add_argument("--requests", type=int, default=500, help="counted requests per job")
    parser.add_argument("--warmup", type=int, default=100)
    options = parser.parse_args(args)
    frameworks = options.frameworks.split(",")
    scenarios = options.scenarios.split(",")
    counts = count(frameworks, scenarios, options.requests, options.warmup)
    base = "bare" if "bare" in frameworks else None
    print("| framework | " + " | ".join(scenarios) + " |")
    print("|---|" + "---:|" * len(scenarios))
    for framework in frameworks:
        cells = []
        for name in scenarios:
            value = counts[f"{framework} {name}"]
            ratio = f" ({value / counts[f'{base} {name}']:.2f}x)" if base else ""
            cells.append(f"{value:,.0f}{ratio}")
        print(f"| {framework} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
