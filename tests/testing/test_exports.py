from __future__ import annotations

import qake_testing


def test_all_is_sorted_and_importable() -> None:
    assert qake_testing.__all__ == sorted(qake_testing.__all__)
    for name in qake_testing.__all__:
        assert getattr(qake_testing, name) is not None
    assert set(qake_testing.__all__) <= set(dir(qake_testing))


def test_unknown_name_raises_attribute_error() -> None:
    try:
        qake_testing.nope  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
