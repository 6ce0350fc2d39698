"""Coverage-guided fuzzing (atheris/libFuzzer) of the host parser: see fuzz_targets.py.

Run through ``python fuzz/run.py`` (bounded time); alone: ``python fuzz/fuzz_host.py
[corpus dirs] -max_total_time=20`` (any libFuzzer flag).
"""

import sys

import atheris

with atheris.instrument_imports(
    include=[
        "qake_core._request_head",
        "qake_core._trusted_host",
        "qake_core._datastructures",
        "fuzz_targets",
    ]
):
    from fuzz_targets import TARGETS

if __name__ == "__main__":
    atheris.Setup(sys.argv, TARGETS["host"])
    atheris.Fuzz()
