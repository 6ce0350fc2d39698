"""Import time: ``python -X importtime -c "import X"`` in fresh interpreters.

Reports the median (and min-max) over several runs of the cumulative µs of the top-level
module (plus its parent packages for a dotted name), i.e. everything ``import X``
pulls in.

    python benchmarks/importtime.py                        # qakeapi, fastapi, litestar, ...
    python benchmarks/importtime.py --modules qakeapi,fastapi --runs 9
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DASH, machine_info, machine_line, markdown_table, summarise

DEFAULT_MODULES = "qakeapi,fastapi,litestar,starlette.applications,falcon.asgi,blacksheep"


def import_cumulative_us(module: str) -> int:
    """One fresh interpreter: the cumulative import time of ``module`` in µs."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        raise ImportError(last)
    # Lines: "import time: <self> | <cumulative> | <indent><name>". The statement's own
    # imports are the unindented lines naming the module or one of its parent packages
    # (``import falcon.asgi`` imports ``falcon`` then ``falcon.asgi``): add them up.
    chain = {".".join(module.split(".")[: i + 1]) for i in range(module.count(".") + 1)}
    total = 0
    found = False
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.split(":", 1)[1].split("|")
        if len(fields) != 3 or fields[2].startswith("  "):
            continue
        if fields[2].strip() in chain:
            total += int(fields[1])
            found = found or fields[2].strip() == module
    if found:
        return total
    raise ImportError(f"no import time line for {module}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--modules", default=DEFAULT_MODULES, help="comma list of modules")
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--output", help="also write the markdown to this file")
    args = parser.parse_args(argv)
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    info = machine_info()
    results: dict[str, list[int]] = {}
    unavailable: dict[str, str] = {}
    for _ in range(args.runs):  # interleave the modules run by run
        for module in modules:
            if module in unavailable:
                continue
            try:
                results.setdefault(module, []).append(import_cumulative_us(module))
            except ImportError as exc:
                unavailable[module] = str(exc)
                results.pop(module, None)
                print(f"{module}: unavailable ({exc})", file=sys.stderr)
    rows = []
    for module in modules:
        if module in results:
            s = summarise(float(v) for v in results[module])
            rows.append(
                [
                    f"`import {module}`",
                    f"{s.median / 1000:.1f}",
                    f"{s.low / 1000:.1f}{DASH}{s.high / 1000:.1f}",
                ]
            )
        else:
            rows.append([f"`import {module}`", "unavailable", unavailable.get(module, "")])
    markdown = "\n".join(
        [
            "## Import time (cumulative, `python -X importtime`)",
            "",
            f"{machine_line(info)}. Median of {args.runs} fresh interpreters per module.",
            "",
            markdown_table(["module", "median ms", f"min{DASH}max ms"], rows),
        ]
    )
    print(markdown)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")
    if args.json:
        data = {"machine": info, "runs_us": results, "unavailable": unavailable}
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
