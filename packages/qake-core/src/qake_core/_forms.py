"""Form bodies: URL-encoded parsing with limits, and the ``FormData`` container."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from qake_core._datastructures import MultiDict
from qake_core._exceptions import HTTPException

if TYPE_CHECKING:
    from qake_core._requests import Request

__all__ = ["FormData", "parse_form"]

DEFAULT_MAX_FIELDS = 1000


class FormData(MultiDict):
    """Form fields (``str``) and, for multipart bodies, uploaded files."""

    __slots__ = ("_files",)

    def __init__(self, items: Iterable[tuple[str, Any]] = ()) -> None:
        pairs = list(items)
        super().__init__([(k, v) for k, v in pairs])
        self._files = [v for _, v in pairs if hasattr(v, "aclose") or hasattr(v, "close")]

    async def close(self) -> None:
        """Close every uploaded file held by this form."""
        for f in self._files:
            closer = getattr(f, "aclose", None) or f.close
            result = closer()
            if hasattr(result, "__await__"):
                await result


def _max_fields(request: Request) -> int:
    limits = request.limits or getattr(request.app, "limits", None)
    return int(getattr(limits, "max_form_fields", DEFAULT_MAX_FIELDS) or DEFAULT_MAX_FIELDS)


async def parse_form(request: Request) -> FormData:
    """Parse the request body as a form according to its Content-Type."""
    content_type = request.headers.get("content-type", "")
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        body = await request.body()
        max_fields = _max_fields(request)
        try:
            pairs = parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=max_fields,
            )
        except UnicodeDecodeError:
            raise HTTPException(400, "The form body is not valid UTF-8.") from None
        except ValueError:
            raise HTTPException(413, f"The form has more than {max_fields} fields.") from None
        return FormData(pairs)
    if media == "multipart/form-data":
        from qake_core._multipart import parse_multipart

        return await parse_multipart(request, content_type)
    raise HTTPException(
        415, "Expected a form body (application/x-www-form-urlencoded or multipart/form-data)."
    )
