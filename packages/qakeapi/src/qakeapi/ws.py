"""``qakeapi.ws``: every public name of ``qake_ws``."""

from qake_ws import *  # noqa: F403
from qake_ws import __all__ as _all

__all__: list[str] = []
__all__ += _all
