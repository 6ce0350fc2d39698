"""Coverage-guided fuzzing (atheris/libFuzzer) of the cookie parser: see fuzz_targets.py.

Run through ``python fuzz/run.py`` (bounded time); alone: ``python fuzz/fuzz_cookie.py
[corpus dirs] -max_total_time=20`` (any libFuzzer flag).
"""

import sys

import atheris

with atheris.instrument_imports(include=["qake_core._cookies", "fuzz_targets"]):
    from fuzz_targets import TARGETS

if __name__ == "__main__":
    atheris.Setup(sys.argv, TARGETS["cookie"])
    atheris.Fuzz()
