"""Without s3fs / gcsfs (the signer's deployables), a registry on S3 or GCS is read through the
cloud SDK (registry/readonly_stores.py): the same documents, manifests and `latest` as through
fsspec's own filesystems, and writes refused. Each read runs in a fresh interpreter with s3fs and
gcsfs blocked; the registry is written beforehand the ordinary way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

READ = textwrap.dedent("""
    import json, sys
    sys.modules["s3fs"] = None
    sys.modules["gcsfs"] = None
    from registry.documents import Registry
    from registry.storage import filesystem
    reg = Registry(sys.argv[1])
    doc = reg.get("syn", "latest")
    files = reg.manifest(doc.name, doc.version).files
    fs, _ = filesystem(sys.argv[1])
    try:
        reg.store.write("x.json", b"{}")
        refused = False
    except (PermissionError, NotImplementedError):
        refused = True
    print(json.dumps({"fs": type(fs).__name__, "version": doc.version, "files": [f.path for f in files],
                      "versions": sorted(d.version for d in reg.versions("syn")), "refused": refused,
                      "missing": reg.exists("nope", "1")}))
""")


def _write_registry(uri: str) -> None:
    from registry.documents import Registry
    from tests.signer.conftest import document

    reg = Registry(uri)
    for v in ("1", "2"):
        doc, manifest = document("syn", v, "s3://lab-tables/syn",
                                 files=[{"path": f"region=a/p{v}.parquet", "size": 5, "rows": 2,
                                         "partition": {"region": "a"}}])
        reg.put_new(doc, manifest)


def _read(uri: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", READ, uri], env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check(got: dict, fs_name: str) -> None:
    assert got["fs"] == fs_name
    assert got["version"] == "2" and got["versions"] == ["1", "2"]
    assert got["files"] == ["region=a/p2.parquet"]
    assert got["refused"] is True and got["missing"] is False


@pytest.mark.s3
def test_s3_registry_read_with_boto3(s3_bucket):
    uri = f"s3://{s3_bucket}/registry"
    _write_registry(uri)
    _check(_read(uri), "Boto3ReadOnlyFileSystem")


@pytest.mark.gcs
def test_gcs_registry_read_with_google_cloud_storage(gcs_env):
    import uuid

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    bucket = f"reg-{uuid.uuid4().hex[:8]}"
    storage.Client(project="test", credentials=AnonymousCredentials(),
                   client_options={"api_endpoint": gcs_env}).create_bucket(bucket)
    uri = f"gs://{bucket}/registry"
    _write_registry(uri)
    _check(_read(uri), "GcsReadOnlyFileSystem")
