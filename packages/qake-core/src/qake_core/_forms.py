"""Form bodies: URL-encoded parsing with limits, and the ``FormData`` container."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from qake_core._datastructures import MultiDict
from qake_core._exceptions import HTTPException
from qake_core._media_type import body_media_type

if TYPE_CHECKING:
    from qake_core._requests import Request

__all__ = ["FormData", "parse_form"]


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


async def parse_form(request: Request) -> FormData:
    """Parse the request body as a form according to its Content-Type.

    A missing or other media type answers 415; a Content-Type that is not a valid
    media type (RFC 9110 §8.3.1: a stray character, an unterminated quoted string, a
    repeated parameter) answers 400, as does a multipart boundary outside RFC 2046.
    """
    parsed = body_media_type(request.headers.get("content-type"))
    if parsed is None:
        raise _unsupported()
    media, params = parsed
    if media == "application/x-www-form-urlencoded":
        body = await request.body()
        max_fields = request.limits.max_form_fields
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

        return await parse_multipart(request, params)
    raise _unsupported()


def _unsupported() -> HTTPException:
    return HTTPException(
        415, "Expected a form body (application/x-www-form-urlencoded or multipart/form-data)."
    )
