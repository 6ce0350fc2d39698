"""Fetch Swagger UI's and ReDoc's files into ``src/qake_docs/_assets/`` (the wheel
build hook ``hatch_build.py`` calls this; ``python build_assets.py`` runs it alone).

No third-party asset is committed to the repository. :func:`ensure_assets` makes sure
the folder holds the files pinned in ``src/qake_docs/_asset_pins.py``: a file already
there with its pinned SHA-256 is kept (no network); otherwise the npm tarball is
downloaded, checked against its pinned ``integrity`` (sha512) and the listed members
are extracted and checked. Any failure raises ``RuntimeError`` naming what is needed.
Standard library only: it runs in the isolated build environment.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

_TIMEOUT = 60.0  # seconds, per tarball


def _load_pins(root: Path) -> ModuleType:
    path = root / "src" / "qake_docs" / "_asset_pins.py"
    spec = importlib.util.spec_from_file_location("_qake_docs_asset_pins", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"qake-docs build: cannot load the asset pins from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _download(pin: Any) -> bytes:
    what = f"{pin.package} {pin.version} from {pin.url}"
    try:
        with urllib.request.urlopen(pin.url, timeout=_TIMEOUT) as answer:
            data: bytes = answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError(
            f"qake-docs build: could not download {what} ({exc}). The wheel bundles "
            "Swagger UI and ReDoc from the npm registry at build time: build where "
            f"https://registry.npmjs.org is reachable, or put the files pinned in "
            f"src/qake_docs/_asset_pins.py into src/qake_docs/_assets/ first"
        ) from exc
    algorithm, _, expected = pin.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
    if actual != expected:
        raise RuntimeError(
            f"qake-docs build: {what} does not match its pinned integrity "
            f"{pin.integrity} (got {algorithm}-{actual}); refusing to bundle it"
        )
    return data


def _extract(pin: Any, data: bytes, folder: Path, wanted: list[Any]) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for item in wanted:
            try:
                member = archive.extractfile(item.member)
            except KeyError:
                member = None
            if member is None:
                raise RuntimeError(
                    f"qake-docs build: {pin.package} {pin.version} has no file {item.member}"
                )
            content = member.read()
            if hashlib.sha256(content).hexdigest() != item.sha256:
                raise RuntimeError(
                    f"qake-docs build: {item.member} of {pin.package} {pin.version} does not "
                    f"match its pinned SHA-256 {item.sha256}"
                )
            target = folder / item.name
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(content)
            partial.replace(target)


def ensure_assets(root: Path) -> list[Path]:
    """Every pinned file in ``root/src/qake_docs/_assets`` (fetched when missing or
    different); return their paths."""
    pins = _load_pins(root)
    folder = root / "src" / "qake_docs" / pins.ASSETS_DIR
    folder.mkdir(exist_ok=True)
    paths: list[Path] = []
    for pin in pins.PINS:
        missing = [f for f in pin.files if _sha256(folder / f.name) != f.sha256]
        if missing:
            _extract(pin, _download(pin), folder, missing)
        paths.extend(folder / f.name for f in pin.files)
    return paths


if __name__ == "__main__":
    for fetched in ensure_assets(Path(__file__).resolve().parent):
        print(fetched)
