"""Hatch build hook: the optional mypyc build of the matcher (``_tree.py``).

Off by default: an ordinary build needs nothing but hatchling and makes the pure
``py3-none-any`` wheel. With ``QAKE_ROUTING_COMPILE=1`` in the builder's environment,
the wheel (not the editable install, not the sdist) also carries ``_tree`` compiled by
mypyc, next to its source: Python imports the extension before the ``.py`` of the same
name, and the wheel is tagged for the building interpreter and platform.

    QAKE_ROUTING_COMPILE=1 uv build --wheel packages/qake-routing
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The builder's switch; "1" compiles, unset / "" / "0" builds the pure wheel.
SWITCH = "QAKE_ROUTING_COMPILE"
#: The modules mypyc compiles (one compilation group): the request-time matcher.
COMPILED = ("_tree.py",)
#: What the compiling build needs on top of hatchling (mypyc ships with mypy; its
#: command line builds the extension with setuptools).
BUILD_REQUIRES = ["mypy>=1.11", "setuptools>=65"]


def compile_requested() -> bool:
    """Read the switch; anything but the documented values is a mistake, named here."""
    value = os.environ.get(SWITCH, "")
    if value not in ("", "0", "1"):
        raise ValueError(
            f"{SWITCH}={value!r}: use {SWITCH}=1 for the mypyc-compiled matcher, "
            f"or leave it unset (or 0) for the pure-Python wheel"
        )
    return value == "1"


class CompiledMatcherHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        return list(BUILD_REQUIRES) if compile_requested() else []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._workdir: str | None = None
        if version == "editable" or not compile_requested():
            return
        package = Path(self.root) / "src" / "qake_routing"
        # Compile a copy: mypyc writes its C files and extensions next to the sources,
        # and an extension in src/ would shadow the .py of an editable install.
        self._workdir = tempfile.mkdtemp(prefix="qake-routing-mypyc-")
        work = Path(self._workdir)
        shutil.copytree(package, work / "qake_routing")
        command = [sys.executable, "-m", "mypyc", *(f"qake_routing/{m}" for m in COMPILED)]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"mypyc failed ({' '.join(command)}, exit {done.returncode}); unset {SWITCH} "
                f"to build the pure-Python wheel.\n{done.stdout}\n{done.stderr}"
            )
        extensions = sorted((work / "qake_routing").glob("*.so")) + sorted(
            (work / "qake_routing").glob("*.pyd")
        )
        if not extensions:
            raise RuntimeError(f"mypyc made no extension module in {work / 'qake_routing'}")
        for extension in extensions:
            build_data["force_include"][str(extension)] = f"qake_routing/{extension.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_workdir", None):
            shutil.rmtree(str(self._workdir), ignore_errors=True)
