"""The facts the guides quote, checked against the code and the benchmark results, so
that the pages cannot rot: the defaults of docs/security.md (limits, headers, errors,
CORS, CSRF, sessions, JWTs, passwords, WebSockets) and docs/performance.md (the
thread pool, the response cache), the tables docs/performance.md copies from
benchmarks/results/, and the modules, functions and files docs/architecture.md names.

Each fact is asserted twice: the code has the value, and the page says it."""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import qake_ws
from qakeapi import HTMLResponse, Limits, QakeAPI, Request
from qakeapi.security import (
    API_CSP,
    DEFAULT_CSP,
    DEFAULT_PERMISSIONS_POLICY,
    CORSMiddleware,
    CSRFMiddleware,
    HTTPSRedirectMiddleware,
    JWTAuth,
    PasswordHasher,
    RateLimit,
    SessionMiddleware,
    TrustedHostMiddleware,
    hash_password_sync,
    login,
)
from qakeapi.testing import TestClient

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def flat(text: str) -> str:
    """The page's text with line breaks and runs of spaces as one space (prose wraps)."""
    return re.sub(r"\s+", " ", text)


def defaults(obj: Any) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(obj).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


# -- docs/security.md: what the defaults do ---------------------------------------------

MIB, KIB = 1024 * 1024, 1024

#: field -> (the default in the code, the table's cell on the page)
LIMITS = {
    "max_body_size": (MIB, "1 MiB (1,048,576 bytes)"),
    "max_form_fields": (1000, "1,000"),
    "max_files": (100, "100"),
    "max_file_size": (16 * MIB, "16 MiB per uploaded file"),
    "max_part_header_size": (16 * KIB, "16 KiB per multipart part's headers"),
    "max_header_count": (100, "100 request headers (app level)"),
    "max_header_size": (64 * KIB, "64 KiB of request headers in all (app level)"),
    "max_header_line_size": (16 * KIB, "16 KiB per header (app level)"),
    "max_target_size": (64 * KIB, "64 KiB of path and query (app level)"),
    "body_timeout": (30.0, "30 s without the client's next bytes"),
}


def test_the_limits_table_is_the_apps_limits() -> None:
    app_limits = QakeAPI().limits
    text = page("security.md")
    for field, (value, cell) in LIMITS.items():
        assert getattr(app_limits, field) == value, field
        assert f"| `{field}` | {cell} |" in text, field
    # the table lists every field of Limits, no more
    listed = set(re.findall(r"^\| `(\w+)` \| ", text, re.MULTILINE)) & set(
        Limits.__dataclass_fields__
    )
    assert listed == set(Limits.__dataclass_fields__) == set(LIMITS)


def test_the_body_limit_answers_413_with_the_quoted_detail() -> None:
    app = QakeAPI()

    @app.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, int]:
        return {"keys": len(payload)}

    with TestClient(app) as client:
        answer = client.post(
            "/echo", content=b"{" + b" " * MIB + b"}", headers={"content-type": "application/json"}
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"


#: header -> (on pages, on other answers), as the page's table gives them
HEADERS = {
    "x-content-type-options": ("nosniff", "nosniff"),
    "content-security-policy": (DEFAULT_CSP, API_CSP),
    "x-frame-options": ("DENY", None),
    "referrer-policy": ("strict-origin-when-cross-origin", None),
    "cross-origin-opener-policy": ("same-origin", None),
    "cross-origin-resource-policy": ("same-origin", None),
    "permissions-policy": (DEFAULT_PERMISSIONS_POLICY, None),
    "x-permitted-cross-domain-policies": ("none", None),
}


def header_app(**options: Any) -> QakeAPI:
    app = QakeAPI(**options)

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"answer": 42}

    @app.get("/page")
    async def html_page() -> HTMLResponse:
        return HTMLResponse("<h1>Hello</h1>")

    return app


def test_the_security_header_sets_are_the_quoted_ones() -> None:
    text = flat(page("security.md"))
    with TestClient(header_app()) as client:
        on_page = client.get("/page").headers
        on_json = client.get("/data").headers
    for name, (page_value, other_value) in HEADERS.items():
        assert on_page.get(name) == page_value, name
        assert on_json.get(name) == other_value, name
    assert DEFAULT_CSP == (
        "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'"
    )
    assert f"`{DEFAULT_CSP}` (`DEFAULT_CSP`)" in text
    assert f"`{API_CSP}` (`API_CSP`)" in text
    for value in ("nosniff", "DENY", "strict-origin-when-cross-origin", "same-origin"):
        assert f"`{value}`" in text
    assert "strict-transport-security" not in on_page
    assert "cache-control" not in on_json


def test_hsts_is_off_until_asked_and_then_https_only() -> None:
    text = flat(page("security.md"))
    app = header_app(security_headers={"hsts": True})
    with TestClient(app, base_url="https://testserver") as client:
        hsts = client.get("/data").headers["strict-transport-security"]
    with TestClient(header_app(security_headers={"hsts": True})) as client:
        assert "strict-transport-security" not in client.get("/data").headers
    assert hsts == "max-age=31536000; includeSubDomains"
    assert f"with `hsts=True`: `{hsts}`, over HTTPS only" in text


def test_a_server_error_answers_the_quoted_generic_problem() -> None:
    app = QakeAPI()

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("a secret in the message")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    body = answer.json()
    assert answer.status_code == 500
    assert "secret" not in answer.text
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server failed to handle the request.",
    }
    quoted = (
        '`{"type": "about:blank", "title": "Internal Server Error", "status": 500, '
        '"detail": "The server failed to handle the request."}`'
    )
    assert quoted in flat(page("security.md"))


def test_what_is_off_until_turned_on() -> None:
    text = flat(page("security.md"))
    app = QakeAPI()
    assert app.user_middleware == []
    assert app.trusted_proxies == []
    cors = defaults(CORSMiddleware)
    assert cors["allow_methods"] == ("GET", "HEAD", "POST")
    assert cors["max_age"] == 600
    assert "`allow_methods` defaults to `GET, HEAD, POST`, `max_age` to 600 s" in text
    assert defaults(TrustedHostMiddleware)["allowed_hosts"] == ("*",)
    assert defaults(HTTPSRedirectMiddleware)["status_code"] == 308
    assert "`308` to `https://`" in text
    with pytest.raises(ValueError):
        CORSMiddleware(app, allow_origins=["*"], allow_credentials=True)


def test_the_csrf_names_are_the_quoted_ones() -> None:
    text = flat(page("security.md"))
    options = defaults(CSRFMiddleware)
    assert options["header_name"] == "x-csrf-token"
    assert options["field_name"] == "csrf_token"
    assert options["safe_methods"] == ("GET", "HEAD", "OPTIONS", "TRACE")
    key = "k" * 32
    app = QakeAPI()

    @app.get("/form")
    async def form() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/form")
    async def submit() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(CSRFMiddleware, secret_keys=[key])
    app.add_middleware(SessionMiddleware, secret_keys=[key])
    with TestClient(app, base_url="https://testserver") as client:
        client.get("/form")
        cookie = next(c for c in client.cookies.jar if c.name == "__Host-csrf")
        refused = client.post("/form")
    assert cookie.secure
    assert cookie.path == "/"
    assert refused.status_code == 403
    assert refused.json()["detail"] == "CSRF check failed."
    for quoted in ("`__Host-csrf`", "`csrf_token` form field", "`X-CSRF-Token` header"):
        assert quoted in text
    assert "(anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`)" in text
    assert "`CSRF check failed.`" in text


def test_the_session_cookie_is_the_quoted_one() -> None:
    app = QakeAPI()

    @app.post("/login")
    async def do_login(request: Request) -> dict[str, bool]:
        login(request, "alice")
        return {"ok": True}

    app.add_middleware(SessionMiddleware, secret_keys=["s" * 32])
    with TestClient(app, base_url="https://testserver") as client:
        set_cookie = client.post("/login").headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")}
    assert set_cookie.startswith("__Host-session=")
    assert re.search(r"Max-Age=1209600\b", set_cookie), set_cookie  # 14 days
    assert {"path", "secure", "httponly", "samesite"} <= attributes
    assert "samesite=lax" in set_cookie.lower()
    assert "(HMAC-SHA256, 14 days, `__Host-session; Path=/; Secure; HttpOnly; SameSite=Lax`)" in (
        flat(page("security.md"))
    )


def test_the_jwt_and_password_defaults_are_the_quoted_ones() -> None:
    text = flat(page("security.md"))
    jwt = defaults(JWTAuth)
    assert jwt["leeway"] == 30
    assert jwt["require"] == ("exp", "iat")
    assert jwt["expires_in"] == 900
    assert jwt["cache_size"] == 1024
    assert '`require=("exp", "iat")`' in text
    assert "a `leeway` of 30 s" in text
    assert "`expires_in=900` s (15 minutes)" in text
    with pytest.raises(ValueError):
        JWTAuth(key="x" * 31, algorithms=["HS256"])  # "HS256 needs ... at least 32 bytes"
    JWTAuth(key="x" * 32, algorithms=["HS256"])
    with pytest.raises(ValueError):
        JWTAuth(key="x" * 32, algorithms=["none"])
    hasher = defaults(PasswordHasher)
    assert (hasher["scrypt_log_n"], hasher["scrypt_r"], hasher["scrypt_p"]) == (17, 8, 1)
    assert hasher["max_concurrency"] == 2
    assert "(N=2^17, r=8, p=1)" in text
    assert "`max_concurrency=2`" in text
    stored = hash_password_sync("a password")
    if stored.startswith("$argon2id$"):  # qakeapi[argon2] installed
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert "t=3, m=64 MiB, p=4" in text
    else:
        assert stored.startswith("$scrypt$ln=17,r=8,p=1$")
    assert defaults(RateLimit)["on_store_error"] == "open"
    assert '`"open"` (the default)' in text


def test_the_websocket_and_performance_defaults_are_the_quoted_ones() -> None:
    security, performance = flat(page("security.md")), flat(page("performance.md"))
    assert qake_ws.DEFAULT_MAX_MESSAGE_SIZE == MIB
    assert qake_ws.DEFAULT_MAX_MESSAGES_PER_SECOND == 100
    assert qake_ws.DEFAULT_IDLE_TIMEOUT == 300
    assert "1 MiB messages, 100 messages per second per connection and a 300 s idle" in security
    assert defaults(QakeAPI.__mro__[1].__init__)["thread_limiter_tokens"] == 40
    assert "`thread_limiter_tokens=40`" in performance
    from qakeapi import cache

    assert defaults(cache)["ttl"] == 60.0
    assert "`@cache(ttl=60)`" in performance
    cache_module = importlib.import_module("qake_core._cache")
    assert "MemoryStore(1000)" in inspect.getsource(cache_module.cache_hook)
    assert "`MemoryStore` of 1,000 entries" in performance


# -- docs/performance.md: the tables are copies of the results ---------------------------


def test_the_head_deadline_is_the_quoted_one() -> None:
    from qakeapi._cli import HEAD_TIMEOUT

    text = flat(page("security.md"))
    assert f"`qake run` gives a client {HEAD_TIMEOUT:g} s to send a whole request head" in text
    assert "(`--head-timeout`;" in text


def tables(markdown: str) -> list[list[str]]:
    """Every markdown table of ``markdown`` (outside code), as its lines."""
    found: list[list[str]] = []
    current: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def test_every_benchmark_table_of_the_page_is_in_the_results() -> None:
    text = page("performance.md")
    numbers = text[text.index("## The numbers") : text.index("## What each scenario measures")]
    results = {path.name: path.read_text(encoding="utf-8") for path in RESULTS.glob("*.md")}
    quoted = tables(numbers)
    assert len(quoted) == 5  # in-process, end-to-end, memory, import time, instructions
    for table in quoted:
        block = "\n".join(table)
        assert any(block in body for body in results.values()), table[0]


def test_the_quoted_figures_are_in_the_benchmark_files() -> None:
    text = flat(page("performance.md"))
    readme = flat((ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8"))
    files = {p.name: flat(p.read_text(encoding="utf-8")) for p in RESULTS.glob("*.md")}
    quoted = {
        "README.md": [
            "at commit `f0e96c1` on 2026-11-25",
            "2026-11-30 at commit `9f2ce26`",
            "| S7 S2 behind CORS + security headers + JWT auth (a valid token) | 54.6",
            "| 12.1 (9.29–14.6) | 105 (72.7–134) | 112 (100–147) | 86.3 (83.3–91.9) | 125 (110–158)"  # noqa: RUF001
            " | 182 (169–279) | 704 (409–936) |",  # noqa: RUF001
            "S7 costs +27,437 instructions per request over S2's 32,358",
            "| S2 plain | 3.6 |",
            "| S2 + `RateLimit` dependency, `MemoryStore` | 12.8 |",
            "| S2 + `RateLimit` dependency, `RedisStore` (127.0.0.1:6379) | 266.6 |",
            "One run at commit `63be0c6`",
        ],
        "websocket.md": ["14.12 (×1.00) | 15.19 (×1.08)", "8.41 (×1.00) | 9.22 (×1.10)"],  # noqa: RUF001
        "observability.md": [
            "measured at commit 793c7e3",
            "| 33,018 |",
            "| +21,881 |",
            "| +125,263 |",
            "| +34,129 |",
            "| +713,488 |",
        ],
        "soak.md": ["2026-11-30T19:11:36Z", "| basic_app | 600 | 2871986 | 4786 |"],
    }
    for name, figures in quoted.items():
        source = readme if name == "README.md" else files[name]
        for figure in figures:
            assert figure in source, (name, figure)
    for figure in (
        "re-run for issue 20 at commit `aa51c98`, 2026-12-01",
        "(2026-11-30, commit `9f2ce26`",
        "qakeapi 12.1 µs against Falcon 86.3, BlackSheep 112, Starlette 125, Litestar 182 and "
        "FastAPI 704; the bare floor, which verifies the token with PyJWT on every request, 54.6",
        "qakeapi's S7 is 105 µs",
        "+27,437 instructions per request over S2's 32,358",
        "S2 3.6 µs; with a `RateLimit` dependency on a `MemoryStore` 12.8 µs; on a `RedisStore` "
        "266.6 µs",
        "(2026-11-30, commit `63be0c6`",
        "echo on 100 connections 15.19 (bare 14.12, ×1.08), broadcast to 1,000 subscribers "  # noqa: RUF001
        "9.22 (bare 8.41, ×1.10)",  # noqa: RUF001
        "(commit `793c7e3`",
        "over S2's 33,018: request ID +21,881, the JSON access log +125,263, Prometheus "
        "metrics +34,129, OpenTelemetry (server span only) +713,488",
        "`basic_app` 2,871,986 requests (4,786/s), `db_app` 267,648 (446/s); RSS growth "
        "+0.08 % and +0.06 %",
    ):
        assert figure in text, figure
    soak = files["soak.md"]
    assert "| db_app | 600 | 267648 | 446 |" in soak
    assert "+0.08 %" in soak
    assert "+0.06 %" in soak


def test_the_rerun_commands_are_the_hatch_scripts() -> None:
    hatch = tomllib.loads((ROOT / "hatch.toml").read_text(encoding="utf-8"))
    scripts = hatch["envs"]["bench"]["scripts"]
    text = page("performance.md")
    for command in re.findall(r"hatch run bench:(\w+)", text):
        assert command in scripts or command == "python", command
    for driver in re.findall(r"benchmarks/(\w+\.py)", text):
        assert (ROOT / "benchmarks" / driver).is_file(), driver


# -- docs/architecture.md: the modules and names it gives exist --------------------------


def test_every_source_file_the_architecture_names_exists() -> None:
    text = page("architecture.md")
    sources = {
        p.relative_to(ROOT / "packages").as_posix() for p in ROOT.glob("packages/*/src/*/**/*.py")
    }
    named = set(re.findall(r"(qake_\w+/[\w/]+\.py)", text))
    assert len(named) >= 8
    for path in named:
        assert any(source.endswith(path) for source in sources), path
    for path in re.findall(r"`(\.ci/[\w.]+|\.importlinter)`", text):
        assert (ROOT / path).exists(), path


#: Dotted names the page gives for the request path and the owners of concepts.
NAMES = (
    "qake_core._app.App.__call__",
    "qake_core._app.App.build",
    "qake_core._app.App._compile_route",
    "qake_core._dispatch.Dispatcher.dispatch",
    "qake_core._dispatch.Dispatcher.dispatch_websocket",
    "qake_core._runners.direct_runner",
    "qake_core._runners.request_runner",
    "qake_core._typed._flat_runner.flat_runner",
    "qake_core._typed._endpoint.compile_route",
    "qake_core._typed._analysis.route_spec",
    "qake_core._middleware.Middleware.wrap",
    "qake_core._middleware.build_hook_chain",
    "qake_core._messages.response_messages",
    "qake_core._errors.ErrorBoundary",
    "qake_core._limits.Limits",
    "qake_core._default_headers.DEFAULT_HEADERS_KEY",
    "qake_core.HandlerSignatureError",
    "qake_core.Store",
    "qake_core.types",
    "qake_routing.Router.static_matches",
    "qake_ws.compile_websocket_route",
    "qake_docs.Docs.openapi",
    "qake_security._users.set_user",
)


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("dotted", NAMES)
def test_the_names_the_architecture_gives_exist(dotted: str) -> None:
    resolve(dotted)
    short = dotted.rsplit(".", 2)
    text = page("architecture.md")
    assert short[-1] in text or ".".join(short[-2:]) in text, dotted


def test_the_floors_and_checks_are_the_configured_ones() -> None:
    text = page("architecture.md")
    linter = (ROOT / ".importlinter").read_text(encoding="utf-8")
    for contract in ("layers", "routing-stdlib-only", "core-deps"):
        assert f"[importlinter:contract:{contract}]" in linter
        assert f"`{contract}`" in text
    hatch = tomllib.loads((ROOT / "hatch.toml").read_text(encoding="utf-8"))
    listed = re.search(r"\(`default`,\s*`hatch-test`,[^)]*\)", text)
    assert listed is not None
    named = re.findall(r"`([\w-]+)`", listed.group(0))
    with_members = {
        name
        for name, env in hatch["envs"].items()
        if "workspace" in env or "workspace.members" in env
    }
    packages = {p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file()}
    for name in named:
        members = {Path(m["path"]).name for m in hatch["envs"][name]["workspace"]["members"]}
        assert members == packages, name
    assert set(named) == {
        name
        for name in with_members
        if {Path(m["path"]).name for m in hatch["envs"][name]["workspace"]["members"]} == packages
    }
