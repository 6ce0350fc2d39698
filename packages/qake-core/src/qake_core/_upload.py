"""Uploaded files: a spooled temporary file behind an async interface."""

from __future__ import annotations

import re
import tempfile
from typing import IO, Any

from qake_core._concurrency import run_in_threadpool
from qake_core._datastructures import Headers

__all__ = ["UploadFile"]

#: Uploads up to this size stay in memory; larger ones roll over to a temporary file.
SPOOL_MAX_SIZE = 1024 * 1024

# C0 controls (NUL included), DEL and C1 controls: Unicode's "Cc" category.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_filename(name: str | None) -> str | None:
    """The base name of a client-sent file name, or ``None`` when nothing safe is left.

    Control characters (NUL included) are removed, then only what follows the last
    ``/`` or ``\\`` is kept (a client may send a path, and either separator is one on
    some system); ``""``, ``"."`` and ``".."`` give ``None``. Nothing else is changed:
    the result is a single path component, not a vetted name for every file system.
    """
    if name is None:
        return None
    base = _CONTROLS.sub("", name)
    base = base[max(base.rfind("/"), base.rfind("\\")) + 1 :]
    return None if base in ("", ".", "..") else base


class UploadFile:
    """A file uploaded in a multipart form.

    The content lives in a :class:`tempfile.SpooledTemporaryFile`: in memory while
    small, on disk (deleted on close) when large. The async methods run disk I/O in
    a worker thread; the application closes every upload after the response.

    ``filename`` is one path component: the base name of the name the client sent
    (after the last ``/`` or ``\\``, control characters removed), or ``None`` when that
    is empty, ``.`` or ``..`` (on Windows, still refuse drive names like ``C:x`` and
    device names like ``NUL`` before using it as a path). ``original_filename`` is the
    name exactly as sent (``"../../etc/passwd"``, ``"a\\x00b"``): untrusted, for display
    or logs only, never a path. Both are ``None`` when the part had no file name.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "original_filename", "size")

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        headers: Headers | None = None,
        size: int | None = None,
    ) -> None:
        self.file: IO[bytes] = (
            file if file is not None else tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)  # noqa: SIM115
        )
        self.original_filename = filename
        self.filename = safe_filename(filename)
        self.headers = headers if headers is not None else Headers()
        self.content_type = content_type or self.headers.get("content-type")
        self.size = size

    @property
    def _in_memory(self) -> bool:
        # PERF: an in-memory spool is a BytesIO; no thread hop is worth it then.
        rolled = getattr(self.file, "_rolled", True)
        return not rolled

    async def _call(self, func: Any, *args: Any) -> Any:
        if self._in_memory:
            return func(*args)
        return await run_in_threadpool(func, *args)

    async def write(self, data: bytes) -> None:
        """Append ``data`` (used while parsing; ``size`` grows with it)."""
        if self.size is not None:
            self.size += len(data)
        await self._call(self.file.write, data)

    async def _write_chunks(self, chunks: list[bytes]) -> None:
        """Append every chunk of ``chunks``, in one worker-thread hop when on disk (used
        while parsing)."""
        if self.size is not None:
            self.size += sum(map(len, chunks))
        await self._call(self.file.writelines, chunks)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining by default)."""
        data: bytes = await self._call(self.file.read, size)
        return data

    async def seek(self, offset: int) -> None:
        """Move to byte ``offset``."""
        await self._call(self.file.seek, offset)

    async def close(self) -> None:
        """Close and delete the underlying file."""
        if not self.file.closed:
            await self._call(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size!r}, "
            f"content_type={self.content_type!r})"
        )
