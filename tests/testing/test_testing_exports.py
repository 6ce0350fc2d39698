from __future__ import annotations

import pytest

import qake_testing


def test_all_is_sorted_and_importable() -> None:
    assert qake_testing.__all__ == sorted(qake_testing.__all__)
    for name in qake_testing.__all__:
        assert getattr(qake_testing, name) is not None
    assert set(qake_testing.__all__) <= set(dir(qake_testing))


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nope"):
        qake_testing.nope  # noqa: B018
