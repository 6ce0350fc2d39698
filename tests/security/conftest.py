"""tests/security runs twice: in the whole workspace (``hatch test``) and with
qake-security installed alone (``.ci/a_la_carte.sh``).

The modules that drive a ``qakeapi.QakeAPI`` app — the meta-package's defaults, and
FastAPI's tutorial patterns with only the imports changed — need qakeapi, which sits
above qake-security. With qake-security alone they are not collected; the workspace
run runs every one of them.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from redis_process import redis_process  # noqa: F401 - the fixture, for the modules here

_USES_QAKEAPI = re.compile(r"^\s*(from|import) qakeapi\b", re.MULTILINE)

collect_ignore = (
    []
    if importlib.util.find_spec("qakeapi") is not None
    else sorted(
        path.name
        for path in Path(__file__).parent.glob("test_*.py")
        if _USES_QAKEAPI.search(path.read_text(encoding="utf-8"))
    )
)
