"""Browser scripts the site ships, vendored from npm packages installed by `make site-vendor`.

The site must not contact a CDN, so mermaid and lunr are copied from a local npm prefix
(`.cache/site-vendor` by default, or `$SITE_VENDOR_DIR`) into `assets/vendor/`, each with its
LICENSE file beside it. Missing files are a clear error, not a silently broken page.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


class VendorMissing(RuntimeError):
    """The npm packages are not installed where the builder looks."""


@dataclass(frozen=True)
class Asset:
    package: str
    files: tuple[str, ...]  # relative to node_modules/<package>; the first is the script


ASSETS = (
    Asset("mermaid", ("dist/mermaid.min.js", "LICENSE", "package.json")),
    Asset("lunr", ("lunr.min.js", "LICENSE", "package.json")),
)


def vendor_dir() -> Path:
    env = os.environ.get("SITE_VENDOR_DIR")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent / ".cache" / "site-vendor"


def check_vendor(base: Path | None = None) -> Path:
    """The npm prefix holding every vendored file; raises VendorMissing naming what is absent."""
    base = base or vendor_dir()
    missing = [
        str(base / "node_modules" / a.package / f) for a in ASSETS for f in a.files
        if not (base / "node_modules" / a.package / f).is_file()
    ]
    if missing:
        raise VendorMissing(
            "the catalog site ships mermaid and lunr from npm packages, not a CDN, and they are not "
            f"installed: missing {', '.join(missing)}. Run `make site-vendor` (npm install --prefix "
            f"{base} ...), or point SITE_VENDOR_DIR at an npm prefix that has them."
        )
    return base


def copy_vendor(dest: str, base: Path | None = None) -> list[str]:
    """Copy scripts and licences into `dest/assets/vendor/<package>/`; returns the paths written."""
    base = check_vendor(base)
    written = []
    for a in ASSETS:
        target = Path(dest) / "assets" / "vendor" / a.package
        target.mkdir(parents=True, exist_ok=True)
        for f in a.files:
            out = target / Path(f).name
            shutil.copyfile(base / "node_modules" / a.package / f, out)
            written.append(str(out))
    return written
