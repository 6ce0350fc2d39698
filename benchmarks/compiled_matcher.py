"""The optional mypyc-compiled matcher against the pure one (issue 20): in-process
instructions per request under callgrind (``inprocess_instructions.py``'s counter), the
bare ASGI app beside them, as a markdown table.

    python benchmarks/compiled_matcher.py                 # builds the compiled wheel
    python benchmarks/compiled_matcher.py --wheel dist/qake_routing-...-linux_x86_64.whl

The compiled wheel (``QAKE_ROUTING_COMPILE=1 uv build --wheel packages/qake-routing``)
is unpacked into a temporary folder put first on ``PYTHONPATH`` of the counting run, so
it shadows the environment's (editable, pure) qake-routing for that run only; the run
checks which ``_tree`` it imported before counting. Needs valgrind, gcc and uv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from inprocess_instructions import count

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "packages" / "qake-routing"
WHICH_TREE = "import qake_routing._tree as t; print(t.__file__)"


def build_wheel(out: Path) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("needs uv on PATH to build the compiled wheel (or pass --wheel)")
    env = {**os.environ, "QAKE_ROUTING_COMPILE": "1"}
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "-o", str(out), str(PACKAGE)], env=env, check=True
    )
    (wheel,) = out.glob("qake_routing-*.whl")
    return wheel


def tree_module(pythonpath: str | None) -> str:
    """The file ``qake_routing._tree`` is imported from with this ``PYTHONPATH``."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", WHICH_TREE], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def count_with(
    pythonpath: str | None, frameworks: list[str], args: argparse.Namespace
) -> dict[str, float]:
    saved = os.environ.pop("PYTHONPATH", None)
    try:
        if pythonpath:
            os.environ["PYTHONPATH"] = pythonpath
        return count(frameworks, args.scenarios.split(","), args.requests, args.warmup)
    finally:
        os.environ.pop("PYTHONPATH", None)
        if saved is not None:
            os.environ["PYTHONPATH"] = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="a compiled qake-routing wheel (default: build one)")
    parser.add_argument("--scenarios", default="S3,S5")
    parser.add_argument("--requests", type=int, default=500, help="counted requests per job")
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compiled-matcher-") as tmp:
        wheel = Path(args.wheel) if args.wheel else build_wheel(Path(tmp) / "dist")
        site = Path(tmp) / "site"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        pure_file, compiled_file = tree_module(None), tree_module(str(site))
        if not pure_file.endswith(".py"):
            raise SystemExit(f"the environment's qake_routing._tree is not pure: {pure_file}")
        if compiled_file.endswith(".py"):
            raise SystemExit(f"{wheel.name} holds no compiled _tree (imported {compiled_file})")
        print(f"pure:     {pure_file}\ncompiled: {compiled_file} (from {wheel.name})\n")
        pure = count_with(None, ["bare", "qakeapi"], args)
        compiled = count_with(str(site), ["qakeapi"], args)
    scenarios = args.scenarios.split(",")
    rows = [
        ("bare ASGI app", {s: pure[f"bare {s}"] for s in scenarios}),
        ("qakeapi, pure qake-routing", {s: pure[f"qakeapi {s}"] for s in scenarios}),
        ("qakeapi, mypyc-compiled matcher", {s: compiled[f"qakeapi {s}"] for s in scenarios}),
    ]
    print("| build | " + " | ".join(scenarios) + " |")
    print("|---|" + "---:|" * len(scenarios))
    for label, counts in rows:
        cells = [f"{counts[s]:,.0f} ({counts[s] / pure[f'bare {s}']:.2f}x)" for s in scenarios]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
