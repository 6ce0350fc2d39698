"""``openapi_extra``: the user's fields merged into a generated operation."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["deep_merge"]


def deep_merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merge ``extra`` into ``target`` in place: mappings merge key by key, lists and
    other values replace (``openapi_extra={"requestBody": {...}}`` may add a body to
    an operation that reads the request itself). ``extra`` is copied, not shared."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            deep_merge(current, value)
        else:
            target[key] = copy.deepcopy(value)
