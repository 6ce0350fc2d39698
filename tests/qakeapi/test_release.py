"""The release process of CONTRIBUTING.md holds (issue 19): one package builds into an
sdist and a wheel named and versioned as its ``pyproject.toml`` says, and every
package's version and the pins the packages hold on each other agree, so that
``hatch build -a`` builds a consistent set of distributions.

The build runs qake-routing, the smallest package, through ``uv build`` (sdist first,
then the wheel from that sdist, as a user building from the sdist would) or, without
uv, ``hatch build``; the rest is read statically from the ``pyproject.toml`` files."""

from __future__ import annotations

import email.parser
import re
import shutil
import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PACKAGES_DIR = ROOT / "packages"
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def load_projects() -> dict[str, dict[str, Any]]:
    """Distribution name → its ``[project]`` table, for every package folder."""
    projects = {}
    for path in sorted(PACKAGES_DIR.glob("*/pyproject.toml")):
        project = tomllib.loads(path.read_text("utf-8"))["project"]
        assert project["name"] == path.parent.name, f"{path}: name differs from its folder"
        projects[project["name"]] = project
    return projects


PROJECTS = load_projects()


def requirements(project: dict[str, Any]) -> list[tuple[str, Requirement]]:
    """Every requirement of a project: ``("", req)`` for a dependency, ``(extra, req)``
    for an optional one."""
    found = [("", Requirement(spec)) for spec in project.get("dependencies", [])]
    for extra, specs in project.get("optional-dependencies", {}).items():
        found.extend((extra, Requirement(spec)) for spec in specs)
    return found


def internal_requirements() -> list[tuple[str, str, Requirement]]:
    """(project, extra, requirement) for every pin of one qake package on another."""
    return [
        (name, extra, req)
        for name, project in PROJECTS.items()
        for extra, req in requirements(project)
        if canonicalize_name(req.name) in PROJECTS and canonicalize_name(req.name) != name
    ]


def next_breaking(version: Version) -> Version:
    """The first version SemVer lets break this one's API: 0.y → 0.(y+1), x → x+1."""
    if version.major == 0:
        return Version(f"0.{version.minor + 1}.0")
    return Version(f"{version.major + 1}.0.0")


def test_the_seven_packages_are_read() -> None:
    assert sorted(PROJECTS) == [
        "qake-core",
        "qake-docs",
        "qake-routing",
        "qake-security",
        "qake-testing",
        "qake-ws",
        "qakeapi",
    ]


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_version_is_one_static_semver_string(name: str) -> None:
    project = PROJECTS[name]
    # The one place a version lives: no dynamic version, no __version__ to keep in step.
    assert "version" not in project.get("dynamic", []), f"{name}: the version is static"
    assert _SEMVER.match(project["version"]), f"{name}: {project['version']!r} is not X.Y.Z"
    init = next((PACKAGES_DIR / name / "src").glob("*/__init__.py"))
    assert "__version__" not in init.read_text("utf-8"), f"{init}: a second version string"


def test_internal_pins_include_the_current_versions() -> None:
    pins = internal_requirements()
    assert pins, "no qake package pins another: the reading is wrong"
    problems = []
    for project, extra, req in pins:
        target = canonicalize_name(req.name)
        current = Version(PROJECTS[target]["version"])
        where = f"{project}{f'[{extra}]' if extra else ''} → {req}"
        if not req.specifier.contains(current):
            problems.append(f"{where}: excludes {target}'s current version {current}")
        if req.specifier.contains(next_breaking(current)):
            problems.append(f"{where}: admits {next_breaking(current)}, which may break it")
        extras = PROJECTS[target].get("optional-dependencies", {})
        problems.extend(
            f"{where}: {target} has no extra {wanted!r}"
            for wanted in req.extras
            if wanted not in extras
        )
    assert not problems, "\n".join(problems)


def test_the_meta_package_pins_every_package() -> None:
    pinned = {
        canonicalize_name(req.name) for extra, req in requirements(PROJECTS["qakeapi"]) if not extra
    }
    assert set(PROJECTS) - {"qakeapi"} <= pinned, pinned


def test_the_pin_check_catches_a_stale_pin() -> None:
    # What test_internal_pins_include_the_current_versions looks for, on a made-up pin
    # left behind by a minor release of qake-core.
    stale = Requirement("qake-core>=0.1,<0.2")
    assert not stale.specifier.contains(Version("0.2.0"))
    assert next_breaking(Version("0.2.0")) == Version("0.3.0")
    assert next_breaking(Version("1.4.2")) == Version("2.0.0")
    loose = Requirement("qake-core>=0.1")
    assert loose.specifier.contains(next_breaking(Version("0.1.0")))


def test_hatch_build_all_builds_every_package() -> None:
    # `hatch build -a` at the root builds the members of the default environment's
    # workspace (hatch.toml): all of them, so every wheel and sdist comes out of it.
    config = tomllib.loads((ROOT / "hatch.toml").read_text("utf-8"))
    members = config["envs"]["default"]["workspace"]["members"]
    paths = sorted(member["path"] if isinstance(member, dict) else member for member in members)
    assert paths == sorted(f"packages/{name}" for name in PROJECTS)


def _build(package_dir: Path, out: Path) -> None:
    if uv := shutil.which("uv"):
        command = [uv, "build", str(package_dir), "--out-dir", str(out), "--quiet"]
        cwd = ROOT
    elif hatch := shutil.which("hatch"):
        command = [hatch, "build", "-t", "sdist", "-t", "wheel", str(out)]
        cwd = package_dir
    else:
        pytest.skip("neither uv nor hatch is on PATH (.ci/run puts both there)")
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"


def _metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


def test_qake_routing_builds_an_sdist_and_a_wheel_of_its_version(tmp_path: Path) -> None:
    project = PROJECTS["qake-routing"]
    version = project["version"]
    _build(PACKAGES_DIR / "qake-routing", tmp_path)

    sdist_name = f"qake_routing-{version}.tar.gz"
    wheel_name = f"qake_routing-{version}-py3-none-any.whl"
    built = [p.name for p in tmp_path.iterdir() if p.name.endswith((".whl", ".tar.gz"))]
    assert sorted(built) == sorted([sdist_name, wheel_name])

    with zipfile.ZipFile(tmp_path / wheel_name) as wheel:
        names = wheel.namelist()
        meta = _metadata(wheel.read(f"qake_routing-{version}.dist-info/METADATA").decode())
    assert meta["Name"] == "qake-routing"
    assert meta["Version"] == version
    assert meta["Requires-Python"] == project["requires-python"]
    assert meta.get_all("Requires-Dist") is None  # no dependency at all
    assert "qake_routing/py.typed" in names
    # The MIT license text ships with the code (hatchling takes LICENSE from the package
    # folder; License-File names it in the metadata).
    assert f"qake_routing-{version}.dist-info/licenses/LICENSE" in names
    assert meta["License-File"] == "LICENSE"
    assert "qake_routing/__init__.py" in names
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {"qake_routing", f"qake_routing-{version}.dist-info"}, top_level

    with tarfile.open(tmp_path / sdist_name) as sdist:
        prefix = f"qake_routing-{version}/"
        members = {member.name.removeprefix(prefix) for member in sdist.getmembers()}
        pkg_info = sdist.extractfile(prefix + "PKG-INFO")
        assert pkg_info is not None
        sdist_meta = _metadata(pkg_info.read().decode())
    assert sdist_meta["Name"] == "qake-routing"
    assert sdist_meta["Version"] == version
    # What a release ships besides the code: the build configuration, the README (the
    # long description) and the changelog whose top section is this version.
    assert {
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "src/qake_routing/__init__.py",
    } <= members


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_package_ships_the_repository_license(name: str) -> None:
    """Each package folder holds a copy of the root LICENSE (a wheel is built from its
    folder alone), word for word: one license, copied, never edited apart."""
    root = (PACKAGES_DIR.parent / "LICENSE").read_text(encoding="utf-8")
    assert (PACKAGES_DIR / name / "LICENSE").read_text(encoding="utf-8") == root
