"""``StaticFiles``: serve a directory safely (no traversal), via ``FileResponse``."""

from __future__ import annotations

import os
import stat
from typing import Any

import anyio.to_thread

from qake_core._file_response import FileResponse
from qake_core._problem import problem_response
from qake_core._responses import RedirectResponse
from qake_core._scope import route_path
from qake_core.types import Receive, Scope, Send

__all__ = ["StaticFiles"]

_BAD_CHARS = ("\\", "\x00", ":")


class StaticFiles:
    """An ASGI app serving files under ``directory``; mount it: ``app.mount("/static", ...)``.

    Refused with 404: ``..`` segments (also when percent-encoded: the server decodes
    them before we see the path), backslashes, NUL, drive letters and absolute
    paths, and symlinks that lead outside the directory unless ``follow_symlinks``.
    Only GET and HEAD (405 otherwise). With ``html=True`` a directory serves its
    ``index.html`` (redirecting ``/dir`` to ``/dir/``) and a missing file serves
    ``404.html`` when present. ETag, 304 and ranges come from :class:`FileResponse`.
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str],
        html: bool = False,
        follow_symlinks: bool = False,
        check_dir: bool = True,
    ) -> None:
        self.directory = os.path.realpath(os.fspath(directory))
        if check_dir and not os.path.isdir(self.directory):
            raise RuntimeError(f"StaticFiles: directory {os.fspath(directory)!r} does not exist")
        self.html = html
        self.follow_symlinks = follow_symlinks

    def _resolve(self, relative: str) -> tuple[str, os.stat_result] | None:
        """The file for ``relative`` and its stat, or ``None`` (runs in a thread)."""
        if any(c in relative for c in _BAD_CHARS):
            return None
        segments = [s for s in relative.split("/") if s]
        if any(s in ("..", ".") for s in segments):
            return None
        root = self.directory
        joined = os.path.join(root, *segments)
        real = os.path.realpath(joined)
        target = real if self.follow_symlinks else joined
        inside = os.path.commonpath([root, real]) == root
        if not inside and not self.follow_symlinks:
            return None
        if not self.follow_symlinks and real != os.path.abspath(joined):
            return None  # a symlink somewhere on the way: refuse unless allowed
        try:
            st = os.stat(target)
        except (OSError, ValueError):
            return None
        return target, st

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("StaticFiles serves HTTP only")
        if scope["method"] not in ("GET", "HEAD"):
            await problem_response(405, headers={"allow": "GET, HEAD"})(scope, receive, send)
            return
        response = await self._response(scope)
        await response(scope, receive, send)

    async def _response(self, scope: Scope) -> Any:
        relative = route_path(scope)
        found = await anyio.to_thread.run_sync(self._resolve, relative)
        if found is not None:
            path, st = found
            if stat.S_ISREG(st.st_mode):
                return FileResponse(path, stat_result=st)
            if stat.S_ISDIR(st.st_mode) and self.html:
                if not scope["path"].endswith("/"):
                    query = scope.get("query_string", b"").decode("latin-1")
                    target = scope.get("root_path", "") + relative + "/"
                    if scope["path"].startswith(scope.get("root_path", "")):
                        target = scope["path"] + "/"
                    return RedirectResponse(target + (f"?{query}" if query else ""), 307)
                index = await anyio.to_thread.run_sync(
                    self._resolve, relative.rstrip("/") + "/index.html"
                )
                if index is not None and stat.S_ISREG(index[1].st_mode):
                    return FileResponse(index[0], stat_result=index[1])
        if self.html:
            missing = await anyio.to_thread.run_sync(self._resolve, "404.html")
            if missing is not None and stat.S_ISREG(missing[1].st_mode):
                return FileResponse(missing[0], 404, stat_result=missing[1])
        return problem_response(404, "File not found.")
