"""Schemathesis over a live server's ``/openapi.json``: every operation, positive and
negative data, a bounded and derandomized number of examples, every failure collected.

Schemathesis' pytest integration (``schemathesis.pytest.from_fixture``) does not run
under pytest 9 (it writes ``request.node._nodeid``), so the operations are driven from
one test through the documented ``operation.as_strategy()`` and Hypothesis' ``@given``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.schemas import APIOperation, BaseSchema

#: The issue's checks: no server errors, and status codes, content types and response
#: bodies as documented.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Tolerated:
    """One undocumented status code accepted from one operation, and why (a package
    issue reported to the lead, not the example's to fix)."""

    operation: str  # "POST /upload"
    status: int
    reason: str


@dataclass(frozen=True)
class Found:
    operation: str
    mode: str
    check: str
    message: str
    curl: str

    def __str__(self) -> str:
        message = self.message.strip().replace("\n", " | ")
        return f"{self.operation} [{self.mode}] {self.check}: {message}\n    {self.curl}"


def run_checks(
    schema: BaseSchema,
    *,
    max_examples: int = 15,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    tolerated: Iterable[Tolerated] = (),
) -> list[Found]:
    """Every distinct failure (operation, mode, check, status) schemathesis finds."""
    allowed = {(t.operation, t.status) for t in tolerated}
    found: dict[tuple[str, str, str, str], Found] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # a schema error raises here, naming the operation
        for mode in GenerationMode:
            _run_operation(operation, mode, max_examples, headers, cookies, allowed, found)
    return list(found.values())


def _run_operation(
    operation: APIOperation,
    mode: GenerationMode,
    max_examples: int,
    headers: dict[str, str] | None,
    cookies: dict[str, str] | None,
    allowed: set[tuple[str, int]],
    found: dict[tuple[str, str, str, str], Found],
) -> None:
    label = operation.label

    def record(failure: Failure, case: Case) -> None:
        if isinstance(failure, UndefinedStatusCode):
            if (label, failure.status_code) in allowed:
                return
            key = (label, mode.value, failure.title, str(failure.status_code))
        else:
            key = (label, mode.value, failure.title, "")
        found.setdefault(
            key, Found(label, mode.value, failure.title, failure.message, case.as_curl_command())
        )

    # No shrinking: the failures are collected (not raised), one example of each kind.
    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Case) -> None:
        kwargs: dict[str, Any] = {"cookies": dict(cookies)} if cookies else {}
        try:
            case.call_and_validate(headers=dict(headers or {}), checks=CHECKS, **kwargs)
        except FailureGroup as group:
            for failure in group.exceptions:
                record(failure, case)
        except Failure as failure:
            record(failure, case)

    try:
        call()
    except Unsatisfiable:
        # Negative data for an operation with nothing to make invalid (no parameters,
        # no body, no security): schemathesis generates no case at all.
        if mode is not GenerationMode.NEGATIVE:
            raise
