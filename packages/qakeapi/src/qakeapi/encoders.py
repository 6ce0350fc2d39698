"""``qakeapi.encoders``: FastAPI's ``fastapi.encoders`` names (from ``qake_core.encoders``).

``jsonable_encoder`` is only here, not in ``qakeapi`` itself, as in FastAPI.
"""

from qake_core.encoders import jsonable_encoder

__all__ = ["jsonable_encoder"]
