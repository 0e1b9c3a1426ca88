"""The example registry (examples/specs, tables from examples/make_tables.py) as the joins tests
see it: written locally and published for the model, CLI and site tests; on the moto S3 server
behind the real signer for the client's signed joins."""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from tests.conftest import AWS_TEST_ENV, chromium_browser, serving
from tests.signer.conftest import DATASTACK, TOKENS, cave_server  # noqa: F401  (fixture re-used)

REPO = Path(__file__).resolve().parents[2]


def world():
    """The example world of examples/make_tables.py (cells, root ids at 1078 and 1412, get_roots)."""
    sys.path.insert(0, str(REPO / "examples"))
    try:
        import make_tables  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return make_tables.World()


@pytest.fixture(scope="session")
def example_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example registry, tables written locally by their own libraries and published."""
    from feature_registry.demo import publish_examples, write_example_tables

    root = tmp_path_factory.mktemp("joins-examples")
    tables = str(root / "tables")
    write_example_tables(tables)
    registry = str(root / "registry")
    os.makedirs(registry)
    publish_examples(registry, tables_prefix=tables)
    return registry


@pytest.fixture(scope="session")
def example_site(example_registry: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The catalog site built from the example registry, served on 127.0.0.1."""
    from site_builder.build import build_site
    from site_builder.cli import make_server

    out = tmp_path_factory.mktemp("joins-site") / "site"
    build_site(example_registry, str(out), site_url="https://catalog.lab.example/",
               signer_url="https://signer.lab.example", progress=False)
    os.environ["SITE_SERVE_QUIET"] = "1"
    with serving(make_server(str(out), "127.0.0.1", 0)) as url:
        yield SimpleNamespace(dir=out, url=url, registry=example_registry)


@pytest.fixture(scope="session")
def s3_process() -> Iterator[str]:
    """moto's S3 server (tests/s3_server.py) in its own process: DuckDB binds some relation methods
    while holding Python's lock, which stalls an S3 server running in a thread of this process
    (HTTP HEAD timeouts seen); a bucket in another process is what users have anyway."""
    import subprocess
    import time

    import requests

    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.s3_server", "--port", str(port)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the S3 server process did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def signed_examples(s3_process: str, cave_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:  # noqa: F811
    """The example tables on the moto S3 server, an S3 registry, the real signer under
    functions-framework and the site built from that registry and served (all on loopback)."""
    from tests.signer.process import start_signer, stop, wait_ready

    s3_server = s3_process
    tmp = tmp_path_factory.mktemp("joins-stack")
    env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": s3_server}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    import boto3
    import fsspec

    fsspec.filesystem("s3").clear_instance_cache()
    bucket = f"joins-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    from feature_registry.demo import publish_examples, write_example_tables

    tables = f"s3://{bucket}/examples"
    write_example_tables(tables)
    registry = f"s3://{bucket}/registry"
    publish_examples(registry, tables_prefix=tables)
    log_path = tmp / "signer.log"
    signer_url, proc = start_signer({**env, "REGISTRY_URI": registry, "AUTH_URL": cave_server.auth_url,
                                     "ALLOWED_LOCATIONS": tables}, log_path)
    server = None
    try:
        from site_builder.build import build_site
        from site_builder.cli import make_server

        os.environ["SITE_SERVE_QUIET"] = "1"
        server = make_server(str(tmp / "site"), "127.0.0.1", 0)
        site_url = f"http://127.0.0.1:{server.server_address[1]}/"
        build_site(registry, str(tmp / "site"), site_url=site_url, signer_url=signer_url, progress=False)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        wait_ready(signer_url, proc, log_path)
        yield SimpleNamespace(site_url=site_url, signer_url=signer_url, registry=registry, token=TOKENS["reader"])
        server.shutdown()
    finally:
        if server is not None:
            server.server_close()
        stop(proc)
        mp.undo()


@pytest.fixture(scope="package")
def browser():
    """One Chromium for this package's browser tests (tests/conftest.py says why per package)."""
    yield from chromium_browser()
