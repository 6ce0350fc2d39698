"""Profile one framework on one scenario in-process with pyinstrument.

The app is loaded and driven exactly as in ``inprocess.py`` (uvloop, prebuilt scope,
lifespan started, response checked first), then awaited in a loop under the profiler.

    python benchmarks/profile.py qakeapi S2
    python benchmarks/profile.py qakeapi S4 --seconds 5 --html /tmp/qakeapi-s4.html
    python benchmarks/profile.py fastapi S3 --interval 0.0002 --show-all
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import FRAMEWORKS, SCENARIOS, load_app
from inprocess import Lifespan, Target


async def prepare(framework: str, scenario: str) -> tuple[Target, Lifespan]:
    chosen = SCENARIOS[scenario]
    app = load_app(FRAMEWORKS[framework], chosen.app_attr)
    lifespan = Lifespan(app)
    await lifespan.startup()
    target = Target(app, lifespan.state, chosen)
    problem = await target.check()
    if problem is not None:
        raise SystemExit(f"{framework} {scenario}: wrong response: {problem}")
    return target, lifespan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("framework", choices=list(FRAMEWORKS))
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=3.0, help="time under the profiler")
    parser.add_argument("--interval", type=float, default=0.0005, help="sampling interval (s)")
    parser.add_argument("--html", help="write pyinstrument's HTML report to this file")
    parser.add_argument("--show-all", action="store_true", help="show library frames too")
    args = parser.parse_args(argv)

    import uvloop
    from pyinstrument import Profiler

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        target, lifespan = runner.run(prepare(args.framework, args.scenario))
        # Unprofiled reference first, and an n that fills the requested time.
        n = 1000
        us = runner.run(target.batch(n))
        n = max(1000, int(args.seconds * 1e6 / us))
        us = runner.run(target.batch(n))
        profiler = Profiler(interval=args.interval, async_mode="disabled")
        started = time.perf_counter()
        profiler.start()
        runner.run(target.batch(n))
        profiler.stop()
        elapsed = time.perf_counter() - started
        runner.run(lifespan.shutdown())

    print(
        f"{FRAMEWORKS[args.framework].label} {args.scenario}: {us:.2f} µs/request unprofiled; "
        f"{n:,} requests profiled in {elapsed:.2f} s ({elapsed / n * 1e6:.2f} µs/request)"
    )
    print(profiler.output_text(unicode=True, color=False, show_all=args.show_all))
    if args.html:
        Path(args.html).write_text(profiler.output_html(), encoding="utf-8")
        print(f"HTML report: {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
