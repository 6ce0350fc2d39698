"""Reference, not a peer: qakeapi's scenario apps with ``QakeAPI(compat="fastapi")``.

The switch is chosen when the app is built (error style, body parser, serializer per
route); a request that succeeds runs the same code with it on or off. Measured only
when named (``--frameworks qakeapi,qakeapi-compat``) to show that.
"""

from __future__ import annotations

from apps import qakeapi_app
from apps.common import lazy_attribute

app = qakeapi_app.build(compat="fastapi")
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: qakeapi_app.build(middleware=True, compat="fastapi"),
        "app_small": lambda: qakeapi_app.build(extra=1, compat="fastapi"),
        "app_auth": lambda: qakeapi_app.build(auth=True, compat="fastapi"),
    },
    globals(),
)
