"""Readable component names for generic models pydantic names after their full type
arguments (``Page[Annotated[Union[Cat, Dog], FieldInfo(...)]]``): ``Page_Cat_Dog_``."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["readable_names", "rename_refs"]

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Words of a type's spelling that name no model: typing's forms and FieldInfo's repr.
_NOISE = frozenset(
    {"Annotated", "Union", "Optional", "FieldInfo", "annotation", "NoneType", "None", "required"}
    | {"True", "False", "discriminator", "typing", "Literal", "default", "alias", "Discriminator"}
)
_NEEDS_TIDYING = ("Annotated", "FieldInfo", "typing")


def _readable(title: str) -> str | None:
    """``Page_Cat_Dog_`` for a title ``Page[Annotated[Union[Cat, Dog], FieldInfo(...)]]``."""
    words = [w for w in _WORD.findall(_QUOTED.sub("", title)) if w not in _NOISE]
    if len(words) < 2:
        return None
    return f"{words[0]}_{'_'.join(dict.fromkeys(words[1:]))}_"


def readable_names(definitions: dict[str, Any]) -> dict[str, str]:
    """Old name → new name for the definitions whose names spell typing internals;
    a name already taken keeps the old one (deterministic: by sorted old name)."""
    renames: dict[str, str] = {}
    taken = set(definitions)
    for name in sorted(definitions):
        if not any(part in name for part in _NEEDS_TIDYING):
            continue
        title = definitions[name].get("title")
        new = _readable(title) if isinstance(title, str) else None
        if new is None or new in taken:
            continue
        new += next((s for s in ("-Input", "-Output") if name.endswith(s)), "")
        if new in taken:
            continue
        renames[name] = new
        taken.add(new)
    return renames


def rename_refs(node: Any, prefix: str, renames: dict[str, str]) -> None:
    """Point every ``$ref`` under ``node`` at the renamed definitions, in place."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix):
            new = renames.get(ref[len(prefix) :])
            if new is not None:
                node["$ref"] = prefix + new
        mapping = node.get("mapping")
        if isinstance(mapping, dict):  # a discriminator's: references as plain strings
            for key, target in mapping.items():
                if isinstance(target, str) and target[len(prefix) :] in renames:
                    mapping[key] = prefix + renames[target[len(prefix) :]]
        for value in node.values():
            rename_refs(value, prefix, renames)
    elif isinstance(node, list):
        for value in node:
            rename_refs(value, prefix, renames)
