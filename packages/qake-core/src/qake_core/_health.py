"""``Health``: a liveness and a readiness endpoint for load balancers and orchestrators.

Liveness (``/healthz``) answers 200 whenever the process serves a request: restart me
only if this fails. Readiness (``/readyz``) answers 200 only once the lifespan startup
has completed, while every check passes and before draining begins; otherwise 503
problem+json: send me no new traffic. Draining begins when the server is told to stop
(``begin_draining(app)``, which ``qake run --drain-seconds`` calls on SIGTERM) or when
the lifespan shutdown starts.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio

from qake_core._problem import problem_response
from qake_core._responses import JSONResponse, Response

__all__ = ["Health", "HealthCheck", "begin_draining"]

logger = logging.getLogger("qake.health")

#: ``async def check() -> object``: raising, or returning ``False``, fails it.
HealthCheck = Callable[[], Awaitable[object]]

#: The probes' answers must never be cached by a proxy.
_NO_STORE = {"Cache-Control": "no-store"}

#: The ``Health`` objects installed on each app (for :func:`begin_draining`).
_INSTALLED: weakref.WeakKeyDictionary[Any, list[Health]] = weakref.WeakKeyDictionary()


class Health:
    """Liveness and readiness routes: ``Health(checks={"db": ping}).install(app)``.

    ``checks`` maps a name to ``async def check()``; readiness runs them concurrently,
    each bounded by ``timeout`` seconds. A check fails when it raises, returns
    ``False`` or times out; the 503 names the failing checks but never shows their
    error (it is logged on ``qake.health``, once when a check starts failing and once
    when it recovers, not on every probe). The routes are left out of the OpenAPI
    document (``include_in_schema``), and out of the app's ``dependencies=`` and
    qake-security's ``RateLimitMiddleware``, like the framework's own routes: a probe
    must not use up a client's quota nor need credentials.
    """

    def __init__(
        self,
        checks: Mapping[str, HealthCheck] | None = None,
        *,
        live_path: str = "/healthz",
        ready_path: str = "/readyz",
        timeout: float = 2.0,
        include_in_schema: bool = False,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"Health: timeout must be > 0 seconds, got {timeout!r}")
        self.checks: dict[str, HealthCheck] = dict(checks or {})
        self.live_path = live_path
        self.ready_path = ready_path
        self.timeout = timeout
        self.include_in_schema = include_in_schema
        #: The lifespan startup has completed (and its shutdown has not begun).
        self.started = False
        #: The server is stopping: readiness answers 503 from now on.
        self.draining = False
        self._failing: set[str] = set()

    def add_check(self, name: str, check: HealthCheck) -> None:
        """Add a readiness check (``async def check()``) under ``name``."""
        self.checks[name] = check

    def check(self, name: str) -> Callable[[HealthCheck], HealthCheck]:
        """Decorator form of :meth:`add_check`."""

        def decorator(func: HealthCheck) -> HealthCheck:
            self.add_check(name, func)
            return func

        return decorator

    def begin_draining(self) -> None:
        """Answer readiness with 503 from now on (the process keeps serving)."""
        if not self.draining:
            self.draining = True
            logger.info("draining: %s answers 503 from now on", self.ready_path)

    # -- installation ------------------------------------------------------------------

    def install(self, app: Any) -> None:
        """Add the two routes to ``app`` (a ``qake_core.App``) and follow its lifespan.

        Call it after the app's ``lifespan=`` is set: readiness turns true once that
        lifespan (and the startup hooks) has completed its startup.
        """
        options: dict[str, Any] = {
            "methods": ["GET", "HEAD"],
            "include_in_schema": self.include_in_schema,
            "use_app_dependencies": False,
        }
        app.add_api_route(self.live_path, self._live, name="healthz", **options)
        app.add_api_route(self.ready_path, self._ready, name="readyz", **options)
        app.lifespan_context = self._following(app.lifespan_context)
        _INSTALLED.setdefault(app, []).append(self)

    def _following(self, lifespan: Any) -> Any:
        @asynccontextmanager
        async def lifespan_followed(app: Any) -> AsyncIterator[Any]:
            self.draining = False
            if lifespan is None:
                state = None
                self.started = True
                try:
                    yield state
                finally:
                    self._stopping()
                return
            async with lifespan(app) as state:
                self.started = True
                try:
                    yield state
                finally:
                    self._stopping()

        return lifespan_followed

    def _stopping(self) -> None:
        self.started = False
        self.draining = True

    # -- the endpoints -----------------------------------------------------------------

    async def _live(self) -> Response:
        return JSONResponse({"status": "alive"}, headers=_NO_STORE)

    async def _ready(self) -> Response:
        if self.draining:
            return _unavailable("the server is shutting down", {})
        if not self.started:
            return _unavailable("the application has not completed its startup", {})
        results = await self.run_checks()
        failed = sorted(name for name, result in results.items() if result != "ok")
        if failed:
            return _unavailable(f"failing checks: {', '.join(failed)}", results)
        return JSONResponse({"status": "ready", "checks": results}, headers=_NO_STORE)

    async def run_checks(self) -> dict[str, str]:
        """Run every check concurrently: name → ``"ok"``, ``"failed"`` or ``"timeout"``."""
        results: dict[str, str] = {}

        async def run(name: str, check: HealthCheck) -> None:
            error: BaseException | None = None
            with anyio.move_on_after(self.timeout) as scope:
                try:
                    outcome = await check()
                except Exception as exc:
                    error, outcome = exc, False
            if scope.cancelled_caught:
                results[name] = "timeout"
            else:
                results[name] = "failed" if outcome is False else "ok"
            self._note(name, results[name], error)

        async with anyio.create_task_group() as group:
            for name, check in self.checks.items():
                group.start_soon(run, name, check)
        return {name: results[name] for name in self.checks}

    def _note(self, name: str, result: str, error: BaseException | None) -> None:
        """Log a check's change of state (not every probe's result)."""
        if result == "ok":
            if name in self._failing:
                self._failing.discard(name)
                logger.warning("readiness check %r passes again", name)
            return
        if name in self._failing:
            return
        self._failing.add(name)
        if error is not None:
            logger.warning("readiness check %r failed", name, exc_info=error)
        elif result == "timeout":
            logger.warning("readiness check %r took longer than %g s", name, self.timeout)
        else:
            logger.warning("readiness check %r returned False", name)


def _unavailable(detail: str, checks: dict[str, str]) -> Response:
    extra: dict[str, Any] = {"checks": checks} if checks else {}
    return problem_response(503, detail, headers=_NO_STORE, extra=extra)


def begin_draining(app: Any) -> int:
    """Turn the readiness of every :class:`Health` installed on ``app`` to 503; how many."""
    installed = _INSTALLED.get(app, [])
    for health in installed:
        health.begin_draining()
    return len(installed)
