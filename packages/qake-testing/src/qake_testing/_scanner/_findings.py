"""What the scanner reports: typed findings and a report with a readable summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import overload


class FindingKind(StrEnum):
    SERVER_ERROR = "server_error"
    """A hostile input produced a 5xx: bad input must give a 4xx."""
    REFLECTED_XSS = "reflected_xss"
    """A text/html response contains the payload unescaped."""
    STACK_TRACE = "stack_trace"
    """A response body shows a Python traceback or source location."""
    MISSING_SECURITY_HEADER = "missing_security_header"
    """X-Content-Type-Options, a framing policy or Referrer-Policy is absent."""
    INSECURE_CORS = "insecure_cors"
    """An arbitrary Origin is echoed back together with Allow-Credentials: true."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    method: str
    path: str
    #: ``"query:q"``, ``"path:item_id"``, ``"body:name"``, ``"header:X-Long"``... or the
    #: missing header's name for MISSING_SECURITY_HEADER; ``None`` for a whole request.
    parameter: str | None
    payload: str | None
    status: int
    evidence: str

    def __str__(self) -> str:
        where = f" [{self.parameter}]" if self.parameter else ""
        payload = f" payload={_short(self.payload)!r}" if self.payload is not None else ""
        head = f"{self.kind}: {self.method} {self.path}{where} -> {self.status}"
        return f"{head}{payload}: {self.evidence}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


@dataclass(slots=True)
class ScanReport(Sequence[Finding]):
    """The findings of a scan: a read-only sequence of :class:`Finding` that prints as a
    readable summary.

    ``for finding in report``, ``len(report)``, ``report[0]``, ``report[-2:]`` (a list)
    and ``finding in report`` work as on a list of findings, so ``bool(report)`` is true
    when something was found (``report.ok`` says the opposite, in words).
    ``str(report)`` is :meth:`summary`. ``findings`` is the underlying list.
    """

    findings: list[Finding] = field(default_factory=list)
    #: ``"METHOD /template"`` of every operation scanned.
    operations: list[str] = field(default_factory=list)
    requests: int = 0

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        return self.findings[index]

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind is kind]

    def summary(self) -> str:
        head = (
            f"Security scan: {len(self.operations)} operations, {self.requests} requests, "
            f"{len(self.findings)} findings"
        )
        if not self.findings:
            return head + "."
        counts = Counter(finding.kind for finding in self.findings)
        lines = [head + " (" + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + "):"]
        lines += [f"  - {finding}" for finding in self.findings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
