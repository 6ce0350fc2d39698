"""``CORSMiddleware``: answer CORS preflights and label cross-origin responses."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence

from qake_core import Response, problem_response
from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Request headers a browser may send cross-origin without asking (Fetch standard).
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\s]+", re.IGNORECASE)
_ALLOW_ORIGIN = b"access-control-allow-origin"
_VARY = b"vary"
#: A prebuilt answer to a simple request: the lines appended to a response (``Vary``
#: first when the answer depends on the Origin) and their names, which, found among the
#: response's own headers, call for :func:`_merge` instead.
_Answer = tuple[list[tuple[bytes, bytes]], frozenset[bytes]]
# An origin no sane allow-list matches: if a regex matches it, it matches everyone.
_PROBE_ORIGINS = ("https://qake-cors-probe.invalid", "null")


def _check_regex(pattern: str) -> str:
    """Refuse a ``.`` that stands between host-name characters unescaped (``example.com``):
    it matches any character, so ``https://example.com`` would allow ``https://exampleXcom``
    (a domain anyone can register)."""
    escaped = in_class = False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "." and not in_class and pattern[index + 1 : index + 2].isalnum():
            fixed = pattern[:index] + "\\" + pattern[index:]
            raise ValueError(
                f"CORSMiddleware: allow_origin_regex {pattern!r} has an unescaped '.', which "
                f"matches any character (so a look-alike domain would be allowed); escape "
                f"it: {fixed!r}"
            )
    return pattern


def _check_origin(origin: str) -> str:
    if origin != "null" and not _ORIGIN.fullmatch(origin):
        raise ValueError(
            f"CORSMiddleware: {origin!r} is not an origin; write scheme://host[:port] with no "
            "path and no trailing slash, e.g. 'https://example.com'"
        )
    return origin


class CORSMiddleware:
    """Cross-Origin Resource Sharing for the listed origins only.

    Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are answered
    here: 204 with the allowed methods and headers, or a 400 problem naming what
    was refused. Other responses get ``Access-Control-Allow-Origin`` when the
    ``Origin`` is allowed, and ``Vary: Origin`` whenever the answer depends on it.

    ``allow_origin_regex`` must match the whole origin (``fullmatch``); escape its dots
    (``r"https://[a-z]+\\.example\\.com"``): an unescaped ``.`` between name characters
    is refused at start-up.

    ``allow_origins=["*"]`` allows any origin *without* credentials. Allowing any
    origin *with* credentials (``*``, ``"null"``, or a regex that matches any
    origin) is refused at start-up: it lets every website act as the logged-in user.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET", "HEAD", "POST"),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
        allow_origin_regex: str | None = None,
    ) -> None:
        if isinstance(allow_origins, str) or isinstance(allow_methods, str):
            raise TypeError("CORSMiddleware: give origins and methods as lists, not a string")
        self.app = app
        self.allow_all = "*" in allow_origins
        self.origins = frozenset(_check_origin(o) for o in allow_origins if o != "*")
        self.regex = re.compile(_check_regex(allow_origin_regex)) if allow_origin_regex else None
        self.credentials = allow_credentials
        if allow_credentials:
            self._refuse_any_origin_with_credentials(allow_origin_regex)
        methods = ALL_METHODS if "*" in allow_methods else tuple(m.upper() for m in allow_methods)
        self.methods = frozenset(methods)
        self.any_header = "*" in allow_headers
        self.headers = SAFELISTED_HEADERS | {h.lower() for h in allow_headers if h != "*"}
        if max_age < 0:
            raise ValueError(f"CORSMiddleware: max_age must be >= 0 seconds, got {max_age}")

        simple: list[tuple[bytes, bytes]] = []
        if allow_credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if expose_headers:
            simple.append((b"access-control-expose-headers", ", ".join(expose_headers).encode()))
        self._simple = simple
        self._preflight = {
            **({"access-control-allow-credentials": "true"} if allow_credentials else {}),
            "access-control-allow-methods": ", ".join(sorted(self.methods)),
            "access-control-max-age": str(max_age),
        }
        # With "*" and no credentials the answer never depends on the Origin.
        self._varies = not (self.allow_all and not allow_credentials)
        # PERF: every answer to a simple request is prebuilt here, so that a request costs
        # one scan of its header list and one dict lookup (by the Origin's raw bytes).
        self._vary_only = self._answer([]) if self._varies else None
        # (allow_all with credentials was refused above: "*" is the answer to any origin.)
        self._any_origin = self._answer([(_ALLOW_ORIGIN, b"*"), *simple])
        self._by_origin: dict[bytes, _Answer] = {}
        for origin in () if self.allow_all else self.origins:  # with "*": "*" for all
            try:
                raw = origin.encode("latin-1")
            except UnicodeEncodeError:  # a browser sends an IDN host as punycode (ASCII)
                continue
            self._by_origin[raw] = self._answer([(_ALLOW_ORIGIN, raw), *simple])

    def _answer(self, added: list[tuple[bytes, bytes]]) -> _Answer:
        """The lines to append (``Vary: Origin`` first when the answer depends on the
        Origin, then ``added``) and their names."""
        lines = [(_VARY, b"Origin"), *added] if self._varies else added
        return lines, frozenset(name for name, _ in lines)

    def _refuse_any_origin_with_credentials(self, regex: str | None) -> None:
        problem = None
        if self.allow_all:
            problem = "allow_origins contains '*'"
        elif "null" in self.origins:
            problem = "allow_origins contains 'null' (any sandboxed page or file:// sends it)"
        elif self.regex is not None and any(self.regex.fullmatch(o) for o in _PROBE_ORIGINS):
            problem = f"allow_origin_regex {regex!r} matches any origin"
        if problem:
            raise ValueError(
                f"CORSMiddleware: {problem} together with allow_credentials=True; that lets "
                "every website send requests with your users' cookies and read the answers. "
                "List the trusted origins explicitly, e.g. allow_origins=['https://app.example.com']"
            )

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all or origin in self.origins:
            return True
        return self.regex is not None and self.regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = None
        several = False
        for name, value in scope["headers"]:
            if name == b"origin":
                several = origin is not None
                origin = value
        if origin is None:
            answer = self._vary_only
        elif several:
            # RFC 9110 §5.3: several Origin lines read as one comma-joined value, which is
            # never an origin: the request is treated as from a disallowed origin.
            answer = self._vary_only
            origin = None
        else:
            # PERF: the allow-list's answers are prebuilt, keyed by the Origin's raw bytes.
            answer = self._by_origin.get(origin)
            if answer is None:
                answer = self._answer_for(origin)
        if scope["method"] == "OPTIONS" and (origin is not None or several):
            request_method = _header(scope, b"access-control-request-method")
            if request_method is not None:
                preflight = self._preflight_response(
                    scope,
                    None if origin is None else origin.decode("latin-1"),
                    request_method.decode("latin-1"),
                )
                await preflight(scope, receive, send)
                return
        if answer is None:
            await self.app(scope, receive, send)
            return
        lines, names = answer

        def send_with_cors(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                for name, _ in headers:
                    if name in names:  # the app set a Vary or a CORS header itself
                        message["headers"] = _merge(headers, lines, names)
                        break
                else:
                    # PERF: the usual case: the prebuilt lines appended, nothing parsed.
                    message["headers"] = (
                        headers + lines if type(headers) is list else [*headers, *lines]
                    )
            return send(message)

        await self.app(scope, receive, send_with_cors)

    def _answer_for(self, origin: bytes) -> _Answer | None:
        """The answer to a simple request from an origin not in ``allow_origins``
        (``None``: nothing to add at all)."""
        if self.allow_all:
            return self._any_origin
        if self.regex is not None and self.regex.fullmatch(origin.decode("latin-1")):
            return self._answer([(_ALLOW_ORIGIN, origin), *self._simple])
        return self._vary_only

    def _preflight_response(self, scope: Scope, origin: str | None, method: str) -> Response:
        vary = {"vary": "Origin"}
        if origin is None:
            return problem_response(400, "CORS: several Origin headers.", headers=vary)
        if not self.is_allowed_origin(origin):
            return problem_response(400, f"CORS: origin {origin!r} is not allowed.", headers=vary)
        if method.upper() not in self.methods:
            return problem_response(
                400, f"CORS: method {method!r} is not allowed from {origin!r}.", headers=vary
            )
        requested = (_header(scope, b"access-control-request-headers") or b"").decode("latin-1")
        wanted = [h.strip().lower() for h in requested.split(",") if h.strip()]
        if not self.any_header:
            refused = [h for h in wanted if h not in self.headers]
            if refused:
                return problem_response(
                    400,
                    f"CORS: header(s) {', '.join(refused)} not allowed from {origin!r}.",
                    headers=vary,
                )
        value = "*" if self.allow_all and not self.credentials else origin
        allowed_headers = wanted if self.any_header else sorted(self.headers)
        # A preflight has no body: 204; an app with compat="fastapi" answers as
        # Starlette's CORSMiddleware does (200, "OK").
        fastapi = getattr(scope.get("app"), "compat", None) == "fastapi"
        return Response(
            b"OK" if fastapi else None,
            200 if fastapi else 204,
            media_type="text/plain" if fastapi else None,
            headers={
                "access-control-allow-origin": value,
                **self._preflight,
                "access-control-allow-headers": ", ".join(allowed_headers),
                "vary": "Origin",
            },
        )


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    """The value of the last ``wanted`` header line of the request (``None``: none)."""
    found = None
    for name, value in scope["headers"]:
        if name == wanted:
            found = value
    return found


def _merge(
    headers: Sequence[tuple[bytes, bytes]],
    lines: list[tuple[bytes, bytes]],
    names: frozenset[bytes],
) -> list[tuple[bytes, bytes]]:
    """The app's headers with our ``lines``: ours replace its CORS headers of the same
    names; ``Origin`` joins its ``Vary`` (RFC 9110 §12.5.5) unless already listed there."""
    merged = [(n, v) for n, v in headers if n not in names]
    if _VARY in names:
        values = [v for n, v in headers if n == _VARY]
        listed = {t.strip().lower() for v in values for t in v.split(b",")}
        if b"origin" not in listed and b"*" not in listed:
            values.append(b"Origin")
        merged.append((_VARY, b", ".join(values)))
        merged.extend(pair for pair in lines if pair[0] != _VARY)
    else:
        merged.extend(lines)
    return merged
