"""tests/security runs twice: in the whole workspace (``hatch test``) and with
qake-security installed alone (``.ci/a_la_carte.sh``).

The modules that drive a ``qakeapi.QakeAPI`` app — the meta-package's defaults, and
FastAPI's tutorial patterns with only the imports changed — need qakeapi, which sits
above qake-security. With qake-security alone they are not collected; the workspace
run runs every one of them.
"""

from __future__ import annotations

from pathlib import Path

from a_la_carte import modules_needing
from redis_process import redis_process  # noqa: F401 - the fixture, for the modules here

collect_ignore = modules_needing("qakeapi", Path(__file__).parent)
