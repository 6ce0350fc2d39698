"""What observability costs per request: S2 (``GET /json`` on ``QakeAPI()``) with nothing,
then with each of issue 18's pieces, then all of them.

The pieces, each off by default: the JSON access log (``RequestIDMiddleware`` +
``AccessLogMiddleware``, records formatted by ``JSONFormatter`` and written to
``/dev/null`` through a ``StreamHandler``), Prometheus metrics (``MetricsMiddleware``),
OpenTelemetry tracing (``OpenTelemetryMiddleware`` with ``otel_span_details``, the SDK's
``TracerProvider`` and a span processor that exports to nowhere: the instrumentation and
the SDK's span bookkeeping, no exporter's I/O). Timed in one process on uvloop as
``layers.py`` times (prebuilt scope, awaited app, variants interleaved), or counted
under callgrind with ``--instructions`` (``layers.py``'s client-request shim).

    python benchmarks/observability.py                  # µs per request
    python benchmarks/observability.py --instructions   # instructions per request

Needs prometheus-client, opentelemetry-sdk and opentelemetry-instrumentation-asgi (the
hatch-test environment has them; the bench environment does not).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DASH, HELLO, Scenario, fmt_number, machine_info, machine_line, markdown_table
from inprocess import CLOCKS, Lifespan, Target
from layers import build_shim

from qakeapi import (
    AccessLogMiddleware,
    JSONFormatter,
    MetricsMiddleware,
    QakeAPI,
    RequestIDMiddleware,
    otel_span_details,
)

PLAINTEXT = HELLO
COUNT_PREFIX = "OBSERVABILITY-COUNT "


HANDLER = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - for the process
JSON_LINES, TEXT_LINES = JSONFormatter(), logging.Formatter("%(message)s")


def json_access_log() -> None:
    """qake.access at INFO, one line per request to /dev/null (opened once)."""
    logger = logging.getLogger("qake.access")
    logger.addHandler(HANDLER)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def tracer_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Nowhere(SpanExporter):
        """Takes every finished span, keeps none (no exporter I/O in the figure)."""

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Nowhere()))
    return provider


def make(
    access_log: bool = False,
    metrics: bool = False,
    otel: bool = False,
    otel_options: dict[str, Any] | None = None,
) -> QakeAPI:
    app = QakeAPI()
    if metrics:
        from prometheus_client import CollectorRegistry

        app.add_middleware(MetricsMiddleware, registry=CollectorRegistry())
    if access_log:
        app.add_middleware(AccessLogMiddleware)
        app.add_middleware(RequestIDMiddleware)
    if otel:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app.add_middleware(
            OpenTelemetryMiddleware,
            tracer_provider=tracer_provider(),
            default_span_details=otel_span_details,
            **(otel_options or {}),
        )

    @app.get("/json")
    async def json_() -> dict[str, str]:
        return {"message": PLAINTEXT}

    return app


@dataclass
class Variant:
    label: str
    build: Callable[[], QakeAPI]


VARIANTS = [
    Variant("S2: `QakeAPI()`, nothing added (the default)", make),
    Variant(
        "+ `RequestIDMiddleware` + `AccessLogMiddleware`, `qake.access` off (the request ID)",
        lambda: make(access_log=True),
    ),
    Variant(
        "+ the JSON access log (`JSONFormatter` lines to /dev/null)",
        lambda: make(access_log=True),
    ),
    Variant(
        "reference: the same access log as text (`%(message)s` lines to /dev/null)",
        lambda: make(access_log=True),
    ),
    Variant("+ `MetricsMiddleware` (Prometheus)", lambda: make(metrics=True)),
    Variant("+ `OpenTelemetryMiddleware` (server span + its send spans)", lambda: make(otel=True)),
    Variant(
        "+ `OpenTelemetryMiddleware(exclude_spans=['receive', 'send'])` (server span only)",
        lambda: make(otel=True, otel_options={"exclude_spans": ["receive", "send"]}),
    ),
    Variant(
        "all three: JSON access log + metrics + OpenTelemetry (server span only)",
        lambda: make(True, True, True, {"exclude_spans": ["receive", "send"]}),
    ),
]
#: The variant measured with qake.access disabled, and the one with text lines.
DISABLED_LOG, TEXT_LOG = VARIANTS[1], VARIANTS[3]

SCENARIO = Scenario("obs", "`GET /json`", "GET", "/json", expect_json={"message": HELLO})


async def build_targets() -> list[tuple[Variant, Target, Lifespan]]:
    built = []
    for variant in VARIANTS:
        app = variant.build()
        lifespan = Lifespan(app)
        await lifespan.startup()
        target = Target(app, lifespan.state, SCENARIO)
        problem = await target.check()
        if problem is not None:
            raise SystemExit(f"{variant.label}: wrong response: {problem}")
        built.append((variant, target, lifespan))
    return built


def logging_for(variant: Variant) -> None:
    """qake.access is off for the request-ID row, text lines for the reference row, JSON
    lines for every other."""
    logging.getLogger("qake.access").disabled = variant is DISABLED_LOG
    HANDLER.setFormatter(TEXT_LINES if variant is TEXT_LOG else JSON_LINES)


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    clock = CLOCKS[args.clock]
    json_access_log()
    targets = []
    for variant, target, lifespan in await build_targets():
        logging_for(variant)
        n = 256
        while (us := await target.batch(n, clock)) * n / 1e6 < args.target / 4:
            n *= 2
        targets.append((variant, target, lifespan, max(1, int(args.target * 1e6 / us))))
    samples: dict[str, list[float]] = {v.label: [] for v in VARIANTS}
    for _ in range(args.rounds):
        for variant, target, _, n in targets:
            logging_for(variant)
            samples[variant.label].append(await target.batch(n, clock))
    for _, _, lifespan, _ in targets:
        await lifespan.shutdown()
    return samples


async def count_worker(args: argparse.Namespace) -> dict[str, float]:
    """Under callgrind: instructions per request of each variant."""
    shim = ctypes.CDLL(args.shim)
    folder = Path(args.shim).parent
    json_access_log()
    targets = await build_targets()
    counts: dict[str, float] = {}
    pid = os.getpid()
    for number, (variant, target, _) in enumerate(targets, start=1):
        logging_for(variant)
        await target.batch(args.warmup)
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
    with tempfile.TemporaryDirectory(prefix="observability-") as tmp:
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
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
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
            "" if v is VARIANTS[0] else f"x{counts[v.label] / base:.2f}",
        ]
        for v in VARIANTS
    ]
    return "\n".join(
        [
            "## Observability per request (in-process, instructions per request, callgrind)",
            "",
            f"{machine_line(machine_info())}. One process under valgrind --tool=callgrind, "
            f"uvloop; per variant {args.warmup} warm-up requests, then the counters zeroed, "
            f"{args.requests:,} requests of S2 (`GET /json`), a dump.",
            "",
            markdown_table(["app", "instructions/request", "vs S2", "ratio"], rows),
        ]
    )


def render_times(args: argparse.Namespace, samples: dict[str, list[float]]) -> str:
    first = sorted(samples[VARIANTS[0].label])
    base = statistics.median(first)
    rows = []
    for variant in VARIANTS:
        values = sorted(samples[variant.label])
        median = statistics.median(values)
        rows.append(
            [
                variant.label,
                f"{fmt_number(median)} ({fmt_number(values[0])}{DASH}{fmt_number(values[-1])})",
                "" if variant is VARIANTS[0] else f"{median - base:+.2f}",
            ]
        )
    return "\n".join(
        [
            "## Observability per request (in-process, µs per request)",
            "",
            f"{machine_line(machine_info())}. One process, uvloop, {args.rounds} samples of "
            f"~{args.target} s per variant, variants interleaved, {args.clock} clock; "
            "S2's request (`GET /json`).",
            "",
            markdown_table(["app", f"median (min{DASH}max)", "median vs S2"], rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="samples per variant")
    parser.add_argument("--target", type=float, default=0.1, help="seconds per sample")
    parser.add_argument("--clock", choices=list(CLOCKS), default="cpu")
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
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        samples = runner.run(measure(args))
    print(render_times(args, samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
