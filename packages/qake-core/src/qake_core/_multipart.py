"""Streaming ``multipart/form-data`` parsing into fields and spooled upload files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from qake_core._datastructures import Headers
from qake_core._exceptions import HTTPException
from qake_core._forms import FormData
from qake_core._limits import Limits
from qake_core._upload import UploadFile

if TYPE_CHECKING:
    from qake_core._requests import Request

__all__ = ["parse_multipart"]

_MAX_FIELD_SIZE = 1024 * 1024  # a non-file field is held in memory
# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def _bad(detail: str) -> HTTPException:
    return HTTPException(400, f"Malformed multipart body: {detail}.")


def _boundary(params: Mapping[str, str]) -> bytes:
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


class _State:
    """Callback target of the sans-I/O parser; events are replayed asynchronously."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.events: list[tuple[str, Any]] = []
        self.header_field = b""
        self.header_value = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self.headers = []
        self.header_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.events.append(("data", data[start:end]))

    def on_part_end(self) -> None:
        self.events.append(("end", None))

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]
        self._count(end - start)

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]
        self._count(end - start)

    def _count(self, n: int) -> None:
        self.header_bytes += n
        limit = self.limits.max_part_header_size
        if limit is not None and self.header_bytes > limit:
            raise HTTPException(431, f"A multipart part's headers exceed {limit} bytes.")

    def on_header_end(self) -> None:
        self.headers.append((self.header_field.lower(), self.header_value))
        self.header_field = b""
        self.header_value = b""

    def on_headers_finished(self) -> None:
        self.events.append(("begin", self.headers))

    def on_end(self) -> None:
        self.ended = True


def _allowance(limits: Limits) -> int | None:
    """The bytes a multipart body may hold: files are bounded one by one and spooled to
    disk, so the body may pass ``max_body_size`` by the file allowance (``max_files *
    max_file_size``); ``None`` is no bound."""
    body, files, file_size = limits.max_body_size, limits.max_files, limits.max_file_size
    if body is None or file_size is None:
        return body
    return None if files is None else body + files * file_size


class _Form:
    """The form built from the parser's part events, within the request's limits."""

    __slots__ = ("field", "fields", "files", "items", "limits", "name", "upload")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.items: list[tuple[str, Any]] = []
        self.files: list[UploadFile] = []
        self.fields = 0
        # The part being read: its name, and its bytes (a field) or its file (an upload).
        self.name = ""
        self.field: bytearray | None = None
        self.upload: UploadFile | None = None

    def begin(self, raw_headers: list[tuple[bytes, bytes]]) -> None:
        """A part starts: count it and read its Content-Disposition."""
        self.fields += 1
        max_fields = self.limits.max_form_fields
        if max_fields is not None and self.fields > max_fields:
            raise HTTPException(413, f"The form has more than {max_fields} fields.")
        headers = Headers(raw=raw_headers)
        disposition, params = parse_options_header(headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in params:
            raise _bad("a part lacks a form-data Content-Disposition with a name")
        self.name = params[b"name"].decode("utf-8", "replace")
        if b"filename" not in params:
            self.upload, self.field = None, bytearray()
            return
        max_files = self.limits.max_files
        if max_files is not None and len(self.files) >= max_files:
            raise HTTPException(413, f"The form has more than {max_files} files.")
        # NOTE: UploadFile keeps this name as original_filename and exposes only its safe
        # base name as filename.
        self.upload = UploadFile(
            filename=params[b"filename"].decode("utf-8", "replace"), headers=headers, size=0
        )
        self.files.append(self.upload)
        self.field = None

    async def data(self, chunk: bytes) -> None:
        """More of the part: to its file (within ``max_file_size``) or its field."""
        upload = self.upload
        if upload is not None:
            max_file_size = self.limits.max_file_size
            if max_file_size is not None and (upload.size or 0) + len(chunk) > max_file_size:
                raise HTTPException(
                    413, f"An uploaded file exceeds the limit of {max_file_size} bytes."
                )
            await upload.write(chunk)
        elif self.field is not None:
            self.field += chunk
            if len(self.field) > _MAX_FIELD_SIZE:
                raise HTTPException(413, "A form field exceeds 1 MiB.")

    async def end(self) -> None:
        """The part is complete: add it to the form's items."""
        if self.upload is not None:
            await self.upload.seek(0)
            self.items.append((self.name, self.upload))
        elif self.field is not None:
            try:
                self.items.append((self.name, self.field.decode("utf-8")))
            except UnicodeDecodeError:
                raise _bad(f"field {self.name!r} is not valid UTF-8") from None
        self.upload, self.field = None, None

    async def discard(self) -> None:
        """Close (delete) every file created so far."""
        for f in self.files:
            await f.close()


async def _feed(parser: MultipartParser, state: _State, form: _Form, chunk: bytes) -> None:
    """Parse one chunk of the body and apply the parts' events to the form."""
    try:
        parser.write(chunk)
    except MultipartParseError as exc:
        raise _bad(str(exc) or "parse error") from None
    for kind, value in state.events:
        if kind == "begin":
            form.begin(value)
        elif kind == "data":
            await form.data(value)
        else:  # end of a part
            await form.end()
    state.events.clear()


async def parse_multipart(request: Request, params: Mapping[str, str]) -> FormData:
    """Parse the body as it streams in; files over the spool size go to disk.

    Enforces ``max_form_fields``, ``max_files``, ``max_file_size`` and the part
    header size; a malformed or truncated body answers 400. On any error every
    file created so far is closed (deleted). ``params`` are the Content-Type's
    parameters (see :func:`~qake_core._media_type.parse_media_type`).
    """
    boundary = _boundary(params)
    limits = request.limits
    state = _State(limits)
    callbacks: Any = {name: getattr(state, name) for name in _CALLBACKS}
    parser = MultipartParser(boundary, callbacks, max_header_count=16)
    form = _Form(limits)
    try:
        # NOTE: aclosing: a part refused mid-body must close the body reader at once
        # (under trio nothing finalises an abandoned async generator for us).
        async with aclosing(request._stream(_allowance(limits))) as body:
            async for chunk in body:
                await _feed(parser, state, form, chunk)
        parser.finalize()
        if not state.ended:
            raise _bad("the body ended before the closing boundary")
    except BaseException:
        await form.discard()
        raise
    return FormData(form.items)
