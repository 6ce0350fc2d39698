"""XSS and SQL injection: the classic payloads go through templates, JSON and hand-built
HTML and come out inert, and exactly as sent where they are data; SQL binds values and
allow-lists identifiers. No input is "sanitised"."""

import json
import sqlite3
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from qake_core import HTMLResponse, HTTPException, Jinja2Templates, Request
from qake_security import escape_html, escape_js_string, safe_identifier, safe_url
from qake_testing import TestClient
from qakeapi import QakeAPI

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
    " JaVa\tScRiPt:alert(document.cookie)",
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    "line\u2028separator\u2029&amp;",
]

PAGE = """<!doctype html>
<title>{{ q }}</title>
<p id="text">{{ q }}</p>
<input value="{{ q }}">
<a href="{{ safe_url(q) }}">link</a>
<script>const data = {{ escape_js_string(q) }};</script>
"""


class Elements(HTMLParser):
    """The elements and attributes a browser would build from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def make_app(tmp_path: Path) -> QakeAPI:
    (tmp_path / "page.html").write_text(PAGE)
    templates = Jinja2Templates(tmp_path)
    templates.env.globals.update(safe_url=safe_url, escape_js_string=escape_js_string)
    app = QakeAPI()

    @app.get("/page")
    async def page(request: Request, q: str) -> HTMLResponse:
        return templates.TemplateResponse(request, "page.html", {"q": q})

    @app.get("/fragment")
    async def fragment(q: str) -> HTMLResponse:
        return HTMLResponse(f'<p title="{escape_html(q)}">{escape_html(q)}</p>')

    @app.get("/echo")
    async def echo(q: str) -> dict[str, str]:
        return {"q": q}

    @app.post("/echo")
    async def echo_body(request: Request) -> dict[str, Any]:
        return {"received": await request.json()}

    return app


@pytest.mark.parametrize("payload", PAYLOADS)
def test_template_output_is_inert(tmp_path: Path, payload: str) -> None:
    response = TestClient(make_app(tmp_path)).get("/page", params={"q": payload})
    assert response.status_code == 200
    page = parse(response.text)
    assert page.tags == ["title", "p", "input", "a", "script"]  # nothing injected
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    assert ("value", payload) in page.attributes  # the attribute holds exactly the input
    href = dict(page.attributes)["href"] or ""
    assert not href.lower().lstrip().replace("\t", "").startswith("javascript")
    (script,) = page.scripts
    assert "</" not in script
    assert "<!--" not in script
    assert json.loads(script.removeprefix("const data = ").removesuffix(";")) == payload
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hand_built_html_with_escape_html_is_inert(tmp_path: Path, payload: str) -> None:
    response = TestClient(make_app(tmp_path)).get("/fragment", params={"q": payload})
    page = parse(response.text)
    assert page.tags == ["p"]
    assert page.attributes == [("title", payload)]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_json_keeps_the_data_exactly_and_is_never_sniffed(tmp_path: Path, payload: str) -> None:
    client = TestClient(make_app(tmp_path))
    response = client.get("/echo", params={"q": payload})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json() == {"q": payload}  # no mangling, no "sanitising"
    posted = client.post("/echo", json={"comment": payload, "nested": [payload]})
    assert posted.json() == {"received": {"comment": payload, "nested": [payload]}}


def test_escape_helpers() -> None:
    assert escape_html("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"
    assert escape_html(escape_html("<b>")) == "&lt;b&gt;"  # markup is not escaped twice
    assert escape_html(5) == "5"
    text = escape_js_string({"k": "</script><!--\u2028&"})
    assert text == '{"k":"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}'
    assert json.loads(text) == {"k": "</script><!--\u2028&"}
    for url in ("https://example.com/a?b=1", "/relative/path", "?q=1", "#top", "mailto:a@b.c"):
        assert safe_url(url) == url
    for url in ("javascript:alert(1)", "\x01 jAvAsCrIpT:x", "java\nscript:x", "data:text/html,x"):
        assert safe_url(url) == "about:invalid"
    assert safe_url("data:image/png;base64,AA", schemes=("data",)) == "data:image/png;base64,AA"


def make_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE users (name TEXT, email TEXT, age INTEGER)")
    db.executemany(
        "INSERT INTO users VALUES (?, ?, ?)",
        [("alice", "a@example.com", 31), ("bob", "b@example.com", 27)],
    )
    return db


def test_sql_values_are_bound_and_identifiers_allow_listed() -> None:
    db = make_db()
    app = QakeAPI()

    @app.get("/users")
    def users(name: str = "", sort: str = "name") -> list[dict[str, Any]]:
        try:
            column = safe_identifier(sort, allowed={"name", "age"})
        except ValueError:
            raise HTTPException(400, "sort must be one of: age, name") from None
        rows = db.execute(
            f"SELECT name, age FROM users WHERE name = ? OR ? = '' ORDER BY {column}",
            (name, name),
        )
        return [{"name": n, "age": a} for n, a in rows]

    client = TestClient(app)
    assert [u["name"] for u in client.get("/users", params={"sort": "age"}).json()] == [
        "bob",
        "alice",
    ]
    assert client.get("/users", params={"name": "alice"}).json() == [{"name": "alice", "age": 31}]
    for attack in ("' OR 1=1 --", "'; DROP TABLE users; --", "alice' --"):
        assert client.get("/users", params={"name": attack}).json() == []
    refused = client.get("/users", params={"sort": "name; DROP TABLE users"})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert db.execute("SELECT count(*) FROM users").fetchone() == (2,)  # the table survived
    # the data itself is stored exactly as sent
    db.execute("INSERT INTO users VALUES (?, ?, ?)", ("'; DROP TABLE users; --", "x", 1))
    assert client.get("/users", params={"name": "'; DROP TABLE users; --"}).json() == [
        {"name": "'; DROP TABLE users; --", "age": 1}
    ]


def test_safe_identifier() -> None:
    assert safe_identifier("created_at") == '"created_at"'
    assert safe_identifier("select") == '"select"'  # a keyword is fine once quoted
    assert safe_identifier('odd "name"', allowed=['odd "name"']) == '"odd ""name"""'
    for bad in ("users; DROP TABLE x", "1abc", "a-b", "a b", "", "x" * 64, 'a"b', "na\u00efve"):
        with pytest.raises(ValueError, match="not a plain identifier"):
            safe_identifier(bad)
    with pytest.raises(ValueError, match="not one of the allowed"):
        safe_identifier("password", allowed={"name", "age"})
    with pytest.raises(TypeError, match="collection"):
        safe_identifier("a", allowed="abc")
    with pytest.raises(TypeError, match="string"):
        safe_identifier(3)  # type: ignore[arg-type]

    db = make_db()
    db.execute(f"SELECT {safe_identifier('email')} FROM users")
    with pytest.raises(ValueError, match="not a plain identifier"):
        db.execute(f"SELECT name FROM users ORDER BY {safe_identifier('x; DROP TABLE users')}")
    assert db.execute("SELECT count(*) FROM users").fetchone() == (2,)
