"""Benchmark qake-routing's ``Router.match`` against Starlette's route resolution.

    python benchmarks/routing.py            # timing table (markdown), ~20 s
    python benchmarks/routing.py --check    # CI: no timing, only checks the matches

For each size (10, 1,000, 10,000 registered routes; half static ``/static{i}/page``,
half two-parameter ``/res{i}/{id:int}/items/{name}``) it times the lookup of the
static and the two-parameter route registered in the *middle* of the table:

* qake: ``router.match("GET", path)`` -- the whole per-request call, returning a Match
  with converted parameters (raises on 404/405).
* Starlette: what ``starlette.routing.Router.app`` does to find the route, without the
  ASGI call: iterate ``router.routes`` calling ``route.matches(scope)`` until
  ``Match.FULL`` (this includes Starlette's parameter conversion).

Timings are medians of several ``timeit`` repeats, in microseconds per lookup.
Starlette is optional: without it the Starlette columns are skipped with a note.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

from qake_routing import Router

SIZES = (10, 1_000, 10_000)

try:
    from starlette.routing import Match as StarletteMatch
    from starlette.routing import Route as StarletteRoute
    from starlette.routing import Router as StarletteRouter
except ImportError:  # pragma: no cover - benchmark-only dependency
    StarletteRouter = None


def endpoint(request: Any) -> None:
    return None


def templates(size: int) -> list[str]:
    half = size // 2
    out = []
    for i in range(half):
        out.append(f"/static{i}/page")
        out.append(f"/res{i}/{{id:int}}/items/{{name}}")
    return out


def targets(size: int) -> tuple[str, str, int]:
    middle = size // 4  # the middle of the registration order
    return f"/static{middle}/page", f"/res{middle}/42/items/widget", middle


def build_qake(size: int) -> Router:
    router = Router()
    for index, path in enumerate(templates(size)):
        router.add(path, index, methods=["GET"])
    router.compile()
    return router


def build_starlette(size: int) -> Any:
    return StarletteRouter(
        routes=[StarletteRoute(path, endpoint, methods=["GET"]) for path in templates(size)]
    )


def starlette_resolver(router: Any) -> Callable[[str], Any]:
    routes = router.routes
    full = StarletteMatch.FULL

    def resolve(path: str) -> Any:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        for route in routes:
            match, child_scope = route.matches(scope)
            if match is full:
                return route, child_scope["path_params"]
        raise LookupError(path)

    return resolve


def check() -> None:
    for size in SIZES:
        static, params, middle = targets(size)
        qake = build_qake(size)
        assert qake.match("GET", static).route.path == f"/static{middle}/page"
        found = qake.match("GET", params)
        assert found.route.path == f"/res{middle}/{{id:int}}/items/{{name}}"
        assert found.params == {"id": 42, "name": "widget"}
        if StarletteRouter is not None:
            resolve = starlette_resolver(build_starlette(size))
            route, path_params = resolve(params)
            assert route.path == found.route.path
            assert path_params == {"id": 42, "name": "widget"}
            assert resolve(static)[0].path == f"/static{middle}/page"
    note = "" if StarletteRouter is not None else " (starlette not installed: skipped)"
    print(f"benchmarks/routing.py --check: all matches correct{note}")


def per_call_us(func: Callable[[], object], budget: float = 0.05, repeat: int = 7) -> float:
    number = 1
    while True:
        elapsed = timeit.timeit(func, number=number)
        if elapsed >= budget / 5 or number >= 10**7:
            break
        number *= 4
    number = max(1, int(number * (budget / 5) / max(elapsed, 1e-9)) * 5)
    times = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def run() -> None:
    build_qake(10).match("GET", targets(10)[1])  # warm-up
    rows = []
    for size in SIZES:
        static, params, _ = targets(size)
        qake = build_qake(size)
        row: dict[str, float | None] = {
            "qs": per_call_us(lambda: qake.match("GET", static)),
            "qp": per_call_us(lambda: qake.match("GET", params)),
            "ss": None,
            "sp": None,
        }
        if StarletteRouter is not None:
            resolve = starlette_resolver(build_starlette(size))
            budget = 0.05 if size < 10_000 else 0.2
            row["ss"] = per_call_us(lambda: resolve(static), budget, repeat=5)
            row["sp"] = per_call_us(lambda: resolve(params), budget, repeat=5)
        rows.append((size, row))

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.2f}"

    print(f"Python {sys.version.split()[0]}; µs per lookup, median of repeats\n")
    print(
        "| routes | qake static | qake 2-param | starlette static | starlette 2-param "
        "| 2-param speed-up |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, row in rows:
        speedup = "n/a" if row["sp"] is None else f"{row['sp'] / row['qp']:,.0f}x"  # type: ignore[operator]
        print(
            f"| {size:,} | {fmt(row['qs'])} | {fmt(row['qp'])} | {fmt(row['ss'])} "
            f"| {fmt(row['sp'])} | {speedup} |"
        )
    first, last = rows[0][1], rows[-1][1]
    print(
        f"\nqake at {SIZES[-1]:,} vs {SIZES[0]} routes: static "
        f"{last['qs'] / first['qs']:.2f}x, 2-param {last['qp'] / first['qp']:.2f}x "  # type: ignore[operator]
        "(target <= 1.5x)"
    )
    if StarletteRouter is None:
        print("\nnote: starlette is not installed; its columns are skipped.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify matches only, no timing")
    args = parser.parse_args()
    if args.check:
        check()
    else:
        run()


if __name__ == "__main__":
    main()
