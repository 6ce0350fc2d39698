"""``Rate``: a rate limit written as text (``"100/minute"``), parsed once at start-up."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Rate", "parse_rate"]

_SINGULAR = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_SINGULAR |= {"h": 3600, "hr": 3600, "hour": 3600, "d": 86400, "day": 86400}
_UNITS = _SINGULAR | {f"{word}s": n for word, n in _SINGULAR.items() if len(word) > 1}
# "100/minute", "100 per minute", "10/30 seconds", "5/2h"
_RATE = re.compile(r"\s*(\d+)\s*(?:/|\s+per\s+)\s*(\d*)\s*([a-z]+)\s*", re.IGNORECASE)
_ADVICE = (
    "write '<count>/<period>' with a whole number of seconds, minutes, hours or days, "
    "e.g. '100/minute', '5/second', '1000/hour', '10/30 seconds' or '100 per day'"
)


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``window`` seconds; ``text`` is how it was written."""

    limit: int
    window: int
    text: str

    @property
    def emission_interval(self) -> float:
        """Seconds between two requests at the sustained rate (GCRA's ``T``)."""
        return self.window / self.limit


def parse_rate(text: str) -> Rate:
    """Parse ``"100/minute"``; a ``ValueError`` names the fix for anything else."""
    if not isinstance(text, str):
        raise TypeError(f"RateLimit: the rate must be a string like '100/minute', got {text!r}")
    match = _RATE.fullmatch(text)
    unit = _UNITS.get(match.group(3).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"RateLimit: {text!r} is not a rate; {_ADVICE}")
    limit = int(match.group(1))
    count = int(match.group(2) or 1)
    if limit < 1 or count < 1:
        raise ValueError(f"RateLimit: {text!r} allows nothing; counts start at 1 ({_ADVICE})")
    return Rate(limit, count * unit, " ".join(text.split()))
