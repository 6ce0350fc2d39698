"""Content negotiation over the ``Accept`` header (RFC 9110 §12.5.1)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from qake_core._exceptions import HTTPException

if TYPE_CHECKING:
    from qake_core._middleware import CallNext
    from qake_core._requests import Request
    from qake_core._responses import Response

__all__ = ["accepts", "negotiate", "produces_hook"]


@lru_cache(maxsize=256)
def _parse_accept(header: str) -> tuple[tuple[str, str, float, int], ...]:
    """``(type, subtype, q, specificity)`` per media range; bad entries are skipped."""
    out: list[tuple[str, str, float, int]] = []
    for item in header.split(",")[:64]:
        media, *params = item.split(";")
        media = media.strip().lower()
        kind, slash, sub = media.partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
                # NOTE: "nan" is no weight (and NaN would pass min/max): not acceptable.
                q = min(max(weight, 0.0), 1.0) if weight == weight else 0.0
        specificity = 0 if kind == "*" else 1 if sub == "*" else 2
        out.append((kind, sub, q, specificity))
    return tuple(out)


def _quality(ranges: tuple[tuple[str, str, float, int], ...], offer: str) -> float:
    kind, _, sub = offer.lower().partition(";")[0].strip().partition("/")
    best_spec = -1
    best_q = 0.0
    for rkind, rsub, q, spec in ranges:
        if (rkind == "*" or rkind == kind) and (rsub == "*" or rsub == sub) and spec > best_spec:
            best_spec, best_q = spec, q
    return best_q


def negotiate(request: Request, offers: Sequence[str]) -> str | None:
    """The offer the client prefers (highest q; ties go to the earlier offer).

    No ``Accept`` header means anything is acceptable: the first offer is returned.
    ``None`` when the client accepts none of ``offers``.
    """
    header = request.headers.get("accept")
    if not header:
        return offers[0] if offers else None
    ranges = _parse_accept(header[:2048])
    best: str | None = None
    best_q = 0.0
    for offer in offers:
        q = _quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    return best


def accepts(request: Request, media_type: str) -> bool:
    """Whether the client accepts ``media_type``."""
    return negotiate(request, [media_type]) is not None


def produces_hook(media_types: Sequence[str]) -> Any:
    """A hook answering 406 unless the client accepts one of ``media_types``.

    Installed by the route option ``produces=[...]``; the chosen type is stored as
    ``request.state.media_type`` for the handler.
    """
    offers = list(media_types)
    listed = ", ".join(offers)

    async def produces(request: Request, call_next: CallNext) -> Response:
        chosen = negotiate(request, offers)
        if chosen is None:
            raise HTTPException(406, f"This resource can produce: {listed}.")
        request.state.media_type = chosen
        return await call_next(request)

    return produces
