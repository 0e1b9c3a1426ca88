"""The signer as a real process: functions-framework on a free loopback port.

Shared by the signer's end-to-end tests and the client's stack, so both start, wait for and stop it
the same way (`--signature-type=http` explicitly: an in-process CloudEvent registration elsewhere
in the session must not change what the subprocess serves).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import CHILD_WARNINGS, free_port

REPO = Path(__file__).resolve().parents[2]


def start_signer(env: dict[str, str], log_path: Path) -> tuple[str, subprocess.Popen]:
    """Start the signer with `os.environ` + `env`; returns its URL and process (not yet ready)."""
    port = free_port()
    exe = Path(sys.executable).with_name("functions-framework")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(exe), "--target=sign", "--signature-type=http", "--source=signer_function/main.py",
             "--host=127.0.0.1", f"--port={port}"],
            cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **CHILD_WARNINGS, **env}, stdout=log, stderr=subprocess.STDOUT,
        )
    return f"http://127.0.0.1:{port}", proc


def wait_ready(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    """Until GET /health answers 200; fails the test with the signer's log otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("functions-framework did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
