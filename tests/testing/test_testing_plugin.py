from __future__ import annotations

import subprocess
import sys

import pytest

APP = """
import pytest

async def asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].replace("lifespan.", "")
            EVENTS.append(kind)
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["path"].encode()})

EVENTS = []

def real_dep():
    return "real"

class App:
    def __init__(self):
        self.dependency_overrides = {}
    async def __call__(self, scope, receive, send):
        await asgi(scope, receive, send)

@pytest.fixture
def app():
    return App()

@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param
"""


# Inner runs: no cache, no hypothesis start-up cost, and test order as written
# (pytest-randomly, which `hatch test` installs, would shuffle order-dependent checks).
FAST = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:randomly")


@pytest.fixture
def run(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(APP)
    return pytester


def test_qake_client_and_async_client(run: pytest.Pytester) -> None:
    run.makepyfile(
        """
        import pytest
        from conftest import EVENTS

        def test_sync(qake_client):
            assert qake_client.get("/hello").text == "/hello"
            assert EVENTS == []

        @pytest.mark.anyio
        async def test_async(qake_async_client):
            assert (await qake_async_client.get("/a")).text == "/a"
        """
    )
    result = run.runpytest("-W", "error", "--strict-markers", *FAST)
    result.assert_outcomes(passed=3)


def test_lifespan_marker_option_and_ini(run: pytest.Pytester) -> None:
    run.makepyfile(
        """
        import pytest
        from conftest import EVENTS

        @pytest.mark.qake_lifespan
        def test_marked(qake_client):
            assert EVENTS == ["startup"]
            EVENTS.clear()

        def test_unmarked(qake_client):
            assert EVENTS == ["shutdown"]
            EVENTS.clear()

        @pytest.mark.qake_lifespan(False)
        def test_disabled(qake_client):
            assert EVENTS == []

        @pytest.mark.qake_lifespan
        @pytest.mark.anyio
        async def test_async_marked(qake_async_client):
            assert EVENTS[-1] == "startup"
        """
    )
    result = run.runpytest("-W", "error", "--strict-markers", *FAST)
    result.assert_outcomes(passed=5)
    run.makepyfile(
        test_option="""
        from conftest import EVENTS

        def test_option(qake_client):
            assert EVENTS == ["startup"]
        """
    )
    result = run.runpytest("--qake-lifespan", "test_option.py", *FAST)
    result.assert_outcomes(passed=1)
    run.makeini("[pytest]\nqake_lifespan = true\n")
    result = run.runpytest("test_option.py", *FAST)
    result.assert_outcomes(passed=1)


def test_override_fixture_restores(run: pytest.Pytester) -> None:
    run.makepyfile(
        """
        import pytest
        from conftest import real_dep

        SEEN = []

        @pytest.fixture
        def app():
            return APP

        class Holder:
            dependency_overrides = {}

        APP = Holder()

        def test_a(app, override):
            override(real_dep, lambda: "fake")
            assert app.dependency_overrides[real_dep]() == "fake"

        def test_b(app):
            assert app.dependency_overrides == {}
        """
    )
    result = run.runpytest("-W", "error", *FAST)
    result.assert_outcomes(passed=2)


def test_missing_app_fixture_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(qake_client):\n    pass\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'app' not found*"])


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, qake_testing.plugin\n"
        "heavy = {'httpx', 'anyio', 'jwt', 'qake_core'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
