"""Parameter converters: turn one path segment into a value and a value back into text.

A converter's ``convert`` returns the parsed value or ``NO_MATCH``; it never raises for
a segment that does not fit, so a failing conversion is simply "not this route" and the
match falls through to the next candidate.

Each converter also says what it produces: ``python_type`` (the type of the values) and
``json_schema`` (a JSON Schema fragment for the segment). The router does not use them;
they are for the layers above, so that a handler's parameter checks and an API document
read them here instead of keeping a table of their own.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = [
    "BUILTIN_CONVERTERS",
    "NO_MATCH",
    "Converter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "StrConverter",
    "UUIDConverter",
]


class _NoMatch:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_MATCH"


NO_MATCH: Final[Any] = _NoMatch()


class Converter:
    """A path parameter type, built from a regex and/or a ``parse``/``format`` pair.

    * ``regex``: the whole (percent-decoded) segment must match it (``re.fullmatch``).
    * ``parse(text) -> value``: raise ``ValueError`` when the text is not a value.
    * ``format(value) -> text``: used by ``url_for``; raise ``TypeError``/``ValueError``
      for a value of the wrong type.
    * ``priority``: among typed parameters at the same position, lower is tried first
      (ties broken by converter name), so registration order never decides a match.
    * ``python_type``: the type of the values ``convert`` returns. ``str`` for a
      converter built from a regex alone; ``object`` ("not declared") when it has a
      ``parse`` function or is a subclass that does not set it. A framework may pass a
      value as is to code annotated with this type, and must check any other value.
    * ``json_schema``: a JSON Schema fragment describing the parameter (a plain dict;
      treat it as read-only). ``{"type": "string"}`` unless declared.

    Subclass and override ``parse``/``format`` (and optionally ``convert`` for speed),
    or pass the callables to the constructor.
    """

    #: The whole segment must match this (a subclass may set it as a class attribute).
    regex: str | None = None
    #: Lower is tried first among typed parameters at one position.
    priority: int = 50
    #: True only for the catch-all ``path`` converter.
    catch_all: bool = False
    #: The type of the values ``convert`` returns (``object``: not declared).
    python_type: type = object
    #: The JSON Schema fragment of the parameter (read-only by convention).
    json_schema: dict[str, Any] = {"type": "string"}

    def __init__(
        self,
        regex: str | None = None,
        parse: Callable[[str], Any] | None = None,
        format: Callable[[Any], str] | None = None,
        *,
        priority: int | None = None,
        python_type: type | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> None:
        if regex is not None:
            self.regex = regex
        self._pattern = re.compile(self.regex) if self.regex is not None else None
        self._parse = parse
        self._format = format
        if priority is not None:
            self.priority = priority
        if python_type is not None:
            self.python_type = python_type
        elif parse is None and type(self) is Converter:
            # Nothing parses the segment: the value is the segment's text.
            self.python_type = str
        if json_schema is not None:
            self.json_schema = dict(json_schema)

    def parse(self, text: str) -> Any:
        return text if self._parse is None else self._parse(text)

    def format(self, value: Any) -> str:
        if self._format is not None:
            return self._format(value)
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        pattern = self._pattern
        if pattern is not None and pattern.fullmatch(value) is None:
            raise ValueError(f"{value!r} does not match {self.regex!r}")
        return value

    def convert(self, segment: str) -> Any:
        """The value for ``segment``, or ``NO_MATCH``. Called while matching."""
        pattern = self._pattern
        if pattern is not None and pattern.fullmatch(segment) is None:
            return NO_MATCH
        try:
            return self.parse(segment)
        except ValueError:
            return NO_MATCH

    def __repr__(self) -> str:
        return f"{type(self).__name__}(regex={self.regex!r})"


class StrConverter(Converter):
    """One non-empty segment, any characters (a decoded ``%2F`` included)."""

    python_type = str
    json_schema = {"type": "string"}

    def convert(self, segment: str) -> Any:
        return segment if segment else NO_MATCH

    def format(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        if not value:
            raise ValueError("expected a non-empty str")
        return value


class IntConverter(Converter):
    """ASCII digits with an optional leading ``-`` (no ``+``, spaces, ``_`` or non-ASCII)."""

    priority = 10
    python_type = int
    json_schema = {"type": "integer"}

    def convert(self, segment: str) -> Any:
        # PERF: the common case (plain ASCII digits) is two str checks and int().
        if not (segment.isdigit() and segment.isascii()) and (
            segment[:1] != "-" or not (segment[1:].isdigit() and segment.isascii())
        ):
            return NO_MATCH
        try:
            return int(segment)
        except ValueError:  # longer than sys.get_int_max_str_digits()
            return NO_MATCH

    def parse(self, text: str) -> Any:
        value = self.convert(text)
        if value is NO_MATCH:
            raise ValueError(f"not an integer: {text!r}")
        return value

    def format(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(value)


_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


class FloatConverter(Converter):
    """Decimal or exponent notation, ASCII only; ``nan``, ``inf`` and overflow rejected."""

    priority = 30
    python_type = float
    json_schema = {"type": "number"}

    def convert(self, segment: str) -> Any:
        if _FLOAT.fullmatch(segment) is None:
            return NO_MATCH
        value = float(segment)
        return value if math.isfinite(value) else NO_MATCH

    def parse(self, text: str) -> Any:
        value = self.convert(text)
        if value is NO_MATCH:
            raise ValueError(f"not a finite float: {text!r}")
        return value

    def format(self, value: Any) -> str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"expected float, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite float, got {value!r}")
        return repr(float(value))


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class UUIDConverter(Converter):
    """The canonical hyphenated form, either case; the value is a ``uuid.UUID``."""

    priority = 20
    python_type = uuid.UUID
    json_schema = {"type": "string", "format": "uuid"}

    def convert(self, segment: str) -> Any:
        if _UUID.fullmatch(segment) is None:
            return NO_MATCH
        return uuid.UUID(segment)

    def parse(self, text: str) -> Any:
        value = self.convert(text)
        if value is NO_MATCH:
            raise ValueError(f"not a UUID: {text!r}")
        return value

    def format(self, value: Any) -> str:
        if not isinstance(value, uuid.UUID):
            raise TypeError(f"expected uuid.UUID, got {type(value).__name__}")
        return str(value)


class PathConverter(StrConverter):
    """The non-empty rest of the path, ``/`` included; only valid as the last segment."""

    priority = 100
    catch_all = True


BUILTIN_CONVERTERS: Final[dict[str, Converter]] = {
    "str": StrConverter(),
    "int": IntConverter(),
    "float": FloatConverter(),
    "uuid": UUIDConverter(),
    "path": PathConverter(),
}
