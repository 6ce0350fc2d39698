"""Content negotiation, stores (memory and Redis) and the response cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from qake_core import (
    App,
    CacheOptions,
    HTTPException,
    Jinja2Templates,
    MemoryStore,
    RedisStore,
    Request,
    Response,
    StaticFiles,
    Store,
    accepts,
    cache,
    negotiate,
    route_path,
)
from qake_testing import TestClient


def test_negotiation() -> None:
    app = App()

    @app.get("/n")
    async def n(request: Request) -> dict[str, Any]:
        return {
            "best": negotiate(request, ["application/json", "text/html"]),
            "html": accepts(request, "text/html"),
        }

    @app.get("/strict", produces=["text/csv"])
    async def strict(request: Request) -> Response:
        return Response("a,b", media_type=request.state.media_type)

    with TestClient(app) as c:

        def best(accept: str | None) -> Any:
            headers = {"accept": accept} if accept is not None else {}
            return c.get("/n", headers=headers).json()

        assert best(None) == {"best": "application/json", "html": True}
        assert best("text/html;q=0.9, application/json;q=0.5")["best"] == "text/html"
        assert best("text/*")["best"] == "text/html"
        assert best("*/*;q=0.1, text/html")["best"] == "text/html"
        assert best("image/png") == {"best": None, "html": False}
        assert best("text/html;q=0, */*")["html"] is False
        assert best("garbage;;;q=x, ,/")["best"] is None
        r = c.get("/strict", headers={"accept": "application/json"})
        assert r.status_code == 406
        assert r.headers["content-type"] == "application/problem+json"
        assert c.get("/strict", headers={"accept": "text/*"}).text == "a,b"


@pytest.mark.anyio
async def test_memory_store() -> None:
    store = MemoryStore(max_entries=2)
    assert isinstance(store, Store)
    await store.set("a", b"1")
    await store.set("b", b"2", ttl=0.01)
    assert await store.get("a") == b"1"
    await anyio.sleep(0.02)
    assert await store.get("b") is None
    await store.set("c", b"3")
    await store.set("d", b"4")  # evicts "a" (least recently used)
    assert await store.get("a") is None
    assert len(store) == 2
    assert await store.incr("n", ttl=10) == 1
    assert await store.incr("n", 5) == 6
    assert await store.get("n") == b"6"
    await store.delete("n")
    assert await store.get("n") is None


@pytest.mark.redis
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis-py is asyncio-only
async def test_redis_store(anyio_backend: str) -> None:
    prefix = f"qake-test-{os.urandom(4).hex()}:"
    store = RedisStore("redis://127.0.0.1:6379/0", prefix=prefix)
    try:
        await store.client.ping()
    except Exception as exc:  # pragma: no cover - environment
        await store.aclose()
        pytest.skip(f"Redis on 127.0.0.1:6379 is not reachable: {exc}")
    try:
        assert isinstance(store, Store)
        await store.set("a", b"1", ttl=5)
        assert await store.get("a") == b"1"
        assert await store.incr("n", ttl=0.2) == 1
        assert await store.incr("n", 2, ttl=0.2) == 3
        await anyio.sleep(0.3)
        assert await store.get("n") is None
        await store.delete("a")
        assert await store.get("a") is None
    finally:
        await store.client.delete(f"{prefix}a", f"{prefix}n")
        await store.aclose()


def cached_app() -> tuple[App, list[int]]:
    calls = [0]
    app = App()

    @app.get("/c")
    @cache(ttl=60, vary=["accept-language"])
    async def c(request: Request) -> dict[str, Any]:
        calls[0] += 1
        return {"n": calls[0], "q": dict(request.query_params)}

    @app.get("/opt", cache=CacheOptions(ttl=60, private=True))
    async def opt() -> dict[str, int]:
        calls[0] += 1
        return {"n": calls[0]}

    @app.get("/dyn", cache=0)
    async def dyn() -> dict[str, str]:
        return {"v": "same"}

    @app.get("/err", cache=60)
    async def err() -> None:
        calls[0] += 1
        raise HTTPException(404)

    @app.get("/cookie", cache=60)
    async def set_cookie() -> Response:
        calls[0] += 1
        r = Response("x")
        r.set_cookie("a", "b")
        return r

    return app, calls


def test_response_cache() -> None:
    app, calls = cached_app()
    with TestClient(app) as c:
        first = c.get("/c?b=2&a=1")
        assert first.json()["n"] == 1
        assert "x-cache" not in first.headers
        again = c.get("/c?a=1&b=2")  # normalised query: same key
        assert (again.json()["n"], again.headers["x-cache"]) == (1, "hit")
        assert again.headers["etag"] == first.headers["etag"]
        assert "max-age=60" in again.headers["cache-control"]
        assert c.get("/c?a=1&b=2", headers={"accept-language": "fr"}).json()["n"] == 2
        r = c.get("/c?a=1&b=2", headers={"if-none-match": first.headers["etag"]})
        assert (r.status_code, r.content) == (304, b"")
        # Never shared between users unless opted in.
        assert c.get("/c?a=1&b=2", headers={"authorization": "Bearer x"}).json()["n"] == 3
        assert c.get("/c?a=1&b=2", headers={"cookie": "s=1"}).json()["n"] == 4
        assert c.head("/c?a=1&b=2").status_code == 200
        p1 = c.get("/opt", headers={"authorization": "Bearer a"}).json()["n"]
        assert c.get("/opt", headers={"authorization": "Bearer a"}).json()["n"] == p1
        assert c.get("/opt", headers={"authorization": "Bearer b"}).json()["n"] == p1 + 1
        before = calls[0]
        c.get("/err")
        c.get("/err")
        c.get("/cookie")
        c.get("/cookie")
        assert calls[0] == before + 4  # errors and Set-Cookie responses are not cached
        c.cookies.clear()  # the /cookie response set one; cookies bypass the cache
        etag = c.get("/dyn").headers["etag"]
        assert c.get("/dyn", headers={"if-none-match": etag}).status_code == 304


def test_mount_sub_app_and_static(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("static")
    sub = App()

    @sub.get("/where")
    async def where(request: Request) -> dict[str, str]:
        return {
            "path": request.scope["path"],
            "root": request.scope["root_path"],
            "route": route_path(request.scope),
            "url": str(request.url),
        }

    app = App()
    app.mount("/sub", sub)
    app.mount("/files", StaticFiles(directory=tmp_path))
    with TestClient(app) as c:
        assert c.get("/sub/where").json() == {
            "path": "/sub/where",
            "root": "/sub",
            "route": "/where",
            "url": "http://testserver/sub/where",
        }
        assert c.get("/subwhere").status_code == 404
        assert c.get("/sub/nope").status_code == 404
        assert c.get("/files/a.txt").text == "static"


def test_templates(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<p>{{ name }}</p><a href='{{ url_for('item', item_id=3) }}'>i</a>"
    )
    templates = Jinja2Templates(directory=tmp_path)
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(request: Request) -> Response:
        return templates.TemplateResponse(request, "page.html", {"name": "<script>x</script>"})

    with TestClient(app) as c:
        r = c.get("/items/1")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;" in r.text
    assert "<script>" not in r.text
    assert "href='/items/3'" in r.text
