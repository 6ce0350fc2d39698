"""PERF: the route runner of a flat route (``_flat``) when no hook middleware runs:
``request_runner`` and ``direct_runner`` in one (a ``Request`` for the dependencies,
a declared model's JSON bytes sent without a ``Response``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from qake_core._default_headers import DEFAULT_HEADERS_KEY, DefaultHeaders, merge_default_headers
from qake_core._errors import ErrorBoundary, sending_failed
from qake_core._limits import Limits
from qake_core._messages import CONTENT_LENGTH_LINES, JSON_CONTENT_TYPE, response_messages
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core._runners import RouteHandle, json_tail_of
from qake_core._typed._dependencies import unwind
from qake_core.types import Receive, Scope, Send

if TYPE_CHECKING:
    from qake_core._app import App
    from qake_core._typed._endpoint import FlatCall

__all__ = ["flat_runner"]

_NOT_SEEN: Any = object()


def flat_runner(
    flat: FlatCall,
    general: RouteHandle,
    limits: Limits,
    boundary: ErrorBoundary,
    own: DefaultHeaders | None,
    app: App,
) -> RouteHandle:
    """The route's coroutine: ``general`` (the request runner of the general endpoint)
    while ``app.dependency_overrides`` is not empty; else the flat plan, answered as
    ``request_runner`` answers the general endpoint's response, the declared model's
    bytes sent as ``direct_runner`` sends them. ``own`` are the app's default headers
    (what its ``__call__`` puts in the scope), merged once with the JSON lines."""
    plan, serialize, dump, status, route, plain_json = (
        flat.plan,
        flat.serialize,
        flat.dump,
        flat.status,
        flat.route,
        flat.plain_json,
    )
    run, needs_request = plan.run, plan.needs_request
    handle_error, respond = boundary.answer, boundary.respond
    json_tail = json_tail_of(own)
    #: the last defaults other than ``own`` seen in a scope (``set_user``'s variant with
    #: ``Cache-Control: no-store``), and their merged tail.
    other: list[Any] = [_NOT_SEEN, json_tail]

    async def handle(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        # NOTE: read through the app on each request: ``app.dependency_overrides = {}``
        # replaces the dict.
        if app.dependency_overrides:
            await general(scope, receive, send, params)
            return
        # PERF: no ``Request`` when no dependency reads one (built if something raises).
        request = Request(scope, receive, send, params, limits) if needs_request else None
        body = b""
        response: Response | None = None
        try:
            value = await run(request)
            if isinstance(value, Response):
                response = value
            elif dump is not None:
                body = dump(value, route)
            else:  # PERF: as direct_runner, no Response made for a route without a model
                written = plain_json(value)
                if written is None:
                    response = serialize(value)
                else:
                    body = written
        except Exception as exc:
            if request is None:
                request = Request(scope, receive, send, params, limits)
            await _answer_error(request, exc, handle_error)
            return
        try:
            if response is None:
                code = status
                # The scope's defaults, as for any response: a dependency may have changed
                # them (``set_user`` adds ``Cache-Control: no-store`` for a signed-in user).
                defaults = scope.get(DEFAULT_HEADERS_KEY)
                if defaults is own:  # PERF: the app's own, merged once (json_tail)
                    tail = json_tail
                elif defaults is other[0]:  # PERF: the last other ones, merged once too
                    tail = other[1]
                else:
                    tail = [JSON_CONTENT_TYPE]
                    if defaults is not None:
                        tail = merge_default_headers(defaults, tail)
                    other[:] = [defaults, tail]
                headers = [CONTENT_LENGTH_LINES[len(body)], *tail]
                defaults = None
            elif response.plain_send and response.background is None:
                code, body, headers = response.status_code, response.body, response.raw_headers
                defaults = scope.get(DEFAULT_HEADERS_KEY)
            else:
                await respond(response, scope, receive, send)
                return
            start, end = response_messages(code, headers, body, scope["method"], defaults)
            try:
                await send(start)
                await send(end)
            except Exception as exc:
                sending_failed(scope, exc)
                raise
        finally:
            if request is not None and (request.cleanups is not None or request._form is not None):
                with anyio.CancelScope(shield=True):
                    await request.close(None)

    return handle


async def _answer_error(request: Request, exc: Exception, handle_error: Any) -> None:
    """As the general endpoint and its runner: the yield dependencies (and clean-ups a
    dependency registered) see the error first, and one may replace it."""
    if request.cleanups:
        try:
            replaced = await unwind(request, exc)
            if replaced is not exc:
                raise replaced
        except Exception as error:
            await handle_error(request, error)
            return
    await handle_error(request, exc)
