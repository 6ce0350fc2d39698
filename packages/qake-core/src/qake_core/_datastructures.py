"""Immutable request data structures: headers, query parameters, URL, state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, overload
from urllib.parse import parse_qsl, urlencode

__all__ = ["URL", "Address", "Headers", "MultiDict", "MutableHeaders", "QueryParams", "State"]


class Address(NamedTuple):
    """A network peer: ``host`` and ``port``."""

    host: str
    port: int


class MultiDict(Mapping[str, str]):
    """An immutable mapping where a key may hold several values; ``[]`` gives the last one."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        # PERF: a list of pairs (what the request parsers give) is taken as is.
        if type(items) is list:
            pairs = items
        else:
            pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._list: list[tuple[str, str]] = pairs
        self._dict: dict[str, str] = dict(pairs)

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``, in the order they arrived."""
        return [v for k, v in self._list if k == key]

    def get(self, key: str, default: Any = None) -> Any:
        """The last value of ``key``, or ``default``."""
        # PERF: one dict lookup (Mapping.get goes through __getitem__ and a try).
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def multi_items(self) -> list[tuple[str, str]]:
        """All ``(key, value)`` pairs, repeated keys included."""
        return list(self._list)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._list) == sorted(other._list)
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - mappings are not hashable in practice
        raise TypeError("MultiDict is not hashable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict):
    """Query-string parameters, decoded once when first read."""

    __slots__ = ()

    def __init__(
        self, query: str | bytes | Iterable[tuple[str, str]] | Mapping[str, str] = ""
    ) -> None:
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        if isinstance(query, str):
            super().__init__(parse_qsl(query, keep_blank_values=True))
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued HTTP headers over the raw ASGI header list."""

    __slots__ = ("_cache", "raw")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: Sequence[tuple[bytes, bytes]] | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        if scope is not None:
            self.raw: list[tuple[bytes, bytes]] = list(scope["headers"])
        elif raw is not None:
            self.raw = list(raw)
        elif headers is not None:
            self.raw = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]
        else:
            self.raw = []
        self._cache: dict[str, str] | None = None

    def _lookup(self) -> dict[str, str]:
        cache = self._cache
        if cache is None:
            cache = {}
            for k, v in self.raw:
                key = k.decode("latin-1").lower()
                value = v.decode("latin-1")
                # RFC 9110: repeated fields combine with ", " (except Set-Cookie; use getlist).
                cache[key] = f"{cache[key]}, {value}" if key in cache else value
            self._cache = cache
        return cache

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key`` (case-insensitive), in order."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k.lower() == name]

    def __getitem__(self, key: str) -> str:
        return self._lookup()[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._lookup()!r})"


class MutableHeaders(Headers):
    """Response headers that can be set, appended and deleted."""

    __slots__ = ()

    @classmethod
    def sharing(cls, raw: list[tuple[bytes, bytes]]) -> MutableHeaders:
        """Headers that read and write ``raw`` itself (no copy)."""
        headers = cls()
        headers.raw = raw
        return headers

    def __setitem__(self, key: str, value: str) -> None:
        name = key.lower().encode("latin-1")
        # NOTE: mutate in place: a Response shares this list as its raw headers.
        self.raw[:] = [(k, v) for k, v in self.raw if k != name]
        self.raw.append((name, value.encode("latin-1")))
        self._cache = None

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        before = len(self.raw)
        self.raw[:] = [(k, v) for k, v in self.raw if k != name]
        if len(self.raw) == before:
            raise KeyError(key)
        self._cache = None

    def append(self, key: str, value: str) -> None:
        """Add a header line, keeping existing lines of the same name (e.g. Set-Cookie)."""
        self.raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))
        self._cache = None

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` unless present; return its value."""
        if key in self:
            return self[key]
        self[key] = value
        return value

    def update(self, other: Mapping[str, str]) -> None:
        """Set every header of ``other``."""
        for k, v in other.items():
            self[k] = v


class URL:
    """A parsed URL built from an ASGI scope or a string.

    From a scope, the parts are taken as they are: ``path`` is the path the request
    was routed on (``root_path`` + ``path``, decoded), the host is the Host header's
    when it is a valid ``host[:port]`` (else the server's address); nothing is
    re-parsed from a string holding the Host, so no Host value can move the path
    (``Host: example.com/?`` must not turn ``/admin`` into ``/``). The string form
    percent-encodes the path.
    """

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "", *, scope: Mapping[str, Any] | None = None) -> None:
        self._url: str | None = url
        self._parts: Any = None
        if scope is not None:
            self._parts = _scope_parts(scope)
            self._url = None

    def _split(self) -> Any:
        if self._parts is None:
            from urllib.parse import urlsplit

            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return str(self._split().scheme)

    @property
    def netloc(self) -> str:
        return str(self._split().netloc)

    @property
    def hostname(self) -> str | None:
        h = self._split().hostname
        return None if h is None else str(h)

    @property
    def port(self) -> int | None:
        p = self._split().port
        return None if p is None else int(p)

    @property
    def path(self) -> str:
        return str(self._split().path)

    @property
    def query(self) -> str:
        return str(self._split().query)

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **parts: Any) -> URL:
        """A copy with some of ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``
        changed (``path`` as it goes in the URL: percent-encoded)."""
        from urllib.parse import urlsplit

        return URL(urlsplit(str(self))._replace(**parts).geturl())

    def __str__(self) -> str:
        url = self._url
        if url is None:
            from urllib.parse import quote

            scheme, netloc, path, query, _ = self._parts
            url = f"{scheme}://{netloc}{quote(path, safe=_PATH_SAFE)}"
            if query:
                url += "?" + query.replace("#", "%23")
            self._url = url
        return url

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


#: Characters a path segment may hold unescaped (RFC 3986 pchar, and "/").
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _scope_parts(scope: Mapping[str, Any]) -> Any:
    from urllib.parse import SplitResult

    from qake_core._request_head import valid_host

    scheme = scope.get("scheme", "http")
    # ASGI: ``path`` already includes ``root_path`` (older servers did not).
    root, path = scope.get("root_path", ""), scope["path"]
    if root and not path.startswith(root):
        path = root + path
    query = scope.get("query_string", b"").decode("latin-1")
    netloc = None
    for k, v in scope.get("headers", ()):
        if k == b"host":
            # NOTE: the app refuses a bad Host (400) before routing; one can still get
            # here from code running outside it (an outer middleware, a hand-made scope).
            if valid_host(v):
                netloc = v.decode("latin-1")
            break
    if netloc is None:
        server = scope.get("server")
        if server:
            h, p = server[0], server[1]
            if ":" in h:
                h = f"[{h}]"
            netloc = h if p is None or p == _DEFAULT_PORTS.get(scheme) else f"{h}:{p}"
        else:
            netloc = "testserver"
    return SplitResult(scheme, netloc, path, query, "")


class State:
    """An attribute bag: ``request.state.user = ...``; backed by a dict."""

    __slots__ = ("_state",)

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._state[name]
        except KeyError:
            raise AttributeError(f"'State' has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._state[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._state[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._state

    @overload
    def get(self, name: str) -> Any: ...
    @overload
    def get(self, name: str, default: Any) -> Any: ...
    def get(self, name: str, default: Any = None) -> Any:
        """The attribute ``name``, or ``default``."""
        return self._state.get(name, default)
