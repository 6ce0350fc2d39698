"""Property-based tests of media types (``Content-Type``) and content negotiation (``Accept``).

- ``parse_media_type`` takes any text and returns ``(type, params)`` or raises its own
  ``MediaTypeError``; what it reads, formatted back (RFC 9110 §8.3.1), reads the same
  (format/parse round trip), whatever optional whitespace surrounds the ``;``.
- The multipart boundary check (the framework's glue around python-multipart) gives the
  boundary or a 400, never another error.
- ``negotiate`` (through real ``Request`` objects) picks an offer the client accepts with
  the highest weight, ties to the earlier offer, or ``None``; the parsed weights are in
  ``[0, 1]`` whatever the header says.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qake_core import HTTPException, Request, negotiate
from qake_core._media_type import MAX_PARAMETERS, MediaTypeError, parse_media_type
from qake_core._multipart import _boundary
from qake_core._negotiation import _parse_accept, _quality


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN = st.text(st.sampled_from(TCHARS), min_size=1, max_size=10)
_TOKEN_RE = re.compile(f"[{re.escape(TCHARS)}]+")
# Every character a parameter value can carry: qdtext and quoted-pair (HTAB, SP, VCHAR,
# obs-text), which a quoted string holds.
VALUE_CHARS = st.sampled_from(["\t", *map(chr, range(0x20, 0x7F)), *map(chr, range(0x80, 0x100))])
VALUE = st.one_of(TOKEN, st.text(VALUE_CHARS, max_size=12))
OWS = st.text(st.sampled_from(" \t"), max_size=2)
# Text biased towards the grammar's punctuation, to reach deep into the parser.
NEAR = st.text(st.sampled_from([*'/;=" \\\t,a0Aé', "\x00", "\x7f", "\xff", "Ā"]), max_size=40)


def format_value(value: str) -> str:
    """A parameter value as RFC 9110 writes it: a token, else a quoted string."""
    if _TOKEN_RE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_media_type(media: str, params: dict[str, str]) -> str:
    return media + "".join(f"; {k}={format_value(v)}" for k, v in params.items())


@examples(480)
@given(value=st.one_of(st.text(max_size=60), NEAR))
def test_parse_media_type_returns_or_raises_its_own_error(value: str) -> None:
    try:
        media, params = parse_media_type(value)
    except MediaTypeError:
        return
    kind, slash, sub = media.partition("/")
    assert slash
    assert _TOKEN_RE.fullmatch(kind)
    assert _TOKEN_RE.fullmatch(sub)
    assert media == media.lower()
    assert len(params) <= MAX_PARAMETERS
    for name, param in params.items():
        assert _TOKEN_RE.fullmatch(name)
        assert name == name.lower()
        assert all(c == "\t" or " " <= c <= "~" or "\x80" <= c <= "\xff" for c in param)
    # What was read, formatted back, reads the same.
    assert parse_media_type(format_media_type(media, params)) == (media, params)


@examples(300)
@given(
    kind=TOKEN,
    sub=TOKEN,
    params=st.lists(st.tuples(TOKEN, VALUE), max_size=6, unique_by=lambda p: p[0].lower()),
    spaces=st.lists(st.tuples(OWS, OWS), min_size=6, max_size=6),
    trailing=st.sampled_from(["", ";", " ;", "; ;"]),
)
def test_format_then_parse_round_trips(
    kind: str,
    sub: str,
    params: list[tuple[str, str]],
    spaces: list[tuple[str, str]],
    trailing: str,
) -> None:
    text = f"{kind}/{sub}"
    for (name, value), (before, after) in zip(params, spaces, strict=False):
        text += f"{before};{after}{name}={format_value(value)}"
    text += trailing
    media, parsed = parse_media_type(text)
    assert media == f"{kind}/{sub}".lower()
    assert parsed == {name.lower(): value for name, value in params}


@examples(90)
@given(
    names=st.lists(TOKEN, min_size=2, max_size=6),
    data=st.data(),
)
def test_a_repeated_parameter_is_refused_whatever_its_case(
    names: list[str], data: st.DataObject
) -> None:
    repeated = data.draw(st.sampled_from(names))
    twice = [*names, repeated.upper() if data.draw(st.booleans()) else repeated]
    text = "text/plain" + "".join(f"; {name}=v" for name in twice)
    with pytest.raises(MediaTypeError):
        parse_media_type(text)


@examples(50)
@given(extra=st.integers(1, 20))
def test_more_than_the_cap_of_parameters_is_refused(extra: int) -> None:
    text = "a/b" + "".join(f"; p{i}=v" for i in range(MAX_PARAMETERS + extra))
    with pytest.raises(MediaTypeError):
        parse_media_type(text)
    # At the cap exactly, it is read.
    assert len(parse_media_type("a/b" + "".join(f";p{i}=v" for i in range(32)))[1]) == 32


BCHARS = "0123456789ABCZabcz'()+_,-./:=? "


@examples(240)
@given(
    boundary=st.one_of(
        st.none(), st.text(max_size=80), st.text(st.sampled_from(BCHARS), max_size=75)
    )
)
def test_multipart_boundary_is_rfc_2046_or_a_400(boundary: str | None) -> None:
    params = {} if boundary is None else {"boundary": boundary}
    try:
        got = _boundary(params)
    except HTTPException as exc:
        status = exc.status_code
        assert status == 400
        return
    assert boundary is not None
    assert 1 <= len(boundary) <= 70
    assert not boundary.endswith(" ")
    assert re.fullmatch(r"[0-9A-Za-z'()+_,\-./:=? ]+", boundary)
    assert got == boundary.encode("ascii")


# -- content negotiation ---------------------------------------------------------------

OFFER_TYPES = ["text/html", "text/plain", "application/json", "image/png", "TEXT/Html"]
RANGE = st.sampled_from(["*/*", "text/*", "application/*", *OFFER_TYPES, "image/*", "bogus"])
QVALUE = st.one_of(
    st.sampled_from(["0", "1", "0.5", "0.001", "1.000", "nan", "-1", "2", "inf", "x", ""]),
    st.floats(0, 1).map(lambda f: f"{f:.3f}"),
)


@st.composite
def accept_header(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(0, 6))):
        item = draw(RANGE)
        if draw(st.booleans()):
            item += f";{draw(OWS)}q={draw(QVALUE)}"
        if draw(st.booleans()):
            item += ";level=1"
        items.append(draw(OWS) + item + draw(OWS))
    return ",".join(items)


def request_with(accept: bytes | None) -> Request:
    headers = [(b"host", b"example.com")]
    if accept is not None:
        headers.append((b"accept", accept))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@examples(360)
@given(header=st.one_of(st.text(max_size=80), NEAR, accept_header()))
def test_accept_weights_are_between_0_and_1(header: str) -> None:
    for kind, sub, q, specificity in _parse_accept(header):
        assert kind
        assert sub
        assert 0.0 <= q <= 1.0, header
        assert specificity == (0 if kind == "*" else 1 if sub == "*" else 2)


@examples(360)
@given(
    header=st.one_of(st.none(), accept_header(), st.binary(max_size=80)),
    offers=st.lists(st.sampled_from(OFFER_TYPES), max_size=4),
)
def test_negotiate_picks_the_best_acceptable_offer(
    header: str | bytes | None, offers: list[str]
) -> None:
    raw = header.encode("latin-1") if isinstance(header, str) else header
    chosen = negotiate(request_with(raw), offers)
    if not raw:
        assert chosen == (offers[0] if offers else None)
        return
    ranges = _parse_accept(raw.decode("latin-1")[:2048])
    weights = [_quality(ranges, offer) for offer in offers]
    if chosen is None:
        assert all(w <= 0 for w in weights)
        return
    best = max(weights)
    assert best > 0
    # The first offer of the highest weight.
    assert chosen == offers[weights.index(best)]


@examples(180)
@given(offers=st.lists(st.sampled_from(OFFER_TYPES), min_size=1, max_size=4), data=st.data())
def test_an_exact_type_outranks_wildcards_whatever_their_order(
    offers: list[str], data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(offers))
    kind = target.split("/")[0]
    ranges = [f"{target.lower()};q=0.9", f"{kind.lower()}/*;q=0.1", "*/*;q=0.05"]
    shuffled = data.draw(st.permutations(ranges))
    chosen = negotiate(request_with(", ".join(shuffled).encode()), offers)
    assume(chosen is not None)
    assert chosen.lower() == target.lower()
