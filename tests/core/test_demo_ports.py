"""`make demo` with a busy port: one line naming the port and the setting to change, exit 2, before
any work, and nothing left running."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("which, setting", [("--port", "PORT"), ("--signer-port", "SIGNER_PORT")])
def test_busy_port_is_one_line_and_starts_nothing(tmp_path, which, setting):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = held.getsockname()[1]
        ports = {"--port": str(free_port()), "--signer-port": str(free_port()), which: str(busy)}
        work = tmp_path / "demo"
        proc = subprocess.run([sys.executable, "-m", "feature_registry.demo", "--dir", str(work), *[x for kv in ports.items() for x in kv]],
                              cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                              timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(busy) in lines[0] and f"{setting}=" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "starting" not in proc.stdout
    assert not (work / "signer" / "serve.pid").exists() and not (work / "registry").exists()
