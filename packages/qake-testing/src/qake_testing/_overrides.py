"""Dependency overrides for a test, undone when the test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any


def _overrides_of(app: object) -> MutableMapping[Any, Any]:
    overrides = getattr(app, "dependency_overrides", None)
    if not isinstance(overrides, MutableMapping):
        raise TypeError(
            f"{type(app).__name__} has no `dependency_overrides` dict: overriding "
            "dependencies needs an app that resolves them through one (qake_core.App does)."
        )
    return overrides


class DependencyOverrides:
    """Callable helper: ``override(dependency, fake)`` replaces ``dependency`` in ``app``.

    :meth:`restore` puts back what ``app.dependency_overrides`` held before the first
    change, keeping the same dict object (the app may hold a reference to it).
    """

    def __init__(self, app: object) -> None:
        self.app = app
        self._snapshot: dict[Any, Any] | None = None

    def __call__(self, dependency: Callable[..., Any], fake: Callable[..., Any]) -> None:
        overrides = _overrides_of(self.app)
        if self._snapshot is None:
            self._snapshot = dict(overrides)
        overrides[dependency] = fake

    def restore(self) -> None:
        if self._snapshot is None:
            return
        overrides = _overrides_of(self.app)
        overrides.clear()
        overrides.update(self._snapshot)
        self._snapshot = None


@contextmanager
def override_dependencies(
    app: object, overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None
) -> Iterator[DependencyOverrides]:
    """``with override_dependencies(app, {get_db: fake_db}) as override: ...``."""
    helper = DependencyOverrides(app)
    try:
        for dependency, fake in (overrides or {}).items():
            helper(dependency, fake)
        yield helper
    finally:
        helper.restore()
