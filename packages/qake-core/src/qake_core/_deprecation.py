"""The life cycle of a route: when it was (or will be) deprecated, when it goes away,
and what replaces it.

``deprecated=<datetime>``, ``sunset=``, ``successor=``, ``deprecation_link=`` and
``sunset_link=`` on a route, a ``Router`` or ``include_router`` become a
:class:`Lifecycle` in ``route.meta["lifecycle"]``. Every response of the route then
carries, as default headers merged when it starts (errors included):

- ``Deprecation: @<unix seconds>`` (RFC 9745: a Structured Field Date);
- ``Sunset: <HTTP-date>`` (RFC 8594);
- ``Link: <successor>; rel="successor-version"`` (RFC 8288 / RFC 5829), and
  ``rel="deprecation"`` (RFC 9745) / ``rel="sunset"`` (RFC 8594) documentation links.

The header values are formatted once, when the app builds its routes, and merged with
the app's default headers (and the runner's JSON lines) once; a request pays one call
that points its default headers at that set. Routes without these options pay nothing.
Datetimes must be timezone-aware (a naive one is refused: which zone it meant cannot be
known); a ``date`` means midnight UTC.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from qake_core._default_headers import DEFAULT_HEADERS_KEY, DefaultHeaders
from qake_core._route_containers import route_meta

if TYPE_CHECKING:
    from qake_core._routing import APIRoute
    from qake_core._runners import RouteHandle
    from qake_core.types import Receive, Scope, Send

__all__ = [
    "Lifecycle",
    "combine",
    "http_date",
    "lifecycle_headers",
    "lifecycle_of",
    "merged_default_headers",
    "route_headers",
    "with_route_headers",
]

DEPRECATION = b"deprecation"
SUNSET = b"sunset"
LINK = b"link"

#: A URI reference (RFC 3986) as it may stand between ``<`` and ``>`` in a Link value:
#: unreserved, reserved and percent signs only (no space, quote, angle bracket, CR/LF).
_URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A route's deprecation and sunset, as declared (``route.meta["lifecycle"]``).

    ``deprecated_at`` and ``sunset`` are aware UTC datetimes; ``successor``,
    ``deprecation_link`` and ``sunset_link`` URI references (an absolute URL or a
    path). ``None`` means "not given here": an including router's value applies.
    """

    deprecated_at: datetime | None = None
    sunset: datetime | None = None
    successor: str | None = None
    deprecation_link: str | None = None
    sunset_link: str | None = None

    def over(self, outer: Lifecycle | None) -> Lifecycle:
        """This route's (or router's) values, else ``outer``'s, field by field."""
        if outer is None:
            return self
        mine = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(outer, **{k: v for k, v in mine.items() if v is not None})


def _instant(where: str, option: str, value: Any) -> datetime | None:
    """``value`` as an aware UTC datetime (a ``date``: its midnight UTC); the error
    names ``where`` and the fix."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{where}: {option}={value!r} is a naive datetime; give its time zone, "
                f"e.g. {option}=datetime(2026, 1, 31, tzinfo=UTC)"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raise TypeError(
        f"{where}: {option}= takes a timezone-aware datetime or a date, got {value!r}; "
        f"e.g. {option}=datetime(2026, 1, 31, tzinfo=UTC)"
    )


def _uri(where: str, option: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _URI_REFERENCE.fullmatch(value):
        raise ValueError(
            f"{where}: {option}={value!r} is not a URI reference; give an absolute URL or "
            "a path such as '/v2/items', percent-encoding spaces, quotes and '<>'"
        )
    return value


def lifecycle_of(
    where: str,
    deprecated: Any = None,
    sunset: Any = None,
    successor: Any = None,
    deprecation_link: Any = None,
    sunset_link: Any = None,
) -> Lifecycle | None:
    """The :class:`Lifecycle` the options declare, ``None`` when they declare none
    (``deprecated=True`` alone only marks the route deprecated in OpenAPI: the
    ``Deprecation`` header needs a date). Bad values raise, naming ``where``."""
    if deprecated is not None and not isinstance(deprecated, bool):
        deprecated_at = _instant(where, "deprecated", deprecated)
    else:
        deprecated_at = None
    lifecycle = Lifecycle(
        deprecated_at,
        None if sunset is None else _instant(where, "sunset", sunset),
        _uri(where, "successor", successor),
        _uri(where, "deprecation_link", deprecation_link),
        _uri(where, "sunset_link", sunset_link),
    )
    return None if lifecycle == Lifecycle() else lifecycle


def http_date(instant: datetime) -> str:
    """``instant`` as an IMF-fixdate (RFC 9110 §5.6.7): ``Thu, 01 Jul 2027 00:00:00 GMT``."""
    return format_datetime(instant.astimezone(UTC), usegmt=True)


def lifecycle_headers(
    lifecycle: Lifecycle, deprecated: bool, where: str
) -> list[tuple[bytes, bytes]]:
    """The response headers of ``lifecycle`` (``deprecated``: the route is marked
    deprecated, with or without a date). Checked here, once the route's values are all
    known (its own, its routers', ``include_router``'s): links need a deprecation or a
    sunset to speak of, and a sunset may not come before the deprecation (RFC 9745 §4)."""
    dated, sunset = lifecycle.deprecated_at, lifecycle.sunset
    if sunset is None and not deprecated and dated is None:
        given = [
            name
            for name in ("successor", "deprecation_link", "sunset_link")
            if getattr(lifecycle, name) is not None
        ]
        raise ValueError(
            f"{where}: {', '.join(given)} given but the route is neither deprecated nor "
            "sunset; add deprecated=<datetime> (or True) or sunset=<datetime>"
        )
    if dated is not None and sunset is not None and sunset < dated:
        raise ValueError(
            f"{where}: sunset={sunset.isoformat()} comes before "
            f"deprecated={dated.isoformat()}; a resource is deprecated before it goes "
            "away (RFC 9745 section 4): move the sunset later"
        )
    pairs: list[tuple[bytes, bytes]] = []
    if dated is not None:
        pairs.append((DEPRECATION, b"@%d" % math.floor(dated.timestamp())))
    if sunset is not None:
        pairs.append((SUNSET, http_date(sunset).encode("ascii")))
    links = [
        f'<{uri}>; rel="{rel}"'
        for uri, rel in (
            (lifecycle.successor, "successor-version"),
            (lifecycle.deprecation_link, "deprecation"),
            (lifecycle.sunset_link, "sunset"),
        )
        if uri is not None
    ]
    if links:
        pairs.append((LINK, ", ".join(links).encode("ascii")))
    return pairs


def merged_default_headers(
    defaults: DefaultHeaders | None, pairs: list[tuple[bytes, bytes]]
) -> DefaultHeaders:
    """``defaults`` (the app's, or a variant) with the route's headers: its Deprecation
    and Sunset replace any default ones; its Link adds to a default Link."""
    replaced = {DEPRECATION, SUNSET}
    names = frozenset(name for name, _ in pairs)
    if defaults is None:
        return DefaultHeaders(list(pairs), names)
    own = [pair for pair in defaults.pairs if pair[0] not in replaced] + pairs
    documents = defaults.document_pairs
    if documents is None:
        return DefaultHeaders(own, defaults.names | names)
    document_pairs = [pair for pair in documents if pair[0] not in replaced] + pairs
    return DefaultHeaders(
        own, defaults.names | names, document_pairs, defaults.document_names | names
    )


def combine(
    own: Lifecycle | None, outer: Lifecycle | None, deprecated: bool | None = None
) -> Lifecycle | None:
    """``own`` over ``outer`` (a route's over its router's, an included route's over
    ``include_router``'s); ``deprecated=False`` given on the route itself drops an
    inherited deprecation date (the route says it is not deprecated)."""
    merged = own.over(outer) if own is not None else outer
    if deprecated is False and merged is not None and merged.deprecated_at is not None:
        merged = replace(merged, deprecated_at=None)
    return None if merged is None or merged == Lifecycle() else merged


def route_headers(route: APIRoute) -> list[tuple[bytes, bytes]]:
    """The headers every response of ``route`` carries (none for most routes)."""
    lifecycle = route_meta(route).get("lifecycle")
    if lifecycle is None:
        return []
    from qake_core._typed._analysis import route_label

    return lifecycle_headers(lifecycle, route.deprecated, route_label(route))


def with_route_headers(
    handle: RouteHandle,
    app_defaults: DefaultHeaders | None,
    own: DefaultHeaders | None,
    pairs: list[tuple[bytes, bytes]],
) -> RouteHandle:
    """``handle`` itself when ``own`` is ``app_defaults``; else ``handle`` behind a call
    pointing the request's default headers at ``own`` (the runners merged it once with
    their JSON lines), or at the route's headers merged with the defaults an edge
    layer or a mounting app put there (the last such merge kept)."""
    if not pairs:
        return handle
    other: list[Any] = [own, own]

    async def route_headers(
        scope: Scope, receive: Receive, send: Send, params: dict[str, Any]
    ) -> None:
        defaults = scope.get(DEFAULT_HEADERS_KEY)
        if defaults is app_defaults:
            scope[DEFAULT_HEADERS_KEY] = own
        elif defaults is not other[0]:
            other[:] = [defaults, merged_default_headers(defaults, pairs)]
            scope[DEFAULT_HEADERS_KEY] = other[1]
        else:
            scope[DEFAULT_HEADERS_KEY] = other[1]
        await handle(scope, receive, send, params)

    return route_headers
