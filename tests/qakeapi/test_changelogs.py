"""Every package keeps a changelog in Keep a Changelog form whose latest version is the
one its ``pyproject.toml`` declares, and the docs site's changelog page includes them
all (issue 19). The release process in CONTRIBUTING.md relies on both: a release
bumps the version and heads its changelog section with it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))

#: Keep a Changelog 1.1.0's kinds of change.
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")

_VERSION_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<when>.+))?$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_INCLUDE = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)


@dataclass
class Section:
    heading: str  # "Unreleased" or a version
    when: str | None
    kinds: dict[str, list[str]] = field(default_factory=dict)  # kind -> entries


def parse_changelog(text: str) -> tuple[str, list[Section]]:
    """The title line and the ``## [...]`` sections, outside fenced code."""
    lines = text.splitlines()
    title = lines[0] if lines else ""
    sections: list[Section] = []
    kind: str | None = None
    in_fence = False
    for line in lines[1:]:
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        if line.startswith("## "):
            match = _VERSION_HEADING.match(line)
            assert match, f"not a Keep a Changelog version heading: {line!r}"
            sections.append(Section(match["version"], match["when"]))
            kind = None
        elif line.startswith("### "):
            assert sections, f"{line!r} before any version heading"
            kind = line[4:].strip()
            assert kind in KINDS, f"{line!r}: the kinds of change are {', '.join(KINDS)}"
            sections[-1].kinds.setdefault(kind, [])
        elif line.startswith("- ") and kind is not None:
            sections[-1].kinds[kind].append(line[2:])
    return title, sections


def pyproject(package: str) -> dict[str, object]:
    data = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text("utf-8"))
    project = data["project"]
    assert isinstance(project, dict)
    return project


def semver(version: str) -> tuple[int, ...]:
    assert _SEMVER.match(version), f"{version!r} is not X.Y.Z"
    return tuple(int(part) for part in version.split("."))


def test_every_package_is_found() -> None:
    assert len(PACKAGES) == 7, PACKAGES
    assert "qakeapi" in PACKAGES
    assert "qake-routing" in PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_the_changelog_heads_with_the_pyproject_version(package: str) -> None:
    path = ROOT / "packages" / package / "CHANGELOG.md"
    assert path.is_file(), f"{package} has no CHANGELOG.md"
    title, sections = parse_changelog(path.read_text("utf-8"))
    assert title == f"# Changelog — {package}", title
    assert sections, f"{path}: no version section"

    # An [Unreleased] section may sit on top (changes not yet given a version); the
    # first version below it is the one the pyproject declares.
    if sections[0].heading == "Unreleased":
        assert sections[0].when is None, "[Unreleased] carries no date"
        sections = sections[1:]
    versions = [s.heading for s in sections]
    assert versions, f"{path}: no version section below [Unreleased]"
    declared = pyproject(package)["version"]
    assert versions[0] == declared, (
        f"{path}: the latest version is {versions[0]}, pyproject.toml says {declared}: "
        "bump both together (CONTRIBUTING.md, Releasing)"
    )
    assert "Unreleased" not in versions, "[Unreleased] belongs on top only"


@pytest.mark.parametrize("package", PACKAGES)
def test_versions_descend_and_only_the_latest_may_be_unreleased(package: str) -> None:
    _, sections = parse_changelog((ROOT / "packages" / package / "CHANGELOG.md").read_text("utf-8"))
    released = [s for s in sections if s.heading != "Unreleased"]
    keys = [semver(s.heading) for s in released]
    assert keys == sorted(keys, reverse=True), [s.heading for s in released]
    assert len(set(keys)) == len(keys), [s.heading for s in released]
    for position, section in enumerate(released):
        if section.when == "Unreleased":
            assert position == 0, f"{section.heading}: only the latest version may be unreleased"
        else:
            assert section.when is not None, f"{section.heading}: a released version has a date"
            date.fromisoformat(section.when)  # YYYY-MM-DD
        entries = sum(len(items) for items in section.kinds.values())
        assert entries, f"{section.heading}: no entry under {', '.join(KINDS)}"
        assert all(section.kinds.values()), f"{section.heading}: an empty kind heading"


def test_the_parser_refuses_what_the_format_does_not_allow() -> None:
    with pytest.raises(AssertionError, match="version heading"):
        parse_changelog("# Changelog — x\n\n## 0.1.0 (unreleased)\n")
    with pytest.raises(AssertionError, match="kinds of change"):
        parse_changelog("# Changelog — x\n\n## [0.1.0] - 2026-01-01\n\n### Improvements\n")
    _, sections = parse_changelog(
        "# Changelog — x\n\n## [Unreleased]\n\n### Fixed\n\n- a\n\n## [0.2.0] - 2026-01-02\n\n"
        "### Added\n\n- b\n- c\n"
    )
    assert [(s.heading, s.when) for s in sections] == [
        ("Unreleased", None),
        ("0.2.0", "2026-01-02"),
    ]
    assert sections[1].kinds == {"Added": ["b", "c"]}


def test_the_docs_changelog_page_includes_every_package() -> None:
    page = (ROOT / "docs" / "changelog.md").read_text("utf-8")
    included = _INCLUDE.findall(page)
    expected = [f"packages/{package}/CHANGELOG.md" for package in PACKAGES]
    assert sorted(included) == sorted(expected), included
    assert len(set(included)) == len(included), "a changelog included twice"
    for path in included:  # pymdownx.snippets' base_path is the repository root
        assert (ROOT / path).is_file(), path
