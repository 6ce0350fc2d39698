"""The app of the shutdown, drain and clean-up fault tests.

``FAULT_MARKERS`` (a directory) receives a file per background task that finished, so
the test can tell, after the process exited, which tasks ran to their end.
``FAULT_STARTUP=fail`` makes the lifespan startup raise, ``FAULT_SHUTDOWN=fail`` its
shutdown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from qake_core import BackgroundTasks, Depends, EventSourceResponse, Health, ServerSentEvent
from qakeapi import QakeAPI

MARKERS = Path(os.environ.get("FAULT_MARKERS", "."))
SHUTDOWN_TIMEOUT = float(os.environ.get("FAULT_SHUTDOWN_TIMEOUT", "30"))
in_flight = 0
STARTUP_FAULT = "the database at db.internal is unreachable"
SHUTDOWN_FAULT = "the write-behind buffer could not be flushed"


@asynccontextmanager
async def lifespan(app: QakeAPI) -> AsyncIterator[None]:
    if os.environ.get("FAULT_STARTUP") == "fail":
        raise RuntimeError(f"startup fault: {STARTUP_FAULT}")
    yield
    if os.environ.get("FAULT_SHUTDOWN") == "fail":
        raise RuntimeError(f"shutdown fault: {SHUTDOWN_FAULT}")
    (MARKERS / "lifespan-shutdown").write_text("done")


app = QakeAPI(
    lifespan=lifespan,
    shutdown_timeout=SHUTDOWN_TIMEOUT,
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)
health = Health()
health.install(app)


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": "yes"}


@app.get("/events")
async def events() -> EventSourceResponse:
    """An event stream that never ends by itself (a tick a second)."""

    async def ticks() -> AsyncIterator[ServerSentEvent]:
        n = 0
        while True:
            yield ServerSentEvent(data={"tick": n}, id=str(n))
            n += 1
            await asyncio.sleep(1)

    return EventSourceResponse(ticks())


@app.get("/in-flight")
async def count() -> dict[str, int]:
    return {"in_flight": in_flight}


@app.get("/slow")
async def slow(seconds: float, name: str) -> dict[str, str]:
    global in_flight
    in_flight += 1
    try:
        await asyncio.sleep(seconds)
    finally:
        in_flight -= 1
    return {"slept": name}


async def finish_later(seconds: float, name: str) -> None:
    await asyncio.sleep(seconds)
    (MARKERS / name).write_text("done")


def failing_task(fid: str) -> None:
    raise RuntimeError(f"background fault {fid}")


@app.get("/background")
async def background(seconds: float, name: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(finish_later, seconds, name)
    return {"scheduled": name}


@app.get("/background-fails")
async def background_fails(fid: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(failing_task, fid)
    tasks.add_task(finish_later, 0, f"after-{fid}")
    return {"scheduled": fid}


async def cleanup_fails(fid: str) -> AsyncIterator[str]:
    try:
        yield "resource"
    finally:
        raise RuntimeError(f"clean-up fault {fid}")


@app.get("/cleanup-fails")
async def uses_cleanup(resource: str = Depends(cleanup_fails)) -> dict[str, str]:
    return {"resource": resource}


@app.get("/cleanup-fails-after-error")
async def raises_too(resource: str = Depends(cleanup_fails)) -> dict[str, str]:
    raise ValueError("handler fault")
