"""PyJWT, imported on first use.

``import jwt`` imports ``cryptography`` when it is installed (~120 ms on the CI
machine, more than the rest of qakeapi together): an app that never builds a
``JWTAuth`` or a ``JWKSKeys`` should not pay it at start-up. The module is created
lazily (``importlib.util.LazyLoader``) and executes when an attribute is first read.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["jwt"]


def _lazy(name: str) -> ModuleType:
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - a declared dependency
        raise ImportError(f"qake-security needs {name}: pip install 'pyjwt>=2.13'")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import jwt
else:
    jwt = _lazy("jwt")
