"""The fuzz targets (fuzz/fuzz_targets.py) stay sound: their seeds and a few hundred
hypothesis inputs each pass, so a target that breaks (an import, a wrong assertion)
fails here, in the ordinary test run, not only in the bounded fuzzing step."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.fuzz_targets import TARGETS

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_passes_its_target(name: str) -> None:
    seeds = sorted((FUZZ / "seeds" / name).iterdir())
    assert seeds
    for seed in seeds:
        TARGETS[name](seed.read_bytes())


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_target_holds_for_random_inputs(name: str) -> None:
    @settings(
        max_examples=100,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.binary(max_size=200))
    def check(data: bytes) -> None:
        TARGETS[name](data)

    check()
