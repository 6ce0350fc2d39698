from __future__ import annotations

import httpx
import pytest
from testing_apps import EchoApp

from qake_testing import AsyncTestClient, TestClient


@pytest.fixture
def app() -> EchoApp:
    return EchoApp()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_client_builds_the_scope(app: EchoApp, backend: str) -> None:
    with TestClient(app, backend=backend, client=("10.0.0.1", 1234), root_path="/api") as client:  # type: ignore[arg-type]
        response = client.post("/echo?a=1&b=%20x", content=b"hello", headers={"X-Token": "t"})
    assert isinstance(response, httpx.Response)
    data = response.json()
    assert data["method"] == "POST"
    assert data["path"] == "/echo"
    assert data["query"] == "a=1&b=%20x"
    assert data["root_path"] == "/api"
    assert data["client"] == ["10.0.0.1", 1234]
    assert data["server"] == ["testserver", 80]
    assert data["scheme"] == "http"
    assert data["headers"]["x-token"] == "t"
    assert data["headers"]["host"] == "testserver"
    assert data["body"] == "hello"


def test_percent_encoded_path_is_decoded_in_path_not_raw_path(app: EchoApp) -> None:
    with TestClient(app) as client:
        data = client.get("/ech%6F").json()
    assert data["path"] == "/echo"
    assert data["raw_path"] == "/ech%6F"


def test_large_body_arrives_in_chunks(app: EchoApp) -> None:
    with TestClient(app) as client:
        data = client.put("/echo", content=b"x" * 200_000).json()
    assert len(data["body"]) == 200_000


def test_cookies_persist_across_requests(app: EchoApp) -> None:
    with TestClient(app) as client:
        client.get("/set-cookie")
        assert client.get("/cookies").json() == {"cookie": "session=abc"}


def test_redirects_are_followed_by_default_and_optional(app: EchoApp) -> None:
    with TestClient(app) as client:
        response = client.get("/redirect")
        assert response.status_code == 200
        assert response.json()["path"] == "/echo"
        assert response.history[0].status_code == 307
        assert client.get("/redirect", follow_redirects=False).status_code == 307
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/redirect").headers["location"] == "/echo"


def test_multipart_upload(app: EchoApp) -> None:
    with TestClient(app) as client:
        data = client.post(
            "/echo", data={"name": "qake"}, files={"file": ("a.txt", b"content", "text/plain")}
        ).json()
    assert data["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="file"; filename="a.txt"' in data["body"]
    assert "content" in data["body"]
    assert 'name="name"' in data["body"]


def test_server_exception_is_raised_by_default(app: EchoApp) -> None:
    client = TestClient(app)
    with pytest.raises(ValueError, match="boom"):
        client.get("/boom")
    with pytest.raises(ValueError, match="boom after start"):
        client.get("/boom-after-start")
    client.close()


def test_server_exception_opt_out_returns_500(app: EchoApp) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
        assert response.status_code == 500
        assert response.text == "Internal Server Error"
        partial = client.get("/boom-after-start")
        assert partial.status_code == 200
        assert partial.content == b"partial"


def test_response_waits_for_work_after_the_body(app: EchoApp) -> None:
    with TestClient(app) as client:
        assert client.get("/background").text == "done"
    assert app.background_ran


def test_receive_reports_disconnect_after_the_response(app: EchoApp) -> None:
    with TestClient(app) as client:
        assert client.get("/disconnect").text == "ok"
    assert app.background_ran


def test_streaming_response(app: EchoApp) -> None:
    with TestClient(app) as client, client.stream("GET", "/stream") as response:
        assert list(response.iter_lines()) == ["0", "1", "2"]


def test_endless_stream_can_be_read_partially_and_closed(app: EchoApp) -> None:
    client = TestClient(app)  # no `with`: a portal per request, released on close
    with client.stream("GET", "/endless") as response:
        lines = response.iter_lines()
        assert [next(lines), next(lines)] == ["tick", "tick"]
    client.close()


def test_without_with_lifespan_is_not_run(app: EchoApp) -> None:
    client = TestClient(app)
    assert client.get("/echo").json()["state"] == {}
    client.close()
    assert app.startups == 0


def test_test_client_is_not_collected_by_pytest() -> None:
    assert TestClient.__test__ is False


@pytest.mark.anyio
async def test_async_client(app: EchoApp) -> None:
    async with AsyncTestClient(app, client=("1.2.3.4", 5)) as client:
        data = (await client.post("/echo", json={"a": 1})).json()
        assert data["body"] == '{"a":1}' or data["body"] == '{"a": 1}'
        assert data["client"] == ["1.2.3.4", 5]
        assert data["state"] == {"db": "connected"}
        await client.get("/set-cookie")
        assert (await client.get("/cookies")).json() == {"cookie": "session=abc"}
        assert (await client.get("/redirect")).json()["path"] == "/echo"
        with pytest.raises(ValueError, match="boom"):
            await client.get("/boom")
        async with client.stream("GET", "/stream") as response:
            assert [line async for line in response.aiter_lines()] == ["0", "1", "2"]
    assert app.startups == app.shutdowns == 1


@pytest.mark.anyio
async def test_async_client_without_context_buffers(app: EchoApp) -> None:
    client = AsyncTestClient(app, raise_server_exceptions=False)
    try:
        assert (await client.get("/stream")).text == "0\n1\n2\n"
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get("/boom-after-start")).content == b"partial"
        assert (await client.get("/echo")).json()["state"] == {}
    finally:
        await client.aclose()
    assert app.startups == 0


@pytest.mark.anyio
async def test_async_client_raises_after_start(app: EchoApp) -> None:
    async with AsyncTestClient(app) as client:
        with pytest.raises(ValueError, match="boom after start"):
            await client.get("/boom-after-start")


def test_app_returning_without_response_is_an_error() -> None:
    async def silent(scope: object, receive: object, send: object) -> None:
        return None

    with TestClient(silent) as client, pytest.raises(RuntimeError, match="without sending"):
        client.get("/")


@pytest.mark.anyio
async def test_async_endless_stream_closed_early(app: EchoApp, anyio_backend: str) -> None:
    if anyio_backend == "trio":
        pytest.skip("trio warns about httpx's half-read async generators")
    async with AsyncTestClient(app) as client, client.stream("GET", "/endless") as response:
        async for chunk in response.aiter_raw():
            assert chunk.startswith(b"tick")
            break
