"""The ``tutorial`` marker: the whole tutorial run (tests/tutorial/run_tutorial.py)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tutorial: follows docs/tutorial in a fresh venv and serves the app (about 1.5 min); "
        "select with -m tutorial",
    )
