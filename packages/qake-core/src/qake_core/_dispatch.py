"""Dispatch: from an ASGI scope to the coroutine that answers it.

Built by the app at startup (``App.build``) from its route trees, static table, mounts
and header limits: the head's check (Host, header sizes: ``_request_head``), the
static-path table, the router for the rest, mounts, the 404/405/431 answers and
WebSocket dispatch. The app's ``__call__`` keeps an inline copy of the HTTP fast path
(see its PERF note); this module is the whole of it.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from qake_core._asgi3 import asgi3
from qake_core._errors import ErrorBoundary
from qake_core._exceptions import HTTPException
from qake_core._limits import Limits
from qake_core._problem import problem_response
from qake_core._request_head import CLOSE, KNOWN_HOSTS, head_problem, target_problem
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core._scope import route_path
from qake_core._ws_denial import deny_websocket
from qake_core.types import Receive, Scope, Send
from qake_routing import MethodNotAllowed

if TYPE_CHECKING:
    import qake_routing
    from qake_core._routing import Mount
    from qake_core._runners import RouteHandle

__all__ = ["Dispatcher", "StaticTable"]

#: Raw path → (compiled handle, its argument, the methods it answers) for the paths the
#: router answers with one dict lookup (its ``static_matches``). A path whose methods
#: go to different routes has ``_by_method`` as its handle and method → (handle, path
#: params) as its argument; a route registered without methods is left to the router.
StaticTable = dict[bytes, tuple[Any, Any, frozenset[str]]]


def _by_method(
    scope: Scope, receive: Receive, send: Send, table: dict[str, tuple[RouteHandle, Any]]
) -> Awaitable[None]:
    """The handle of a static path whose methods go to different routes."""
    handle, params = table[scope["method"]]
    return handle(scope, receive, send, params)


def static_table(tree: qake_routing.Router) -> StaticTable:
    """The dispatcher's table of ``tree``'s static paths.

    PERF: a path answered by one route (GET and its implied HEAD, say) maps to one
    tuple, not to a dict of method → (handle, params): -227 KiB (tracemalloc, 370 ->
    143 KiB) for the benchmarks' 2,000-route app; one dict lookup per request instead
    of two, -270 instructions in process on S1, S2 and S4 and -170 on S3 and S5
    (callgrind, PYTHONHASHSEED=0). A path with several routes pays a call to
    ``_by_method``."""
    table: StaticTable = {}
    verb_sets: dict[frozenset[str], frozenset[str]] = {}
    for path, matches in tree.static_matches().items():
        by_method = {m: found for m, found in matches.items() if m is not None}
        if not by_method:
            continue
        methods = frozenset(by_method)
        methods = verb_sets.setdefault(methods, methods)
        first = next(iter(by_method.values()))
        if all(found is first for found in by_method.values()):
            entry = (first.route.handler.handle, first.params, methods)
        else:
            handles = {m: (f.route.handler.handle, f.params) for m, f in by_method.items()}
            entry = (_by_method, handles, methods)
        table[path.encode("latin-1")] = entry
    return table


class Dispatcher:
    """The app's router at request time: ``dispatch`` is the innermost ASGI app."""

    __slots__ = (
        "errors",
        "fastapi",
        "last_host",
        "lifespan",
        "max_header_bytes",
        "max_header_line",
        "max_headers",
        "max_target",
        "mounts",
        "quick_header_bytes",
        "redirect_slashes",
        "static",
        "tree",
        "ws_tree",
    )

    def __init__(
        self,
        tree: qake_routing.Router,
        ws_tree: qake_routing.Router,
        mounts: Sequence[Mount],
        limits: Limits,
        errors: ErrorBoundary,
        lifespan: Callable[[Scope, Receive, Send], Awaitable[None]],
        redirect_slashes: bool,
        fastapi: bool = False,
    ) -> None:
        self.tree = tree
        self.ws_tree = ws_tree
        self.mounts = mounts
        self.errors = errors
        self.lifespan = lifespan
        self.redirect_slashes = redirect_slashes
        #: ``compat="fastapi"``: FastAPI's trailing-slash redirect (307 to the absolute
        #: URL, any method) and a 405 for an OPTIONS request no route takes.
        self.fastapi = fastapi
        self.static = static_table(tree)
        self.max_headers: int = limits.max_header_count or sys.maxsize
        self.max_header_bytes: int = limits.max_header_size or sys.maxsize
        self.max_header_line: int = limits.max_header_line_size or sys.maxsize
        self.max_target: int = limits.max_target_size or sys.maxsize
        #: A request-target and headers adding up to no more bytes than this are within
        #: every size limit (the target's too: one lower than the header limits counts).
        self.quick_header_bytes: int = min(
            self.max_header_bytes, self.max_header_line, self.max_target
        )
        #: The last Host value the fast path could not take as known: valid
        #: (head_problem checked it), and likely the next request's.
        self.last_host: bytes | None = None

    @asgi3
    def dispatch(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The coroutine answering ``scope``: for HTTP its route's, or a 404/405, or a
        400/431 refusing its head (a bad Host, headers over the limits).

        PERF: a plain function (no coroutine frame of its own), the innermost app under
        edge middleware (their ``await self.app(...)`` runs the route directly) or called
        by the app's ``__call__`` without them; the head's usual case and the route
        lookup are inline: this runs on every request.
        """
        if scope["type"] == "http":
            headers = scope["headers"]
            raw = scope.get("raw_path")
            # PERF: as in App.__call__: a known Host first and headers within one
            # header's limit pass with a set lookup and one loop; head_problem judges
            # the rest (and any scope without raw_path).
            judge = True
            if raw is not None and headers and len(headers) <= self.max_headers:
                first = headers[0]
                host = first[1]
                if first[0] == b"host" and (host == self.last_host or host in KNOWN_HOSTS):
                    # As in App.__call__: the request-target counts too, and a second
                    # Host or a Transfer-Encoding sends the head to be judged.
                    size = len(raw) + len(scope["query_string"])
                    named = 0  # Host (the first) and any other Host or Transfer-Encoding
                    for name, value in headers:
                        # PERF: the names' lengths first (4: host, 17: transfer-encoding): an
                        # int comparison is specialised, a bytes one is not (~360 instructions
                        # a header for the two bytes comparisons alone).
                        length = len(name)
                        size += length + len(value)
                        if (length == 4 or length == 17) and (
                            name == b"host" or name == b"transfer-encoding"
                        ):
                            named += 1
                    judge = size > self.quick_header_bytes or named > 1
            if judge:
                problem = self.judge(scope, headers)
                if problem is not None:
                    return problem_response(*problem, headers=CLOSE)(scope, receive, send)
                if headers and headers[0][0] == b"host":
                    self.last_host = headers[0][1]  # valid: head_problem checked it
            try:
                if raw is not None and not scope.get("root_path"):
                    # PERF: static paths: one dict lookup (``static_table``); the router
                    # for the rest (parameters, 404, 405).
                    entry = self.static.get(raw)
                    if entry is not None and scope["method"] in entry[2]:
                        return entry[0](scope, receive, send, entry[1])  # type: ignore[no-any-return]
                    route, params = self.tree.lookup(scope["method"], raw.decode("latin-1"))
                else:
                    path = route_path(scope)
                    route, params = self.tree.lookup(scope["method"], path, decoded=True)
            except LookupError as exc:
                return self.no_route(scope, receive, send, exc)
            return route.handler.handle(scope, receive, send, params)  # type: ignore[no-any-return]
        kind = scope["type"]
        if kind == "websocket":
            return self.dispatch_websocket(scope, receive, send)
        if kind == "lifespan":
            return self.lifespan(scope, receive, send)
        raise RuntimeError(f"unsupported ASGI scope type {kind!r}")

    def judge(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> tuple[int, str] | None:
        """The head's refusal (``head_problem``, then the request-target's length), or
        ``None``: for the heads the fast path does not pass."""
        problem = head_problem(
            headers,
            self.max_headers,
            self.max_header_bytes,
            self.max_header_line,
            scope.get("http_version"),
        )
        if problem is None:
            problem = target_problem(scope, self.max_target)
        return problem

    async def no_route(self, scope: Scope, receive: Receive, send: Send, exc: LookupError) -> None:
        """Answer a request no route matched: a mount's, a redirect, 404 or 405."""
        if isinstance(exc, MethodNotAllowed):
            await self._not_allowed(scope, receive, send, exc.allowed)
        else:
            await self._not_found(scope, receive, send)

    def dispatch_websocket(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The awaitable serving a WebSocket handshake. PERF: the route's handle is
        returned, not awaited here: a connection's every message resumes its frames."""
        problem = self.judge(scope, scope["headers"])
        if problem:
            # A handshake with a bad Host or oversized headers: refused before accepting
            # with the status an HTTP request would get (a server without the denial
            # extension answers 403).
            return deny_websocket(scope, receive, send, problem_response(*problem))
        try:
            match = self.ws_tree.match(None, route_path(scope), decoded=True)
        except LookupError:
            return self._no_websocket_route(scope, receive, send)
        return match.handler.handle(scope, receive, send, match.params)  # type: ignore[no-any-return]

    async def _no_websocket_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self._to_mount(scope, receive, send):
            detail = "No WebSocket route matches this path."
            await deny_websocket(scope, receive, send, problem_response(404, detail))

    async def _to_mount(self, scope: Scope, receive: Receive, send: Send) -> bool:
        if not self.mounts:
            return False
        path = route_path(scope)
        for mount in self.mounts:
            prefix = mount.path
            if path == prefix or path.startswith(prefix + "/"):
                child = dict(scope)
                child["root_path"] = scope.get("root_path", "") + prefix
                if path == prefix:
                    child["path"] = scope["path"] + "/"
                await mount.app(child, receive, send)
                return True
        return False

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self._to_mount(scope, receive, send):
            return
        if self.redirect_slashes and (self.fastapi or scope["method"] in ("GET", "HEAD")):
            # qake-routing's trailing-slash policy: the other spelling, if only it matches.
            other = self.tree.redirect_slashes(scope["method"], route_path(scope), decoded=True)
            if other is not None:
                from qake_core._responses import RedirectResponse

                root = scope.get("root_path", "")
                query = scope.get("query_string", b"").decode("latin-1")
                target = root + other + (f"?{query}" if query else "")
                if self.fastapi:  # Starlette's: the absolute URL, 307 for any method
                    url = Request(scope, receive, send).url
                    absolute = f"{url.scheme}://{url.netloc}{target}"
                    await RedirectResponse(absolute, 307)(scope, receive, send)
                    return
                await RedirectResponse(target, 308)(scope, receive, send)
                return
        response = await self.errors.response_for(Request(scope, receive, send), HTTPException(404))
        assert response is not None
        await response(scope, receive, send)

    async def _not_allowed(self, scope: Scope, receive: Receive, send: Send, allowed: Any) -> None:
        allow = ", ".join(sorted({*allowed, "OPTIONS"}))
        if scope["method"] == "OPTIONS" and not self.fastapi:
            await Response(b"", 204, headers={"allow": allow})(scope, receive, send)
            return
        exc = HTTPException(405, headers={"allow": allow})
        response = await self.errors.response_for(Request(scope, receive, send), exc)
        assert response is not None
        await response(scope, receive, send)
