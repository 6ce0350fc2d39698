"""Path templates: ``/users/{user_id:int}/files/{rest:path}`` parsed once, at registration.

A template is a sequence of segments, each either static text or one parameter that
spans the whole segment. Templates are written in decoded form (``/café``); ``format``
percent-encodes both static text and parameter values.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote

from ._converters import BUILTIN_CONVERTERS, Converter
from ._errors import InvalidTemplate, URLBuildError
from ._kept import kept

__all__ = ["Param", "Template", "parse_prefix", "parse_template"]

# Characters left as they are in built URLs: RFC 3986 sub-delims plus ':' and '@'.
# Matching only ever decodes '%', so these round-trip unchanged.
_SAFE = "!$&'()*+,;=:@"


#: The ``params`` of every template without parameters.
_NO_PARAMS: Mapping[str, Converter] = MappingProxyType({})

#: The path parameters and the ``params`` mappings of the templates parsed so far,
#: each kept once (``kept``): equal immutable values shared by the templates that
#: have them (``{id}``, ``{item_id:int}``...).
_PARAMS: dict[Param, Param] = {}
_PARAM_MAPS: dict[tuple[Param, ...], Mapping[str, Converter]] = {}
_KEPT_MAX = 256


class Param(NamedTuple):
    name: str
    converter_name: str
    converter: Converter


def _params_mapping(params: tuple[Param, ...]) -> Mapping[str, Converter]:
    return MappingProxyType({p.name: p.converter for p in params})


class Template:
    """A parsed path template.

    * ``path``: the template as written, ``/users/{user_id:int}``;
    * ``path_format``: the same without converter names, ``/users/{user_id}`` (the form
      OpenAPI and Starlette write);
    * ``params``: parameter name → converter, in template order;
    * ``segments``: ``str`` (static) or ``Param(name, converter_name, converter)``.
    """

    __slots__ = ("_pieces", "params", "path", "path_format", "segments")

    def __init__(self, path: str, segments: tuple[str | Param, ...]) -> None:
        self.path = path
        self.segments = segments
        # PERF: a static template shares one empty mapping, and its path string serves as
        # its path_format and its one piece when they are equal (the usual case): three
        # objects fewer per static route, -150 KiB (tracemalloc) for the 1,000 static
        # routes of the benchmarks' 2,000-route app. Templates with the same parameters
        # share one mapping, and parse_template their Param objects: -160 KiB for its
        # 1,000 routes with a parameter.
        found = tuple(s for s in segments if isinstance(s, Param))
        params = _PARAM_MAPS.get(found) if found else _NO_PARAMS
        if params is None:
            params = kept(_PARAM_MAPS, found, _params_mapping(found), _KEPT_MAX)
        self.params: Mapping[str, Converter] = params
        path_format = "/" + "/".join(
            "{" + s.name + "}" if isinstance(s, Param) else s for s in segments
        )
        self.path_format = path if path_format == path else path_format
        # Static runs pre-encoded and joined: "/users/{id}/posts" -> ["/users/", P, "/posts"].
        pieces: list[str | Param] = []
        for segment in segments:
            if isinstance(segment, Param):
                pieces.append("/")
                pieces.append(segment)
            else:
                pieces.append("/" + quote(segment, safe=_SAFE))
        joined: list[str | Param] = []
        for piece in pieces:
            if joined and isinstance(piece, str) and isinstance(joined[-1], str):
                joined[-1] += piece
            else:
                joined.append(piece)
        # PERF: a static template's one piece is kept as the string itself (its path when
        # they are equal): no tuple per static route, -55 KiB (tracemalloc) for the
        # benchmarks' 2,000-route app.
        self._pieces: str | tuple[str | Param, ...] = tuple(joined)
        if len(joined) == 1 and isinstance(joined[0], str):
            self._pieces = path if joined[0] == path else joined[0]

    def __add__(self, other: Template) -> Template:
        """``prefix + template``: the prefix must have no trailing empty segment."""
        names = set(self.params)
        for name in other.params:
            if name in names:
                raise InvalidTemplate(
                    self.path + other.path,
                    f"parameter {name!r} appears in both the prefix and the route",
                    "rename one of them",
                )
        return Template(self.path + other.path, self.segments + other.segments)

    @classmethod
    def parse(cls, path: str, converters: Mapping[str, Converter] | None = None) -> Template:
        """Parse ``path`` with ``converters`` (the built-in ones by default); raise
        ``InvalidTemplate`` naming the problem and the fix."""
        return parse_template(path, BUILTIN_CONVERTERS if converters is None else converters)

    @classmethod
    def parse_prefix(
        cls, prefix: str, converters: Mapping[str, Converter] | None = None
    ) -> Template | None:
        """Parse a prefix (``/api``, ``/orgs/{org}``); ``None`` for ``""``.

        A prefix starts with '/', does not end with '/' and holds no catch-all: it is
        prepended to templates. Raises ``ValueError`` (``InvalidTemplate`` for a bad
        template) naming the fix.
        """
        return parse_prefix(prefix, BUILTIN_CONVERTERS if converters is None else converters)

    def format(self, route_name: str, params: Mapping[str, Any]) -> str:
        """Build the percent-encoded path, checking names and value types."""
        expected = self.params
        if len(params) != len(expected) or any(name not in expected for name in params):
            missing = sorted(set(expected) - set(params))
            extra = sorted(set(params) - set(expected))
            problems = []
            if missing:
                problems.append(f"missing parameter(s) {', '.join(missing)}")
            if extra:
                problems.append(f"unknown parameter(s) {', '.join(extra)}")
            raise URLBuildError(
                f"cannot build URL for route {route_name!r} ({self.path}): "
                f"{'; '.join(problems)}; expected exactly: {', '.join(expected) or '(none)'}"
            )
        pieces = self._pieces
        if isinstance(pieces, str):
            return pieces
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = params[piece.name]
            try:
                text = piece.converter.format(value)
                if not text:
                    raise ValueError("empty value")
                # A '/' inside a one-segment value is encoded (%2F) so it stays one segment.
                encoded = quote(text, safe=_SAFE + "/" if piece.converter.catch_all else _SAFE)
            except (TypeError, ValueError, UnicodeError) as exc:
                raise URLBuildError(
                    f"cannot build URL for route {route_name!r} ({self.path}): parameter "
                    f"{piece.name!r} ({piece.converter_name}) got {value!r}: {exc}"
                ) from None
            out.append(encoded)
        return "".join(out)

    def __repr__(self) -> str:
        return f"Template({self.path!r})"


def _fail(template: str, problem: str, fix: str) -> InvalidTemplate:
    return InvalidTemplate(template, problem, fix)


def parse_template(path: str, converters: Mapping[str, Converter]) -> Template:
    """Parse and validate ``path``; raise ``InvalidTemplate`` naming the problem and fix."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise _fail(str(path), "a template must start with '/'", f"write '/{path}'")
    for char in "?#":
        if char in path:
            raise _fail(
                path,
                f"{char!r} is not part of a path",
                "remove the query string/fragment from the template",
            )
    raw_segments = path[1:].split("/")
    segments: list[str | Param] = []
    seen: set[str] = set()
    last = len(raw_segments) - 1
    for index, raw in enumerate(raw_segments):
        if "{" not in raw and "}" not in raw:
            if not raw and index != last:
                raise _fail(path, "empty segment ('//')", "remove the duplicate '/'")
            segments.append(raw)
            continue
        if raw.count("{") != 1 or raw.count("}") != 1 or raw.index("{") > raw.index("}"):
            raise _fail(
                path,
                f"unbalanced or nested braces in segment {raw!r}",
                "write each parameter as '{name}' or '{name:converter}'",
            )
        if not (raw.startswith("{") and raw.endswith("}")):
            raise _fail(
                path,
                f"parameter in {raw!r} does not span the whole segment",
                "make the parameter a segment of its own, e.g. '/files/{name}', or register "
                "a converter whose regex matches the whole segment",
            )
        name, _, conv_name = raw[1:-1].partition(":")
        if not name:
            raise _fail(path, f"empty parameter name in {raw!r}", "name it, e.g. '{item_id}'")
        if not name.isidentifier():
            raise _fail(
                path,
                f"parameter name {name!r} is not a Python identifier",
                "use letters, digits and '_' only, e.g. '{item_id}'",
            )
        if name in seen:
            raise _fail(
                path, f"duplicate parameter name {name!r}", "give each parameter a distinct name"
            )
        seen.add(name)
        conv_name = conv_name or "str"
        converter = converters.get(conv_name)
        if converter is None:
            known = ", ".join(sorted(converters))
            raise _fail(
                path,
                f"unknown converter {conv_name!r}",
                f"use one of {known}, or register it with "
                f"router.register_converter({conv_name!r}, ...) before adding the route",
            )
        if converter.catch_all and index != last:
            raise _fail(
                path,
                f"catch-all parameter {name!r} ({conv_name}) is not the last segment",
                "move it to the end of the template",
            )
        param = Param(name, conv_name, converter)
        segments.append(kept(_PARAMS, param, param, _KEPT_MAX))
    return Template(path, tuple(segments))


def parse_prefix(prefix: str, converters: Mapping[str, Converter]) -> Template | None:
    """A router or ``include`` prefix: ``None`` for ``""``; see ``Template.parse_prefix``."""
    if not prefix:
        return None
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(
            f"prefix {prefix!r} must start with '/' and must not end with '/', "
            f"e.g. {'/' + prefix.strip('/')!r}"
        )
    template = parse_template(prefix, converters)
    if any(not isinstance(s, str) and s.converter.catch_all for s in template.segments):
        raise ValueError(f"prefix {prefix!r} cannot contain a catch-all parameter")
    return template
