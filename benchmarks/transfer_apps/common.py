"""What the S11 apps share: where the files are, the chunk size of a copy."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The directory holding ``download.bin`` and ``uploads/``; ``transfers.py`` sets it.
DATA_DIR = Path(os.environ.get("S11_DIR") or Path(tempfile.gettempdir()) / "qakeapi-s11")
#: Bytes an app asks for at a time when it copies a spooled upload to its destination.
COPY_CHUNK = 1024 * 1024
#: The largest body the apps accept where a framework needs a bound to be given.
MAX_BODY = 64 * 1024 * 1024
PONG = b"pong"


def download_path() -> Path:
    """The file every app serves on ``GET /download``."""
    return DATA_DIR / "download.bin"


def upload_path(framework: str) -> Path:
    """Where ``framework``'s app stores the uploaded file (overwritten by each upload)."""
    folder = DATA_DIR / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{framework}.bin"
