"""``qakeapi.security``: every public name of ``qake_security``."""

from qake_security import *  # noqa: F403
from qake_security import __all__ as _all

__all__: list[str] = []
__all__ += _all
