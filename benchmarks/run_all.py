"""Run the whole benchmark suite (in-process, end-to-end + memory, import time).

Writes each part's markdown to ``benchmarks/results/<part>.md`` (and JSON beside it),
and everything to stdout. The default settings finish in under 15 minutes on a 2-core
machine (11.0 min on 2026-11-25: in-process ~2.3 min, end-to-end with memory ~8.4,
import time ~0.2); ``--quick`` in about 6.

    python benchmarks/run_all.py
    python benchmarks/run_all.py --quick
    python benchmarks/run_all.py --frameworks bare,qakeapi,fastapi --skip e2e
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import BENCH_DIR, RESULTS_DIR, machine_info, machine_line

PARTS = ("inprocess", "e2e", "importtime")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frameworks", help="passed to inprocess.py and e2e.py")
    parser.add_argument("--quick", action="store_true", help="short settings everywhere")
    parser.add_argument("--skip", default="", help=f"comma list of parts to skip: {PARTS}")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="output directory")
    args = parser.parse_args(argv)
    skip = {p.strip() for p in args.skip.split(",") if p.strip()}
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    selection = ["--frameworks", args.frameworks] if args.frameworks else []
    commands: dict[str, list[str]] = {
        "inprocess": ["inprocess.py", *selection]
        + (["--quick"] if args.quick else ["--rounds", "3", "--samples", "2", "--target", "0.2"]),
        "e2e": ["e2e.py", *selection]
        + (
            ["--duration", "1", "--rounds", "1", "--rss-requests", "20000"]
            if args.quick
            else ["--duration", "2", "--rounds", "4", "--rss-requests", "100000"]
        ),
        "importtime": ["importtime.py", "--runs", "3" if args.quick else "7"],
    }
    started = time.perf_counter()
    print(f"# qakeapi benchmark suite\n\n{machine_line(machine_info())}.\n", flush=True)
    failed = []
    for part, command in commands.items():
        if part in skip:
            continue
        t0 = time.perf_counter()
        cmd = [
            sys.executable,
            str(BENCH_DIR / command[0]),
            *command[1:],
            "--output",
            str(results / f"{part}.md"),
            "--json",
            str(results / f"{part}.json"),
        ]
        print(f"$ {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        print(proc.stdout, flush=True)
        print(f"[{part}: {time.perf_counter() - t0:.0f} s]", file=sys.stderr, flush=True)
        if proc.returncode != 0:
            failed.append(part)
            print(f"**{part} failed with exit code {proc.returncode}**\n", flush=True)
    total = time.perf_counter() - started
    print(f"_Suite finished in {total / 60:.1f} min; results in {results}._")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
