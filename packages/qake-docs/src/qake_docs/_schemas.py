"""``SchemaRegistry``: JSON Schemas of many types, generated together into components."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qake_docs._schema_names import readable_names, rename_refs

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic.json_schema import JsonSchemaMode

__all__ = ["REF_TEMPLATE", "SchemaRegistry", "named_model"]

REF_TEMPLATE = "#/components/schemas/{model}"
_REF_PREFIX = "#/components/schemas/"


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
        defs = dict(definitions.get("$defs", {}))
        renames = readable_names(defs)
        for i, (slot, mode, _) in enumerate(self._pending):
            slot.update(schemas[(i, mode)])
            if renames:
                rename_refs(slot, _REF_PREFIX, renames)
        self._pending.clear()
        if renames:
            defs = {renames.get(name, name): schema for name, schema in defs.items()}
            rename_refs(defs, _REF_PREFIX, renames)
        return defs


def named_model(adapter: TypeAdapter[Any], name: str, module: str) -> TypeAdapter[Any]:
    """``adapter`` for a copy of its pydantic model named ``name`` (defined in ``module``).

    qake-core validates an embedded body (form fields, several body parameters) with a
    model it builds per route; every such model has the same class name, so pydantic
    would tell them apart in ``components.schemas`` by qake-core's module path
    (``qake_core___typed___analysis__Body__1``) and push a user's model of that name to its
    module path too. A subclass with the route's own name documents the same fields
    under a readable, unique name. ``module`` is only used if a user's model has the
    same name (pydantic then prefixes each with its module). An adapter whose type is
    not a model is returned unchanged.
    """
    from pydantic import TypeAdapter, create_model

    model = _model_class(adapter.core_schema)
    if model is None:
        return adapter
    return TypeAdapter(create_model(name, __base__=model, __module__=module))


def _model_class(schema: Any) -> type[Any] | None:
    """The model class a core schema validates (found in its definitions if needed)."""
    if schema.get("type") == "definitions":
        ref = schema["schema"].get("schema_ref")
        schema = next((d for d in schema["definitions"] if d.get("ref") == ref), schema["schema"])
    if schema.get("type") == "model":
        cls: type[Any] = schema["cls"]
        return cls
    return None
