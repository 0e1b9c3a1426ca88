"""The client's stack, once per session, all on 127.0.0.1: tables written by their own libraries to
the moto S3 server and published into an S3 registry (helpers from tests/signer), the catalog site
built from that registry and served over HTTP, the signer under functions-framework, and the
middle_auth stand-in (`cave_server` from tests/signer/conftest.py)."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from tests.conftest import AWS_TEST_ENV
from tests.signer.conftest import DATASTACK, TOKENS, cave_server  # noqa: F401  (fixture re-used)
from tests.signer.process import start_signer, stop, wait_ready
from tests.signer.tables import publish_all, write_tables

from .deletes import publish_delete_tables, write_delete_tables

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def client_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own on-disk cache and no token from the real home directory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FEATURE_REGISTRY_CACHE", str(cache))
    monkeypatch.setenv("CAVE_SECRETS_DIR", str(tmp_path / "no-secrets"))
    monkeypatch.delenv("CAVE_TOKEN", raising=False)
    monkeypatch.delenv("FEATURE_REGISTRY_SIGNER_URL", raising=False)
    return cache


def _joined_spec(bucket: str) -> dict:
    """A dataset whose references exercise joins(): an annotation table and a registered dataset on root ids."""
    return {
        "name": "syn_scores",
        "version": "1",
        "title": "synapse scores joined to cells",
        "description": "Scores per synapse; joins the hive table on root ids.",
        "datastack": DATASTACK,
        "materialization": {"version": 1078},
        "location": f"s3://{bucket}/tables/plain.parquet",
        "format": "parquet",
        "columns": [
            {"name": "id", "semantic": "annotation_id", "description": "synapse id"},
            {"name": "pt_root_id", "semantic": "root_id", "description": "postsynaptic cell"},
            {"name": "score", "semantic": "feature", "description": "synapse score"},
        ],
        "references": [
            {"column": "id", "annotation_table": "synapses_pni_2", "target_column": "id", "cardinality": "one_to_one"},
            {"column": "pt_root_id", "dataset": "syn_hive@1", "target_column": "pt_root_id",
             "cardinality": "many_to_one", "stability": "changes_with_proofreading"},
        ],
        "tags": ["synapses"],
        "owners": [{"name": "Ada Lovelace"}],
    }


@pytest.fixture(scope="session")
def stack(s3_server: str, cave_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:  # noqa: F811
    tmp = tmp_path_factory.mktemp("client-stack")
    env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": s3_server}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    import boto3
    import fsspec

    fsspec.filesystem("s3").clear_instance_cache()
    bucket = f"client-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    specs = write_tables(bucket, str(tmp))
    registry_uri = f"s3://{bucket}/registry"
    publish_all(specs, registry_uri, DATASTACK)
    from registry.publish import publish

    publish(_joined_spec(bucket), registry_uri)
    deletes = write_delete_tables(bucket, str(tmp))  # Delta deletion vector, Iceberg delete file
    publish_delete_tables(deletes, registry_uri, DATASTACK)

    # the signer, for real, under functions-framework
    log_path = tmp / "signer.log"
    signer_url, proc = start_signer({**env, "REGISTRY_URI": registry_uri, "AUTH_URL": cave_server.auth_url,
                                     "ALLOWED_LOCATIONS": f"s3://{bucket}/tables"}, log_path)
    server = serving = None
    try:
        # the site, built from the S3 registry while the signer starts, then served on loopback
        from site_builder.build import build_site
        from site_builder.cli import make_server

        site_dir = tmp / "site"
        os.environ["SITE_SERVE_QUIET"] = "1"
        server = make_server(str(site_dir), "127.0.0.1", 0)  # bound first: the pages name its URL
        site_url = f"http://127.0.0.1:{server.server_address[1]}/"
        build_site(registry_uri, str(site_dir), site_url=site_url, signer_url=signer_url, progress=False)
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        wait_ready(signer_url, proc, log_path)
        yield SimpleNamespace(site_url=site_url, site_dir=site_dir, signer_url=signer_url, registry=registry_uri,
                              bucket=bucket, specs=specs, deletes=deletes, token=TOKENS["reader"], tokens=TOKENS, log=log_path,
                              s3=s3_server)
    finally:
        if serving is not None:  # shutdown() waits for serve_forever, so only when it runs
            server.shutdown()
        if server is not None:
            server.server_close()
        stop(proc)
        mp.undo()
