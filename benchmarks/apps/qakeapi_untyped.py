"""Reference, not a peer: qakeapi's scenario apps with handlers that declare no return
type, as FastAPI's tutorial writes them (``async def read_item(item_id: int):``).

Such a route has no response model: the runner sends a returned ``dict``, ``list`` or
model as JSON itself (``sends_plain_json``), unvalidated, as FastAPI and Starlette do.
Measured only when named (``--frameworks qakeapi,qakeapi-untyped``).
"""

from __future__ import annotations

from apps import qakeapi_app
from apps.common import lazy_attribute

app = qakeapi_app.build(return_types=False)
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: qakeapi_app.build(middleware=True, return_types=False),
        "app_small": lambda: qakeapi_app.build(extra=1, return_types=False),
        "app_auth": lambda: qakeapi_app.build(auth=True, return_types=False),
    },
    globals(),
)
