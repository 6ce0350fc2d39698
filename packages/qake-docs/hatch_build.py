"""Build hook: put Swagger UI's and ReDoc's files into the wheel, fetched at build time.

For every wheel, editable ones included, :func:`build_assets.ensure_assets` makes sure
``src/qake_docs/_assets/`` holds the pinned files (downloading and checking them when
missing; see ``build_assets.py``). A regular wheel then carries them as
``qake_docs/_assets/*``; an editable one puts ``src/`` on ``sys.path`` and uses them in
place. Any failure stops the build with a message naming what is needed (an sdist
holds this hook and the pins, not the files: building a wheel from it fetches them).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _build_assets(root: Path) -> ModuleType:
    path = root / "build_assets.py"
    spec = importlib.util.spec_from_file_location("_qake_docs_build_assets", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"qake-docs build: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Hatch's ``custom`` hook for the wheel target (standard and editable)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        paths: list[Path] = _build_assets(root).ensure_assets(root)
        if version == "editable":
            return  # the editable wheel puts src/ on sys.path: the files are used in place
        force_include = build_data.setdefault("force_include", {})
        for path in paths:
            force_include[str(path)] = f"qake_docs/_assets/{path.name}"
