"""Parameter models (``filters: Annotated[Filters, Query()]``) documented as the app reads
them: one parameter per field, under the wire name qake-core's extraction uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from qake_core import ParamSpec

__all__ = ["model_fields"]


def model_fields(p: ParamSpec) -> Iterator[tuple[str, Any, Any]]:
    """``(wire name, pydantic FieldInfo, annotation with its constraints)`` per field of
    ``p.model``, in the model's order.

    The wire names are qake-core's own (``ParamSpec.wire_fields``: validation alias, else alias,
    else name; a header field's underscores as hyphens unless
    ``Header(convert_underscores=False)``; lower-case headers), so the document cannot
    drift from what the app reads.
    """
    assert p.model is not None
    fields = p.model.model_fields.values()
    # the one rule (qake-core's), not a copy
    for (wire, _key, _seq), info in zip(p.wire_fields(), fields, strict=True):
        annotation = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        yield wire, info, annotation
