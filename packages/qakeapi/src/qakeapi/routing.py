"""``qakeapi.routing``: every public name of ``qake_routing``."""

from qake_routing import *  # noqa: F403
from qake_routing import __all__ as _all

__all__: list[str] = []
__all__ += _all
