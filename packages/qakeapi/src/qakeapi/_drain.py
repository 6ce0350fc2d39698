"""Serve on uvicorn with a drain period: on SIGTERM, readiness fails first, then the
server stops.

An orchestrator (Kubernetes, a load balancer's target group) keeps sending requests
for a moment after it decided to stop a process: until its readiness probe has failed
and the endpoint left every balancer. ``DrainingServer`` therefore answers the first
SIGTERM or SIGINT by turning the app's readiness (``qake_core.Health``) to 503 and
keeps serving everything for ``drain_seconds``; then uvicorn's own graceful shutdown
runs (stop accepting, let in-flight requests and their background tasks finish, then
the lifespan shutdown). A second signal skips the rest of the drain period.

That wait is bounded: by uvicorn's ``timeout_graceful_shutdown`` when given, else by
the app's ``shutdown_timeout`` (qake-core's ``App``: 30 s by default); then the tasks
left are cancelled (uvicorn logs how many) and the lifespan shutdown runs.

A clean shutdown on SIGTERM exits with status 0 (uvicorn alone re-raises the signal
after its shutdown, so the process dies of it: status -15 / 143); one whose lifespan
shutdown raised exits 1 (uvicorn logs it, then exits as after a clean one).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Generator
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import Config

from qake_core import begin_draining, end_event_streams
from qakeapi._head_deadline import ServingConfig

__all__ = ["SHUTDOWN_FAILURE", "STARTUP_FAILURE", "DrainingServer", "serve", "supervise"]

logger = logging.getLogger("uvicorn.error")

#: The exit status when the app's lifespan startup failed (uvicorn's).
STARTUP_FAILURE = 3
#: The exit status when its lifespan shutdown failed (raised): the process stopped, but
#: not cleanly (a buffer not flushed, a pool not closed), which a supervisor must see.
SHUTDOWN_FAILURE = 1

#: How deep to look through middleware (``.app`` attributes) for the app's ``Health``.
_MAX_WRAPPERS = 32


class DrainingServer(uvicorn.Server):
    """``uvicorn.Server`` with a drain period between the stop signal and shutdown."""

    def __init__(self, config: Config, drain_seconds: float = 0.0) -> None:
        if drain_seconds < 0:
            raise ValueError(f"drain_seconds must be >= 0, got {drain_seconds!r}")
        super().__init__(config)
        self.drain_seconds = drain_seconds
        #: The signal that started the drain, until the main loop notices it.
        self._drain_signal: int | None = None
        #: ``time.monotonic()`` at which the drain period ends.
        self.drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler: record only; the main loop (on_tick) does the work.
        if (
            self.drain_seconds > 0
            and self.started
            and not self.should_exit
            and self._drain_signal is None
            and self.drain_deadline is None
        ):
            self._captured_signals.append(sig)
            self._drain_signal = sig
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._drain_signal is not None and self.drain_deadline is None:
            self.drain_deadline = time.monotonic() + self.drain_seconds
            told = sum(begin_draining(app) for app in _wrapped_apps(self.config))
            logger.info(
                "Received %s: draining for %g s (readiness answers 503 on %d endpoint(s); "
                "requests are still served), then shutting down",
                signal.Signals(self._drain_signal).name,
                self.drain_seconds,
                told,
            )
        if (
            self.drain_deadline is not None
            and not self.should_exit
            and time.monotonic() >= self.drain_deadline
        ):
            self.should_exit = True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: Any = None) -> None:
        # Event streams never end by themselves: uvicorn would wait for them until its
        # graceful timeout, then cancel them (an ERROR each). End them first, cleanly:
        # their clients reconnect, to another instance.
        ended = end_event_streams()
        if ended:
            logger.info("shutdown: ended %d event stream(s)", ended)
        apps = _wrapped_apps(self.config)
        # The lifespan shutdown turns readiness false too; say so first when no drain ran.
        for app in apps:
            begin_draining(app)
        if self.config.timeout_graceful_shutdown is None:
            # uvicorn waits for every request's task, background tasks included, before
            # the lifespan shutdown (where the app waits shutdown_timeout for them): bound
            # that wait by the app's shutdown_timeout, or a stuck task blocks the exit.
            timeouts = [getattr(app, "shutdown_timeout", None) for app in apps]
            found = [t for t in timeouts if isinstance(t, int | float)]
            if found:
                self.config.timeout_graceful_shutdown = found[0]  # type: ignore[assignment]
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            # The shutdown SIGTERM asked for is done: uvicorn would raise the signal again
            # (the default action kills the process: status -15); a clean stop exits 0.
            self._captured_signals = [
                sig for sig in self._captured_signals if sig != signal.SIGTERM
            ]


def _wrapped_apps(config: Config) -> list[Any]:
    """The app uvicorn serves and every app it wraps (``.app``), outermost first."""
    found: list[Any] = []
    for start in (getattr(config, "loaded_app", None), config.app):
        app = start
        for _ in range(_MAX_WRAPPERS):
            if app is None or isinstance(app, str) or any(app is seen for seen in found):
                break
            found.append(app)
            app = getattr(app, "app", None)
    return found


def serve(app: Any, *, drain_seconds: float = 0.0, **options: Any) -> int:
    """Serve ``app`` (an ASGI app or an import string) on uvicorn in this process, with
    ``options`` as ``uvicorn.Config``'s keywords; the exit status: 0 after a clean
    shutdown, :data:`STARTUP_FAILURE` when the lifespan startup failed,
    :data:`SHUTDOWN_FAILURE` when its shutdown did."""
    config = ServingConfig(app, **options)
    server = DrainingServer(config, drain_seconds=drain_seconds)
    try:
        server.run()
    except KeyboardInterrupt:  # a second Ctrl+C, as under uvicorn.run
        pass
    if not server.started:
        return STARTUP_FAILURE
    lifespan = getattr(server, "lifespan", None)
    # uvicorn logs a failed lifespan shutdown and returns as after a clean one.
    return SHUTDOWN_FAILURE if getattr(lifespan, "shutdown_failed", False) else 0


def supervise(app: str, *, reload: bool, workers: int, **options: Any) -> int:
    """Serve the import string ``app`` on several worker processes or with reloading, as
    ``uvicorn.run`` does, but with a :class:`ServingConfig` (its head deadline reaches
    every worker: uvicorn hands the config to them); the exit status: 0, or
    :data:`STARTUP_FAILURE` when a worker failed to start (uvicorn then stops the
    others, and would itself exit 0)."""
    from uvicorn.supervisors import ChangeReload, Multiprocess

    config = ServingConfig(app, reload=reload, workers=workers, **options)
    sock = config.bind_socket()
    supervisor: Any = None
    try:
        if config.should_reload:
            ChangeReload(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
        else:
            supervisor = Multiprocess(config, sockets=[sock])
            supervisor.run()
    except KeyboardInterrupt:  # a second Ctrl+C, as under uvicorn.run
        pass
    return STARTUP_FAILURE if _a_worker_failed_to_start(supervisor) else 0


def _a_worker_failed_to_start(supervisor: Any) -> bool:
    """Whether one of ``Multiprocess``'s workers exited with uvicorn's startup failure
    status (the lifespan startup, TLS or the socket failed before it served)."""
    for worker in getattr(supervisor, "processes", None) or ():
        process = getattr(worker, "process", None)
        if getattr(process, "exitcode", None) == STARTUP_FAILURE:
            return True
    return False
