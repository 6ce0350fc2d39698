"""Parameter markers: where a handler argument comes from, and its constraints.

``Query``, ``Path``, ``Header``, ``Cookie``, ``Body``, ``Form`` and ``File`` are
used as a default (``q: int = Query(10, ge=1)``) or inside ``Annotated``
(``q: Annotated[int, Query(ge=1)] = 10``). Constraints are pydantic's: they end up
in a ``pydantic.Field`` attached to the parameter's type, so a request validates
exactly as a model field with the same declaration would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo


__all__ = ["Body", "Cookie", "File", "Form", "Header", "Param", "Path", "Query"]

Location = Literal["path", "query", "header", "cookie", "body", "form", "file"]


class _Required:
    __slots__ = ()

    def __repr__(self) -> str:
        return "..."


#: The default of a required parameter (``Query()`` and ``Query(...)`` both mean it).
REQUIRED: Any = _Required()


class Param:
    """Base of the markers; ``location`` says which part of the request is read.

    ``default`` (positional) is the value used when the request lacks the parameter;
    without one (or with ``...``) the parameter is required. ``alias`` is the name on
    the wire. The other keywords are pydantic ``Field`` arguments: constraints
    (``ge``, ``le``, ``gt``, ``lt``, ``multiple_of``, ``min_length``, ``max_length``,
    ``pattern``, ``strict``, ``allow_inf_nan``, ``max_digits``, ``decimal_places``,
    ``union_mode``, ``fail_fast``, ``discriminator``...) and documentation (``title``,
    ``description``,
    ``examples``, ``deprecated``, ``json_schema_extra``). ``openapi_examples`` are
    OpenAPI Example Objects by name (``{"normal": {"summary": ..., "value": ...}}``),
    shown by the docs next to the parameter or body (not part of its JSON Schema).
    """

    location: Location = "query"
    __slots__ = ("alias", "default", "field_kwargs", "include_in_schema", "openapi_examples")

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
        deprecated: bool | str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        strict: bool | None = None,
        json_schema_extra: dict[str, Any] | None = None,
        include_in_schema: bool = True,
        openapi_examples: dict[str, dict[str, Any]] | None = None,
        allow_inf_nan: bool | None = None,
        decimal_places: int | None = None,
        max_digits: int | None = None,
        union_mode: Literal["smart", "left_to_right"] | None = None,
        fail_fast: bool | None = None,
        discriminator: str | Any | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:  # FastAPI's keywords qakeapi does not take: say what to use
            from qake_core._options import keywords, reject_unknown_options

            where = f"{type(self).__name__}(...)"
            supported = keywords(type(self).__init__, Param.__init__)
            reject_unknown_options("parameter", where, unknown, supported)
        self.default = REQUIRED if default is ... else default
        self.openapi_examples = dict(openapi_examples) if openapi_examples else None
        self.alias = alias
        self.include_in_schema = include_in_schema
        given = {
            "title": title,
            "description": description,
            "examples": examples,
            "deprecated": deprecated,
            "gt": gt,
            "ge": ge,
            "lt": lt,
            "le": le,
            "multiple_of": multiple_of,
            "min_length": min_length,
            "max_length": max_length,
            "pattern": pattern,
            "strict": strict,
            "json_schema_extra": json_schema_extra,
            "allow_inf_nan": allow_inf_nan,
            "decimal_places": decimal_places,
            "max_digits": max_digits,
            "union_mode": union_mode,
            "fail_fast": fail_fast,
            "discriminator": discriminator,
        }
        self.field_kwargs: dict[str, Any] = {k: v for k, v in given.items() if v is not None}

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def field_info(self) -> FieldInfo:
        """The pydantic ``FieldInfo`` holding this marker's constraints (no default)."""
        from pydantic import Field  # NOTE: lazy: `import qake_core` does not load pydantic

        info: FieldInfo = Field(**self.field_kwargs)
        return info

    def __repr__(self) -> str:
        args = [] if self.required else [repr(self.default)]
        if self.alias:
            args.append(f"alias={self.alias!r}")
        args += [f"{k}={v!r}" for k, v in self.field_kwargs.items()]
        return f"{type(self).__name__}({', '.join(args)})"


class Query(Param):
    """A query-string parameter; a ``list[...]`` annotation reads repeated keys."""

    location: Location = "query"
    __slots__ = ()


class Path(Param):
    """A path parameter (named in the route template); always required."""

    location: Location = "path"
    __slots__ = ()


class Header(Param):
    """A request header. ``x_token`` reads ``x-token`` unless ``convert_underscores=False``."""

    location: Location = "header"
    __slots__ = ("convert_underscores",)

    def __init__(
        self, default: Any = REQUIRED, *, convert_underscores: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A cookie of the request."""

    location: Location = "cookie"
    __slots__ = ()


class Body(Param):
    """The JSON body, or (``embed=True``, or with several body parameters) one member of it.

    ``media_type`` is the content type the docs announce (``application/json``).
    """

    location: Location = "body"
    __slots__ = ("embed", "media_type")

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        embed: bool = False,
        media_type: str = "application/json",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed
        self.media_type = media_type


class Form(Param):
    """A field of a URL-encoded or multipart form body."""

    location: Location = "form"
    __slots__ = ("media_type",)

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.media_type = media_type


class File(Form):
    """An uploaded file of a multipart body (annotate ``UploadFile`` or ``bytes``)."""

    location: Location = "file"
    __slots__ = ()

    def __init__(
        self, default: Any = REQUIRED, *, media_type: str = "multipart/form-data", **kwargs: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **kwargs)
