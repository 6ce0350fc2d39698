"""``qakeapi.docs``: every public name of ``qake_docs``."""

from qake_docs import *  # noqa: F403
from qake_docs import __all__ as _all

__all__: list[str] = []
__all__ += _all
