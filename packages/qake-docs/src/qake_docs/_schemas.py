"""``SchemaRegistry``: JSON Schemas of many types, generated together into components."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic.json_schema import JsonSchemaMode

__all__ = ["REF_TEMPLATE", "SchemaRegistry"]

REF_TEMPLATE = "#/components/schemas/{model}"


class SchemaRegistry:
    """Collects types while the document is walked, then renders them in one pass.

    ``schema_for`` hands back an empty dict at once; :meth:`finish` fills every one
    in place. Generating all schemas together lets pydantic give each model one
    unique name in ``components.schemas`` and reference it with ``$ref``.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[dict[str, Any], JsonSchemaMode, TypeAdapter[Any]]] = []

    def schema_for(
        self, adapter: TypeAdapter[Any] | Any, mode: JsonSchemaMode = "validation"
    ) -> dict[str, Any]:
        """A placeholder for the schema of ``adapter`` (a TypeAdapter or a type)."""
        from pydantic import TypeAdapter  # NOTE: lazy: importing qake_docs stays cheap

        if not isinstance(adapter, TypeAdapter):
            adapter = TypeAdapter(adapter)
        slot: dict[str, Any] = {}
        self._pending.append((slot, mode, adapter))
        return slot

    def finish(self) -> dict[str, Any]:
        """Fill every placeholder; return the shared definitions (``components.schemas``)."""
        if not self._pending:
            return {}
        inputs = [(i, mode, adapter) for i, (_, mode, adapter) in enumerate(self._pending)]
        from pydantic import TypeAdapter

        schemas, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE)
        for i, (slot, mode, _) in enumerate(self._pending):
            slot.update(schemas[(i, mode)])
        self._pending.clear()
        return dict(definitions.get("$defs", {}))
