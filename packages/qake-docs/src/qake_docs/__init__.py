"""qake-docs: OpenAPI 3.1 documents generated from qakeapi routes."""

from qake_docs._assets import add_docs_assets
from qake_docs._docs import Docs, add_docs_routes
from qake_docs._get_openapi import get_openapi
from qake_docs._openapi import openapi_document
from qake_docs._pages import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from qake_docs._schemas import SchemaRegistry
from qake_docs._security import SecuritySchemes

__all__ = [
    "Docs",
    "SchemaRegistry",
    "SecuritySchemes",
    "add_docs_assets",
    "add_docs_routes",
    "get_openapi",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "openapi_document",
]
