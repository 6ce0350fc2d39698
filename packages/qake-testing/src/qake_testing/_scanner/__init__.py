"""The security scanner: hostile inputs for every operation of an app."""

from ._findings import Finding, FindingKind, ScanReport
from ._payloads import load_payloads
from ._scan import ascan, assert_no_findings, scan
from ._targets import ParamLike, RouteLike, ScanParam, ScanTarget

__all__ = [
    "Finding",
    "FindingKind",
    "ParamLike",
    "RouteLike",
    "ScanParam",
    "ScanReport",
    "ScanTarget",
    "ascan",
    "assert_no_findings",
    "load_payloads",
    "scan",
]
