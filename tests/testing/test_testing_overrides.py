from __future__ import annotations

from typing import Any

import pytest

from qake_testing import override_dependencies


def real() -> str:
    return "real"


def fake() -> str:
    return "fake"


def other() -> str:
    return "other"


class App:
    def __init__(self) -> None:
        self.dependency_overrides: dict[Any, Any] = {other: other}


def test_override_dependencies_restores_the_same_dict() -> None:
    app = App()
    original = app.dependency_overrides
    with override_dependencies(app, {real: fake}) as override:
        assert app.dependency_overrides == {other: other, real: fake}
        override(other, fake)
        assert app.dependency_overrides[other] is fake
    assert app.dependency_overrides is original
    assert app.dependency_overrides == {other: other}


def test_override_needs_dependency_overrides() -> None:
    with (
        override_dependencies(object()) as override,
        pytest.raises(TypeError, match="dependency_overrides"),
    ):
        override(real, fake)
