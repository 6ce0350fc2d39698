"""The problem+json (RFC 9457) error answers the framework itself gives, as reusable
``components.responses`` referenced only by the operations that can give them."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from qake_core import PROBLEM_JSON

__all__ = ["PROBLEM_SCHEMA", "VALIDATION_PROBLEM_SCHEMA", "Problems"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "properties": {
        "type": {"type": "string", "default": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ValidationProblem",
    "allOf": [{"$ref": "#/components/schemas/Problem"}],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        }
    },
}

#: status → (component name, description, schema name)
_KNOWN: dict[int, tuple[str, str, str]] = {
    400: ("BadRequest", "The request body could not be read", "Problem"),
    401: ("Unauthorized", "Missing or invalid credentials", "Problem"),
    403: ("Forbidden", "The credentials lack a required scope", "Problem"),
    406: ("NotAcceptable", "None of the Accept header's types can be produced", "Problem"),
    413: ("ContentTooLarge", "The request body is over a size limit", "Problem"),
    415: ("UnsupportedMediaType", "The body is not of the media type required", "Problem"),
    422: ("ValidationError", "Validation Error", "ValidationProblem"),
    431: ("HeaderFieldsTooLarge", "A multipart part's headers are too large", "Problem"),
}


class Problems:
    """Collects the error responses the operations refer to.

    Their schemas are ``Problem`` and ``ValidationProblem`` unless the app has models of
    those names (RFC 9457 users may): then the framework's get a ``Qake`` prefix, and
    the user's models keep their names.
    """

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.names = {"Problem": "Problem", "ValidationProblem": "ValidationProblem"}

    def avoid(self, taken: Iterable[str]) -> None:
        """Rename the framework's schemas away from the app's ``taken`` names."""
        taken = set(taken)
        for name in self.names:
            if name in taken:
                self.names[name] = f"Qake{name}"

    def ref(
        self, status: int, description: str | None = None, headers: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``{"$ref": "#/components/responses/<Name>"}`` for a status the framework
        answers itself; another status (a dependency's, such as 429) is described in
        place with ``description`` and ``headers``, its body a problem document."""
        if status not in _KNOWN:
            self.used.add(0)  # the Problem schema is needed
            ref = {"$ref": f"#/components/schemas/{self.names['Problem']}"}
            response: dict[str, Any] = {
                "description": description or "Error",
                "content": {PROBLEM_JSON: {"schema": ref}},
            }
            if headers:
                response["headers"] = copy.deepcopy(headers)
            return response
        self.used.add(status)
        return {"$ref": f"#/components/responses/{_KNOWN[status][0]}"}

    def responses(self) -> dict[str, Any]:
        """``components.responses`` for the statuses referred to."""
        out: dict[str, Any] = {}
        for status in sorted(self.used):
            if status not in _KNOWN:
                continue  # described in place (only its schema is shared)
            name, description, schema = _KNOWN[status]
            ref = {"$ref": f"#/components/schemas/{self.names[schema]}"}
            out[name] = {"description": description, "content": {PROBLEM_JSON: {"schema": ref}}}
        return out

    def schemas(self) -> dict[str, Any]:
        """The schemas those responses use."""
        if not self.used:
            return {}
        out = {self.names["Problem"]: copy.deepcopy(PROBLEM_SCHEMA)}
        if 422 in self.used:
            validation = copy.deepcopy(VALIDATION_PROBLEM_SCHEMA)
            validation["allOf"] = [{"$ref": f"#/components/schemas/{self.names['Problem']}"}]
            out[self.names["ValidationProblem"]] = validation
        return out
