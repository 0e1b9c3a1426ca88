"""Constraints per deployable (feature_registry/constraints/*.txt), generated from pyproject.toml by
deploy/make_constraints.py: current with pyproject, a pin for every requirement, each pin inside
pyproject's range, and (slow) installable as they stand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from feature_registry.package import CONSTRAINTS_DIR, DEPLOYABLES, TARGETS, requirements

REPO = Path(__file__).resolve().parents[2]


def pins(name: str) -> dict[str, str]:
    lines = (CONSTRAINTS_DIR / f"{name}.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def test_constraints_are_current_with_pyproject():
    proc = subprocess.run([sys.executable, str(REPO / "deploy" / "make_constraints.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_check_notices_a_changed_requirement(tmp_path):
    for name in DEPLOYABLES:
        text = (CONSTRAINTS_DIR / f"{name}.txt").read_text()
        (tmp_path / f"{name}.txt").write_text(text.replace("requirements-sha256: ", "requirements-sha256: 0"))
    proc = subprocess.run([sys.executable, str(REPO / "deploy" / "make_constraints.py"), "--check", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "stale" in proc.stderr


@pytest.mark.parametrize("name", sorted(DEPLOYABLES))
def test_every_requirement_is_pinned_inside_its_range(name):
    pinned = pins(name)
    for target in TARGETS:
        for raw in requirements(DEPLOYABLES[name], target):
            req = Requirement(raw)
            key = req.name.lower().replace("_", "-")
            assert key in pinned, f"{name}: {raw} has no pin"
            assert req.specifier.contains(pinned[key], prereleases=True), f"{name}: {key}=={pinned[key]} not in {raw}"
    assert "pyarrow" not in pinned or name != "signer"


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("name", sorted(DEPLOYABLES))
def test_pins_resolve_for_the_serverless_platform(name, tmp_path):
    reqs = [r for t in TARGETS for r in requirements(DEPLOYABLES[name], t)]
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "-q", "--disable-pip-version-check",
                           "--ignore-installed", "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                           "--python-version", "3.11", "--implementation", "cp", "--target", str(tmp_path / "t"),
                           "-c", str(CONSTRAINTS_DIR / f"{name}.txt"), *reqs],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
