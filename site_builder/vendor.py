"""Browser scripts the site ships (mermaid, lunr), vendored from pinned npm packages.

The site must not contact a CDN, so the scripts are copied into every built site's
`assets/vendor/<package>/`, each with its LICENSE file beside it. Where they come from, first hit
wins:

1. `$SITE_VENDOR_DIR`, an npm prefix (`node_modules/<package>/...`), when set: an explicit choice;
2. the copy packaged inside this package (`site_builder/_vendor/<package>/`), written when the
   wheel is built (setup.py runs :func:`stage` from here), so a `pip install` user needs neither
   the checkout nor npm;
3. the checkout's npm prefix `.cache/site-vendor` (`make site-vendor`).

Pins live in `vendor_pins.txt` beside this file (also read by mk/site.mk). This module imports
only the standard library and `registry.errors` (itself stdlib-only): setup.py loads it by path,
with the source tree on `sys.path`, before anything is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from registry.errors import RegistryError

HERE = Path(__file__).resolve().parent
PINS_FILE = HERE / "vendor_pins.txt"
PACKAGED = HERE / "_vendor"


class VendorMissing(RegistryError):
    """The vendored scripts are neither packaged nor installed where the builder looks (exit 1:
    a broken install, not the user's input). One error family with the rest of the project, so
    every command maps it by type."""


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    files: tuple[str, ...]  # relative to node_modules/<package>; the first is the script

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


def read_pins(path: Path = PINS_FILE) -> tuple[Asset, ...]:
    assets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, version, *files = line.split()
            assets.append(Asset(package, version, tuple(files)))
    return tuple(assets)


ASSETS = read_pins()


class _Source:
    """Where each asset's files are: an npm prefix or the packaged flat layout."""

    def __init__(self, base: Path, packaged: bool):
        self.base, self.packaged = base, packaged

    def file(self, a: Asset, f: str) -> Path:
        if self.packaged:
            return self.base / a.package / Path(f).name
        return self.base / "node_modules" / a.package / f

    def missing(self) -> list[str]:
        return [str(self.file(a, f)) for a in ASSETS for f in a.files if not self.file(a, f).is_file()]


def vendor_dir() -> Path:
    """The npm prefix looked at when nothing is packaged (`$SITE_VENDOR_DIR` or the checkout's)."""
    env = os.environ.get("SITE_VENDOR_DIR")
    if env:
        return Path(env).resolve()
    return HERE.parent / ".cache" / "site-vendor"


def _source(base: Path | None) -> _Source:
    if base is not None:
        return _Source(base, packaged=False)
    if os.environ.get("SITE_VENDOR_DIR"):
        return _Source(vendor_dir(), packaged=False)
    packaged = _Source(PACKAGED, packaged=True)
    if PACKAGED.is_dir() and not packaged.missing():
        return packaged
    return _Source(vendor_dir(), packaged=False)


def check_vendor(base: Path | None = None) -> Path:
    """The directory holding every vendored file; raises VendorMissing naming what is absent."""
    src = _source(base)
    missing = src.missing()
    if missing:
        raise VendorMissing(
            "the catalog site ships mermaid and lunr from npm packages, not a CDN, and they are not "
            f"installed: missing {', '.join(missing)}. Install the package from a wheel (it carries "
            f"them), or run `make site-vendor` (npm install --prefix {src.base} ...), or point "
            "SITE_VENDOR_DIR at an npm prefix that has them."
        )
    return src.base


def copy_vendor(dest: str, base: Path | None = None) -> list[str]:
    """Copy scripts and licences into `dest/assets/vendor/<package>/`; returns the paths written."""
    check_vendor(base)
    src = _source(base)
    written = []
    for a in ASSETS:
        target = Path(dest) / "assets" / "vendor" / a.package
        target.mkdir(parents=True, exist_ok=True)
        for f in a.files:
            out = target / Path(f).name
            shutil.copyfile(src.file(a, f), out)
            written.append(str(out))
    return written


# ---- build time (setup.py, make) ------------------------------------------------------------------

def _prefix_matches_pins(prefix: Path) -> bool:
    """An npm prefix holding every file, at exactly the pinned versions."""
    src = _Source(prefix, packaged=False)
    if src.missing():
        return False
    for a in ASSETS:
        try:
            meta = json.loads((prefix / "node_modules" / a.package / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if meta.get("version") != a.version:
            return False
    return True


def npm_install(prefix: Path) -> None:
    """`npm install` the pinned packages into `prefix` (no scripts run, nothing saved)."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorMissing(
            "building the wheel vendors mermaid and lunr from npm, and npm is not on PATH: install "
            "npm, or set SITE_VENDOR_DIR to an npm prefix holding "
            + ", ".join(a.spec for a in ASSETS)
        )
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--no-save", "--ignore-scripts",
                    "--prefix", str(prefix), *[a.spec for a in ASSETS]], check=True)
    if not _prefix_matches_pins(prefix):
        raise VendorMissing(f"npm install into {prefix} did not leave {', '.join(a.spec for a in ASSETS)}")


def stage(dest: Path, prefixes: tuple[Path, ...] = ()) -> list[Path]:
    """Write the packaged layout (`dest/<package>/<file name>`) from the first npm prefix that has
    the pinned versions, else from a fresh `npm install` into a temporary prefix."""
    candidates = [*prefixes]
    if os.environ.get("SITE_VENDOR_DIR"):
        candidates.insert(0, vendor_dir())
    prefix = next((p for p in candidates if _prefix_matches_pins(p)), None)
    with tempfile.TemporaryDirectory(prefix="site-vendor-") as tmp:
        if prefix is None:
            prefix = Path(tmp)
            npm_install(prefix)
        written = []
        for a in ASSETS:
            (dest / a.package).mkdir(parents=True, exist_ok=True)
            for f in a.files:
                out = dest / a.package / Path(f).name
                shutil.copyfile(prefix / "node_modules" / a.package / f, out)
                written.append(out)
        return written


if __name__ == "__main__":  # `python -m site_builder.vendor PREFIX`: what `make site-vendor` runs
    target = Path(sys.argv[1]).resolve()
    if not _prefix_matches_pins(target):
        npm_install(target)
    print(" ".join(a.spec for a in ASSETS), "in", target)
