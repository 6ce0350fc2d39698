"""``GZipMiddleware``: compress responses with gzip, or Brotli/zstd when installed."""

from __future__ import annotations

import zlib
from typing import Any

from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["GZipMiddleware"]

_SKIP_TYPES = (b"text/event-stream", b"image/", b"video/", b"audio/", b"application/zip")


def _available() -> dict[str, Any]:
    found: dict[str, Any] = {}
    try:
        import zstandard

        found["zstd"] = zstandard
    except ImportError:  # pragma: no cover - optional
        pass
    try:
        import brotli

        found["br"] = brotli
    except ImportError:  # pragma: no cover - optional
        pass
    return found


class _Encoder:
    """A streaming compressor with one interface over zlib, brotli and zstandard."""

    def __init__(self, coding: str, module: Any, level: int) -> None:
        self.coding = coding
        if coding == "gzip":
            self._obj: Any = zlib.compressobj(level, zlib.DEFLATED, 31)
        elif coding == "br":
            self._obj = module.Compressor(quality=4)
        else:
            self._obj = module.ZstdCompressor(level=3).compressobj()
        self._module = module

    def chunk(self, data: bytes) -> bytes:
        if self.coding == "gzip":
            return self._obj.compress(data) + self._obj.flush(zlib.Z_SYNC_FLUSH)  # type: ignore[no-any-return]
        if self.coding == "br":
            return self._obj.process(data) + self._obj.flush()  # type: ignore[no-any-return]
        flush_block = self._module.COMPRESSOBJ_FLUSH_BLOCK
        return self._obj.compress(data) + self._obj.flush(flush_block)  # type: ignore[no-any-return]

    def finish(self, data: bytes = b"") -> bytes:
        if self.coding == "gzip":
            return self._obj.compress(data) + self._obj.flush()  # type: ignore[no-any-return]
        if self.coding == "br":
            return self._obj.process(data) + self._obj.finish()  # type: ignore[no-any-return]
        return self._obj.compress(data) + self._obj.flush()  # type: ignore[no-any-return]


def _pick(accept: bytes, codings: dict[str, Any], enabled: tuple[str, ...]) -> str | None:
    allowed: dict[str, float] = {}
    for item in accept.decode("latin-1").lower().split(","):
        name, *params = item.split(";")
        q = 1.0
        for p in params:
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed[name.strip()] = q
    for coding in enabled:
        if allowed.get(coding, allowed.get("*", 0.0)) > 0 and (
            coding == "gzip" or coding in codings
        ):
            return coding
    return None


class GZipMiddleware:
    """Compress bodies of at least ``minimum_size`` bytes for clients that accept it.

    Preference order is zstd, br, gzip (the first two only if ``zstandard``/``brotli``
    are installed and ``brotli``/``zstd`` are not disabled). Skipped: responses that
    already have a Content-Encoding, partial (206) responses, server-sent events and
    already-compressed media types. Streams are compressed chunk by chunk (each chunk
    flushed, so streaming stays incremental). Adds ``Vary: Accept-Encoding``.
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 6,
        *,
        brotli: bool = True,
        zstd: bool = True,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.codings = _available()
        self.enabled = tuple(c for c, on in (("zstd", zstd), ("br", brotli), ("gzip", True)) if on)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = b""
        for k, v in scope["headers"]:
            if k == b"accept-encoding":
                accept = v
                break
        coding = _pick(accept, self.codings, self.enabled) if accept else None
        if coding is None:
            await self.app(scope, receive, send)
            return
        await _Responder(self, coding, send).run(scope, receive)


class _Responder:
    def __init__(self, mw: GZipMiddleware, coding: str, send: Send) -> None:
        self.mw = mw
        self.coding = coding
        self.send = send
        self.start: Message | None = None
        self.encoder: _Encoder | None = None
        self.passthrough = False

    async def run(self, scope: Scope, receive: Receive) -> None:
        await self.mw.app(scope, receive, self.on_send)

    async def on_send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            headers = message.get("headers", [])
            status = message["status"]
            if (
                status < 200
                or status in (204, 206, 304)
                or any(k in (b"content-encoding", b"content-range") for k, _ in headers)
            ):
                self.passthrough = True
            else:
                for k, v in headers:
                    if k == b"content-type" and v.lower().startswith(_SKIP_TYPES):
                        self.passthrough = True
            if self.passthrough:
                await self.send(message)
            return
        if kind != "http.response.body" or self.passthrough:
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        start = self.start
        assert start is not None
        if self.encoder is None:
            if not more and len(body) < self.mw.minimum_size:
                self.passthrough = True
                await self.send(start)
                await self.send(message)
                return
            coding = self.coding
            self.encoder = _Encoder(coding, self.mw.codings.get(coding), self.mw.compresslevel)
            headers = [
                (k, v)
                for k, v in start.get("headers", [])
                if k not in (b"content-length", b"vary", b"etag")
            ]
            vary = [v for k, v in start.get("headers", []) if k == b"vary"]
            vary_value = b", ".join([*vary, b"Accept-Encoding"]) if vary else b"Accept-Encoding"
            headers += [(b"content-encoding", coding.encode()), (b"vary", vary_value)]
            if not more:
                data = self.encoder.finish(body)
                headers.append((b"content-length", str(len(data)).encode()))
                await self.send({**start, "headers": headers})
                await self.send({"type": "http.response.body", "body": data})
                return
            await self.send({**start, "headers": headers})
        data = self.encoder.chunk(body) if more else self.encoder.finish(body)
        await self.send({"type": "http.response.body", "body": data, "more_body": more})
