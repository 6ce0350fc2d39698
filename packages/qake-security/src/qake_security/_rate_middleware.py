"""``RateLimitMiddleware``: one ``RateLimit`` in front of a whole ASGI app."""

from __future__ import annotations

from typing import Any

from qake_core import Request, matched_route, problem_response
from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qake_security._rate_limit import RateLimit

__all__ = ["RateLimitMiddleware"]


class RateLimitMiddleware:
    """Limit every HTTP request to ``app``: ``app.add_middleware(RateLimitMiddleware,
    limit=RateLimit("1000/hour"))``, or ``limit="1000/hour"`` with ``RateLimit``'s
    options as keywords.

    It runs before routing, yet keys by route template like the dependency does
    (``per_route=True``: an unmatched path counts under ``*``); ``per_route=False``
    gives the client one quota for the whole app. A refused request is answered here
    (429 problem+json) and never reaches the app. WebSocket and lifespan scopes pass.

    The framework's own routes (the OpenAPI document, ``/docs``, ``/redoc`` and their
    assets: the routes the app's ``dependencies=`` do not guard either) pass too, unless
    ``limit_framework_routes=True``.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: RateLimit | str,
        *,
        limit_framework_routes: bool = False,
        **options: Any,
    ) -> None:
        self.limit_framework_routes = limit_framework_routes
        if isinstance(limit, str):
            limit = RateLimit(limit, **options)
        elif options:
            raise TypeError(
                "RateLimitMiddleware: give the options to RateLimit(...), or pass the rate "
                f"as a string with them; got both a RateLimit and {sorted(options)}"
            )
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The route, matched once: it says whether the framework serves the request
        # itself, and keys the quota (RateLimit.check would match it again).
        route = matched_route(scope)
        if (
            route is not None
            and not self.limit_framework_routes
            and getattr(route, "use_app_dependencies", True) is False
        ):
            await self.app(scope, receive, send)
            return
        template = None if route is None else scope.get("root_path", "") + route.path
        verdict = await self.limit.check(Request(scope, receive), template)
        error = verdict.error
        if error is not None:
            response = problem_response(
                error.status_code,
                error.detail,
                title=error.title,
                type=error.type,
                headers=error.headers,
                extra=error.extra,
            )
            await response(scope, receive, send)
            return
        if not verdict.headers:
            await self.app(scope, receive, send)
            return
        extra = verdict.headers

        async def send_labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_labelled)
