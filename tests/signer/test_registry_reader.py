"""The signer's light registry reads (`registry_reader.py`) against real stores: a local path, the
moto S3 server and the GCS emulator; bounded reads, one-level listings, and no fsspec at cold start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from registry.documents import Registry
from signer_function.registry_reader import GcsReader, LocalReader, S3Reader, StoreReader, reader_for

from .conftest import call, document

REPO = Path(__file__).resolve().parents[2]


def fill(uri: str) -> None:
    reg = Registry(uri)
    doc, manifest = document("syn", "1", "s3://lab-tables/features/syn")
    reg.put_new(doc, manifest)
    reg.store.fs.mkdirs(reg.store.path("datasets/syn/deeper"), exist_ok=True)
    reg.store.write("datasets/syn/deeper/9.json", b"{}")  # not a version of syn: never listed
    reg.store.write("datasets/syn/big.json", b"x" * 5000)


def check(reader) -> None:
    assert reader.list("datasets/syn/", ".json") == ["datasets/syn/1.files.json", "datasets/syn/1.json", "datasets/syn/big.json"]
    assert reader.list("datasets/none/", ".json") == []
    assert json.loads(reader.read("datasets/syn/1.json", 1 << 20))["name"] == "syn"
    assert reader.read("datasets/syn/2.json", 1 << 20) is None
    assert reader.read("datasets/syn/big.json", 100) == b"x" * 101  # bounded: limit + 1 bytes


def test_local_reader(tmp_registry):
    fill(tmp_registry)
    for uri in (tmp_registry, f"file://{tmp_registry}"):
        reader = reader_for(uri)
        assert isinstance(reader, LocalReader)
        check(reader)


def test_other_fsspec_urls_fall_back_to_the_store():
    import uuid

    uri = f"memory://signer-{uuid.uuid4().hex}"
    fill(uri)
    reader = reader_for(uri)
    assert isinstance(reader, StoreReader)
    check(reader)


@pytest.mark.s3
def test_s3_reader(s3_env, s3_bucket):
    uri = f"s3://{s3_bucket}/registry"
    fill(uri)
    reader = reader_for(uri)
    assert isinstance(reader, S3Reader)
    check(reader)


@pytest.mark.gcs
def test_gcs_reader(gcs_env):
    from google.cloud import storage

    import uuid

    bucket = f"signer-registry-{uuid.uuid4().hex[:10]}"
    storage.Client.create_anonymous_client().create_bucket(bucket)
    uri = f"gs://{bucket}/reg"
    fill(uri)
    reader = reader_for(uri)
    assert isinstance(reader, GcsReader)
    check(reader)


@pytest.mark.s3
def test_cold_lookup_on_s3_imports_no_fsspec(s3_env, s3_bucket, cave):
    """The signer's first request on an S3 registry reads it with boto3 (loaded anyway to sign),
    not fsspec/s3fs; documents are read without pydantic, CAVE is asked without requests; the
    Delta Sharing listing (every document) reads the same way."""
    uri = f"s3://{s3_bucket}/registry"
    fill(uri)
    code = f"""
import json, sys
from signer_function.config import Config
from signer_function.core import Signer, Request
s = Signer(Config(registry_uri={uri!r}, auth_url={cave.auth_url!r}, allowed_locations=("s3://lab-tables/features",)))
r = s.handle(Request("POST", "/sign", {{"authorization": "Bearer tok-reader-6d1f0c"}}, body=b'{{"dataset": "syn"}}'))
t = s.handle(Request("GET", "/delta-sharing/shares/minnie65_phase3_v1/schemas/syn/tables", {{"authorization": "Bearer tok-reader-6d1f0c"}}))
heavy = ("fsspec", "s3fs", "aiobotocore", "pydantic", "requests")
print(json.dumps({{"status": r.status, "tables": [x["name"] for x in json.loads(t.body_bytes())["items"]],
                  "mods": [m for m in heavy if m in sys.modules]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "tables": ["latest", "1"], "mods": []}, out.stderr[-2000:]


def test_a_directory_in_place_of_a_document_is_not_found(make_signer, tmp_path):
    registry = tmp_path / "locked"
    (registry / "datasets" / "syn").mkdir(parents=True)
    (registry / "datasets" / "syn" / "1.json").mkdir()  # a directory where a document should be
    resp = call(make_signer(registry_uri=str(registry)), {"dataset": "syn", "version": "1"})
    assert resp.status == 404 and str(registry) not in json.dumps(resp.body)


@pytest.mark.s3
@pytest.mark.parametrize("preload", ["", "1"])
def test_preload_moves_the_sdk_into_the_cold_start(s3_env, s3_bucket, cave, preload):
    """SIGNER_PRELOAD=1 (Lambda SnapStart / provisioned concurrency): importing the handler imports
    botocore and builds the S3 client; without it, the handler's import stays SDK-free."""
    uri = f"s3://{s3_bucket}/registry"
    fill(uri)
    code = """
import json, sys
import signer_function.aws_lambda as entry
from signer_function.core import default_signer
print(json.dumps({"botocore": "botocore" in sys.modules, "client": default_signer()._s3 is not None}))
"""
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO), "REGISTRY_URI": uri, "AUTH_URL": cave.auth_url,
           "ALLOWED_LOCATIONS": "s3://lab-tables/features", "SIGNER_PRELOAD": preload}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"botocore": bool(preload), "client": bool(preload)}, out.stderr[-2000:]
