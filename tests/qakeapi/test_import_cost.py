"""`import qakeapi` stays cheap: heavy libraries load when first needed."""

from __future__ import annotations

import subprocess
import sys

LAZY = [
    "pydantic",
    "uvicorn",
    "httpx",
    "jinja2",
    "redis",
    "python_multipart",
    "multipart",
    "cryptography",
    "argon2",
]


def test_importing_qakeapi_loads_no_heavy_dependency() -> None:
    code = f"import sys, qakeapi\nprint(','.join(m for m in {LAZY!r} if m in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""


def test_pydantic_loads_with_the_first_route() -> None:
    code = (
        "import sys\n"
        "from qakeapi import QakeAPI\n"
        "app = QakeAPI()\n"
        "@app.get('/items/{item_id:int}')\n"
        "async def item(item_id: int) -> dict[str, int]:\n"
        "    return {'item_id': item_id}\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "True"
