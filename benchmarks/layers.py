"""qakeapi's S7 taken apart: S2, then each layer of S7 alone, then all of them.

Where ``profile.py`` shows proportions (inflated by the profiler), this measures µs:
``GET /json`` on small qakeapi apps that each add one layer, timed in one process on
uvloop exactly as ``inprocess.py`` times (prebuilt scope, awaited app), variants
interleaved round by round. The first row is S2 exactly; the others get S7's request (its ``Authorization``
and ``Origin`` headers), and each adds one layer to S2's app, then all of them (S7). The
difference to the first row is what the request's headers and that layer cost; the last
rows' is S7 - S2.

    python benchmarks/layers.py
    python benchmarks/layers.py --rounds 9 --target 0.1
    python benchmarks/layers.py --instructions        # instructions per request (callgrind)

``--instructions`` counts instead of timing: the same variants in one process under
valgrind's callgrind, the counters zeroed before and dumped after ``--requests``
requests of each variant (through callgrind's client requests, from a two-line C shim
compiled with gcc into a temporary folder). The counts do not depend on what else the
machine is doing; they include the harness's per-request cost, as the timings do.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    DASH,
    HELLO,
    JWT_USER,
    S7_EXPECT_HEADERS,
    S7_HEADERS,
    Scenario,
    fmt_number,
    machine_info,
    machine_line,
    markdown_table,
    setup_import_path,
)
from inprocess import CLOCKS, Lifespan, Target

setup_import_path()

from apps.common import CORS_ORIGIN, JWT_ALGORITHM, JWT_KEY, PLAINTEXT  # noqa: E402

from qakeapi import Depends, HTTPException, QakeAPI, Request  # noqa: E402
from qakeapi.security import CORSMiddleware, JWTAuth, SimpleUser  # noqa: E402

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class PassThrough:
    """A pure ASGI middleware that only calls the next app (the price of a stack)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class LeanCORS:
    """Reference, not qake-security: about the least a pure ASGI CORS middleware does for
    S7's simple GET from an allowed origin: the Origin compared as bytes with prebuilt
    answer lines, appended to the response start. (A real one also answers preflights
    and merges a Vary the app sent; this prices the ASGI wrapping itself.)"""

    def __init__(self, app: ASGIApp, allow_origins: list[str]) -> None:
        self.app = app
        self.lines = {
            o.encode(): [(b"access-control-allow-origin", o.encode()), (b"vary", b"Origin")]
            for o in allow_origins
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        lines = None
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"origin":
                    lines = self.lines.get(value)
                    break
        if lines is None:
            await self.app(scope, receive, send)
            return

        async def send_cors(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *lines]
            await send(message)

        await self.app(scope, receive, send_cors)


class LeanJWT:
    """Reference, not qake-security: a bearer dependency that remembers verified tokens
    by the raw ``Authorization`` value (no decoding before the lookup)."""

    def __init__(self) -> None:
        self.cache: dict[bytes, tuple[SimpleUser, float]] = {}

    async def __call__(self, request: Request) -> SimpleUser:
        for name, value in request.scope["headers"]:
            if name == b"authorization":
                hit = self.cache.get(value)
                if hit is not None and time.time() < hit[1]:
                    return hit[0]
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    try:
                        claims = jwt.decode(token, JWT_KEY, algorithms=[JWT_ALGORITHM])
                    except jwt.InvalidTokenError:
                        break
                    user = SimpleUser(claims["sub"])
                    self.cache[value] = (user, float(claims["exp"]))
                    return user
                break
        raise HTTPException(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})


ALICE = SimpleUser(JWT_USER)


async def fixed_user() -> SimpleUser:
    """A dependency with no work in it: the price of ``Depends`` itself."""
    return ALICE


def make(
    dependency: Callable[..., Any] | None = None,
    cors: bool = False,
    passthrough: bool = False,
    cors_class: Any = CORSMiddleware,
) -> QakeAPI:
    app = QakeAPI()
    if passthrough:
        app.add_middleware(PassThrough)
    if cors:
        app.add_middleware(cors_class, allow_origins=[CORS_ORIGIN])
    if dependency is None:

        @app.get("/json")
        async def json_() -> dict[str, str]:
            return {"message": PLAINTEXT}

    else:

        @app.get("/json")
        async def json_auth(user: Any = Depends(dependency)) -> dict[str, str]:
            return {"message": PLAINTEXT, "user": user.identity}

    return app


def jwt_auth(**options: Any) -> JWTAuth:
    return JWTAuth(key=JWT_KEY, algorithms=[JWT_ALGORITHM], **options)


@dataclass
class Variant:
    label: str
    build: Callable[[], QakeAPI]
    user: bool = False
    cors: bool = False
    #: False: S2's request (no Authorization, no Origin); True: S7's.
    s7_request: bool = True


VARIANTS = [
    Variant("S2: `QakeAPI()` defaults (security headers on), S2's request", make, s7_request=False),
    Variant("the same app, S7's request (+ `Authorization`, `Origin`)", make),
    Variant("+ one pass-through middleware (the middleware stack)", lambda: make(passthrough=True)),
    Variant("+ `CORSMiddleware`", lambda: make(cors=True), cors=True),
    Variant(
        "+ `Depends(fixed_user)` (a dependency that does nothing)", lambda: make(fixed_user), True
    ),
    Variant("+ `Depends(JWTAuth(...))`", lambda: make(jwt_auth()), True),
    Variant(
        "+ `Depends(JWTAuth(..., cache_size=0))` (every token verified by PyJWT)",
        lambda: make(jwt_auth(cache_size=0)),
        True,
    ),
    Variant(
        "S7: `CORSMiddleware` + `Depends(JWTAuth(...))`", lambda: make(jwt_auth(), True), True, True
    ),
    Variant(
        "S7 with `JWTAuth(..., cache_size=0)`",
        lambda: make(jwt_auth(cache_size=0), True),
        True,
        True,
    ),
    Variant(
        "reference: + `LeanCORS` (a minimal pure ASGI CORS, not qake-security)",
        lambda: make(cors=True, cors_class=LeanCORS),
        cors=True,
    ),
    Variant(
        "reference: + `Depends(LeanJWT())` (raw-header token cache, not qake-security)",
        lambda: make(LeanJWT()),
        True,
    ),
    Variant(
        "reference: S7 with `LeanCORS` + `Depends(LeanJWT())`",
        lambda: make(LeanJWT(), True, cors_class=LeanCORS),
        True,
        True,
    ),
]


def scenario_for(variant: Variant) -> Scenario:
    expected: dict[str, str] = {"message": HELLO}
    if variant.user:
        expected["user"] = JWT_USER
    return Scenario(
        "layer",
        variant.label,
        "GET",
        "/json",
        headers=S7_HEADERS if variant.s7_request else (),
        expect_json=expected,
        expect_headers=S7_EXPECT_HEADERS if variant.cors else (),
    )


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    clock = CLOCKS[args.clock]
    targets: list[tuple[Variant, Target, int]] = []
    lifespans: list[Lifespan] = []
    for variant in VARIANTS:
        app = variant.build()
        lifespan = Lifespan(app)
        await lifespan.startup()
        lifespans.append(lifespan)
        target = Target(app, lifespan.state, scenario_for(variant))
        problem = await target.check()
        if problem is not None:
            raise SystemExit(f"{variant.label}: wrong response: {problem}")
        n = 256
        while (us := await target.batch(n, clock)) * n / 1e6 < args.target / 4:
            n *= 2
        targets.append((variant, target, max(1, int(args.target * 1e6 / us))))
    samples: dict[str, list[float]] = {v.label: [] for v in VARIANTS}
    for _ in range(args.rounds):
        for variant, target, n in targets:
            samples[variant.label].append(await target.batch(n, clock))
    for lifespan in lifespans:
        await lifespan.shutdown()
    return samples


SHIM = """#include <valgrind/callgrind.h>
void qb_zero(void) { CALLGRIND_ZERO_STATS; }
void qb_dump(void) { CALLGRIND_DUMP_STATS; }
"""
COUNT_PREFIX = "LAYERS-COUNT "


def build_shim(folder: Path) -> Path:
    source, library = folder / "shim.c", folder / "shim.so"
    source.write_text(SHIM, encoding="ascii")
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
        check=True,
        capture_output=True,
    )
    return library


async def count_worker(args: argparse.Namespace) -> dict[str, float]:
    """Under callgrind: instructions per request of each variant."""
    shim = ctypes.CDLL(args.shim)
    folder = Path(args.shim).parent
    targets: list[tuple[Variant, Target, Lifespan]] = []
    for variant in VARIANTS:
        app = variant.build()
        lifespan = Lifespan(app)
        await lifespan.startup()
        target = Target(app, lifespan.state, scenario_for(variant))
        problem = await target.check()
        if problem is not None:
            raise SystemExit(f"{variant.label}: wrong response: {problem}")
        await target.batch(args.warmup)
        targets.append((variant, target, lifespan))
    counts: dict[str, float] = {}
    pid = os.getpid()
    for number, (variant, target, _) in enumerate(targets, start=1):
        shim.qb_zero()
        await target.batch(args.requests)
        shim.qb_dump()
        dump = folder / f"cg.{pid}.{number}"
        total = next(
            int(line.split()[1])
            for line in dump.read_text(errors="replace").splitlines()
            if line.startswith(("summary:", "totals:"))
        )
        counts[variant.label] = total / args.requests
    for _, _, lifespan in targets:
        await lifespan.shutdown()
    return counts


def count_instructions(args: argparse.Namespace) -> dict[str, float]:
    if shutil.which("valgrind") is None or shutil.which("gcc") is None:
        raise SystemExit("--instructions needs valgrind and gcc (Debian: valgrind, gcc)")
    with tempfile.TemporaryDirectory(prefix="layers-") as tmp:
        folder = Path(tmp)
        shim = build_shim(folder)
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={folder}/cg.%p",
            sys.executable,
            str(Path(__file__).resolve()),
            "--count-worker",
            "--shim",
            str(shim),
            "--requests",
            str(args.requests),
            "--warmup",
            str(args.warmup),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        for line in proc.stdout.splitlines():
            if line.startswith(COUNT_PREFIX):
                result: dict[str, float] = json.loads(line[len(COUNT_PREFIX) :])
                return result
        raise SystemExit(f"no counts from the worker:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")


def render_counts(args: argparse.Namespace, counts: dict[str, float]) -> str:
    base = counts[VARIANTS[0].label]
    rows = [
        [
            v.label,
            f"{counts[v.label]:,.0f}",
            "" if v is VARIANTS[0] else f"{counts[v.label] - base:+,.0f}",
        ]
        for v in VARIANTS
    ]
    return "\n".join(
        [
            "## qakeapi S7 layer by layer (in-process, instructions per request, callgrind)",
            "",
            f"{machine_line(machine_info())}. One process under valgrind --tool=callgrind, "
            f"uvloop; per variant {args.warmup} warm-up requests, then the counters zeroed, "
            f"{args.requests:,} requests, a dump; every variant but the first gets S7's request.",
            "",
            markdown_table(["app", "instructions/request", "vs S2"], rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="samples per variant")
    parser.add_argument("--target", type=float, default=0.1, help="seconds per sample")
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="cpu",
        help="cpu (default): the thread's CPU time, less inflated by other processes on a "
        "busy machine; wall: time.perf_counter",
    )
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind"
    )
    parser.add_argument("--requests", type=int, default=2000, help="counted requests (count)")
    parser.add_argument("--warmup", type=int, default=300, help="requests before counting")
    parser.add_argument("--count-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shim", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    import uvloop

    if args.count_worker:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            print(COUNT_PREFIX + json.dumps(runner.run(count_worker(args))), flush=True)
        return 0
    if args.instructions:
        print(render_counts(args, count_instructions(args)))
        return 0

    info = machine_info()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        samples = runner.run(measure(args))
    first = sorted(samples[VARIANTS[0].label])
    base, base_min = statistics.median(first), first[0]
    rows = []
    for variant in VARIANTS:
        values = sorted(samples[variant.label])
        median = statistics.median(values)
        rows.append(
            [
                variant.label,
                f"{fmt_number(median)} ({fmt_number(values[0])}{DASH}{fmt_number(values[-1])})",
                "" if variant is VARIANTS[0] else f"{median - base:+.2f}",
                "" if variant is VARIANTS[0] else f"{values[0] - base_min:+.2f}",
            ]
        )
    print(
        "\n".join(
            [
                "## qakeapi S7 layer by layer (in-process, µs per request)",
                "",
                f"{machine_line(info)}. One process, uvloop, {args.rounds} samples of "
                f"~{args.target} s per variant, variants interleaved, {args.clock} clock; "
                "every variant but the first gets S7's request (Authorization and Origin).",
                "",
                markdown_table(
                    ["app", f"median (min{DASH}max)", "median vs S2", "min vs S2"], rows
                ),
            ]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
