"""Run the tutorial (docs/tutorial/) from nothing, as a newcomer would, and check the app.

    python tests/tutorial/run_tutorial.py [--keep] [--workdir DIR] [--no-uv]

The tutorial's text is the only source: nothing of the app is written here.

1. A fresh, empty folder (a temp dir, or ``--workdir``) gets a link ``qakeapi`` to this
   repository: the reader's clone, next to which the tutorial works.
2. The chapters are read in ``mkdocs.yml``'s order; each fenced code block is one of:

   * **a file**: a block whose info string has ``title="PATH"`` (mkdocs-material's
     syntax, e.g. ```` ```python title="shop/app.py" ````) is the whole file ``PATH``,
     relative to the project folder (``shop/``, which ``qake new shop`` creates); it is
     written there (over the previous version);
   * **commands**: a ``bash`` block titled ``run`` (```` ```bash title="run" ````) holds
     commands the reader is told to run. They run in ``bash`` with ``set -euo pipefail``
     in the folder the previous block ended in (``cd`` carries over), with the tutorial's
     virtual environment (``.venv``, once the first block made it) activated. When ``uv``
     is on the PATH (and not ``--no-uv``), ``pip`` is ``uv pip`` for speed; ``python -m
     pip`` stays pip;
   * anything else (output, a server the reader starts, a fragment marked ``<!--
     snippet: skip: REASON -->``) is only shown.

   After each chapter the project's tests run: ``python -m pytest`` in ``shop/``.
3. At the end the app is served with ``qake run`` on a free loopback port (one worker,
   the in-memory broadcast) and checked over the network: ``/docs``, ``/redoc`` and
   ``/openapi.json``, a sign-up and login, an authenticated request, a WebSocket round
   trip (the ``websockets`` client that ``qakeapi[standard]`` installs) and an item
   written to and read back from the SQLite database. Then, as chapter 10 does,
   ``qake run --workers 2`` with ``SHOP_REDIS_URL``: a message sent on one WebSocket
   reaches another through Redis. That part is skipped, saying why, when no Redis
   answers on 127.0.0.1:6379. The Dockerfile must have been written (Docker itself is
   not needed).

Exit status 0 when every step passed; the first failure stops the run with its output.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PROJECT = "shop"
#: A command block: ```bash title="run"
RUN_TITLE = "run"
SKIP = re.compile(r"^<!--\s*snippet:\s*skip:\s*(?P<reason>\S.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')
COMMAND_TIMEOUT = 600
SERVE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Block:
    """One fenced code block of a chapter."""

    chapter: str
    line: int
    lang: str
    title: str | None
    text: str
    skip: str | None = None

    @property
    def kind(self) -> str:
        """``run`` (commands), ``file`` (a whole file of the project) or ``show``."""
        if self.skip is not None:
            return "show"
        if self.title == RUN_TITLE:
            return "run"
        if self.title:
            return "file"
        return "show"

    def where(self) -> str:
        return f"{self.chapter}:{self.line}"


@dataclass
class Chapter:
    path: Path
    blocks: list[Block] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def parse_blocks(text: str, chapter: str = "<text>") -> list[Block]:
    """The fenced code blocks of a Markdown page, with their titles and skip markers."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    previous = ""  # the last non-blank line before a block
    while index < len(lines):
        line = lines[index]
        opening = FENCE.match(line)
        if opening is None:
            if line.strip():
                previous = line.strip()
            index += 1
            continue
        fence, info, indent = opening["fence"], opening["info"].strip(), len(opening["indent"])
        lang = info.split()[0] if info else ""
        found = TITLE.search(info)
        body: list[str] = []
        start = index + 1  # 1-based line of the opening fence
        index += 1
        while index < len(lines) and not (
            lines[index].strip().startswith(fence[0] * len(fence))
            and set(lines[index].strip()) == {fence[0]}
        ):
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        skip = SKIP.match(previous)
        blocks.append(
            Block(
                chapter=chapter,
                line=start,
                lang=lang,
                title=found["title"] if found else None,
                text="\n".join(body) + "\n",
                skip=skip["reason"] if skip else None,
            )
        )
        previous = ""
        index += 1
    return blocks


def chapter_paths() -> list[Path]:
    """The tutorial's pages in mkdocs.yml's nav order (index.md first)."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    names = re.findall(r"(tutorial/[\w.-]+\.md)", nav)
    if not names:  # no nav entry: the files' own order
        return sorted((DOCS / "tutorial").glob("*.md"))
    return [DOCS / name for name in dict.fromkeys(names)]


def load_chapter(path: Path) -> Chapter:
    text = path.read_text(encoding="utf-8")
    return Chapter(path, parse_blocks(text, f"docs/tutorial/{path.name}"))


def load_chapters() -> list[Chapter]:
    return [load_chapter(path) for path in chapter_paths()]


def project_files(chapters: list[Chapter]) -> dict[str, str]:
    """The project as the tutorial leaves it: each file's last version."""
    files: dict[str, str] = {}
    for chapter in chapters:
        for block in chapter.blocks:
            if block.kind == "file":
                assert block.title is not None
                files[block.title] = block.text
    return files


# -- running -----------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[tutorial {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Failure(Exception):
    pass


class Runner:
    def __init__(self, workdir: Path, *, use_uv: bool) -> None:
        self.workdir = workdir
        self.cwd = workdir
        self.project = workdir / PROJECT
        self.venv = workdir / ".venv"
        self.uv = shutil.which("uv") if use_uv else None
        self.shims = workdir / ".runner-bin"
        self.shims.mkdir()
        # `python` is this interpreter until the tutorial's venv exists (a machine may
        # only have python3 on its PATH).
        (self.shims / "python").symlink_to(sys.executable)
        (self.shims / "python3").symlink_to(sys.executable)

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("VIRTUAL_ENV", "PYTHONPATH", "SHOP_", "PYTEST_"))
        }
        path = [str(self.shims), env.get("PATH", "")]
        if (self.venv / "bin" / "python").exists():
            env["VIRTUAL_ENV"] = str(self.venv)
            path.insert(0, str(self.venv / "bin"))
        env["PATH"] = os.pathsep.join(path)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return env

    def run_block(self, block: Block) -> None:
        state = self.workdir / ".runner-cwd"
        prelude = "set -euo pipefail\n"
        if self.uv:
            prelude += (
                f'pip() {{ if [ -n "${{VIRTUAL_ENV:-}}" ]; then "{self.uv}" pip "$@"; '
                'else command pip "$@"; fi; }\n'
            )
        script = f'{prelude}{block.text}\npwd > "{state}"\n'
        say(f"{block.where()}: run\n{textwrap.indent(block.text.rstrip(), '    $ ')}")
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise Failure(
                f"{block.where()}: the commands failed (exit {result.returncode})\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        self.cwd = Path(state.read_text().strip())

    def write_file(self, block: Block) -> None:
        assert block.title is not None
        if not self.project.is_dir():
            raise Failure(f"{block.where()}: {block.title} comes before `qake new {PROJECT}`")
        target = (self.project / block.title).resolve()
        if self.project.resolve() not in target.parents:
            raise Failure(f"{block.where()}: {block.title} is outside the project")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
        say(f"{block.where()}: wrote {PROJECT}/{block.title}")

    def project_tests(self, chapter: Chapter) -> None:
        if not self.project.is_dir():
            return
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=self.project,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        summary = result.stdout.strip().splitlines()[-1:] or ["(no output)"]
        if result.returncode != 0:
            raise Failure(
                f"{chapter.name}: the project's tests failed\n{result.stdout[-6000:]}"
                f"\n{result.stderr[-2000:]}"
            )
        say(f"{chapter.name}: project tests: {summary[0]}")

    def chapter(self, chapter: Chapter) -> None:
        started = time.monotonic()
        say(f"== {chapter.name}")
        for block in chapter.blocks:
            if block.kind == "run":
                self.run_block(block)
            elif block.kind == "file":
                self.write_file(block)
        self.project_tests(chapter)
        say(f"{chapter.name}: done in {time.monotonic() - started:.1f}s")


# -- the served app ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


CHECK = r'''
"""Run inside the tutorial's venv: the served app, over the network."""
import asyncio, json, sys, uuid

import httpx
import websockets

base, ws_base, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = httpx.Client(base_url=base, timeout=10)


def expect(answer, status):
    if answer.status_code != status:
        sys.exit(f"{answer.request.method} {answer.request.url}: {answer.status_code}, "
                 f"expected {status}: {answer.text[:500]}")
    return answer


docs = expect(client.get("/docs"), 200)
assert "swagger-ui" in docs.text.lower(), docs.text[:300]
expect(client.get("/redoc"), 200)
schema = expect(client.get("/openapi.json"), 200).json()
assert "/items" in schema["paths"] and "/token" in schema["paths"], sorted(schema["paths"])
print("docs: /docs, /redoc and /openapi.json served")

name = "u" + uuid.uuid4().hex[:12]
password = "a long enough password"
expect(client.post("/users", json={"username": name, "password": password}), 201)
token = expect(client.post("/token", data={"username": name, "password": password}), 200)
token = token.json()["access_token"]
auth = {"Authorization": f"Bearer {token}"}
assert expect(client.get("/me", headers=auth), 200).json() == {"username": name}
expect(client.post("/items", json={"name": "x", "price": 1}), 401)
print(f"auth: signed up and logged in as {name}; /me answers with a token, 401 without")


async def next_event(ws, wanted):
    """The next event for which wanted(event) holds (others, e.g. "ready?", skipped)."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if wanted(event):
            return event


async def sockets():
    url = f"{ws_base}/ws?token={token}"
    async with websockets.connect(url) as first, websockets.connect(url) as second:
        for ws in (first, second):  # each answered once it is subscribed
            await ws.send(json.dumps({"text": "ready?"}))
            await next_event(ws, lambda event: event.get("text") == "ready?")
        await first.send(json.dumps({"text": "hello from the runner"}))
        for ws in (first, second):
            event = await next_event(ws, lambda event: event.get("text") != "ready?")
            assert event == {"type": "chat", "from": name, "text": "hello from the runner"}, event
        created = expect(
            client.post("/items", json={"name": "runner's hammer", "price": 9.5}, headers=auth),
            201,
        ).json()
        event = await next_event(second, lambda event: event.get("type") == "item")
        assert event["item"] == created, event
        return created


created = asyncio.run(sockets())
print(f"websocket: a chat message and the new item reached both sockets ({workers} worker(s))")
for _ in range(4):  # several connections: with two workers, both serve the row
    fresh = httpx.Client(base_url=base, timeout=10)
    assert expect(fresh.get(f"/items/{created['id']}"), 200).json() == created
    fresh.close()
listed = expect(client.get("/items", params={"limit": 100}), 200).json()
assert created in listed, listed
print(f"database: item {created['id']} written and read back")
'''


class Server:
    """``qake run`` of the project on a free loopback port."""

    def __init__(self, runner: Runner, *extra: str, env: dict[str, str] | None = None) -> None:
        self.runner = runner
        self.port = free_port()
        self.log = runner.workdir / f"server-{self.port}.log"
        command = [
            str(runner.venv / "bin" / "qake"),
            "run",
            f"{PROJECT}.app:app",
            "--port",
            str(self.port),
            *extra,
        ]
        environment = runner.environment() | (env or {})
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=runner.project,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        say(f"serving: {' '.join(command[1:])} (log {self.log})")

    def wait(self) -> None:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"qake run exited ({self.process.returncode}):\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                time.sleep(0.5)  # every worker's lifespan has a moment to finish
                return
            except OSError:
                time.sleep(0.1)
        raise Failure(f"qake run did not listen within {SERVE_TIMEOUT}s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def check(self, workers: int) -> None:
        script = self.runner.workdir / "check_served_app.py"
        script.write_text(CHECK, encoding="utf-8")
        result = subprocess.run(
            [
                str(self.runner.venv / "bin" / "python"),
                str(script),
                f"http://127.0.0.1:{self.port}",
                f"ws://127.0.0.1:{self.port}",
                str(workers),
            ],
            env=self.runner.environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise Failure(
                f"the served app failed its check:\n{result.stdout}\n{result.stderr[-4000:]}"
                f"\nserver log:\n{self.output()}"
            )
        for line in result.stdout.splitlines():
            say(f"  {line}")


def serve_and_check(runner: Runner) -> None:
    if not (runner.project / ".env").is_file():
        raise Failure("the tutorial wrote no shop/.env (chapter 7 sets SHOP_SECRET_KEY there)")
    say("== the app, served (one worker)")
    server = Server(runner, env={"SHOP_DATABASE": str(runner.workdir / "served.db")})
    try:
        server.wait()
        server.check(workers=1)
    finally:
        server.stop()
    if not redis_answers():
        say(
            "== several workers with Redis: SKIPPED, no Redis answers on 127.0.0.1:6379 "
            "(start one, e.g. `redis-server --daemonize yes`, to run this part)"
        )
        return
    say("== the app, served by two workers sharing Redis (chapter 10)")
    server = Server(
        runner,
        "--workers",
        "2",
        env={
            "SHOP_DATABASE": str(runner.workdir / "served-workers.db"),
            "SHOP_REDIS_URL": "redis://127.0.0.1:6379/0",
        },
    )
    try:
        server.wait()
        server.check(workers=2)
    finally:
        server.stop()


def check_container(runner: Runner) -> None:
    dockerfile = runner.project / "Dockerfile"
    if not dockerfile.is_file():
        raise Failure("the tutorial wrote no shop/Dockerfile (chapter 10)")
    text = dockerfile.read_text(encoding="utf-8")
    for needed in ("FROM python:", "qake run", f"{PROJECT}.app:app", "--workers"):
        if needed not in text:
            raise Failure(f"shop/Dockerfile does not contain {needed!r}")
    wheels = sorted(p.name for p in (runner.project / "wheels").glob("*.whl"))
    if len(wheels) != len(list((ROOT / "packages").glob("*/pyproject.toml"))):
        raise Failure(f"shop/wheels/ should hold one wheel per package: {wheels}")
    say(f"container: Dockerfile written; wheels/ holds {len(wheels)} wheels (docker not run)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="an empty folder to work in")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-uv", action="store_true", help="pip even when uv is there")
    parser.add_argument(
        "--stop-after", metavar="PAGE", help="stop after this page (e.g. 05-tests.md)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        if any(args.workdir.iterdir()):
            parser.error(f"{args.workdir} is not empty")
        workdir = args.workdir.resolve()
    else:
        workdir = Path(tempfile.mkdtemp(prefix="qake-tutorial-"))
    (workdir / "qakeapi").symlink_to(ROOT, target_is_directory=True)
    runner = Runner(workdir, use_uv=not args.no_uv)
    say(f"work folder {workdir}; pip is {'uv pip' if runner.uv else 'pip'}")
    ok = False
    try:
        for path in chapter_paths():
            chapter = load_chapter(path)
            runner.chapter(chapter)
            if chapter.name == args.stop_after:
                say(f"stopped after {chapter.name} (--stop-after)")
                break
        else:
            serve_and_check(runner)
            check_container(runner)
        ok = True
    except Failure as failure:
        print(f"\nTUTORIAL FAILED: {failure}", file=sys.stderr, flush=True)
    finally:
        elapsed = time.monotonic() - started
        if args.keep or not ok:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        say(f"{'PASSED' if ok else 'FAILED'} in {elapsed:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
