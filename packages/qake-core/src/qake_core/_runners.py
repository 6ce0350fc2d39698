"""Route runners: the coroutine of one compiled route, from its handler to the two
ASGI messages of its response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from qake_core._default_headers import DEFAULT_HEADERS_KEY, DefaultHeaders, merge_default_headers
from qake_core._errors import ErrorBoundary, sending_failed
from qake_core._limits import Limits
from qake_core._messages import CONTENT_LENGTH_LINES, JSON_CONTENT_TYPE, response_messages
from qake_core._middleware import CallNext
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core.types import Receive, Scope, Send

if TYPE_CHECKING:
    from qake_core._typed._endpoint import DirectCall

__all__ = ["DirectRunner", "RouteHandle", "direct_runner", "json_tail_of", "request_runner"]

#: ``handle(scope, receive, send, path_params)``: what the app awaits for a route.
RouteHandle = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]


def request_runner(chain: CallNext, limits: Limits, boundary: ErrorBoundary) -> RouteHandle:
    """The route's coroutine when its handler needs a ``Request`` (or hooks run): build
    it, run ``chain`` and send the response, inline when it is a plain one; errors and
    other responses go to the app's error ``boundary``."""
    # PERF: bound once (by the boundary, for all routes): no attribute lookup per request.
    handle_error, respond = boundary.bound

    async def handle(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        request = Request(scope, receive, send, params, limits)
        try:
            response = await chain(request)
        except Exception as exc:
            await handle_error(request, exc)
            return
        try:
            if response.plain_send and response.background is None:
                # PERF: Response.__call__ inline (one coroutine fewer): the same messages
                # (response_messages is a plain call), sent from here.
                start, body = response_messages(
                    response.status_code,
                    response.raw_headers,
                    response.body,
                    scope["method"],
                    scope.get(DEFAULT_HEADERS_KEY),
                )
                try:
                    await send(start)
                    await send(body)
                except Exception as exc:
                    sending_failed(scope, exc)
                    raise
            else:
                await respond(response, scope, receive, send)
        finally:
            if request.cleanups is not None or request._form is not None:
                with anyio.CancelScope(shield=True):
                    await request.close(None)

    return handle


#: ``id(defaults)`` -> (defaults, the JSON lines merged with them): one list shared by
#: the routes of an app (the defaults kept alive by their entry, so that their id is
#: not reused; bounded: defaults beyond the first 64 get a list of their own).
_JSON_TAILS: dict[int, tuple[DefaultHeaders, list[tuple[bytes, bytes]]]] = {}


def json_tail_of(own: DefaultHeaders | None) -> list[tuple[bytes, bytes]]:
    """Content-Type: application/json and the defaults ``own`` adds to it (read only).

    PERF: one list per set of defaults, not per route: -157 KiB (tracemalloc) for the
    benchmarks' 2,000-route app."""
    if own is None:
        return [JSON_CONTENT_TYPE]
    entry = _JSON_TAILS.get(id(own))
    if entry is not None and entry[0] is own:
        return entry[1]
    tail = merge_default_headers(own, [JSON_CONTENT_TYPE])
    if len(_JSON_TAILS) < 64:
        _JSON_TAILS[id(own)] = (own, tail)
    return tail


def direct_runner(
    direct: DirectCall,
    limits: Limits,
    boundary: ErrorBoundary,
    own: DefaultHeaders | None,
) -> RouteHandle:
    """PERF: the handler needs no ``Request``: call it with the router's converted
    parameters (or what ``read`` takes from the scope) and send a declared JSON
    model's bytes directly; a ``Request`` is built only if something raises.

    ``own`` are the app's default headers: the ones its ``__call__`` puts in the
    scope; without them, those of an app that mounts this one may be there.
    """
    return DirectRunner(direct, limits, boundary, own).handle


class DirectRunner:
    """The state of one :func:`direct_runner` route; its bound ``handle`` is the route's
    coroutine function.

    PERF: a slotted object and its bound method, not a closure over eleven cells:
    -1,049 KiB (tracemalloc, 1,409 -> 360 KiB) for the benchmarks' 2,000-route app, for
    at most +0.4 % instructions per request in process (callgrind, PYTHONHASHSEED=0:
    S1 35,352 -> 35,390, S2 33,908 -> 34,041, S3 65,991 -> 66,004)."""

    __slots__ = (
        "dump",
        "func",
        "handle_error",
        "json_tail",
        "limits",
        "own",
        "plain_json",
        "read",
        "respond",
        "route",
        "serialize",
        "status",
        "with_params",
    )

    def __init__(
        self,
        direct: DirectCall,
        limits: Limits,
        boundary: ErrorBoundary,
        own: DefaultHeaders | None,
    ) -> None:
        self.func, self.read, self.with_params, self.serialize, self.dump = direct[:5]
        self.status, self.route, self.plain_json = direct.status, direct.route, direct.plain_json
        self.handle_error, self.respond = boundary.bound
        self.limits = limits
        self.own = own
        # PERF: a declared model's JSON always gets the same defaults: merged once, here.
        self.json_tail = json_tail_of(own)

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, params: dict[str, Any]
    ) -> None:
        body = b""
        response: Response | None = None
        try:
            read = self.read
            if read is not None:
                value = await self.func(**read(scope, params))
            elif self.with_params:
                value = await self.func(**params)
            else:
                value = await self.func()
            if isinstance(value, Response):
                response = value
            else:
                dump = self.dump
                if dump is not None:
                    body = dump(value, self.route)
                else:
                    # PERF: a route without a response model: the body of a dict, list
                    # or model as to_response would send it, without making its Response
                    # (sends_plain_json).
                    written = self.plain_json(value)
                    if written is None:
                        response = self.serialize(value)  # type: ignore[misc]  # no dump
                    else:
                        body = written
        except Exception as exc:
            request = Request(scope, receive, send, params, self.limits)
            await self.handle_error(request, exc)
            return
        # PERF: Response.__call__ inline (one coroutine fewer), or no Response at all.
        # The messages are response_messages' like every response's: its call (~800
        # instructions with the tuple, 0.4-0.6% of a request) buys one place for the
        # HEAD and default-header rules.
        if response is None:
            code = self.status
            # The scope's defaults, as for any response: edge middleware may have changed
            # them (``set_user`` adds ``Cache-Control: no-store`` for a signed-in user).
            defaults = scope.get(DEFAULT_HEADERS_KEY)
            if defaults is self.own:  # the app's own: merged once, in json_tail
                headers = [CONTENT_LENGTH_LINES[len(body)], *self.json_tail]
                defaults = None
            else:  # a mounting app's, or changed on the way
                headers = [CONTENT_LENGTH_LINES[len(body)], JSON_CONTENT_TYPE]
        elif response.plain_send and response.background is None:
            code, body, headers = response.status_code, response.body, response.raw_headers
            defaults = scope.get(DEFAULT_HEADERS_KEY)
        else:
            await self.respond(response, scope, receive, send)
            return
        start, end = response_messages(code, headers, body, scope["method"], defaults)
        try:
            await send(start)
            await send(end)
        except Exception as exc:
            sending_failed(scope, exc)
            raise
