"""``App.build`` pauses the cyclic garbage collector while it compiles the routes, and
leaves it as it found it: on again after a build (even one that fails), still off for
a process that turned it off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from qake_core import App


@pytest.fixture
def restore_gc() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_while_routes_compile_and_on_after(restore_gc: None) -> None:
    app = App()
    seen: list[bool] = []

    @app.get("/a")
    async def a() -> dict[str, str]:
        return {"a": "a"}

    compile_route = app._compile_route

    def spy(route: object) -> object:
        seen.append(gc.isenabled())
        return compile_route(route)  # type: ignore[arg-type]

    app._compile_route = spy  # type: ignore[method-assign]
    gc.enable()
    app.build()
    assert seen == [False]
    assert gc.isenabled()


def test_a_failed_build_turns_the_collector_back_on(restore_gc: None) -> None:
    app = App()

    @app.get("/a")
    async def a() -> dict[str, str]:
        return {"a": "a"}

    def broken(route: object) -> object:
        raise RuntimeError("route /a: cannot compile")

    app._compile_route = broken  # type: ignore[method-assign]
    gc.enable()
    with pytest.raises(RuntimeError, match="cannot compile"):
        app.build()
    assert gc.isenabled()


def test_a_process_that_turned_the_collector_off_keeps_it_off(restore_gc: None) -> None:
    app = App()

    @app.get("/a")
    async def a() -> dict[str, str]:
        return {"a": "a"}

    gc.disable()
    app.build()
    assert not gc.isenabled()
