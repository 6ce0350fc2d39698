"""Form bodies: URL-encoded and streamed multipart with limits and clean-up."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qake_core import App, Limits, Request, UploadFile
from qake_testing import TestClient

opened: list[UploadFile] = []


def make_app(**kwargs: Any) -> App:
    app = App(**kwargs)

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        out: dict[str, Any] = {}
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                opened.append(value)
                content = await value.read()
                await value.seek(0)
                again = await value.read(3)
                out[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": value.size,
                    "len": len(content),
                    "again": again.decode("latin-1"),
                    "x": value.headers.get("x-extra"),
                }
            else:
                out.setdefault(key, []).append(value)
        return out

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    opened.clear()
    with TestClient(make_app(limits=Limits(max_file_size=3 * 1024 * 1024))) as c:
        yield c


def test_urlencoded(client: TestClient) -> None:
    r = client.post("/form", data={"a": "1", "b": ["x", "y"]})
    assert r.json() == {"a": ["1"], "b": ["x", "y"]}


def test_multipart_fields_and_files(client: TestClient) -> None:
    big = os.urandom(2 * 1024 * 1024)  # rolls over to disk
    files = [
        ("doc", ("a.txt", b"hello", "text/plain")),
        ("blob", ("b.bin", big, "application/octet-stream")),
    ]
    r = client.post("/form", data={"name": "qake"}, files=files)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["name"] == ["qake"]
    assert data["doc"] == {
        "filename": "a.txt",
        "content_type": "text/plain",
        "size": 5,
        "len": 5,
        "again": "hel",
        "x": None,
    }
    assert data["blob"]["size"] == len(big)
    # Every upload is closed (temporary files deleted) once the response is sent.
    assert opened
    assert all(f.file.closed for f in opened)


def test_upload_headers_kept(client: TestClient) -> None:
    boundary = "xyz"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="f"; filename="n.txt"\r\n'
        "X-Extra: yes\r\nContent-Type: text/plain\r\n\r\n"
        f"abc\r\n--{boundary}--\r\n"
    ).encode()
    r = client.post(
        "/form", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert r.json()["f"]["x"] == "yes"


def _multipart(parts: int, boundary: str = "bnd") -> bytes:
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n'
        for i in range(parts)
    ]
    return ("".join(chunks) + f"--{boundary}--\r\n").encode()


@pytest.mark.parametrize(
    "body",
    [
        _multipart(2)[:-12],  # truncated before the closing boundary
        b'--bnd\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
        b"garbage without boundary",
        b"--bnd\r\nContent-Type: text/plain\r\n\r\nno name\r\n--bnd--\r\n",
        b"--bnd\r\nbad header line\r\n\r\nx\r\n--bnd--\r\n",
    ],
)
def test_malformed_multipart_is_400(client: TestClient, body: bytes) -> None:
    ct = {"content-type": "multipart/form-data; boundary=bnd"}
    r = client.post("/form", content=body, headers=ct)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_missing_boundary_and_wrong_type(client: TestClient) -> None:
    r = client.post("/form", content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400
    r = client.post("/form", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415


def test_ten_thousand_fields(client: TestClient) -> None:
    r = client.post(
        "/form",
        content=_multipart(10_000),
        headers={"content-type": "multipart/form-data; boundary=bnd"},
    )
    assert r.status_code == 413
    body = "&".join(f"f{i}=v" for i in range(10_000))
    r = client.post(
        "/form", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413


def test_file_limits_and_no_temp_file_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = make_app(limits=Limits(max_files=2, max_file_size=1024 * 1024 + 10))
    with TestClient(app) as c:
        files = [("f", (f"{i}.txt", b"x", "text/plain")) for i in range(3)]
        assert c.post("/form", files=files).status_code == 413
        big = [("f", ("big.bin", b"x" * (1024 * 1024 + 500), "application/octet-stream"))]
        assert c.post("/form", files=big).status_code == 413
        ok = [("f", ("ok.bin", b"x" * (1024 * 1024 + 5), "application/octet-stream"))]
        assert c.post("/form", files=ok).status_code == 200
        cut = _multipart(1)[:-4] + b"x" * 100
        headers = {"content-type": "multipart/form-data; boundary=bnd"}
        assert c.post("/form", content=cut, headers=headers).status_code == 400
    assert list(tmp_path.iterdir()) == []


def test_form_field_limit_per_route() -> None:
    app = App()

    @app.post("/few", limits=Limits(max_form_fields=2))
    async def few(request: Request) -> int:
        return len(await request.form())

    with TestClient(app) as c:
        assert c.post("/few", data={"a": "1", "b": "2"}).json() == 2
        assert c.post("/few", data={"a": "1", "b": "2", "c": "3"}).status_code == 413


@pytest.mark.anyio
async def test_upload_file_api() -> None:
    upload = UploadFile(filename="x.txt", size=0)
    await upload.write(b"hello world")
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    assert upload.size == 11
    await upload.close()
    assert upload.file.closed


def test_route_limits_reach_form_and_multipart_parsing_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route's Limits, merged over the app's (and those over the defaults), is the one
    object both form parsers read: no parser falls back to numbers of its own."""
    from qake_core import _multipart, _multipart_reader

    parsed_with: list[Limits] = []

    class SpyReader(_multipart_reader.MultipartReader):
        def __init__(self, request: Request, boundary: bytes) -> None:
            super().__init__(request, boundary)
            parsed_with.append(self.limits)

    monkeypatch.setattr(_multipart, "MultipartReader", SpyReader)
    app = App(limits=Limits(max_file_size=8))
    seen: list[Limits] = []

    @app.post("/small", limits=Limits(max_form_fields=2, max_files=1))
    async def small(request: Request) -> int:
        seen.append(request.limits)
        return len(await request.form())

    with TestClient(app) as c:
        assert c.post("/small", data={"a": "1", "b": "2"}).json() == 2
        assert c.post("/small", data={"a": "1", "b": "2", "c": "3"}).status_code == 413
        assert c.post("/small", files=[("f", ("a.txt", b"x" * 8, "text/plain"))]).json() == 1
        # the app's max_file_size, the route's max_files and max_form_fields
        assert c.post("/small", files=[("f", ("a.txt", b"x" * 9, "text/plain"))]).status_code == 413
        two = [("f", (f"{i}.txt", b"x", "text/plain")) for i in range(2)]
        assert c.post("/small", files=two).status_code == 413
        three = {"a": "1", "b": "2", "c": "3"}
        assert (
            c.post("/small", data=three, files=[("f", ("a.txt", b"x", "text/plain"))]).status_code
            == 413
        )
    expected = Limits(max_form_fields=2, max_files=1, max_file_size=8).merged_over(app.limits)
    assert all(getattr(expected, f.name) is not None for f in dataclasses.fields(Limits))
    assert seen
    assert all(limits == expected for limits in seen)
    assert len({id(limits) for limits in seen}) == 1  # one object, built with the route
    assert parsed_with
    assert all(limits is seen[0] for limits in parsed_with)
