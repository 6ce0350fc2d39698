"""For test folders that run twice: in the whole workspace (``hatch test``) and with
their package installed alone (``.ci/a_la_carte.sh``). Modules that drive the layer
above (``qakeapi``) are then left to the workspace run."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

__all__ = ["modules_needing"]


def modules_needing(package: str, folder: Path) -> list[str]:
    """The test modules of ``folder`` that import ``package`` (directly, or through a
    helper module of ``folder`` they import), for ``collect_ignore`` when ``package``
    is not installed; ``[]`` when it is."""
    if importlib.util.find_spec(package) is not None:
        return []
    uses = re.compile(rf"^\s*(from|import) {re.escape(package)}\b", re.MULTILINE)
    helpers = {
        path.stem
        for path in folder.glob("*.py")
        if not path.name.startswith("test_") and uses.search(path.read_text(encoding="utf-8"))
    }
    local = re.compile(r"^\s*from (?:[\w.]+\.)?(\w+) import", re.MULTILINE)
    needing = []
    for path in folder.glob("test_*.py"):
        text = path.read_text(encoding="utf-8")
        if uses.search(text) or helpers & set(local.findall(text)):
            needing.append(path.name)
    return sorted(needing)
