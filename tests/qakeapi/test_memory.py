"""What a worker does not load until it is used (issue 20, "the lightest worker").

Each check runs in a fresh interpreter: ``sys.modules`` of the test process holds
whatever the other tests imported.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest

import qake_core
import qake_security
import qakeapi
from qake_core import App
from qakeapi import Depends, QakeAPI, WebSocket
from qakeapi.testing import TestClient


def run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object last."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_an_http_app_served_in_a_loop_loads_no_websocket_security_or_error_page_modules() -> None:
    result = run(
        """
        import asyncio, json, sys

        before = set(sys.modules)  # what the interpreter loaded at start (.pth files)

        async def main():
            from qakeapi import QakeAPI

            app = QakeAPI()

            @app.get("/json")
            async def hello() -> dict[str, str]:
                return {"message": "hi"}

            app.build()

        asyncio.run(main())
        loaded = set(sys.modules) - before
        print(json.dumps({name: name in loaded for name in (
            "qake_ws", "qake_security._jwt", "qake_security._sessions",
            "qake_security._csrf", "qake_security._passwords", "html", "difflib",
            "anyio._backends._asyncio",  # the thread limiter's: no sync handler here
            # qake-core's optional features, and FastAPI's status module
            "qake_core._cache", "qake_core._stores", "qake_core._file_response",
            "mimetypes", "qake_core._gzip", "qake_core._metrics", "qake_core._health",
            "qake_core._staticfiles", "qake_core._templates", "qake_core._redis_store",
            "qake_core._access_log", "qake_core._multipart_reader", "qakeapi.status",
            # the OpenAPI generator: with the first document built
            "qake_docs._openapi", "qake_docs._schemas", "qake_docs._get_openapi",
        )}))
        """
    )
    assert result == dict.fromkeys(result, False)


def test_the_lazy_names_are_the_same_objects_as_their_modules() -> None:
    result = run(
        """
        import json
        import qakeapi, qake_ws, qake_security
        from qake_security._jwt import JWTAuth
        from qakeapi.security import CORSMiddleware

        print(json.dumps({
            "ws": qakeapi.WebSocket is qake_ws.WebSocket,
            "state": qakeapi.WebSocketState is qake_ws.WebSocketState,
            "jwt": qake_security.JWTAuth is JWTAuth,
            "cors": CORSMiddleware is qake_security.CORSMiddleware,
        }))
        """
    )
    assert result == {"ws": True, "state": True, "jwt": True, "cors": True}


def test_the_lazy_names_of_qake_core_and_qakeapi_are_their_modules_objects() -> None:
    result = run(
        """
        import json
        import qakeapi, qake_core
        from qakeapi import status
        from qake_core._cache import cache
        from qake_core._file_response import FileResponse
        from qake_core._stores import MemoryStore

        print(json.dumps({
            "core": qake_core.FileResponse is FileResponse and qake_core.cache is cache,
            "meta": qakeapi.MemoryStore is MemoryStore and qakeapi.FileResponse is FileResponse,
            "status": qakeapi.status is status and status.HTTP_404_NOT_FOUND == 404,
            "listed": {"FileResponse", "cache", "status"} <= set(dir(qakeapi)),
        }))
        """
    )
    assert result == {"core": True, "meta": True, "status": True, "listed": True}


def test_unknown_names_of_qake_core_and_qakeapi_raise_attribute_error() -> None:
    for module in (qake_core, qakeapi):
        with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
            _ = module.NoSuchThing


def test_cache_decorator_and_option_still_cache_without_the_module_loaded_first() -> None:
    result = run(
        """
        import json, sys
        from qakeapi import QakeAPI
        from qakeapi.testing import TestClient

        app = QakeAPI()
        calls = []

        @app.get("/plain")
        async def plain() -> dict[str, int]:
            calls.append("plain")
            return {"n": len(calls)}

        loaded_before = "qake_core._cache" in sys.modules

        @app.get("/cached", cache=60)
        async def cached() -> dict[str, int]:
            calls.append("cached")
            return {"n": len(calls)}

        with TestClient(app) as client:
            first = client.get("/cached").json()
            second = client.get("/cached").json()
        print(json.dumps({"before": loaded_before, "same": first == second}))
        """
    )
    assert result == {"before": False, "same": True}


def test_unmarked_parameters_share_their_implied_marker_and_field_info() -> None:
    app = QakeAPI()

    @app.get("/a/{x}")
    async def a(x: str, q: int = 0) -> dict[str, str]:
        return {"x": x}

    @app.get("/b/{y}")
    async def b(y: str, r: int = 0) -> dict[str, str]:
        return {"y": y}

    first, second = (r.spec for r in app.routes if r.path in ("/a/{x}", "/b/{y}"))
    assert first.params[0].marker is second.params[0].marker  # Path()
    assert first.params[1].marker is second.params[1].marker  # Query()
    assert first.params[0].field_info is second.params[1].field_info
    assert first.response is second.response  # dict[str, str], 200: one frozen spec
    with TestClient(app) as client:
        assert client.get("/a/1?q=2").json() == {"x": "1"}
        assert client.get("/b/1?r=x").status_code == 422


def test_every_public_name_of_qake_security_resolves_and_is_listed() -> None:
    for name in qake_security.__all__:
        assert getattr(qake_security, name) is not None, name
    assert set(qake_security.__all__) <= set(dir(qake_security))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = qake_security.NoSuchThing  # type: ignore[attr-defined]


def test_a_websocket_route_still_compiles_and_serves() -> None:
    app = QakeAPI()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    with TestClient(app).websocket_connect("/echo") as ws:
        ws.send_text("ping")
        assert ws.receive_text() == "ping"


def test_the_thread_limiter_is_made_on_first_read_with_the_tokens_given() -> None:
    app = App(thread_limiter_tokens=3)
    assert app.thread_limiter is app.thread_limiter
    assert app.thread_limiter.total_tokens == 3
    assert App(thread_limiter_tokens=math.inf).thread_limiter.total_tokens == math.inf


@pytest.mark.parametrize(
    ("tokens", "error"), [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_bad_thread_limiter_tokens_fail_when_the_app_is_made(tokens: object, error: type) -> None:
    with pytest.raises(error, match="thread_limiter_tokens"):
        App(thread_limiter_tokens=tokens)  # type: ignore[arg-type]


def test_a_sync_handler_runs_in_a_thread_and_app_scoped_values_close() -> None:
    closed: list[str] = []

    async def resource():  # type: ignore[no-untyped-def]
        yield "db"
        closed.append("db")

    app = QakeAPI()

    @app.get("/sync")
    def sync_handler(db: str = Depends(resource, scope="app")) -> dict[str, str]:
        return {"db": db}

    with TestClient(app) as client:
        assert client.get("/sync").json() == {"db": "db"}
    assert closed == ["db"]


def test_routes_share_their_verb_set_and_their_routers_limits() -> None:
    app = QakeAPI()

    @app.get("/a")
    async def a() -> None: ...

    @app.get("/b")
    async def b() -> None: ...

    first, second = (r for r in app.routes if r.path in ("/a", "/b"))
    assert first.methods is second.methods == frozenset({"GET"})
    assert first.limits == app.limits
    assert second.limits is first.limits


def test_the_openapi_generator_loads_with_the_first_document_and_its_names() -> None:
    result = run(
        """
        import json, sys

        from qakeapi import QakeAPI
        from qakeapi.testing import TestClient

        app = QakeAPI()

        @app.get("/json")
        async def hello() -> dict[str, str]:
            return {"message": "hi"}

        with TestClient(app) as client:
            served = client.get("/json").status_code
            before = "qake_docs._openapi" in sys.modules
            document = client.get("/openapi.json").json()
        import qake_docs

        names = [qake_docs.get_openapi, qake_docs.openapi_document,
                 qake_docs.SchemaRegistry, qake_docs.SecuritySchemes]
        print(json.dumps({
            "served": served, "before": before, "paths": sorted(document["paths"]),
            "after": "qake_docs._openapi" in sys.modules,
            "named": [n.__module__ for n in names],
            "listed": all(n in dir(qake_docs) for n in qake_docs.__all__),
        }))
        """
    )
    assert result == {
        "served": 200,
        "before": False,
        "paths": ["/json"],
        "after": True,
        "named": [
            "qake_docs._get_openapi",
            "qake_docs._openapi",
            "qake_docs._schemas",
            "qake_docs._security",
        ],
        "listed": True,
    }
