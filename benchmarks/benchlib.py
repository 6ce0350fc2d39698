"""What the benchmark drivers share: frameworks, scenarios, checks, statistics, tables."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

# Typography for the markdown tables (spelled as escapes: ruff flags them as ambiguous).
DASH = "\u2013"  # en dash, for ranges: 8.4-9.0
TIMES = "\u00d7"  # multiplication sign, for ratios
DIVIDE = "\u00f7"  # division sign, for the S5 / S5s table
MINUS = "\u2212"  # minus sign, for the S7 - S2 table


@dataclass(frozen=True)
class Framework:
    key: str
    label: str
    module: str
    distribution: str | None  # whose version is reported
    #: False for a reference app that is not a peer: measured only when named (and
    #: always by ``inprocess.py --check``).
    peer: bool = True


FRAMEWORKS: dict[str, Framework] = {
    f.key: f
    for f in (
        Framework("bare", "bare ASGI", "apps.bare_asgi", None),
        Framework("qakeapi", "qakeapi", "apps.qakeapi_app", "qakeapi"),
        Framework("blacksheep", "BlackSheep", "apps.blacksheep_app", "blacksheep"),
        Framework("falcon", "Falcon", "apps.falcon_app", "falcon"),
        Framework("starlette", "Starlette", "apps.starlette_app", "starlette"),
        Framework("litestar", "Litestar", "apps.litestar_app", "litestar"),
        Framework("fastapi", "FastAPI", "apps.fastapi_app", "fastapi"),
        Framework(
            "bare-headers",
            "bare ASGI + qakeapi's default headers",
            "apps.bare_headers",
            None,
            peer=False,
        ),
        Framework(
            "qakeapi-compat",
            "qakeapi, compat='fastapi'",
            "apps.qakeapi_compat",
            "qakeapi",
            peer=False,
        ),
        Framework(
            "qakeapi-untyped",
            "qakeapi, no return types",
            "apps.qakeapi_untyped",
            "qakeapi",
            peer=False,
        ),
        Framework(
            "qakeapi-nocache",
            "qakeapi, JWTAuth(cache_size=0)",
            "apps.qakeapi_nocache",
            "qakeapi",
            peer=False,
        ),
    )
}
#: What the drivers measure when ``--frameworks`` is not given: the bare app and peers.
DEFAULT_FRAMEWORKS = [key for key, framework in FRAMEWORKS.items() if framework.peer]

S4_BODY = b'{"name":"widget","price":9.5,"tags":["a","b"]}'


Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    #: Request header lines sent besides Host, User-Agent, Accept (and, with a body,
    #: Content-Type and Content-Length).
    headers: Headers = ()
    status: int = 200
    expect_json: Any = None
    expect_text: str | None = None
    #: Response header lines that must be there with exactly these values (names
    #: compared case-insensitively).
    expect_headers: Headers = ()
    #: False: the status (and ``expect_headers``) is all that is checked, not the body
    #: (a 401 is a problem document in one framework and plain text in another).
    check_body: bool = True
    #: The app module attribute serving it: ``app`` (2,000 extra routes), ``app_mw``
    #: (the same behind three middlewares), ``app_small`` (2 extra routes) or
    #: ``app_auth`` (the same as ``app`` behind CORS, security headers and JWT auth).
    app_attr: str = "app"

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def header_dict(self) -> dict[str, str]:
        """The request headers as a dict (for http.client)."""
        headers = {"Content-Type": "application/json"} if self.body else {}
        headers.update(self.headers)
        return headers

    def check(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> str | None:
        """Return why the response is wrong, or None when it is the expected one."""
        if status != self.status:
            return f"status {status}, expected {self.status}; body {body[:200]!r}"
        got: dict[str, list[str]] = {}
        for name, value in headers:
            got.setdefault(name.lower(), []).append(value)
        for name, value in self.expect_headers:
            if got.get(name.lower()) != [value]:
                return f"header {name}: {got.get(name.lower())!r}, expected [{value!r}]"
        if not self.check_body:
            return None
        content_type = got.get("content-type", [""])[0]
        if self.expect_text is not None:
            if not content_type.startswith("text/plain"):
                return f"content-type {content_type!r}, expected text/plain"
            if body != self.expect_text.encode():
                return f"body {body[:200]!r}, expected {self.expect_text!r}"
            return None
        if not content_type.startswith("application/json"):
            return f"content-type {content_type!r}, expected application/json"
        try:
            value = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:200]!r}"
        if value != self.expect_json or json.dumps(value) != json.dumps(self.expect_json):
            return f"JSON {value!r}, expected {self.expect_json!r}"
        return None


HELLO = "Hello, World!"


def setup_import_path() -> None:
    """Make ``apps.*`` importable (the drivers run from any working directory)."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))


def _s7_constants() -> tuple[str, str, str]:
    """The origin, key and algorithm the apps use (``apps.common``)."""
    setup_import_path()
    from apps.common import CORS_ORIGIN, JWT_ALGORITHM, JWT_KEY

    return CORS_ORIGIN, JWT_KEY, JWT_ALGORITHM


CORS_ORIGIN, JWT_KEY, JWT_ALGORITHM = _s7_constants()
JWT_USER = "alice"


def make_token(key: str = JWT_KEY) -> str:
    """S7's bearer token: HS256, ``sub``, ``iat`` and an ``exp`` far in the future.

    Fixed claims, so every process (and wrk's command line) sends the same token.
    """
    claims = {"sub": JWT_USER, "iat": 1_764_460_800, "exp": 4_102_444_800}  # 2025-11-30, 2100
    return jwt.encode(claims, key, algorithm=JWT_ALGORITHM)


TOKEN = make_token()
#: Signed by another key of the same length: every app must refuse it.
FORGED_TOKEN = make_token("another-benchmark-hs256-key-0123456789abcdef")
S7_HEADERS: Headers = (("Authorization", f"Bearer {TOKEN}"), ("Origin", CORS_ORIGIN))
S7_EXPECT_HEADERS: Headers = (
    ("access-control-allow-origin", CORS_ORIGIN),
    ("x-content-type-options", "nosniff"),
)

SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("S1", "`GET /plaintext`", "GET", "/plaintext", expect_text=HELLO),
        Scenario("S2", "`GET /json`", "GET", "/json", expect_json={"message": HELLO}),
        Scenario(
            "S3",
            "two typed path params + two query params",
            "GET",
            "/users/1/items/2",
            query="limit=5&q=abc",
            expect_json={"user_id": 1, "item_id": 2, "limit": 5, "q": "abc"},
        ),
        Scenario(
            "S4",
            "`POST /items` pydantic body, echoed, 201",
            "POST",
            "/items",
            body=S4_BODY,
            status=201,
            expect_json={"name": "widget", "price": 9.5, "tags": ["a", "b"]},
        ),
        Scenario(
            "S5",
            "last of 2,000 routes (`/r999/{x}`)",
            "GET",
            "/r999/abc",
            expect_json={"x": "abc"},
        ),
        Scenario(
            "S5s",
            "S5 with 2 extra routes instead of 2,000 (`/r0/{x}`)",
            "GET",
            "/r0/abc",
            expect_json={"x": "abc"},
            app_attr="app_small",
        ),
        Scenario(
            "S6",
            "S2 through three pass-through middlewares",
            "GET",
            "/json",
            expect_json={"message": HELLO},
            app_attr="app_mw",
        ),
        Scenario(
            "S7",
            "S2 behind CORS + security headers + JWT auth (a valid token)",
            "GET",
            "/json",
            headers=S7_HEADERS,
            expect_json={"message": HELLO, "user": JWT_USER},
            expect_headers=S7_EXPECT_HEADERS,
            app_attr="app_auth",
        ),
    )
}

#: Requests checked (never timed) in ``--check`` mode besides the scenarios.
EXTRA_CHECKS: tuple[Scenario, ...] = (
    Scenario("r0", "first parametrised extra route", "GET", "/r0/zz", expect_json={"x": "zz"}),
    Scenario("static", "last static extra route", "GET", "/static-999", expect_text="static"),
    Scenario(
        "static-small",
        "the static extra route of the small app",
        "GET",
        "/static-0",
        expect_text="static",
        app_attr="app_small",
    ),
    Scenario(
        "S3-defaults",
        "S3 with the query defaults",
        "GET",
        "/users/7/items/8",
        expect_json={"user_id": 7, "item_id": 8, "limit": 10, "q": ""},
    ),
    Scenario(
        "S7-no-token",
        "S7 without a token",
        "GET",
        "/json",
        headers=(("Origin", CORS_ORIGIN),),
        status=401,
        check_body=False,
        app_attr="app_auth",
    ),
    Scenario(
        "S7-other-key",
        "S7 with a token signed by another key",
        "GET",
        "/json",
        headers=(("Authorization", f"Bearer {FORGED_TOKEN}"), ("Origin", CORS_ORIGIN)),
        status=401,
        check_body=False,
        app_attr="app_auth",
    ),
)


def parse_list(
    value: str | None, known: Sequence[str], what: str, default: Sequence[str] | None = None
) -> list[str]:
    """Parse a comma-separated option (``default``, else all of ``known``, when empty)."""
    if not value:
        return list(known if default is None else default)
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return wanted


def load_app(framework: Framework, attribute: str) -> Any:
    """The framework module's ``attribute`` (``app``, ``app_mw``, ``app_small``)."""
    setup_import_path()
    module = importlib.import_module(framework.module)
    return getattr(module, attribute)


def version_of(framework: Framework) -> str:
    if framework.distribution is None:
        return ""
    try:
        return importlib.metadata.version(framework.distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@dataclass
class Summary:
    median: float
    low: float
    high: float
    samples: list[float] = field(default_factory=list)


def summarise(samples: Iterable[float]) -> Summary:
    values = sorted(samples)
    return Summary(statistics.median(values), values[0], values[-1], values)


def fmt_number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['implementation']} {info['python']} on {info['cpu']} "
        f"({info['cpus']} cores, {info['platform']}); load average at start "
        f"{' / '.join(str(x) for x in info['loadavg'])}"
    )
