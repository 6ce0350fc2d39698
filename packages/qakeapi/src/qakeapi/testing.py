"""``qakeapi.testing``: every public name of ``qake_testing``."""

from qake_testing import *  # noqa: F403
from qake_testing import __all__ as _all

__all__: list[str] = []
__all__ += _all
