"""Coverage-guided fuzzing (atheris/libFuzzer) of the media-type parser: see fuzz_targets.py.

Run through ``python fuzz/run.py`` (bounded time); alone: ``python fuzz/fuzz_media_type.py
[corpus dirs] -max_total_time=20`` (any libFuzzer flag).
"""

import sys

import atheris

with atheris.instrument_imports(
    include=[
        "qake_core._media_type",
        "qake_core._multipart",
        "qake_core._multipart_reader",
        "fuzz_targets",
    ]
):
    from fuzz_targets import TARGETS

if __name__ == "__main__":
    atheris.Setup(sys.argv, TARGETS["media_type"])
    atheris.Fuzz()
