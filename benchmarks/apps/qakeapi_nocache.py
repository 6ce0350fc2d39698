"""Reference, not a peer: qakeapi's S7 with ``JWTAuth(..., cache_size=0)``.

``JWTAuth`` remembers verified tokens (until their ``exp``), so qakeapi's S7, which sends
the same token every time, pays PyJWT's verification once; every peer verifies each
request. This app verifies every token again, as the peers do: S7 here prices qakeapi's
layers plus a full verification. Measured only when named
(``--frameworks qakeapi,qakeapi-nocache --scenarios S2,S7``); its other apps are
qakeapi's own.
"""

from __future__ import annotations

from apps import qakeapi_app
from apps.common import lazy_attribute

app = qakeapi_app.app
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: qakeapi_app.app_mw,
        "app_small": lambda: qakeapi_app.app_small,
        "app_auth": lambda: qakeapi_app.build(auth=True, jwt_options={"cache_size": 0}),
    },
    globals(),
)
