"""The documentation site's configuration (``mkdocs.yml``), checked without building it
(the build needs the ``docs`` hatch environment: ``hatch run docs:build``): the nav and
the pages of ``docs/`` agree, every API reference page documents a package that
imports, and every relative link of a page reaches a file — ``mkdocs build --strict``
reports a link to a repository file outside ``docs/`` only as information."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

PACKAGES = (
    "qake_routing",
    "qake_core",
    "qake_security",
    "qake_ws",
    "qake_testing",
    "qake_docs",
    "qakeapi",
)

# Pages of docs/ deliberately left out of the nav (none so far).
NOT_IN_NAV: frozenset[str] = frozenset()


class _Tagged:
    """A value carrying a YAML tag that plain YAML does not know (mkdocs' ``!relative``,
    material's ``!!python/name:``), kept as text: the test only reads the structure."""

    def __init__(self, tag: str, value: object) -> None:
        self.tag = tag
        self.value = value


class _Loader(yaml.SafeLoader):
    pass


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.ScalarNode):
        return _Tagged(node.tag, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return _Tagged(node.tag, loader.construct_sequence(node))
    assert isinstance(node, yaml.MappingNode)
    return _Tagged(node.tag, loader.construct_mapping(node))


_Loader.add_multi_constructor("!", _construct_tagged)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _construct_tagged)


def load_config(path: Path) -> dict[str, Any]:
    config = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    assert isinstance(config, dict), f"{path}: not a mapping"
    return config


def nav_pages(nav: object) -> list[str]:
    """Every page path named in a mkdocs nav (sections nested at any depth); external
    links (``https://...``) are not pages."""
    pages: list[str] = []
    if isinstance(nav, str):
        if "://" not in nav:
            pages.append(nav)
    elif isinstance(nav, list):
        for item in nav:
            pages.extend(nav_pages(item))
    elif isinstance(nav, dict):
        for value in nav.values():
            pages.extend(nav_pages(value))
    else:
        raise AssertionError(f"unexpected nav entry {nav!r}")
    return pages


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def relative_links(markdown: str) -> list[str]:
    """The relative link targets of a page (not in code), without their ``#anchor``."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", markdown))
    targets = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # https:, mailto: ... or an anchor in the page itself
        targets.append(target.split("#", 1)[0])
    return targets


def broken_links(page: Path) -> list[str]:
    return [
        target
        for target in relative_links(page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load_config(ROOT / "mkdocs.yml")


def test_the_configuration_is_a_material_site_with_mkdocstrings(config: dict[str, Any]) -> None:
    assert config["site_name"] == "qakeapi"
    assert config["docs_dir"] == "docs"
    assert config["theme"]["name"] == "material"
    plugins = [next(iter(p)) if isinstance(p, dict) else p for p in config["plugins"]]
    assert "mkdocstrings" in plugins
    assert config["strict"] is True


def test_every_nav_entry_is_a_page_of_docs(config: dict[str, Any]) -> None:
    pages = nav_pages(config["nav"])
    assert pages, "the nav names no page"
    missing = [page for page in pages if not (DOCS / page).is_file()]
    assert missing == [], f"nav entries without a file under docs/: {missing}"
    assert len(pages) == len(set(pages)), f"a page is twice in the nav: {pages}"


def test_every_page_of_docs_is_in_the_nav(config: dict[str, Any]) -> None:
    in_nav = set(nav_pages(config["nav"]))
    on_disk = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert len(on_disk) >= 10
    missing = sorted(on_disk - in_nav - NOT_IN_NAV)
    assert missing == [], "pages of docs/ missing from mkdocs.yml's nav"
    assert on_disk >= NOT_IN_NAV, "NOT_IN_NAV names a page that does not exist"


def test_each_reference_page_documents_a_package_that_imports(config: dict[str, Any]) -> None:
    documented = {}
    for page in sorted((DOCS / "reference").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        identifiers = re.findall(r"^::: *([\w.]+) *$", text, re.MULTILINE)
        assert len(identifiers) == 1, f"{page.name}: expected one ::: block, found {identifiers}"
        module = importlib.import_module(identifiers[0])
        assert module.__doc__, f"{identifiers[0]} has no module docstring for its page"
        documented[identifiers[0]] = page.relative_to(DOCS).as_posix()
    assert sorted(documented) == sorted(PACKAGES)
    assert set(documented.values()) <= set(nav_pages(config["nav"]))


def test_every_relative_link_of_a_page_reaches_a_file() -> None:
    broken = {
        page.relative_to(DOCS).as_posix(): links
        for page in sorted(DOCS.rglob("*.md"))
        if (links := broken_links(page))
    }
    assert broken == {}, f"links to files that do not exist: {broken}"


def test_the_contributing_page_includes_contributing_md() -> None:
    page = (DOCS / "contributing.md").read_text(encoding="utf-8")
    included = re.findall(r'^--8<-- "([^"]+)"$', page, re.MULTILINE)
    assert included == ["CONTRIBUTING.md"]
    assert (ROOT / included[0]).is_file()


# The checks above on pages made for the purpose: each one can fail.


def test_nav_pages_reads_nested_sections_and_skips_external_links() -> None:
    nav = yaml.load(
        "- Home: index.md\n- Guides:\n    - A: a/b.md\n    - Deep:\n        - c.md\n- Ext: https://example.org/\n",
        Loader=_Loader,  # a SafeLoader
    )
    assert nav_pages(nav) == ["index.md", "a/b.md", "c.md"]


def test_unknown_tags_load_as_tagged_values() -> None:
    loaded = yaml.load(
        "a: !relative $config_dir\nb: !!python/name:material.extensions.emoji.twemoji\nc: 1\n",
        Loader=_Loader,  # a SafeLoader
    )
    assert isinstance(loaded["a"], _Tagged)
    assert loaded["a"].value == "$config_dir"
    assert isinstance(loaded["b"], _Tagged)
    assert loaded["b"].tag.endswith("material.extensions.emoji.twemoji")
    assert loaded["c"] == 1
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("b: !!python/name:os.system\n")


def test_broken_links_finds_a_missing_target_and_ignores_code_and_urls(tmp_path: Path) -> None:
    (tmp_path / "docs" / "guide").mkdir(parents=True)
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "docs" / "other.md").write_text("x")
    page = tmp_path / "docs" / "guide" / "page.md"
    page.write_text(
        "[ok](../other.md#part) [repo](../../README.md) [web](https://example.org/x.md)\n"
        "[here](#anchor) [gone](../missing.md) [outside](../../nope/README.md)\n"
        "`[code](nowhere.md)`\n\n```md\n[fenced](nowhere.md)\n```\n"
    )
    assert broken_links(page) == ["../missing.md", "../../nope/README.md"]


def test_the_home_page_example_serves_what_it_shows() -> None:
    from qakeapi.testing import TestClient

    page = (DOCS / "index.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", page, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {"__name__": "docs_index_example"}
    exec(compile(blocks[0], "docs/index.md", "exec"), namespace)  # the page's own example
    with TestClient(namespace["app"]) as client:
        response = client.get("/items/3", params={"q": "red"})
        assert response.status_code == 200
        assert response.json() == {"item_id": 3, "q": "red"}
        assert client.get("/items/three").status_code == 404
        created = client.post("/items", json={"name": "pen", "price": 1.5})
        assert created.status_code == 201
        assert created.json() == {"name": "pen", "price": 1.5}
        invalid = client.post("/items", json={"name": "pen"})
        assert invalid.status_code == 422
