"""``checked(doc)``: an OpenAPI document validated by openapi-spec-validator (a tool no
one here wrote), with every ``$ref`` pointing at a component the document holds."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in ``node``."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def checked(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc``, once openapi-spec-validator accepts it and its refs resolve."""
    validate(doc)
    for ref in refs(doc):
        _, section, name = ref.rsplit("/", 2)
        assert ref == f"#/components/{section}/{name}", ref
        assert name in doc["components"][section], ref
    return doc
