"""``examples/fullstack_app.py``: the guestbook as a browser sees it — pages, the log-in
and sign-up forms, CSRF tokens, flash messages in the session, escaping, static files,
server-sent events — through the test client, then under ``qake run``."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from qake_server import qake_run

from examples.fullstack_app import FullstackSettings, create_app
from qakeapi import SettingsError, begin_draining
from qakeapi.testing import TestClient, load_payloads

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 32
DEMO_PASSWORD = "the demo's password"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SECRET", "DB", "DEMO_USER", "DEMO_PASSWORD", "STREAM_SECONDS", "LOGIN_RATE"):
        monkeypatch.delenv(f"FULLSTACK_APP_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file but a test's own


def settings(**values: Any) -> FullstackSettings:
    values = {
        "secret": SECRET,
        "demo_password": DEMO_PASSWORD,
        "stream_seconds": 5,
        "login_rate": "1000/minute",
        **values,
    }
    return FullstackSettings.load(**values)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(settings()), base_url="https://testserver") as c:
        yield c


def token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (as a browser reads it from the page)."""
    found = TOKEN.search(client.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def log_in(client: TestClient, username: str = "demo", password: str = DEMO_PASSWORD) -> None:
    data = {"username": username, "password": password, "csrf_token": token(client, "/login")}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def sign(client: TestClient, text: str) -> httpx.Response:
    data = {"text": text, "csrf_token": token(client)}
    return client.post("/entries", data=data, follow_redirects=False)


def test_pages_render_with_forms_and_security_headers(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert "No entries yet." in home.text
    assert 'href="/login"' in home.text
    assert 'action="/entries"' not in home.text  # nobody is logged in
    assert '<script src="/static/guestbook.js" defer>' in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert "__Host-csrf=" in home.headers["set-cookie"]
    page = client.get("/login")
    assert page.status_code == 200
    assert len(TOKEN.findall(page.text)) == 2  # the log-in and the sign-up form
    assert 'action="/login"' in page.text
    assert 'action="/signup"' in page.text


def test_login_flashes_once_and_logout_ends_the_session(client: TestClient) -> None:
    data = {"username": "demo", "password": "not the password", "csrf_token": token(client)}
    wrong = client.post("/login", data=data, follow_redirects=False)
    assert (wrong.status_code, wrong.headers["location"]) == (303, "/login")
    assert "Incorrect username or password." in client.get("/login").text
    assert "Incorrect username or password." not in client.get("/login").text  # shown once
    before = client.cookies.get("__Host-session")
    log_in(client)
    assert client.cookies.get("__Host-session") != before  # a new session on log-in
    home = client.get("/")
    assert "Welcome back, demo!" in home.text
    assert "Signed in as <strong>demo</strong>" in home.text
    assert 'action="/entries"' in home.text
    assert "Welcome back" not in client.get("/").text
    out = client.post("/logout", data={"csrf_token": token(client)}, follow_redirects=False)
    assert out.status_code == 303
    home = client.get("/")
    assert "You are logged out." in home.text
    assert "Signed in as" not in home.text
    refused = client.post("/entries", data={"text": "hi", "csrf_token": token(client)})
    assert refused.status_code == 401


def test_an_unknown_user_and_a_wrong_password_read_the_same(client: TestClient) -> None:
    for username in ("demo", "nobody"):
        data = {"username": username, "password": "whatever it is", "csrf_token": token(client)}
        response = client.post("/login", data=data)
        assert response.url.path == "/login"
        assert "Incorrect username or password." in response.text


def test_forms_need_this_sessions_csrf_token(client: TestClient) -> None:
    log_in(client)
    without = client.post("/entries", data={"text": "no token"})
    assert without.status_code == 403
    assert without.headers["content-type"] == "application/problem+json"
    bad = client.post("/entries", data={"text": "bad token", "csrf_token": "x.y"})
    assert bad.status_code == 403
    # a valid token of another session (another browser) is refused too
    with TestClient(create_app(settings()), base_url="https://testserver") as other:
        foreign = token(other)
    assert client.post("/entries", data={"text": "?", "csrf_token": foreign}).status_code == 403
    good = token(client)
    cross_site = client.post(
        "/entries",
        data={"text": "forged", "csrf_token": good},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    signed = sign(client, "Hello from the tests")
    assert (signed.status_code, signed.headers["location"]) == (303, "/")
    home = client.get("/").text
    assert "Thank you for signing!" in home
    assert "Hello from the tests" in home
    assert "no token" not in home
    assert "forged" not in home


def test_hostile_input_comes_back_escaped(client: TestClient) -> None:
    log_in(client)
    assert sign(client, HOSTILE).status_code == 303
    home = client.get("/").text
    assert HOSTILE not in home
    assert "<script>alert" not in home
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in home
    )
    # the stream sends it as JSON data, for the page's script to set as textContent
    with TestClient(create_app(settings(stream_seconds=0.1)), base_url="https://t") as c:
        log_in(c)
        sign(c, HOSTILE)
        events = parse_events(c.get("/events").text)
    assert json.loads(events[-1]["data"])["text"] == HOSTILE


def test_the_scanners_payloads_get_past_csrf_and_break_nothing(client: TestClient) -> None:
    """The scanner's requests come from a foreign Origin, so CSRF stops them before the
    form handlers: here its payloads go through the forms with a valid token."""
    log_in(client)
    payloads = [
        p for category in ("xss", "sqli", "traversal", "types") for p in load_payloads(category)
    ]
    for payload in payloads:
        for path, data in (
            ("/entries", {"text": payload}),
            ("/signup", {"username": payload, "password": payload * 3}),
        ):
            response = client.post(path, data={**data, "csrf_token": token(client, "/")})
            assert response.status_code < 500, (path, payload, response.text)
            if set(payload) & set("<>\"'"):
                assert payload not in response.text, (path, payload)
    for payload in load_payloads("xss") + load_payloads("sqli"):
        data = {"username": payload, "password": payload, "csrf_token": token(client, "/")}
        response = client.post("/login", data=data)
        assert response.status_code < 500
        assert "Incorrect username or password." in response.text
    home = client.get("/").text
    assert home.count('<li id="entry-') == 40  # one entry per payload: all stored as text
    assert "<script>" not in home


def test_signup_stores_a_hash_and_checks_the_form(tmp_path: Path) -> None:
    db = str(tmp_path / "guestbook.sqlite3")
    with TestClient(create_app(settings(db=db)), base_url="https://testserver") as client:
        data = {"username": "alice", "password": "alice's passphrase", "csrf_token": token(client)}
        created = client.post("/signup", data=data)
        assert created.url.path == "/"
        assert "Welcome, alice!" in created.text
        assert "Signed in as <strong>alice</strong>" in created.text
        again = client.post("/signup", data={**data, "csrf_token": token(client)})
        assert "That username is taken." in again.text
        short = {"username": "bob", "password": "short", "csrf_token": token(client)}
        invalid = client.post("/signup", data=short, headers=HTML)
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "text/html; charset=utf-8"
        assert "<code>body.password</code>" in invalid.text
        assert "short" not in invalid.text.split("<main>")[1]  # the input is not echoed
    stored = dict(sqlite3.connect(db).execute("SELECT username, password_hash FROM users"))
    assert set(stored) == {"demo", "alice"}
    assert stored["alice"].startswith(("$argon2id$", "$scrypt$"))
    assert "passphrase" not in stored["alice"]


def test_error_pages_for_browsers_problem_json_for_the_others(client: TestClient) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "404 · Not Found" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    problem = client.get("/no/such/page")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["status"] == 404
    bad_query = client.get("/events", params={"after": "<b>x</b>"}, headers=HTML)
    assert bad_query.status_code == 422
    assert "<b>x</b>" not in bad_query.text
    not_allowed = client.get("/entries", headers=HTML)
    assert not_allowed.status_code == 405
    assert "POST" in not_allowed.headers["allow"]
    assert "405 · Method Not Allowed" in not_allowed.text


def test_logins_are_rate_limited() -> None:
    app = create_app(settings(login_rate="3/minute"))
    with TestClient(app, base_url="https://testserver") as client:
        codes = []
        for _ in range(4):
            data = {"username": "demo", "password": "wrong password", "csrf_token": token(client)}
            codes.append(client.post("/login", data=data, follow_redirects=False).status_code)
    assert codes == [303, 303, 303, 429]


def test_static_files_are_served_with_their_types(client: TestClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["x-content-type-options"] == "nosniff"
    script = client.get("/static/guestbook.js")
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    assert "textContent" in script.text
    assert "innerHTML" not in script.text.replace("never innerHTML", "")
    assert client.get("/static/missing.css").status_code == 404
    assert client.get("/static/%2e%2e/%2e%2e/fullstack_app.py").status_code == 404


def parse_events(text: str) -> list[dict[str, str]]:
    """The ``text/event-stream`` body as a list of {field: value} (comments dropped)."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if fields:
            events.append(fields)
    return events


def test_the_stream_delivers_an_entry_posted_while_it_is_open(client: TestClient) -> None:
    log_in(client)
    started = time.monotonic()
    with client.stream("GET", "/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-store"
        lines = stream.iter_lines()
        # the first event says the stream is subscribed: an entry posted now reaches it
        assert [next(lines), next(lines), next(lines)] == [": subscribed", "retry: 2000", ""]
        assert sign(client, "live <entry>").status_code == 303
        received = []
        for line in lines:  # bounded: the app ends a stream after stream_seconds (5)
            if not line:
                break
            received.append(line)
    assert time.monotonic() - started < 4
    assert received[:2] == ["event: entry", "id: 1"]
    entry = json.loads(received[2].removeprefix("data: "))
    assert entry["author"] == "demo"
    assert entry["text"] == "live <entry>"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", entry["created"])


#: ``guestbook.js`` in node with a minimal DOM and EventSource: what it built, as JSON.
#: Setting ``innerHTML`` throws: the script must only ever set ``textContent``.
SCRIPT_HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const byId = {};
function element(tag) {
  const node = { tag, id: "", children: [], textContent: "", hidden: true, dataset: {} };
  Object.defineProperty(node, "innerHTML", { set() { throw new Error("innerHTML set"); } });
  node.append = (...kids) => node.children.push(...kids);
  node.prepend = (kid) => { node.children.unshift(kid); if (kid.id) byId[kid.id] = kid; };
  node.remove = () => { delete byId[node.id]; node.removed = true; };
  return node;
}
const list = element("ol"); list.id = "entries"; list.dataset.lastId = "7";
const empty = element("p"); empty.id = "empty";
const live = element("p"); live.id = "live";
Object.assign(byId, { entries: list, empty, live });
const sources = [];
class EventSource {
  constructor(url) { this.url = url; this.listeners = {}; sources.push(this); }
  addEventListener(type, fn) { this.listeners[type] = fn; }
}
const window = { EventSource };
const document = {
  getElementById: (id) => byId[id] || null,
  createElement: element,
};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"),
  { window, document, EventSource, encodeURIComponent });
const source = sources[0];
source.listeners.open();
const entry = { id: 8, author: "<b>eve</b>", text: "<script>alert(1)</script>",
                created: "2026-01-01T00:00:00+00:00" };
source.listeners.entry({ data: JSON.stringify(entry) });
source.listeners.entry({ data: JSON.stringify(entry) });  // sent twice: shown once
const simple = (n) => typeof n === "string" ? n : { tag: n.tag, id: n.id, text: n.textContent,
  dateTime: n.dateTime ?? null, children: n.children.map(simple) };
console.log(JSON.stringify({ url: source.url, live: !live.hidden, emptyRemoved: !!empty.removed,
  items: list.children.map(simple) }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_script_adds_streamed_entries_as_text(tmp_path: Path) -> None:
    harness = tmp_path / "harness.js"
    harness.write_text(SCRIPT_HARNESS)
    script = ROOT / "examples" / "static" / "fullstack" / "guestbook.js"
    result = subprocess.run(
        ["node", str(harness), str(script)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    assert built["url"] == "/events?after=7"
    assert built["live"] is True
    assert built["emptyRemoved"] is True
    assert built["items"] == [
        {
            "tag": "li",
            "id": "entry-8",
            "text": "",
            "dateTime": None,
            "children": [
                {"tag": "strong", "id": "", "text": "<b>eve</b>", "dateTime": None, "children": []},
                " ",
                {
                    "tag": "time",
                    "id": "",
                    "text": "2026-01-01T00:00:00+00:00",
                    "dateTime": "2026-01-01T00:00:00+00:00",
                    "children": [],
                },
                {
                    "tag": "p",
                    "id": "",
                    "text": "<script>alert(1)</script>",
                    "dateTime": None,
                    "children": [],
                },
            ],
        }
    ]


def test_a_reconnecting_browser_gets_what_it_missed() -> None:
    app = create_app(settings(stream_seconds=0.2))
    with TestClient(app, base_url="https://testserver") as client:
        log_in(client)
        for text in ("one", "two", "three"):
            sign(client, text)
        started = time.monotonic()
        resumed = client.get("/events", headers={"Last-Event-ID": "1"})
        assert time.monotonic() - started < 3  # the stream ended after stream_seconds
        events = parse_events(resumed.text)
        assert events[0] == {"retry": "2000"}
        assert [(e["id"], json.loads(e["data"])["text"]) for e in events[1:]] == [
            ("2", "two"),
            ("3", "three"),
        ]
        after = parse_events(client.get("/events", params={"after": 2}).text)
        assert [e.get("id") for e in after] == [None, "3"]
        # Last-Event-ID (a reconnection) wins over the page's ?after=; junk is ignored
        both = client.get("/events?after=0", headers={"Last-Event-ID": "2"}).text
        assert [e.get("id") for e in parse_events(both)] == [None, "3"]
        junk = client.get("/events?after=2", headers={"Last-Event-ID": "x1"}).text
        assert [e.get("id") for e in parse_events(junk)] == [None, "3"]


def test_streams_end_when_the_server_begins_to_stop() -> None:
    """``qake run`` drains on SIGTERM (``begin_draining``): readiness turns 503 and the
    open streams end, so that uvicorn need not wait for them (nor cancel them)."""
    app = create_app(settings(stream_seconds=30))
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/readyz").status_code == 200
        assert client.get("/healthz").json() == {"status": "alive"}
        log_in(client)
        sign(client, "before the stop")
        started = time.monotonic()
        with client.stream("GET", "/events?after=0") as stream:
            lines = stream.iter_lines()
            assert next(lines) == ": subscribed"
            assert begin_draining(app) == 1
            rest = list(lines)  # the stream ends: no 30 s wait
        assert time.monotonic() - started < 3
        assert "id: 1" in rest
        assert client.get("/readyz").status_code == 503
        # a browser reconnecting meanwhile gets its catch-up, then the stream ends
        late = parse_events(client.get("/events?after=0").text)
        assert [e.get("id") for e in late] == [None, "1"]
        assert time.monotonic() - started < 5


def test_the_module_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FULLSTACK_APP_SECRET", SECRET)
    monkeypatch.setenv("FULLSTACK_APP_DEMO_USER", "guide")
    monkeypatch.setenv("FULLSTACK_APP_DEMO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, "examples.fullstack_app", raising=False)
    from examples.fullstack_app import app

    with TestClient(app, base_url="https://testserver") as client:
        log_in(client, "guide")
        assert "Signed in as <strong>guide</strong>" in client.get("/").text
    monkeypatch.setenv("FULLSTACK_APP_SECRET", "too short")
    with pytest.raises(SettingsError, match="FULLSTACK_APP_SECRET"):
        FullstackSettings.load()


def test_without_a_secret_the_app_warns_and_still_works(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(create_app(settings(secret=None)), base_url="https://testserver") as client:
        log_in(client)
        assert "Signed in as" in client.get("/").text
    assert "FULLSTACK_APP_SECRET is not set" in caplog.text


# -- under qake run -----------------------------------------------------------------------


class Browser:
    """httpx with a cookie jar that keeps ``Secure`` cookies over http://127.0.0.1, as
    browsers do for a loopback address (httpx's own jar sends them only over https)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=5)
        self.cookies: dict[str, str] = {}

    def _headers(self, headers: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**(headers or {}), **({"Cookie": cookie} if cookie else {})}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, path: str, **options: Any) -> httpx.Response:
        headers = self._headers(options.pop("headers", None))
        return self._keep(self.http.get(path, headers=headers, **options))

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self._keep(self.http.post(path, data=data, headers=self._headers()))

    def token(self, path: str = "/login") -> str:
        found = TOKEN.search(self.get(path).text)
        assert found
        return found.group(1)


def test_the_guestbook_under_qake_run(tmp_path: Path) -> None:
    prelude = (
        f"import os; os.environ['FULLSTACK_APP_SECRET'] = {SECRET!r}; "
        f"os.environ['FULLSTACK_APP_DEMO_PASSWORD'] = {DEMO_PASSWORD!r}"
    )
    log = tmp_path / "server.log"
    with ExitStack() as streams:
        with qake_run("examples.fullstack_app:app", log=log, prelude=prelude) as server:
            browser = Browser(server.base)
            home = browser.get("/", headers=HTML)
            assert home.status_code == 200
            assert home.headers["x-frame-options"] == "DENY"
            assert browser.get("/static/style.css").headers["content-type"].startswith("text/css")
            # no token: refused before the password is even looked at
            no_token = browser.post("/login", {"username": "demo", "password": DEMO_PASSWORD})
            assert no_token.status_code == 403
            data = {"username": "demo", "password": DEMO_PASSWORD, "csrf_token": browser.token()}
            logged_in = browser.post("/login", data)
            assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/")
            assert "Welcome back, demo!" in browser.get("/").text
            stream = streams.enter_context(
                browser.http.stream("GET", "/events", headers=browser._headers())
            )
            lines = stream.iter_lines()
            assert next(lines) == ": subscribed"
            posted = browser.post("/entries", {"text": HOSTILE, "csrf_token": browser.token()})
            assert posted.status_code == 303
            data_line = next(line for line in lines if line.startswith("data: "))
            assert json.loads(data_line.removeprefix("data: "))["text"] == HOSTILE
            page = browser.get("/").text
            assert "Thank you for signing!" in page
            assert "&lt;script&gt;" in page
            assert HOSTILE not in page
            stopping = time.monotonic()  # with the stream still open
        assert time.monotonic() - stopping < 5  # the server ended the stream, then stopped
        assert list(lines) == [""]  # the rest of the last event, then the end
    browser.http.close()
    output = log.read_text()
    assert "Application shutdown complete" in output
    assert not [line for line in output.splitlines() if line.startswith("ERROR")]
    assert DEMO_PASSWORD not in output
