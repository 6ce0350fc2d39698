"""FileResponse (validators, 304, ranges, HEAD) and StaticFiles (no traversal)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qake_core import App, FileResponse, StaticFiles
from qake_testing import TestClient

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "sub").mkdir(parents=True)
    (root / "data.bin").write_bytes(DATA)
    (root / "hello.txt").write_text("hello")
    (root / "sub" / "index.html").write_text("<h1>index</h1>")
    (root / "404.html").write_text("custom missing")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    return root


@pytest.fixture
def client(files: Path) -> Iterator[TestClient]:
    app = App()

    @app.get("/download")
    async def download() -> FileResponse:
        return FileResponse(files / "data.bin", filename="données.bin")

    @app.get("/gone")
    async def gone() -> FileResponse:
        return FileResponse(files / "nope.bin")

    app.mount("/static", StaticFiles(directory=files))
    app.mount("/site", StaticFiles(directory=files, html=True))
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_file_response_validators_and_304(client: TestClient) -> None:
    r = client.get("/download")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["content-length"] == str(len(DATA))
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-disposition"] == "attachment; filename*=utf-8''donn%C3%A9es.bin"
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert client.get("/download", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/download", headers={"if-none-match": f'W/{etag}, "x"'}).status_code == 304
    assert client.get("/download", headers={"if-modified-since": modified}).status_code == 304
    assert client.get("/download", headers={"if-none-match": '"other"'}).status_code == 200
    bad_date = client.get("/download", headers={"if-modified-since": "yesterday"})
    assert bad_date.status_code == 200
    head = client.head("/download")
    assert (head.content, head.headers["content-length"]) == (b"", str(len(DATA)))
    assert client.get("/gone").status_code == 404


def test_single_range(client: TestClient) -> None:
    r = client.get("/download", headers={"range": "bytes=10-19"})
    assert r.status_code == 206
    assert r.content == DATA[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(DATA)}"
    assert client.get("/download", headers={"range": "bytes=-5"}).content == DATA[-5:]
    assert client.get("/download", headers={"range": "bytes=10200-"}).content == DATA[10200:]


@pytest.mark.parametrize(
    "spec",
    [
        "bytes=+10-19",
        "bytes=10-+19",
        "bytes=-+5",
        "bytes=1_0-19",
        "bytes=10 - 19",
        "bytes=\u0661-\u0663",
    ],
)
def test_a_range_position_is_digits_only(client: TestClient, spec: str) -> None:
    """RFC 9110 §14.1.1: positions are 1*DIGIT; Python's int() would take a sign, spaces,
    "_" and other scripts' digits. Such a header is ignored: the whole file, 200."""
    r = client.get("/download", headers={"range": spec.encode()})
    assert (r.status_code, r.content) == (200, DATA)


def test_multiple_ranges(client: TestClient) -> None:
    r = client.get("/download", headers={"range": "bytes=0-1, 100-102"})
    assert r.status_code == 206
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("=", 1)[1]
    assert int(r.headers["content-length"]) == len(r.content)
    body = r.content
    assert body.count(f"--{boundary}".encode()) == 3
    assert DATA[0:2] in body
    assert DATA[100:103] in body
    assert body.endswith(f"--{boundary}--\r\n".encode())


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bytes=999999-", 416),
        ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 200, 2)), 416),  # too many
        ("bytes=5-1", 200),  # invalid: ignored
        ("bytes=abc", 200),
        ("items=0-1", 200),
        ("bytes=", 200),
        ("bytes=0-0,1-1", 206),  # adjacent ranges merge into one
    ],
)
def test_invalid_ranges(client: TestClient, header: str, status: int) -> None:
    r = client.get("/download", headers={"range": header})
    assert r.status_code == status
    if status == 416:
        assert r.headers["content-range"] == f"bytes */{len(DATA)}"
        assert r.headers["content-type"] == "application/problem+json"


def test_if_range(client: TestClient) -> None:
    etag = client.get("/download").headers["etag"]
    assert (
        client.get("/download", headers={"range": "bytes=0-1", "if-range": etag}).status_code == 206
    )
    stale = {"range": "bytes=0-1", "if-range": '"stale"'}
    assert client.get("/download", headers=stale).status_code == 200


def test_static_files(client: TestClient) -> None:
    r = client.get("/static/hello.txt")
    assert (r.status_code, r.text) == (200, "hello")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert (
        client.get("/static/hello.txt", headers={"if-none-match": r.headers["etag"]}).status_code
        == 304
    )
    assert client.get("/static/data.bin", headers={"range": "bytes=0-3"}).content == DATA[:4]
    assert client.head("/static/hello.txt").content == b""
    r = client.post("/static/hello.txt")
    assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD")
    assert client.get("/static/nope").json()["status"] == 404
    assert client.get("/static/sub").status_code == 404  # directories: only with html=True
    assert client.get("/staticfoo/hello.txt").status_code == 404  # path boundary


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/sub/..%2f..%2fsecret.txt",
        "/static/..\\secret.txt",
        "/static/%5c..%5csecret.txt",
        "/static//etc/passwd",
        "/static/%00hello.txt",
        "/static/hello.txt%00",
        "/static/link.txt",
        "/static/C:/Windows/win.ini",
    ],
)
def test_static_traversal_refused(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, path
    assert "top secret" not in r.text
    assert "root:" not in r.text


def test_static_symlinks_when_allowed(files: Path) -> None:
    app = App()
    app.mount("/s", StaticFiles(directory=files, follow_symlinks=True))
    with TestClient(app) as c:
        assert c.get("/s/link.txt").text == "top secret"


def test_static_html_mode(client: TestClient) -> None:
    r = client.get("/site/sub")
    assert (r.status_code, r.headers["location"]) == (307, "/site/sub/")
    assert client.get("/site/sub/").text == "<h1>index</h1>"
    r = client.get("/site/missing")
    assert (r.status_code, r.text) == (404, "custom missing")


def test_static_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")
