"""What a route declares, as data: parameters, body, dependencies, response.

Computed once per route when it is registered (``route.spec``) from the handler's
signature; the request-time plan is compiled from it and the layers above
(OpenAPI in qake-docs, security schemes in qake-security) read it instead of
re-inspecting signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from qake_core._depends import Depends
from qake_core._params import Location, Param

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic.fields import FieldInfo

    from qake_routing import Converter

__all__ = ["BodySpec", "CallSpec", "DependencySpec", "ParamSpec", "ResponseSpec", "RouteSpec"]

Injected = Literal["request", "response", "background", "connection", "security_scopes"]


@dataclass(frozen=True, slots=True, eq=False)
class ParamSpec:
    """One request value bound to a parameter.

    ``alias`` is the name on the wire (a header's lower-case name); ``annotation`` the
    declared type without the marker; ``field_info`` the pydantic ``FieldInfo``
    carrying constraints and documentation; ``model`` is set when a pydantic model
    groups several query/header/cookie/form values (``Annotated[Filters, Query()]``);
    ``converter`` is a path parameter's converter in the route's template (the
    ``qake_routing.Converter``, with the ``python_type`` and ``json_schema`` it gives).
    """

    name: str
    location: Location
    alias: str
    annotation: Any
    required: bool
    default: Any
    field_info: FieldInfo
    marker: Param | None = None
    is_sequence: bool = False
    model: type[Any] | None = None
    adapter: TypeAdapter[Any] | None = field(default=None, repr=False)
    converter: Converter | None = field(default=None, repr=False)

    def wire_fields(self) -> list[tuple[str, str, bool]]:
        """For a parameter model (``model`` set): ``(name on the wire, key the model
        validates, is a sequence)`` per field, in the model's order, as the app reads
        them (validation alias, else alias, else name; a header field's underscores as
        hyphens unless ``Header(convert_underscores=False)``; header names lower-case)."""
        from qake_core._typed._extraction import group_fields

        return group_fields(self)

    @property
    def takes_router_value(self) -> bool:
        """Whether the router's value reaches the handler as is: a path parameter
        annotated with its converter's ``python_type``, without constraints. It is not
        validated again, so it is never refused with 422 (the router answers 404 to a
        segment the converter refuses)."""
        converter = self.converter
        return (
            converter is not None
            and self.annotation is converter.python_type
            and not self.field_info.metadata
        )

    @property
    def description(self) -> str | None:
        return self.field_info.description

    @property
    def deprecated(self) -> bool:
        return bool(self.field_info.deprecated)

    @property
    def include_in_schema(self) -> bool:
        return self.marker.include_in_schema if self.marker is not None else True


@dataclass(frozen=True, slots=True, eq=False)
class BodySpec:
    """The request body: JSON (``media_type`` application/json) or a form.

    ``fields`` are the body parameters; when ``embed`` is true the body is an object
    holding each under its alias. ``adapter`` validates the whole body and gives its
    JSON schema (``adapter.json_schema()``).
    """

    media_type: str
    fields: tuple[ParamSpec, ...]
    embed: bool
    required: bool
    annotation: Any
    adapter: TypeAdapter[Any] = field(repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class CallSpec:
    """A callable (handler or dependency) and what its parameters resolve to."""

    call: Callable[..., Any]
    params: tuple[ParamSpec, ...]
    dependencies: tuple[DependencySpec, ...]
    #: ``(parameter name, what)`` for the request/response/background tasks parameters.
    injected: tuple[tuple[str, Injected], ...]
    #: every argument in signature order: ``("param" | "dep" | "inject", name)``
    order: tuple[tuple[str, str], ...]
    is_async: bool
    is_async_gen: bool
    is_gen: bool


@dataclass(frozen=True, slots=True, eq=False)
class DependencySpec:
    """A dependency: the ``Depends`` marker (security layers read it and its ``call``),
    the parameter it fills (``None`` for ``dependencies=[...]``) and its own resolution."""

    depends: Depends
    name: str | None
    spec: CallSpec

    @property
    def call(self) -> Callable[..., Any]:
        return self.spec.call

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        return self.spec.params

    @property
    def dependencies(self) -> tuple[DependencySpec, ...]:
        return self.spec.dependencies


@dataclass(frozen=True, slots=True, eq=False)
class ResponseSpec:
    """The declared response: a model (``None`` when the handler returns raw data or a
    ``Response``), its adapter and the serialisation options (``include``/``exclude``
    are pydantic's: a set of field names, or a dict for nested fields)."""

    model: Any
    adapter: TypeAdapter[Any] | None = field(repr=False)
    status_code: int
    exclude_none: bool = False
    exclude_unset: bool = False
    by_alias: bool = True
    include: Any = None
    exclude: Any = None
    exclude_defaults: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class RouteSpec:
    """Everything a route declares, flattened for docs and security.

    ``params`` lists every request value the route reads (its handler's and its
    dependencies', deduplicated by location and alias); ``dependencies`` the
    top-level dependencies in the order they run (app, routers, route, then the
    handler's own); ``all_dependencies`` every dependency of the tree, depth first.
    """

    path: str
    methods: frozenset[str]
    name: str
    endpoint: Callable[..., Any]
    handler: CallSpec
    params: tuple[ParamSpec, ...]
    body: BodySpec | None
    response: ResponseSpec
    dependencies: tuple[DependencySpec, ...]
    all_dependencies: tuple[DependencySpec, ...]
    tags: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    operation_id: str | None = None
    include_in_schema: bool = True
    responses: dict[int | str, Any] = field(default_factory=dict)

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def response_model(self) -> Any:
        return self.response.model
