"""A wheel (not just the editable checkout) carries the site templates and base mkdocs.yml, so the
rebuild function and other non-editable installs can build the site."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_ships_templates_and_mkdocs_config(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = next(n.split("/data/")[0] for n in names if ".data/data/share/" in n) + "/data/share/connectomics-feature-registry/"
    expected = {prefix + "mkdocs.yml"} | {
        prefix + str(p.relative_to(REPO)) for p in (REPO / "templates").rglob("*") if p.is_file()
    }
    assert expected <= names, expected - names
    assert any(n.startswith("registry/") for n in names) and any(n.startswith("signer_function/") for n in names)
