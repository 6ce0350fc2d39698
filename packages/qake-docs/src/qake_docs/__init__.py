"""qake-docs: OpenAPI 3.1 documents generated from qakeapi routes."""

from qake_docs._docs import Docs, add_docs_routes
from qake_docs._openapi import openapi_document
from qake_docs._schemas import SchemaRegistry

__all__ = ["Docs", "SchemaRegistry", "add_docs_routes", "openapi_document"]
