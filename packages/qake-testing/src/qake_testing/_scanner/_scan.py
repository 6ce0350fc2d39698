"""``scan(app)``: send hostile inputs to every operation and report what went wrong."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import anyio
import httpx

from .._async_client import AsyncTestClient
from .._types import ASGIApp
from . import _checks
from ._findings import Finding, FindingKind, ScanReport
from ._payloads import (
    CATEGORIES,
    INVALID_UTF8,
    LONG_HEADER,
    deeply_nested_json,
    huge_json,
    load_payloads,
)
from ._targets import (
    ScanParam,
    ScanTarget,
    TargetSpec,
    coerce_targets,
    fill_template,
    targets_from_openapi,
    targets_from_routes,
)

EVIL_ORIGIN = "https://evil.example"
#: Wrong-typed values sent to each JSON body field.
WRONG_TYPES: tuple[Any, ...] = ([], {}, None, True, 1e308, "x" * 10_000, [[[[[]]]]])
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class _Request:
    label: str | None
    payload: str | None
    method: str
    url: str
    headers: Mapping[bytes, bytes]
    body: bytes | None = None
    content_type: str | None = None


async def discover_targets(
    client: httpx.AsyncClient, app: object, openapi_url: str | None
) -> list[ScanTarget]:
    """OpenAPI document first, then ``app.routes``."""
    if openapi_url:
        try:
            response = await client.get(openapi_url)
            document = response.json() if response.status_code == 200 else None
        except Exception:
            document = None
        if isinstance(document, Mapping) and isinstance(document.get("paths"), Mapping):
            return targets_from_openapi(document)
    routes = getattr(app, "routes", None)
    if isinstance(routes, Iterable):
        return targets_from_routes(routes)
    return []


class _Scanner:
    def __init__(
        self,
        client: httpx.AsyncClient,
        payloads: Mapping[str, Sequence[str]],
        check_headers: bool | Literal["strict"],
    ) -> None:
        self.client = client
        self.payloads = payloads
        self.check_headers = check_headers
        self.report = ScanReport()
        self._seen: set[tuple[FindingKind, str, str, str | None]] = set()

    def _add(
        self,
        target: ScanTarget,
        kind: FindingKind,
        request: _Request,
        status: int,
        evidence: str,
        parameter: str | None = None,
    ) -> None:
        parameter = parameter if parameter is not None else request.label
        key = (kind, target.method, target.template, parameter)
        if key in self._seen:
            return
        self._seen.add(key)
        self.report.findings.append(
            Finding(
                kind, target.method, target.template, parameter, request.payload, status, evidence
            )
        )

    # -- building requests ------------------------------------------------------------

    def _build(
        self,
        target: ScanTarget,
        *,
        attacked: ScanParam | None = None,
        value: Any = None,
        label: str | None = None,
        payload: str | None = None,
        raw_query: str | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        body: bytes | None = None,
        method: str | None = None,
    ) -> _Request:
        values = {(p.name, p.location): p.benign for p in target.params}
        if attacked is not None:
            values[(attacked.name, attacked.location)] = value
        path = fill_template(
            target.template,
            {
                name: quote(str(v), safe="/" if attacked is None or name != attacked.name else "")
                for (name, location), v in values.items()
                if location == "path"
            },
        )
        query = "&".join(
            f"{quote(name, safe='')}={quote(str(v), safe='')}"
            for (name, location), v in values.items()
            if location == "query"
        )
        if raw_query is not None:
            query = f"{query}&{raw_query}" if query else raw_query
        all_headers: dict[bytes, bytes] = {b"origin": EVIL_ORIGIN.encode()}
        for (name, location), v in values.items():
            if location == "header":
                clean = str(v).replace("\r", "").replace("\n", "")
                all_headers[name.lower().encode("latin-1")] = clean.encode()
        cookies = "; ".join(
            f"{name}={quote(str(v), safe='')}"
            for (name, location), v in values.items()
            if location == "cookie"
        )
        if cookies:
            all_headers[b"cookie"] = cookies.encode()
        for name, extra in (headers or {}).items():
            all_headers[name.encode("latin-1")] = (
                extra if isinstance(extra, bytes) else extra.encode()
            )
        content_type = None
        if body is None:
            json_fields = {n: v for (n, loc), v in values.items() if loc == "body"}
            form_fields = {n: str(v) for (n, loc), v in values.items() if loc == "form"}
            if json_fields:
                body, content_type = json.dumps(json_fields).encode(), "application/json"
            elif form_fields:
                encoded = "&".join(
                    f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in form_fields.items()
                )
                body, content_type = encoded.encode(), "application/x-www-form-urlencoded"
        else:
            content_type = "application/json"
        url = path + (f"?{query}" if query else "")
        return _Request(
            label, payload, method or target.method, url, all_headers, body, content_type
        )

    # -- sending and checking ---------------------------------------------------------

    async def _send(
        self, target: ScanTarget, request: _Request, check_reflection: bool = False
    ) -> httpx.Response | None:
        headers = dict(request.headers)
        if request.content_type is not None:
            headers[b"content-type"] = request.content_type.encode()
        self.report.requests += 1
        try:
            response = await self.client.request(
                request.method, request.url, headers=headers, content=request.body
            )
        except Exception as exc:  # the app broke the protocol: as bad as a 500
            self._add(target, FindingKind.SERVER_ERROR, request, 0, f"{type(exc).__name__}: {exc}")
            return None
        if response.status_code >= 500:
            self._add(
                target,
                FindingKind.SERVER_ERROR,
                request,
                response.status_code,
                f"HTTP {response.status_code}",
            )
        if (evidence := _checks.stack_trace(response)) is not None:
            self._add(target, FindingKind.STACK_TRACE, request, response.status_code, evidence)
        if (
            check_reflection
            and request.payload is not None
            and (evidence := _checks.reflected_unescaped(response, request.payload)) is not None
        ):
            self._add(target, FindingKind.REFLECTED_XSS, request, response.status_code, evidence)
        return response

    async def scan(self, target: ScanTarget) -> None:
        self.report.operations.append(target.name)
        baseline = await self._send(target, self._build(target))
        if baseline is not None:
            self._check_headers(target, baseline)
        preflight = self._build(
            target,
            method="OPTIONS",
            headers={"access-control-request-method": target.method},
        )
        response = await self._send(target, preflight)
        if response is not None:
            self._check_cors(target, response, preflight)
        # ``Origin: null`` (sandboxed frames, file: pages) must not be trusted either.
        from_null = self._build(target, headers={"origin": "null"})
        response = await self._send(target, from_null)
        if response is not None:
            self._check_cors(target, response, from_null, "null")
        for param in target.params:
            await self._attack_param(target, param)
        await self._attack_request(target)

    def _check_headers(self, target: ScanTarget, response: httpx.Response) -> None:
        request = self._build(target)
        self._check_cors(target, response, request)
        if not self.check_headers:
            return
        strict = self.check_headers == "strict"
        for header in _checks.missing_security_headers(response, strict):
            self._add(
                target,
                FindingKind.MISSING_SECURITY_HEADER,
                request,
                response.status_code,
                f"no {header} header",
                parameter=header,
            )

    def _check_cors(
        self,
        target: ScanTarget,
        response: httpx.Response,
        request: _Request,
        origin: str = EVIL_ORIGIN,
    ) -> None:
        if (evidence := _checks.insecure_cors(response, origin)) is not None:
            self._add(
                target,
                FindingKind.INSECURE_CORS,
                request,
                response.status_code,
                evidence,
                parameter="header:Origin" if origin == EVIL_ORIGIN else f"header:Origin={origin}",
            )

    async def _attack_param(self, target: ScanTarget, param: ScanParam) -> None:
        label = f"{param.location}:{param.name}"
        for category, payloads in self.payloads.items():
            for payload in payloads:
                request = self._build(
                    target, attacked=param, value=payload, label=label, payload=payload
                )
                await self._send(
                    target, request, check_reflection=category == "xss" or "<" in payload
                )
        if param.location == "body":
            for wrong in WRONG_TYPES:
                text = json.dumps(wrong)
                request = self._build(
                    target, attacked=param, value=wrong, label=label, payload=text[:200]
                )
                await self._send(target, request)
        elif param.location == "query":
            raw = f"{quote(param.name, safe='')}=%FF%FE%C3%28"
            request = self._build(
                target, label=label, payload="%FF%FE%C3%28 (invalid UTF-8)", raw_query=raw
            )
            await self._send(target, request)

    async def _attack_request(self, target: ScanTarget) -> None:
        long_value = "A" * LONG_HEADER
        attacks: list[_Request] = [
            self._build(
                target,
                label="header:X-Overlong",
                payload=f"'A' * {LONG_HEADER}",
                headers={"x-overlong": long_value},
            ),
            self._build(
                target,
                label="header:Cookie",
                payload=f"cookie of {LONG_HEADER} bytes",
                headers={"cookie": f"session={long_value}"},
            ),
            self._build(
                target,
                label="header:User-Agent",
                payload="invalid UTF-8",
                headers={"user-agent": INVALID_UTF8},
            ),
        ]
        if target.method in _BODY_METHODS:
            attacks += [
                self._build(
                    target, label="body", payload="deeply nested JSON", body=deeply_nested_json()
                ),
                self._build(target, label="body", payload="huge JSON array", body=huge_json()),
                self._build(
                    target,
                    label="body",
                    payload="invalid UTF-8 JSON",
                    body=b'{"a": "' + INVALID_UTF8 + b'"}',
                ),
                self._build(target, label="body", payload="truncated JSON", body=b'{"a": '),
            ]
        for request in attacks:
            await self._send(target, request)


def _select_payloads(
    categories: Iterable[str] | None,
    payloads: Mapping[str, Sequence[str]] | None,
    limit: int | None,
) -> dict[str, Sequence[str]]:
    chosen: dict[str, Sequence[str]] = {
        c: load_payloads(c) for c in (CATEGORIES if categories is None else categories)
    }
    chosen.update(payloads or {})
    if limit is not None:
        chosen = {c: list(p)[:limit] for c, p in chosen.items()}
    return chosen


async def ascan(
    app: ASGIApp,
    targets: Iterable[TargetSpec] | None = None,
    *,
    openapi_url: str | None = "/openapi.json",
    categories: Iterable[str] | None = None,
    payloads: Mapping[str, Sequence[str]] | None = None,
    max_payloads: int | None = None,
    check_headers: bool | Literal["strict"] = True,
    headers: Mapping[str, str] | None = None,
    lifespan: bool = True,
) -> ScanReport:
    """Async :func:`scan`."""
    async with AsyncExitStack() as stack:
        client = AsyncTestClient(
            app, raise_server_exceptions=False, follow_redirects=False, headers=headers
        )
        if lifespan:
            await stack.enter_async_context(client)
        else:
            stack.push_async_callback(client.aclose)
        found = (
            coerce_targets(targets)
            if targets is not None
            else await discover_targets(client, app, openapi_url)
        )
        scanner = _Scanner(
            client, _select_payloads(categories, payloads, max_payloads), check_headers
        )
        for target in found:
            await scanner.scan(target)
    return scanner.report


def scan(
    app: ASGIApp,
    targets: Iterable[TargetSpec] | None = None,
    *,
    backend: Literal["asyncio", "trio"] = "asyncio",
    **options: Any,
) -> ScanReport:
    """Walk every operation of ``app`` with hostile inputs; see :func:`ascan` for options.

    Operations come from ``targets`` if given, else the app's OpenAPI document
    (``openapi_url``), else ``app.routes``. ``check_headers`` (default ``True``) expects
    nosniff and a framing policy everywhere and a Referrer-Policy on pages;
    ``"strict"`` expects qake-security's whole page set; ``False`` checks no headers.
    """
    report: ScanReport = anyio.run(
        functools.partial(ascan, app, targets, **options), backend=backend
    )
    return report


def assert_no_findings(
    app: ASGIApp,
    targets: Iterable[TargetSpec] | None = None,
    *,
    ignore: Iterable[FindingKind] = (),
    **options: Any,
) -> ScanReport:
    """Scan ``app`` and fail the test with the report's summary if anything is found."""
    report = scan(app, targets, **options)
    ignored = set(ignore)
    kept = [finding for finding in report.findings if finding.kind not in ignored]
    if kept:
        raise AssertionError(ScanReport(kept, report.operations, report.requests).summary())
    return report
