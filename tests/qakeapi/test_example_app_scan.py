"""The example app survives qake-testing's security scanner with no finding."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from qake_testing import assert_no_findings, scan

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def example_app(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("examples.basic_app", None)
    from examples.basic_app import app

    return app


def test_hostile_inputs_find_nothing_in_the_example(example_app: object) -> None:
    report = scan(example_app)
    assert report.findings == [], report.summary()
    assert "0 findings" in report.summary()
    assert_no_findings(example_app)
