"""The "coming from Starlette / Flask / Litestar" pages stay truthful (issue 19).

Each page (``docs/migration/{starlette,flask,litestar}.md``) maps the other framework's
names to qakeapi's in the table under ``## Names``: ``| their name | `qakeapi.x.Y` or
none | notes |``. Every qakeapi name there must import (the snippet test runs the
code blocks, not the tables). The code comes in side-by-side pairs: the other
framework's block, skipped with the reason ``<Framework> code, shown for comparison``,
then a qakeapi block that runs — so a skip can never hide qakeapi code.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).parents[2] / "docs" / "migration"
PAGES = {"starlette.md": "Starlette", "flask.md": "Flask", "litestar.md": "Litestar"}

#: Topics every page pairs (a heading containing the word, case-insensitive).
TOPICS = (
    "routes",
    "request",
    "status",
    "errors",
    "middleware",
    "dependenc",
    "lifespan",
    "websockets",
    "templates",
    "testing",
    "running",
    "differences that bite",
)

_ROW = re.compile(r"^\| (.+?) \| (none|`(qakeapi(?:\.\w+)+)`) \|(.*)\|\s*$")
_FENCE = re.compile(r"^```(\w*)[^\n]*\n.*?^```", re.S | re.M)
_SKIP = re.compile(r"^<!-- snippet: skip: (.+) -->$")


def names_table(text: str) -> list[tuple[str, str | None]]:
    """The rows of the ``## Names`` section: (their name, qakeapi path or ``None``)."""
    rows: list[tuple[str, str | None]] = []
    section = None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if section != "Names" or not line.startswith("| ") or line.startswith("|---"):
            continue
        row = _ROW.match(line)
        if row is None:
            header = line.startswith(("| Starlette |", "| Flask |", "| Litestar |"))
            assert header, f"a Names row that is not `name` | `qakeapi...` or none: {line}"
            continue
        rows.append((row.group(1), row.group(3)))
    return rows


def python_blocks(text: str) -> list[str | None]:
    """Each ```python block in order: its skip reason, or ``None`` when it runs."""
    blocks: list[str | None] = []
    for fence in _FENCE.finditer(text):
        if fence.group(1) != "python":
            continue
        before = text[: fence.start()].rstrip("\n").splitlines()
        skip = _SKIP.match(before[-1].strip()) if before else None
        blocks.append(skip.group(1) if skip else None)
    return blocks


def resolve(dotted: str) -> Any:
    """Import the longest module prefix of ``dotted``, then read the attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


TEXTS = {page: (DOCS / page).read_text(encoding="utf-8") for page in PAGES}
TARGETS = sorted(
    {(page, target) for page, text in TEXTS.items() for _, target in names_table(text) if target}
)


def test_the_parsers_read_rows_and_skips() -> None:
    text = "\n".join(
        [
            "## Names",
            "",
            "| Flask | qakeapi | notes |",
            "|---|---|---|",
            "| `flask.Flask` | `qakeapi.QakeAPI` |  |",
            "| `app.logger` | none | use logging |",
            "",
            "## Other",
            "| `x` | `qakeapi.X` | outside the Names section |",
            "<!-- snippet: skip: Flask code, shown for comparison -->",
            "```python",
            "app = Flask(__name__)",
            "```",
            "",
            "```python",
            "app = QakeAPI()",
            "```",
            "```console",
            "qake run app:app",
            "```",
        ]
    )
    assert names_table(text) == [("`flask.Flask`", "qakeapi.QakeAPI"), ("`app.logger`", None)]
    assert python_blocks(text) == ["Flask code, shown for comparison", None]


@pytest.mark.parametrize(("page", "target"), TARGETS)
def test_every_qakeapi_name_of_the_tables_imports(page: str, target: str) -> None:
    assert resolve(target) is not None, f"{page}: {target}"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_names_table_is_substantial_and_rarely_none(page: str) -> None:
    rows = names_table(TEXTS[page])
    assert len(rows) >= 30, f"{page}: only {len(rows)} names mapped"
    theirs = [name for name, _ in rows]
    assert len(theirs) == len(set(theirs)), f"{page}: a name is mapped twice"
    nones = [name for name, target in rows if target is None]
    assert len(nones) <= 3, f"{page}: too many names without an equivalent: {nones}"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_code_comes_in_pairs_the_other_framework_then_qakeapi(page: str) -> None:
    framework = PAGES[page]
    blocks = python_blocks(TEXTS[page])
    skips = [reason for reason in blocks if reason is not None]
    assert set(skips) == {f"{framework} code, shown for comparison"}, (
        f"{page}: a skip that is not {framework}'s code: {set(skips)}"
    )
    for index, reason in enumerate(blocks):
        if reason is not None:
            following = blocks[index + 1] if index + 1 < len(blocks) else "nothing"
            assert following is None, (
                f"{page}: {framework} block #{index + 1} has no qakeapi block after it"
            )
    assert len(skips) >= 10, f"{page}: only {len(skips)} side-by-side pairs"
    assert sum(reason is None for reason in blocks) >= len(skips)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_common_task_has_its_section(page: str) -> None:
    headings = [line.lower() for line in TEXTS[page].splitlines() if line.startswith("## ")]
    missing = [topic for topic in TOPICS if not any(topic in heading for heading in headings)]
    assert not missing, f"{page}: no section for {missing}"
