"""The third-party files of the docs pages: which npm tarball each comes from, pinned.

Plain data with no import outside the standard library: the wheel's build hook
(``hatch_build.py``) loads this file by path to fetch and check the files, and the
app reads it to serve them. The files themselves are never committed: the hook
downloads each tarball from the npm registry at build time, checks it against its
``integrity`` (the registry's ``dist.integrity``) and extracts the listed members into
``src/qake_docs/_assets/``, where each must match its SHA-256.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ASSETS_DIR", "PINS", "REDOC_VERSION", "SWAGGER_UI_VERSION", "Pin", "PinnedFile"]

#: The folder, next to this file, that holds the extracted files.
ASSETS_DIR = "_assets"

SWAGGER_UI_VERSION = "5.35.0"
REDOC_VERSION = "2.5.4"


class PinnedFile(NamedTuple):
    """One file taken from a tarball: its path there, its name in ``_assets``, its
    SHA-256 (hex) and size."""

    member: str
    name: str
    sha256: str
    size: int


class Pin(NamedTuple):
    """One npm package version and the files the pages take from it."""

    package: str
    version: str
    integrity: str
    files: tuple[PinnedFile, ...]

    @property
    def url(self) -> str:
        """Where the npm registry serves this version's tarball."""
        base = self.package.rsplit("/", 1)[-1]
        return f"https://registry.npmjs.org/{self.package}/-/{base}-{self.version}.tgz"


PINS = (
    Pin(
        "swagger-ui-dist",
        SWAGGER_UI_VERSION,
        "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        (
            PinnedFile(
                "package/swagger-ui-bundle.js",
                "swagger-ui-bundle.js",
                "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
                1732839,
            ),
            PinnedFile(
                "package/swagger-ui.css",
                "swagger-ui.css",
                "5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d",
                187956,
            ),
            PinnedFile(
                "package/oauth2-redirect.js",
                "oauth2-redirect.js",
                "a5c8a34e09e49737382cc5019446eec7c3db3461963fc5bfe448361d3c5549e9",
                1329,
            ),
            PinnedFile(
                "package/favicon-32x32.png",
                "favicon-32x32.png",
                "3ed612f41e050ca5e7000cad6f1cbe7e7da39f65fca99c02e99e6591056e5837",
                628,
            ),
            PinnedFile(
                "package/LICENSE",
                "swagger-ui.LICENSE",
                "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30",
                11358,
            ),
            PinnedFile(
                "package/NOTICE",
                "swagger-ui.NOTICE",
                "0d20d1adef18aee3f40dd258172155521ce702ac445cb5f7b7d60ed32dad2fb2",
                55,
            ),
            PinnedFile(
                "package/swagger-ui-bundle.js.LICENSE.txt",
                "swagger-ui-bundle.js.LICENSE.txt",
                "37eb6e7e59aed57b2c1acf076574b818ea07b74265717e0bd67b59e0baf9abbb",
                4606,
            ),
        ),
    ),
    Pin(
        "redoc",
        REDOC_VERSION,
        "sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        (
            PinnedFile(
                "package/bundles/redoc.standalone.js",
                "redoc.standalone.js",
                "dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b",
                1103471,
            ),
            PinnedFile(
                "package/LICENSE",
                "redoc.LICENSE",
                "d3026d549cf68ab7355bcfa85877bf8f845b3334a7efbfdc63936432fb34ff0e",
                1091,
            ),
            PinnedFile(
                "package/bundles/redoc.standalone.js.LICENSE.txt",
                "redoc.standalone.js.LICENSE.txt",
                "eed602ec32e00b2b9df1984fbcc26a687b1b3193ec01961389c4b8439e6edf73",
                2729,
            ),
        ),
    ),
)
