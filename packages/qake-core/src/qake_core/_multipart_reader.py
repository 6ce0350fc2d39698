"""Streaming ``multipart/form-data``: the parts of a body as they arrive, nothing spooled.

``request.multipart()`` gives a :class:`MultipartReader`; ``async for part in ...``
gives each :class:`MultipartPart`, whose bytes are read with ``async for chunk in
part`` (or ``await part.read()``). The request's limits hold as for ``form()``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

from qake_core._datastructures import Headers
from qake_core._exceptions import HTTPException
from qake_core._limits import Limits
from qake_core._media_type import body_media_type
from qake_core._requests import _CONSUMED_KEY as CONSUMED_KEY
from qake_core._upload import safe_filename

if TYPE_CHECKING:
    from qake_core._requests import Request

__all__ = [
    "MAX_FIELD_SIZE",
    "MultipartPart",
    "MultipartReader",
    "bad_multipart",
    "body_allowance",
    "boundary_of",
    "open_reader",
]

#: Bytes a part without a ``filename`` (a plain field) may hold: 1 MiB.
MAX_FIELD_SIZE = 1024 * 1024
# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def bad_multipart(detail: str) -> HTTPException:
    return HTTPException(400, f"Malformed multipart body: {detail}.")


def boundary_of(params: Mapping[str, str]) -> bytes:
    """The ``boundary`` parameter, if RFC 2046 allows it; else a 400."""
    boundary = params.get("boundary")
    # PERF: the length test first: the regex then never sees more than 70 characters.
    if boundary is None or len(boundary) > 70 or _BOUNDARY.fullmatch(boundary) is None:
        raise HTTPException(
            400,
            "A multipart/form-data Content-Type needs a boundary parameter of 1 to 70 "
            "characters: letters, digits, '()+_,-./:=? and spaces, not ending in a "
            "space (RFC 2046).",
        )
    return boundary.encode("ascii")


def body_allowance(limits: Limits) -> int | None:
    """The bytes a multipart body may hold: files are bounded one by one, so the body
    may pass ``max_body_size`` by the file allowance (``max_files * max_file_size``);
    ``None`` is no bound."""
    body, files, file_size = limits.max_body_size, limits.max_files, limits.max_file_size
    if body is None or file_size is None:
        return body
    return None if files is None else body + files * file_size


_CALLBACKS = (
    "on_part_begin",
    "on_part_data",
    "on_part_end",
    "on_header_field",
    "on_header_value",
    "on_header_end",
    "on_headers_finished",
    "on_end",
)

_BEGIN, _DATA, _END = 0, 1, 2


class _Events:
    """Callback target of the sans-I/O parser: its events, replayed by the reader."""

    __slots__ = (
        "ended",
        "events",
        "header_bytes",
        "header_field",
        "header_limit",
        "header_value",
        "headers",
    )

    def __init__(self, header_limit: int | None) -> None:
        self.header_limit = header_limit
        self.events: list[tuple[int, Any]] = []
        self.header_field = b""
        self.header_value = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self.headers = []
        self.header_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        # NOTE: a whole 256 KiB message of file data is data[0:len(data)]: the same
        # bytes object, no copy.
        self.events.append((_DATA, data[start:end]))

    def on_part_end(self) -> None:
        self.events.append((_END, None))

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]
        self._count(end - start)

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]
        self._count(end - start)

    def _count(self, n: int) -> None:
        self.header_bytes += n
        limit = self.header_limit
        if limit is not None and self.header_bytes > limit:
            raise HTTPException(431, f"A multipart part's headers exceed {limit} bytes.")

    def on_header_end(self) -> None:
        self.headers.append((self.header_field.lower(), self.header_value))
        self.header_field = b""
        self.header_value = b""

    def on_headers_finished(self) -> None:
        self.events.append((_BEGIN, self.headers))

    def on_end(self) -> None:
        self.ended = True


class MultipartPart:
    """One part of a multipart body, read as it arrives.

    ``name`` is the form field's name. ``filename`` is the safe base name of the file
    name the client sent (as :class:`UploadFile` gives it: one path component, or
    ``None``), ``original_filename`` the name exactly as sent (untrusted: for display or
    logs, never a path); both are ``None`` for a plain field. A part with a ``filename``
    parameter is a file: it may hold ``max_file_size`` bytes; any other part 1 MiB.
    ``size`` counts the bytes read so far. A part is read once; the reader skips what
    is left of it when the loop moves on.
    """

    __slots__ = (
        "_reader",
        "content_type",
        "done",
        "filename",
        "headers",
        "limit",
        "name",
        "original_filename",
        "size",
    )

    def __init__(self, reader: MultipartReader, raw_headers: list[tuple[bytes, bytes]]) -> None:
        from python_multipart.multipart import parse_options_header

        self._reader = reader
        self.headers = Headers(raw=raw_headers)
        disposition, params = parse_options_header(self.headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in params:
            raise bad_multipart("a part lacks a form-data Content-Disposition with a name")
        self.name: str = params[b"name"].decode("utf-8", "replace")
        raw_name = params.get(b"filename")
        self.original_filename = None if raw_name is None else raw_name.decode("utf-8", "replace")
        self.filename = safe_filename(self.original_filename)
        self.content_type: str | None = self.headers.get("content-type")
        self.size = 0
        self.done = False
        #: The bytes this part may hold.
        self.limit: int | None = MAX_FIELD_SIZE
        if raw_name is not None:
            self.limit = reader.limits.max_file_size

    @property
    def is_file(self) -> bool:
        """Whether the part carries a ``filename`` parameter (an uploaded file)."""
        return self.original_filename is not None

    def __aiter__(self) -> MultipartPart:
        return self

    async def __anext__(self) -> bytes:
        """The next chunk of the part's bytes (as they came off the network)."""
        if self.done:
            raise StopAsyncIteration
        chunk = await self._reader._data(self)
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    async def read(self) -> bytes:
        """What is left of the part, whole in memory (a file up to ``max_file_size``)."""
        chunks = [chunk async for chunk in self]
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def text(self) -> str:
        """What is left of the part decoded as UTF-8; other bytes answer 400."""
        try:
            return (await self.read()).decode("utf-8")
        except UnicodeDecodeError:
            raise bad_multipart(f"field {self.name!r} is not valid UTF-8") from None

    def __repr__(self) -> str:
        return (
            f"MultipartPart(name={self.name!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r})"
        )


class MultipartReader:
    """The parts of a ``multipart/form-data`` body, parsed as the body streams in.

    ``async for part in request.multipart():`` yields each :class:`MultipartPart` once
    its headers are complete. Within the request's limits: ``max_form_fields`` parts,
    ``max_files`` file parts of ``max_file_size`` bytes each, 1 MiB per plain field,
    ``max_part_header_size`` bytes of headers per part (413 or 431 above), the body
    within ``max_body_size`` plus the file allowance, and ``body_timeout`` between the
    client's bytes (408). A malformed or truncated body answers 400.
    """

    __slots__ = (
        "_body",
        "_events",
        "_files",
        "_parse_error",
        "_parser",
        "_part",
        "_parts",
        "_pos",
        "_state",
        "limits",
    )

    def __init__(self, request: Request, boundary: bytes) -> None:
        # NOTE: python-multipart is imported on the first multipart body: `import
        # qakeapi` stays without it (tests/qakeapi/test_import_cost.py).
        from python_multipart.exceptions import MultipartParseError
        from python_multipart.multipart import MultipartParser

        self._parse_error = MultipartParseError
        self.limits = request.limits
        self._state = _Events(self.limits.max_part_header_size)
        callbacks: Any = {name: getattr(self._state, name) for name in _CALLBACKS}
        self._parser = MultipartParser(boundary, callbacks, max_header_count=16)
        self._body: AsyncGenerator[bytes, None] | None = request._stream(
            body_allowance(self.limits)
        )
        self._events = self._state.events
        self._pos = 0
        self._part: MultipartPart | None = None
        self._parts = 0
        self._files = 0
        # NOTE: a handler that leaves the loop early leaves the body reader suspended;
        # closed when the request ends (under trio nothing finalises it for us).
        request.add_cleanup(self._cleanup)

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartPart:
        part = self._part
        if part is not None:  # skip what the handler left of the previous part
            while not part.done:
                await self._data(part)
        while True:
            event = await self._event()
            if event is None:
                raise StopAsyncIteration
            if event[0] == _BEGIN:
                self._part = part = self._begin(event[1])
                return part
            # NOTE: data before the first part's headers cannot happen: the parser
            # reads the preamble up to the first boundary, then headers.

    def _begin(self, raw_headers: list[tuple[bytes, bytes]]) -> MultipartPart:
        limits = self.limits
        self._parts += 1
        max_fields = limits.max_form_fields
        if max_fields is not None and self._parts > max_fields:
            raise HTTPException(413, f"The form has more than {max_fields} fields.")
        part = MultipartPart(self, raw_headers)
        if part.original_filename is not None:
            self._files += 1
            max_files = limits.max_files
            if max_files is not None and self._files > max_files:
                raise HTTPException(413, f"The form has more than {max_files} files.")
        return part

    async def _data(self, part: MultipartPart) -> bytes | None:
        """The next chunk of ``part`` (the current one), ``None`` at its end."""
        event = await self._event()
        if event is None or event[0] == _END:
            part.done = True
            return None
        if event[0] == _BEGIN:  # pragma: no cover (the parser ends a part first)
            raise bad_multipart("a part began inside another")
        chunk: bytes = event[1]
        part.size += len(chunk)
        limit = part.limit
        if limit is not None and part.size > limit:
            part.done = True
            if part.original_filename is None:
                raise HTTPException(413, f"A form field exceeds {limit // 1024 // 1024} MiB.")
            raise HTTPException(413, f"An uploaded file exceeds the limit of {limit} bytes.")
        return chunk

    async def _event(self) -> tuple[int, Any] | None:
        """The parser's next event, reading more of the body when it has none; ``None``
        once the body ended (after its closing boundary)."""
        events = self._events
        while self._pos >= len(events):
            events.clear()
            self._pos = 0
            body = self._body
            if body is None:
                return None
            chunk = await anext(body, None)
            state = self._state
            if chunk is None:
                self._body = None
                await body.aclose()
                self._parser.finalize()
                if not state.ended:
                    raise bad_multipart("the body ended before the closing boundary")
                continue
            try:
                self._parser.write(chunk)
            except self._parse_error as exc:
                await self.aclose()
                raise bad_multipart(str(exc) or "parse error") from None
            except HTTPException:
                await self.aclose()
                raise
        event = events[self._pos]
        self._pos += 1
        return event

    async def aclose(self) -> None:
        """Stop reading the body (what is left of it stays unread)."""
        body, self._body = self._body, None
        if body is not None:
            await body.aclose()

    async def _cleanup(self, exc: BaseException | None) -> None:
        await self.aclose()


def open_reader(request: Request) -> MultipartReader:
    """The reader of ``request.multipart()``: a ``multipart/form-data`` body not read
    yet (else a ``RuntimeError``: a mistake in the handler); another Content-Type
    answers 415, a malformed one or a bad boundary 400."""
    scope = request.scope
    if scope.get(CONSUMED_KEY) or scope.get(_READER_KEY) or request._form is not None:
        raise RuntimeError(
            "request.multipart(): the request body was already read by stream(), form() "
            "or an earlier multipart(); read a request's body one way only"
        )
    parsed = body_media_type(request.headers.get("content-type"))
    if parsed is None or parsed[0] != "multipart/form-data":
        raise _not_multipart()
    params = parsed[1]
    reader = MultipartReader(request, boundary_of(params))
    scope[_READER_KEY] = True
    return reader


_READER_KEY = "qake.multipart_reader"


def _not_multipart() -> HTTPException:
    return HTTPException(415, "Expected a multipart/form-data body.")
