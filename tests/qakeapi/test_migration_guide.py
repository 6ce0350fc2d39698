"""The FastAPI migration guide's name tables stay complete and truthful (issue 17).

``docs/migration/fastapi.md`` has one table per FastAPI module (a ``### `module```
heading, then ``| `name` | `qakeapi.path.Name` or none | notes |`` rows). Every public
name of FastAPI's snapshot (``fastapi_names.json``, made by ``make_fastapi_names.py``
where FastAPI is installed: it is not in this environment) must have its row, every
equivalent the guide names must import from qakeapi, and "none" must stay rare and
explained.
"""

from __future__ import annotations

import importlib
import json
import re
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).parent
GUIDE = HERE.parents[1] / "docs" / "migration" / "fastapi.md"
SNAPSHOT = HERE / "fastapi_names.json"

#: At most this share of FastAPI's names may have no qakeapi equivalent.
MAX_NONE_SHARE = 0.15

_HEADING = re.compile(r"^### `(fastapi(?:\.[\w.]+)?)`\s*$")
_ROW = re.compile(r"^\| `(\w+)` \| (none|`(qakeapi(?:\.\w+)+)`) \|(.*)\|\s*$")


def parse_guide(text: str) -> dict[str, dict[str, tuple[str | None, str]]]:
    """FastAPI module → name → (qakeapi dotted path or ``None``, notes)."""
    tables: dict[str, dict[str, tuple[str | None, str]]] = {}
    module: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            module = heading.group(1)
            tables.setdefault(module, {})
            continue
        row = _ROW.match(line)
        if row and module is not None:
            name, _, target, notes = row.groups()
            assert name not in tables[module], f"{module}.{name} is listed twice"
            tables[module][name] = (target, notes.strip())
        elif line.startswith("## "):
            module = None
    return tables


TABLES = parse_guide(GUIDE.read_text(encoding="utf-8"))
EXPECTED: dict[str, list[str]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
ROWS = [(module, name, row) for module, rows in TABLES.items() for name, row in rows.items()]
EQUIVALENTS = sorted({target for _, _, (target, _) in ROWS if target is not None})


def test_the_parser_reads_rows_and_headings() -> None:
    text = "\n".join(
        [
            "### `fastapi.demo`",
            "| FastAPI name | qakeapi equivalent | notes |",
            "|---|---|---|",
            "| `A` | `qakeapi.demo.A` | same |",
            "| `B` | none | use `qakeapi.C` |",
            "## Other",
            "| `C` | `qakeapi.C` | outside any module table |",
        ]
    )
    assert parse_guide(text) == {
        "fastapi.demo": {"A": ("qakeapi.demo.A", "same"), "B": (None, "use `qakeapi.C`")}
    }


def test_the_guide_has_a_table_for_every_fastapi_module_of_the_snapshot() -> None:
    assert sorted(TABLES) == sorted(EXPECTED)


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_every_public_name_of_the_module_has_its_row(module: str) -> None:
    listed = set(TABLES.get(module, {}))
    assert sorted(set(EXPECTED[module]) - listed) == [], "names missing from the guide"
    assert sorted(listed - set(EXPECTED[module])) == [], "rows for names FastAPI lacks"


@pytest.mark.parametrize("target", EQUIVALENTS)
def test_every_equivalent_the_guide_names_exists_in_qakeapi(target: str) -> None:
    module_name, _, attribute = target.rpartition(".")
    module = importlib.import_module(module_name)
    with warnings.catch_warnings():  # qakeapi.status's replaced names warn on access
        warnings.simplefilter("ignore", DeprecationWarning)
        assert hasattr(module, attribute), f"{module_name} has no {attribute}"


def test_none_is_the_exception_and_each_says_why() -> None:
    nones = [(module, name, notes) for module, name, (target, notes) in ROWS if target is None]
    unexplained = [f"{module}.{name}" for module, name, notes in nones if len(notes) < 20]
    assert unexplained == []
    assert len(ROWS) == sum(map(len, EXPECTED.values()))
    assert len(nones) / len(ROWS) <= MAX_NONE_SHARE, f"{len(nones)} of {len(ROWS)} are none"
