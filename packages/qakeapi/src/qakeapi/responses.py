"""``qakeapi.responses``: the response classes of FastAPI's ``fastapi.responses``.

``ORJSONResponse`` and ``UJSONResponse`` are :class:`JSONResponse` itself: qakeapi's
``JSONResponse`` already writes with orjson (``OPT_NON_STR_KEYS`` and
``OPT_SERIALIZE_NUMPY``, as FastAPI's ``ORJSONResponse``), so a ported app sends the
same JSON values. The bytes differ in two places, both for the better: a UTC
``datetime`` ends in ``Z`` (as pydantic writes it; FastAPI's ``ORJSONResponse`` writes
``+00:00``), and values orjson refuses (``Decimal``, ``set``, a pydantic model...) are
written as pydantic writes them instead of failing. ujson (which FastAPI's
``UJSONResponse`` needs installed) escapes ``/`` as ``\\/``; orjson does not, and the
JSON value is the same. FastAPI deprecates both names; they stay here so that imports
keep working.
"""

from qake_core import (
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

ORJSONResponse = JSONResponse
UJSONResponse = JSONResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]
