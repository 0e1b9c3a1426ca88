"""Shared fixtures: one per real component (datasette style).

* `s3_server`: moto's S3 API server on 127.0.0.1 (real HTTP, real S3 protocol), session-wide.
* `s3_env`: points the standard AWS_* environment at it (the only way the code is configured).
* `s3_bucket`: a fresh bucket per test.
* `gcs_server` / `gcs_env`: the gcp-storage-emulator on 127.0.0.1.
* `tables`: small real tables written by pyarrow, deltalake, pyiceberg and pylance.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

logging.getLogger("werkzeug").setLevel(logging.ERROR)
# gcsfs probes every bucket over gRPC for zonal support unless told not to; the emulator never
# answers, which costs 60 s per bucket. Must be set before gcsfs is imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
    "AWS_EC2_METADATA_DISABLED": "true",
}


# The environment of Python subprocesses that run our code (the CLI, the signer under
# functions-framework): a warning there is an error too, as in this process (pyproject's
# filterwarnings). Subprocesses that only run other projects' code (pip in fresh venvs, the
# delta-sharing client's venv, Ray and Spark workers) keep Python's defaults.
# `ignore:::pyparsing`: pyparsing 3.3 switches on its grammar-author diagnostics whenever a
# -W/PYTHONWARNINGS option names no module (pyparsing.core._should_enable_warnings), and then warns
# while importing pyiceberg's filter grammar; an `ignore` option for the module pyparsing keeps
# them off. It ignores nothing else: its module field must equal the warning's module exactly.
CHILD_WARNINGS = {"PYTHONWARNINGS": "error,ignore:::pyparsing"}


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """A loopback test server that does not print a traceback when its client hangs up mid-answer
    (gcsfs and requests drop connections they no longer need); any other error is printed."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run a bound `socketserver` server (http.server, werkzeug) in a daemon thread; yields its
    `http://127.0.0.1:PORT` URL and shuts it down afterwards."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto in server mode on loopback; yields its endpoint URL. Stops at the end of the session."""
    from tests.s3_server import S3Server

    server = S3Server().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for k, v in AWS_TEST_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    import fsspec

    fsspec.filesystem("s3").clear_instance_cache()
    return s3_server


@pytest.fixture
def s3_bucket(s3_env: str) -> str:
    """A new, empty bucket on the moto server; yields its name."""
    import boto3

    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[str]:
    """gcp-storage-emulator on loopback (in memory). It checks no signatures or preconditions."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def gcs_env(gcs_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    return gcs_server


@pytest.fixture
def tmp_registry(tmp_path: Path) -> str:
    path = tmp_path / "registry"
    path.mkdir()
    return str(path)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_browser():
    """Debian's Chromium under Playwright: the body of each test package's `browser` fixture.

    Each package that drives a browser (tests/site, tests/joins) defines its own package-scoped
    fixture from this: Playwright's sync API cannot start a second one in the same thread while the
    first runs, and while one is open it leaves an event loop running in the main thread. A fixture
    defined here would live for the whole session (package scope means the package where the
    fixture is defined), and every later test would inherit that running loop."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("FEATURE_REGISTRY_QUIET", "1")
