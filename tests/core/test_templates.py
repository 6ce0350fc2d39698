"""``Jinja2Templates``: rendering, autoescaping, and when an edited template shows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
import pytest

from qake_core import App, HTMLResponse, Jinja2Templates, Request
from qake_testing import TestClient


def make_app(templates: Jinja2Templates, name: str = "page.html") -> App:
    app = App()

    @app.get("/page")
    async def page(request: Request, q: str = "") -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"q": q})

    @app.get("/bare")
    async def bare(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, name)

    return app


def write(path: Path, text: str) -> None:
    """Write ``text`` and move the file's mtime on, as an editor saving later would."""
    stamp = path.stat().st_mtime_ns + 1_000_000_000 if path.exists() else None
    path.write_text(text)
    if stamp is not None:
        os.utime(path, ns=(stamp, stamp))


def test_renders_escaped_html_with_request_and_context(tmp_path: Path) -> None:
    write(tmp_path / "page.html", "<p>{{ q }}</p><i>{{ request.url.path }}</i>")
    with TestClient(make_app(Jinja2Templates(tmp_path))) as client:
        response = client.get("/page", params={"q": "<script>x</script>"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.text == "<p>&lt;script&gt;x&lt;/script&gt;</p><i>/page</i>"
        assert client.get("/bare").text == "<p></p><i>/bare</i>"


def test_the_request_wins_over_a_request_key_in_the_context(tmp_path: Path) -> None:
    write(tmp_path / "page.html", "{{ request.url.path }}")
    templates = Jinja2Templates(tmp_path)
    app = App()

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "page.html", {"request": "forged"})

    with TestClient(app) as client:
        assert client.get("/page").text == "/page"


def test_the_context_given_is_left_unchanged(tmp_path: Path) -> None:
    write(tmp_path / "page.html", "{{ q }}")
    templates = Jinja2Templates(tmp_path)
    context: dict[str, Any] = {"q": "kept"}
    app = App()

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "page.html", context)

    with TestClient(app) as client:
        assert client.get("/page").text == "kept"
    assert context == {"q": "kept"}


def test_an_edited_template_shows_on_the_next_request(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    write(page, "one {{ q }}")
    with TestClient(make_app(Jinja2Templates(tmp_path))) as client:
        assert client.get("/page", params={"q": "a"}).text == "one a"
        assert client.get("/page", params={"q": "b"}).text == "one b"
        write(page, "two {{ q }}")
        assert client.get("/page", params={"q": "c"}).text == "two c"


def test_without_auto_reload_the_first_template_stays(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    write(page, "one")
    templates = Jinja2Templates(tmp_path, auto_reload=False)
    assert templates.env.auto_reload is False
    with TestClient(make_app(templates)) as client:
        assert client.get("/page").text == "one"
        write(page, "two")
        assert client.get("/page").text == "one"
        templates.env.auto_reload = True  # jinja2's switch, read on every render
        assert client.get("/page").text == "two"


def test_a_new_loader_is_used_at_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a" / "page.html", "from a")
    write(tmp_path / "b" / "page.html", "from b")
    templates = Jinja2Templates(tmp_path / "a", auto_reload=False)
    assert templates.get_template("page.html").render() == "from a"
    templates.env.loader = jinja2.FileSystemLoader(tmp_path / "b")
    assert templates.get_template("page.html").render() == "from b"


def test_without_jinja_cache_every_lookup_loads(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    write(page, "one")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(tmp_path), cache_size=0, auto_reload=False
    )
    templates = Jinja2Templates(env=env)
    assert templates.get_template("page.html").render() == "one"
    write(page, "two")
    assert templates.get_template("page.html").render() == "two"


def test_the_remembered_templates_are_bounded(tmp_path: Path) -> None:
    from qake_core._templates import MAX_REMEMBERED

    for i in range(MAX_REMEMBERED + 5):
        (tmp_path / f"p{i}.html").write_text(str(i))
    templates = Jinja2Templates(tmp_path, auto_reload=False)
    for i in range(MAX_REMEMBERED + 5):
        assert templates.get_template(f"p{i}.html").render() == str(i)
    assert len(templates._templates) <= MAX_REMEMBERED
    assert templates.get_template("p0.html").render() == "0"


def test_a_missing_template_raises_and_is_not_remembered(tmp_path: Path) -> None:
    templates = Jinja2Templates(tmp_path)
    with pytest.raises(jinja2.TemplateNotFound):
        templates.get_template("nowhere.html")
    write(tmp_path / "nowhere.html", "here")
    assert templates.get_template("nowhere.html").render() == "here"


def test_env_given_keeps_its_own_settings(tmp_path: Path) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path), auto_reload=False)
    assert Jinja2Templates(env=env).env.auto_reload is False
    assert Jinja2Templates(env=env, auto_reload=True).env.auto_reload is True


def test_needs_directory_or_env() -> None:
    with pytest.raises(ValueError, match="directory= or env="):
        Jinja2Templates()
