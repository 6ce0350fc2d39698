"""Property-based tests of query strings and header containers.

- ``split_query`` (what ``request.query_params`` and typed handlers read) is the
  standard library's ``parse_qsl(..., keep_blank_values=True)`` over the raw bytes read
  as Latin-1, on any bytes; ``query_values`` is its ``dict``; a query built with
  ``urlencode`` (or ``str(QueryParams)``) reads back to the same pairs.
- ``Headers`` over any raw header list: case-insensitive, repeated fields joined with
  ``", "``, ``getlist`` in order; ``MutableHeaders`` follows a list model through any
  sequence of set/append/delete.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import Headers, MutableHeaders, QueryParams, Request
from qake_core._requests import query_values, split_query


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# Bytes biased towards the query grammar: separators, escapes (good and broken), "+",
# raw UTF-8 and invalid UTF-8 after "%".
QUERY_BYTES = st.one_of(
    st.binary(max_size=60),
    st.lists(
        st.sampled_from(
            [bytes([c]) for c in b"&=+;# a\x00\xff"]
            + [b"%", b"%2", b"%20", b"%zz", b"%C3%A9", b"%FF", b"\xc3\xa9"]
        ),
        max_size=20,
    ).map(b"".join),
)
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


@examples(360)
@given(query=QUERY_BYTES)
def test_split_query_reads_as_parse_qsl(query: bytes) -> None:
    expected = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    assert split_query(query) == expected
    assert query_values(query) == dict(expected)


@examples(240)
@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=6))
def test_urlencode_then_split_round_trips(pairs: list[tuple[str, str]]) -> None:
    encoded = urlencode(pairs).encode("ascii")
    kept = pairs  # every pair is written "k=v" (an empty one "="): none is lost
    assert split_query(encoded) == kept
    scope = {"type": "http", "path": "/", "headers": [], "query_string": encoded}
    params = Request(scope).query_params
    assert params.multi_items() == kept
    assert QueryParams(str(params)).multi_items() == kept
    for key, _ in kept:
        assert params.getlist(key) == [v for k, v in kept if k == key]
        assert params[key] == [v for k, v in kept if k == key][-1]


NAME = st.sampled_from([b"host", b"accept", b"x-a", b"X-A", b"Content-Type", b"cookie"])
RAW = st.lists(st.tuples(NAME, st.binary(max_size=20)), max_size=8)


@examples(240)
@given(raw=RAW, probe=st.sampled_from(["x-a", "X-A", "x-A", "host", "HOST", "accept", "nope"]))
def test_headers_are_case_insensitive_and_join_repeats(
    raw: list[tuple[bytes, bytes]], probe: str
) -> None:
    headers = Headers(raw=raw)
    values = [v.decode("latin-1") for k, v in raw if k.lower() == probe.lower().encode()]
    assert headers.getlist(probe) == values
    if values:
        assert probe in headers
        assert headers[probe] == ", ".join(values)
        assert headers.get(probe) == ", ".join(values)
    else:
        assert probe not in headers
        assert headers.get(probe) is None
    assert len(headers) == len({k.lower() for k, _ in raw})


OPERATION = st.tuples(
    st.sampled_from(["set", "append", "delete"]),
    st.sampled_from(["x-a", "X-A", "set-cookie", "vary"]),
    st.text(st.characters(max_codepoint=0xFF), max_size=8),
)


@examples(180)
@given(operations=st.lists(OPERATION, max_size=10))
def test_mutable_headers_follow_a_list_model(operations: list[tuple[str, str, str]]) -> None:
    headers = MutableHeaders()
    model: list[tuple[str, str]] = []
    for op, key, value in operations:
        name = key.lower()
        if op == "set":
            headers[key] = value
            model = [(k, v) for k, v in model if k != name] + [(name, value)]
        elif op == "append":
            headers.append(key, value)
            model.append((name, value))
        elif any(k == name for k, _ in model):
            del headers[key]
            model = [(k, v) for k, v in model if k != name]
        else:
            try:
                del headers[key]
            except KeyError:
                pass
            else:
                raise AssertionError("deleting a missing header must raise KeyError")
        assert headers.raw == [(k.encode(), v.encode("latin-1")) for k, v in model]
        for k in {k for k, _ in model}:
            assert headers.getlist(k) == [v for n, v in model if n == k]
            assert headers[k] == ", ".join(v for n, v in model if n == k)
