"""The meta-package re-exports every public name and mirrors every package."""

from __future__ import annotations

import importlib

import pytest

import qake_core
import qakeapi

PACKAGES = ["routing", "security", "ws", "testing", "docs"]


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions.
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def test_every_public_name_of_qake_core_is_importable_from_qakeapi() -> None:
    missing = [name for name in qake_core.__all__ if name not in qakeapi.__all__]
    assert not missing
    for name in qake_core.__all__:
        assert getattr(qakeapi, name) is getattr(qake_core, name)


@pytest.mark.parametrize("short", PACKAGES)
def test_mirror_has_the_same_public_names(short: str) -> None:
    mirror = importlib.import_module(f"qakeapi.{short}")
    package = importlib.import_module(f"qake_{short}")
    assert set(mirror.__all__) == set(package.__all__)
    for name in package.__all__:
        assert getattr(mirror, name) is getattr(package, name)


@pytest.mark.parametrize("module", ["qake_core", *(f"qake_{p}" for p in PACKAGES)])
def test_all_is_sorted_unique_and_resolvable(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert len(names) == len(set(names)), "duplicates in __all__"
    assert names == sorted(names, key=_isort_key), f"{module}.__all__ is not sorted"
    for name in names:
        assert hasattr(mod, name), f"{module}.{name} is listed but missing"
