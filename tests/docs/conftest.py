"""tests/docs runs in the whole workspace and with qake-docs installed alone
(``.ci/a_la_carte.sh``): the modules that drive a ``qakeapi.QakeAPI`` app are left to
the workspace run then."""

from __future__ import annotations

from pathlib import Path

from a_la_carte import modules_needing

collect_ignore = modules_needing("qakeapi", Path(__file__).parent)
