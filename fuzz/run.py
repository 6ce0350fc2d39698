"""Run every fuzz target for a bounded time; exit non-zero when one finds a crash.

    python fuzz/run.py                   # each target 19 s (all four within 90 s)
    python fuzz/run.py --seconds 5 host  # some targets, shorter
    python fuzz/run.py --fallback        # the hypothesis-driven loops, even with atheris

With atheris (``hatch run fuzz:run``) each target is a libFuzzer process, coverage-guided,
started from ``fuzz/seeds/<target>`` and its dictionary ``fuzz/dicts/<target>.dict``; new
inputs go to ``fuzz/corpus/<target>`` (kept between runs, not committed) and a crashing
input to ``fuzz/artifacts/``, printed here too. Without atheris (no wheel for this
Python), the same targets run as hypothesis-driven loops (random and mutated-seed
inputs, not coverage-guided) for the same time, and the output says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("cookie", "range", "host", "media_type")
#: libFuzzer: a single input slower than this is a finding (a super-linear parser).
PER_INPUT_TIMEOUT = 5


def run_atheris(name: str, seconds: int) -> tuple[bool, int, str]:
    """One libFuzzer run: (passed, executions, output)."""
    corpus = HERE / "corpus" / name
    artifacts = HERE / "artifacts"
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(exist_ok=True)
    command = [
        sys.executable,
        str(HERE / f"fuzz_{name}.py"),
        str(corpus),
        str(HERE / "seeds" / name),
        f"-max_total_time={seconds}",
        f"-timeout={PER_INPUT_TIMEOUT}",
        "-rss_limit_mb=2048",
        "-max_len=4096",
        "-seed=18",
        "-print_final_stats=1",
        f"-dict={HERE / 'dicts' / f'{name}.dict'}",
        f"-artifact_prefix={artifacts}/{name}-",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env=env,
        timeout=seconds + 120,
        check=False,
    )
    found = re.search(r"stat::number_of_executed_units: (\d+)", result.stdout)
    executions = int(found[1]) if found else 0
    return result.returncode == 0, executions, result.stdout


def run_fallback(name: str, seconds: int) -> tuple[bool, int, str]:
    """The same target as hypothesis-driven loops for ``seconds``: (passed, runs, output)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(HERE))
    from fuzz_targets import TARGETS

    target = TARGETS[name]
    seeds = [p.read_bytes() for p in sorted((HERE / "seeds" / name).iterdir())]
    tokens = [
        bytes(
            line.strip()[1:-1].encode().decode("unicode_escape"), "latin-1"
        )  # a dictionary line: "..." with \xNN escapes
        for line in (HERE / "dicts" / f"{name}.dict").read_text().splitlines()
        if line.strip()
    ]
    mutated = st.builds(
        lambda base, at, piece, cut: base[:at] + piece + base[at + cut :],
        st.sampled_from(seeds),
        st.integers(0, 64),
        st.one_of(st.sampled_from(tokens), st.binary(max_size=8)),
        st.integers(0, 4),
    )
    inputs = st.one_of(
        st.binary(max_size=512), mutated, st.lists(st.sampled_from(tokens)).map(b"".join)
    )
    runs = 0
    last = b""

    def check(data: bytes) -> None:
        nonlocal runs, last
        runs += 1
        last = data  # hypothesis runs the shrunk failing input last
        target(data)

    deadline = time.monotonic() + seconds
    round_number = 0
    while time.monotonic() < deadline:
        round_number += 1
        loop = seed(round_number)(
            settings(
                max_examples=300,  # short rounds: the time bound holds
                database=None,
                deadline=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )(given(inputs)(check))
        )
        try:
            loop()
        except Exception as exc:  # the target's finding, shrunk by hypothesis
            finding = f"round {round_number}: {type(exc).__name__}: {exc}"
            return False, runs, f"{finding}\n  input: {last!r}"
    return True, runs, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("targets", nargs="*", help=f"some of {', '.join(NAMES)} (default all)")
    parser.add_argument("--seconds", type=int, default=19, help="per target (default 19)")
    parser.add_argument(
        "--budget", type=int, default=90, help="seconds for all targets, start-up included"
    )
    parser.add_argument("--fallback", action="store_true", help="hypothesis loops, not atheris")
    args = parser.parse_args()
    names = args.targets or list(NAMES)
    unknown = set(names) - set(NAMES)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(NAMES)}")
    coverage_guided = not args.fallback and importlib.util.find_spec("atheris") is not None
    if coverage_guided:
        print(f"fuzzing with atheris (coverage-guided libFuzzer), {args.seconds} s per target")
        runner = run_atheris
    else:
        why = "--fallback" if args.fallback else "atheris is not installed for this Python"
        print(
            f"FALLBACK ({why}): hypothesis-driven loops, NOT coverage-guided, "
            f"{args.seconds} s per target"
        )
        runner = run_fallback
    failed = []
    began = time.monotonic()
    overhead = 3.0  # seconds a target takes beyond its fuzzing time (start-up, corpus load)
    for index, name in enumerate(names):
        # Within --budget in all: a slow start-up (a loaded machine) shortens the rest.
        left = args.budget - (time.monotonic() - began)
        seconds = max(1, min(args.seconds, int(left / (len(names) - index) - overhead)))
        before = set((HERE / "artifacts").glob(f"{name}-*"))
        started = time.monotonic()
        passed, executions, output = runner(name, seconds)
        took = time.monotonic() - started
        overhead = max(overhead, took - seconds)
        verdict = "ok" if passed else "CRASH"
        print(
            f"{name:<11} {verdict:<5} {executions:>9} executions in {took:5.1f} s "
            f"({seconds} s of fuzzing)",
            flush=True,
        )
        if not passed:
            failed.append(name)
            print("\n".join(output.splitlines()[-60:]))
            for artifact in sorted(set((HERE / "artifacts").glob(f"{name}-*")) - before):
                print(f"  input {artifact}: {artifact.read_bytes()[:400]!r}")
    if failed:
        print(f"fuzzing found crashes in: {', '.join(failed)}")
        return 1
    print(f"fuzzing: {len(names)} targets, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
