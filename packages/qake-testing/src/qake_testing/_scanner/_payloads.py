"""Hostile inputs. Text payloads live in ``payloads/<category>.txt`` (one per line)."""

from __future__ import annotations

import functools
from importlib import resources

#: Categories shipped with the package, in the order they are sent.
CATEGORIES = ("xss", "sqli", "traversal", "types")

#: Raw bodies that are not valid JSON or UTF-8, and oversized ones.
DEEP_NESTING = 10_000
HUGE_ITEMS = 200_000
LONG_HEADER = 64 * 1024
INVALID_UTF8 = b"\xff\xfe\xc3\x28"


@functools.cache
def load_payloads(category: str) -> tuple[str, ...]:
    """The payloads of ``category``; blank lines are skipped."""
    text = resources.files(__package__).joinpath("payloads", f"{category}.txt").read_text("utf-8")
    return tuple(line for line in text.splitlines() if line.strip())


def available_categories() -> tuple[str, ...]:
    folder = resources.files(__package__).joinpath("payloads")
    return tuple(sorted(item.name[:-4] for item in folder.iterdir() if item.name.endswith(".txt")))


def deeply_nested_json(depth: int = DEEP_NESTING) -> bytes:
    return b"[" * depth + b"]" * depth


def huge_json(items: int = HUGE_ITEMS) -> bytes:
    return b"[" + b",".join([b"1"] * items) + b"]"
