"""The extras resolve: with the pip bundled with the oldest supported Python (pip 23.2.1, Python
3.11's ensurepip) for each role, and quickly with a current pip for `[all]`.

Resolution only (`pip install --dry-run --ignore-installed`), against the configured index and
pip's cache; nothing is installed. Slow (network metadata, a fresh venv for the old pip).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OLD_PIP = "23.2.1"
ROLES = ["publish,s3", "publish,gcs", "site", "signer", "client"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _resolve(python: Path | str, extras: str, timeout: float) -> tuple[float, subprocess.CompletedProcess]:
    """(CPU seconds pip spent, the process): CPU, not wall time, because the machine running the
    tests is shared (wall time there measures the neighbours)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
                           f"{REPO}[{extras}]"], env=_env(), capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


@pytest.fixture(scope="module")
def old_pip(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("oldpip") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"pip=={OLD_PIP}"], env=_env(), check=True, timeout=600)
    return py


@pytest.mark.parametrize("extras", ROLES)
def test_role_extras_resolve_with_old_pip(old_pip, extras):
    took, proc = _resolve(old_pip, extras, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert took < 300, f"[{extras}] took {took:.0f} s CPU to resolve with pip {OLD_PIP}"


def test_all_resolves_within_a_minute_with_current_pip():
    took, proc = _resolve(sys.executable, "all", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert took < 60, f"[all] took {took:.0f} s CPU to resolve"


def test_no_extra_left_that_nothing_imports():
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "cave" not in extras  # caveclient (484 MB) was installed and never imported
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(d.startswith("pyarrow") for d in core)
    assert not any(d.startswith("pyarrow") for d in extras["signer"])
