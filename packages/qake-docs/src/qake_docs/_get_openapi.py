"""``get_openapi``: FastAPI's function of that name, for a document built by hand (a
custom ``openapi()``, extra ``info`` fields, a subset of the routes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qake_docs._openapi import assemble

__all__ = ["get_openapi"]


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Iterable[Any],
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    webhooks: Iterable[Any] | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Mapping[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (``app.routes``, or a router's), with FastAPI's
    keywords: ``webhooks`` are routes (``app.webhooks.routes``), ``tags`` the
    ``openapi_tags`` list, ``license_info`` the ``info.license`` object.

    The result is a new dict each call; ``QakeAPI.openapi()`` is the cached one served
    at ``openapi_url``.
    """
    extra: dict[str, Any] = {}
    if terms_of_service:
        extra["termsOfService"] = terms_of_service
    if contact:
        extra["contact"] = dict(contact)
    if license_info:
        extra["license"] = dict(license_info)
    return assemble(
        routes,
        title=title,
        version=version,
        description=description,
        summary=summary,
        info_extra=extra,
        servers=servers,
        tags=tags,
        webhooks=webhooks or (),
        separate_input_output_schemas=separate_input_output_schemas,
        openapi_version=openapi_version,
    )
