"""Build hook only (metadata is in pyproject.toml): a wheel carries the site's vendored browser
scripts. `build_py` writes mermaid/lunr and their licences into `site_builder/_vendor/`, from the
npm prefix `make site-vendor` fills when it holds the pinned versions, else by running npm (pins:
site_builder/vendor_pins.txt). Editable installs link the source tree and skip this: the checkout
reads its npm prefix (`.cache/site-vendor`) directly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _vendor_module():
    if str(ROOT) not in sys.path:  # vendor.py imports registry.errors (stdlib-only) from the source tree
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("_site_vendor", ROOT / "site_builder" / "vendor.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class build_py_with_vendor(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "site_builder" / "_vendor"
        self._vendored = [str(p) for p in _vendor_module().stage(dest, (ROOT / ".cache" / "site-vendor",))]

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + list(getattr(self, "_vendored", []))


setup(cmdclass={"build_py": build_py_with_vendor})
