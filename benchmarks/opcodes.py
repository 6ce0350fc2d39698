"""Where a request's Python work goes: bytecodes executed per function, in process.

One request of each scenario, after a warm-up, is run under ``sys.settrace`` with
opcode events on (``frame.f_trace_opcodes``); every executed bytecode is counted
against its function. The count is deterministic, unlike a timer, and names the
Python function, which callgrind (``inprocess_instructions.py``) cannot on CPython
3.11; it does not see the work done in C (pydantic-core, orjson, ``str.split``), so
read it beside the instruction counts, not instead of them.

    python benchmarks/opcodes.py --frameworks bare,qakeapi --scenarios S1,S3,S5
    python benchmarks/opcodes.py --scenarios S3 --top 12

The harness's own functions (``inprocess.py``'s ``Target.batch``, its exchange) are
counted as for every framework: the same 170-odd bytecodes in every column.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from benchlib import FRAMEWORKS, SCENARIOS, load_app
from inprocess import Lifespan, Target

__all__ = ["count_opcodes", "function_label"]


def function_label(frame: FrameType) -> str:
    """``package/module.py:function`` for a frame: the path after ``src/`` or
    ``site-packages/``, else the file's name."""
    code = frame.f_code
    path = code.co_filename
    for marker in ("/src/", "/site-packages/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    else:
        path = Path(path).name
    return f"{path}:{code.co_qualname}"


async def count_opcodes(framework: str, scenario_key: str, warmup: int) -> collections.Counter[str]:
    """Bytecodes per function for one ``scenario_key`` request to ``framework``'s app."""
    scenario = SCENARIOS[scenario_key]
    app = load_app(FRAMEWORKS[framework], scenario.app_attr)
    lifespan = Lifespan(app)
    await lifespan.startup()
    counts: collections.Counter[str] = collections.Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            counts[function_label(frame)] += 1
        return trace

    try:
        target = Target(app, lifespan.state, scenario)
        problem = await target.check()
        if problem is not None:
            raise SystemExit(f"{framework} {scenario_key}: wrong response: {problem}")
        await target.batch(warmup)
        sys.settrace(trace)
        try:
            await target.batch(1)
        finally:
            sys.settrace(None)
    finally:
        await lifespan.shutdown()
    # The tracer's own frames (settrace's return, this coroutine) are not the request's.
    for label in [k for k in counts if k.endswith(("count_opcodes", "batch.<locals>"))]:
        del counts[label]
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frameworks", default="bare,qakeapi")
    parser.add_argument("--scenarios", default="S1,S2,S3,S4,S5")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--top", type=int, default=8, help="functions listed per scenario")
    options = parser.parse_args(argv)
    frameworks = options.frameworks.split(",")
    scenarios = options.scenarios.split(",")
    results = {
        (f, s): asyncio.run(count_opcodes(f, s, options.warmup))
        for f in frameworks
        for s in scenarios
    }
    print("Bytecodes executed per request (in process, one request after the warm-up):\n")
    print("| framework | " + " | ".join(scenarios) + " |")
    print("|---|" + "---:|" * len(scenarios))
    for framework in frameworks:
        cells = [f"{sum(results[framework, s].values()):,}" for s in scenarios]
        print(f"| {framework} | " + " | ".join(cells) + " |")
    for framework in frameworks:
        for name in scenarios:
            counts = results[framework, name]
            print(f"\n{framework} {name}: the {options.top} functions running the most bytecodes\n")
            print("| function | bytecodes |\n|---|---:|")
            for label, value in counts.most_common(options.top):
                print(f"| `{label}` | {value:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
