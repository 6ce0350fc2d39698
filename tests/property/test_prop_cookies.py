"""Property-based tests of the cookie parser and the ``Set-Cookie`` formatter.

- ``parse_cookie_header`` takes any text and never raises; each value reads as the
  standard library's ``http.cookies._unquote`` reads it (what Starlette and Django use).
- What ``format_set_cookie`` writes, a browser sends back as ``name=value``; the parser
  reads the same name and value back (set/parse round trip), or the formatter refuses
  the cookie with ``ValueError`` (never a header that no client can carry).
- Through the framework: ``request.cookies`` over several ``Cookie`` fields is the
  parse of the fields joined with ``"; "``.
"""

from __future__ import annotations

from http.cookies import _unquote as stdlib_unquote  # type: ignore[attr-defined]

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import Request, format_set_cookie, parse_cookie_header
from qake_core._cookies import MAX_COOKIE_PAIRS


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# Characters that make cookie parsing interesting: separators, quotes, escapes (octal
# digits), whitespace of every kind, controls, the parser's private-use stand-ins, and
# Latin-1 / non-Latin-1 letters.
TRICKY_CHARS = [
    *'\\\\"";;==  ,01237a',
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x01",
    "\x7f",
    "\x85",
    "\xa0",
    "\ue000",
    "\ue001",
    "é",
    "€",
]
TRICKY = st.sampled_from(TRICKY_CHARS)
HEADER = st.one_of(st.text(), st.text(TRICKY, max_size=40))
CONTROL = {*map(chr, range(0x09)), *map(chr, range(0x0A, 0x20)), "\x7f"}


def reference(header: str) -> dict[str, str]:
    """The documented reading, spelled out: pairs split on ``;`` then the first ``=``,
    stripped, empty and control-character pairs skipped, first value wins, values
    unquoted as ``http.cookies`` does."""
    cookies: dict[str, str] = {}
    for pair in header.split(";")[:MAX_COOKIE_PAIRS]:
        key, eq, value = pair.partition("=")
        if not eq:
            key, value = "", key
        key, value = key.strip(), value.strip()
        if not (key or value) or key in cookies or CONTROL.intersection(pair):
            continue
        cookies[key] = stdlib_unquote(value)
    return cookies


@examples(360)
@given(header=HEADER)
def test_parse_never_raises_and_reads_as_the_reference(header: str) -> None:
    assert parse_cookie_header(header) == reference(header)


@examples(240)
@given(inner=st.text(TRICKY, max_size=40))
def test_quoted_values_unquote_as_the_standard_library(inner: str) -> None:
    inner = inner.replace(";", "")
    quoted = '"' + inner + '"'
    got = parse_cookie_header("k=" + quoted)
    # A value is stripped before unquoting: strip the same way to compare.
    if CONTROL.intersection(quoted):
        assert got == {}
    else:
        assert got == {"k": stdlib_unquote(quoted.strip())}


# RFC 6265 cookie names: a token (RFC 9110 tchar), prefixes excluded (they have rules of
# their own, checked below).
TOKEN = st.text(st.sampled_from("!#$%&'*+-.^_`|~0123456789AZaz"), min_size=1, max_size=12)
# Anything a value may be before the formatter quotes it, Latin-1 (what the response
# line is encoded in) with controls: the formatter must quote it or refuse it.
LATIN1 = st.one_of(
    st.text(st.characters(max_codepoint=0xFF), max_size=30),
    st.text(st.sampled_from([c for c in TRICKY_CHARS if c <= "\xff"]), max_size=10),
)


@examples(300)
@given(
    cookies=st.lists(st.tuples(TOKEN, LATIN1), min_size=1, max_size=6),
    data=st.data(),
)
def test_set_cookie_then_parse_round_trips(
    cookies: list[tuple[str, str]], data: st.DataObject
) -> None:
    sent: dict[str, str] = {}
    pairs: list[str] = []
    for key, value in cookies:
        if key.startswith(("__Host-", "__Secure-")):
            continue
        try:
            line = format_set_cookie(key, value, path=None, samesite=None)
        except ValueError:
            # Refused: only for a value a browser could not store as sent.
            assert CONTROL.intersection(value) or ";" in value, (key, value)
            continue
        assert not CONTROL.intersection(line), line
        line.encode("latin-1")  # a response header can carry it
        # No attributes were asked for: the line is the pair the browser sends back.
        pairs.append(line)
        sent.setdefault(key, value)
    separator = data.draw(st.sampled_from(["; ", ";", " ; "]))
    assert parse_cookie_header(separator.join(pairs)) == sent


@examples(180)
@given(
    key=st.one_of(
        st.text(max_size=12),
        st.text(TRICKY | st.sampled_from("aZ_"), max_size=4),
        st.text(st.sampled_from(["a", "_", "\xa0", "\x85", "\u2028", "\x1f"]), max_size=3),
    ),
    value=st.one_of(st.text(max_size=20), st.text(TRICKY, max_size=20)),
    secure=st.booleans(),
    path=st.sampled_from([None, "/", "/a"]),
    domain=st.sampled_from([None, "example.com"]),
    samesite=st.sampled_from([None, "lax", "strict", "none", "Lax", "bogus"]),
    partitioned=st.booleans(),
    max_age=st.one_of(st.none(), st.integers(-(10**6), 10**6)),
)
def test_format_set_cookie_writes_one_safe_line_or_raises_value_error(
    key: str,
    value: str,
    secure: bool,
    path: str | None,
    domain: str | None,
    samesite: str | None,
    partitioned: bool,
    max_age: int | None,
) -> None:
    try:
        line = format_set_cookie(
            key,
            value,
            secure=secure,
            path=path,
            domain=domain,
            samesite=samesite,  # type: ignore[arg-type]
            partitioned=partitioned,
            max_age=max_age,
        )
    except ValueError:
        return
    assert not CONTROL.intersection(line), line
    assert line.partition("=")[0] == key
    # The value is the first attribute-free part: reading the line as a Cookie header
    # gives the value back.
    first = line.split(";", 1)[0]
    assert parse_cookie_header(first) == {key: value}
    if key.startswith("__Host-"):
        assert secure
        assert path == "/"
        assert domain is None
    if samesite is not None and samesite.lower() == "none":
        assert secure


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    return {"type": "http", "method": "GET", "path": "/", "headers": headers}


@examples(180)
@given(fields=st.lists(st.binary(max_size=60), min_size=1, max_size=4))
def test_request_cookies_read_every_cookie_field_as_one(fields: list[bytes]) -> None:
    request = Request(_scope([(b"cookie", f) for f in fields] + [(b"host", b"x")]))
    expected = parse_cookie_header("; ".join(f.decode("latin-1") for f in fields))
    assert request.cookies == expected
