"""The registry on the GCS emulator (gcp-storage-emulator on loopback).

The emulator stores objects but ignores preconditions (FIELD-NOTES), so the conditional writes are
proven against a thin precondition-enforcing proxy in front of it: it applies `ifGenerationMatch`
exactly as GCS documents it (412 when the generation differs, 0 meaning "must not exist") and
forwards everything else untouched. What is under test is that our client sends the precondition
and turns GCS's 412 into a refusal.
"""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests

from registry.documents import Registry
from registry.errors import AlreadyPublished, PreconditionFailed
from registry.model import Status
from registry.publish import deprecate, publish
from registry.storage import AlreadyExists, Store

from tests.conftest import QuietThreadingHTTPServer, serving

from .conftest import base_spec

pytestmark = pytest.mark.gcs


class PreconditionProxy(BaseHTTPRequestHandler):
    upstream = ""
    lock = threading.Lock()

    def log_message(self, *args) -> None:  # quiet
        pass

    def _forward(self, body: bytes | None) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        resp = requests.request(self.command, self.upstream + self.path, data=body, headers=headers, timeout=30)
        self.send_response(resp.status_code)
        for k, v in resp.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.content)))
        self.end_headers()
        self.wfile.write(resp.content)

    def _current_generation(self, bucket: str, name: str) -> str:
        resp = requests.get(f"{self.upstream}/storage/v1/b/{bucket}/o/{requests.utils.quote(name, safe='')}", timeout=30)
        return "0" if resp.status_code == 404 else str(resp.json().get("generation", "0"))

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        url = urlparse(self.path)
        query = parse_qs(url.query)
        wanted = query.get("ifGenerationMatch", [None])[0]
        if self.command == "POST" and wanted is not None and "/upload/storage/v1/b/" in url.path:
            bucket = unquote(url.path.split("/b/")[1].split("/")[0])
            name = query.get("name", [""])[0]
            if not name and body:  # multipart upload: the name is in the JSON metadata part
                import re

                found = re.search(rb'"name": "([^"]+)"', body)
                name = found.group(1).decode() if found else ""
            with self.lock:  # check and write as one step, as GCS does
                if self._current_generation(bucket, name) != wanted:
                    payload = b'{"error": {"code": 412, "message": "conditionNotMet"}}'
                    self.send_response(412)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self._forward(body)
                return
        self._forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


@pytest.fixture(scope="module")
def gcs_with_preconditions(gcs_server: str) -> Iterator[str]:
    handler = type("Proxy", (PreconditionProxy,), {"upstream": gcs_server})
    with serving(QuietThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url


@pytest.fixture
def gcs_bucket(gcs_with_preconditions: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_with_preconditions)
    import gcsfs

    gcsfs.GCSFileSystem.clear_instance_cache()
    name = f"b{uuid.uuid4().hex[:10]}"
    requests.post(f"{gcs_with_preconditions}/storage/v1/b", params={"project": "test"}, json={"name": name}, timeout=10).raise_for_status()
    return name


def test_create_is_conditional_on_gcs(gcs_bucket):
    store = Store(f"gs://{gcs_bucket}/reg")
    store.create("a.json", b"1")
    with pytest.raises(AlreadyExists):
        store.create("a.json", b"2")
    assert store.read_bytes("a.json") == b"1"


def test_replace_checks_the_generation_on_gcs(gcs_bucket):
    store = Store(f"gs://{gcs_bucket}/reg")
    store.create("a.json", b"1")
    seen = store.read_versioned("a.json")
    store.replace("a.json", b"2", seen.token)
    with pytest.raises(PreconditionFailed):
        store.replace("a.json", b"3", seen.token)
    assert store.read_bytes("a.json") == b"2"


def test_publish_and_deprecate_with_registry_on_gcs(gcs_bucket, hive_table):
    registry = f"gs://{gcs_bucket}/registry"
    publish(base_spec(hive_table[0]), registry)
    publish(base_spec(hive_table[0], version="2"), registry)
    with pytest.raises(AlreadyPublished):
        publish(base_spec(hive_table[0]), registry)
    deprecate(registry, "synapse_features@1", reason="old", superseded_by="synapse_features@2")
    reg = Registry(registry)
    assert reg.get("synapse_features", "1").status == Status.DEPRECATED
    assert reg.get("synapse_features").version == "2"


def test_concurrent_publishers_on_gcs_exactly_one_wins(gcs_bucket, hive_table):
    registry = f"gs://{gcs_bucket}/registry"
    outcomes: list[str] = []
    barrier = threading.Barrier(5)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            publish(base_spec(hive_table[0], title=f"p{i}"), registry)
            outcomes.append("won")
        except AlreadyPublished:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 4 + ["won"]


def test_listing_stamps_change_with_the_bytes_on_gcs(gcs_bucket):
    """A rebuild trusts the listing's stamp (the object generation) to skip unchanged documents:
    it must be there, stay put while the object does, and change on a rewrite of the same size."""
    store = Store(f"gs://{gcs_bucket}/reg")
    store.write("datasets/a/v1.json", b'{"x": 1}')
    store.write("datasets/a/v2.json", b'{"x": 2}')
    first = store.list_stamps("datasets", ".json")
    assert sorted(first) == ["datasets/a/v1.json", "datasets/a/v2.json"]
    assert all(stamp for _size, stamp in first.values()) and first["datasets/a/v1.json"][0] == 8
    assert store.list_stamps("datasets", ".json") == first
    store.write("datasets/a/v1.json", b'{"x": 3}')
    second = store.list_stamps("datasets", ".json")
    assert second["datasets/a/v1.json"][1] != first["datasets/a/v1.json"][1]
    assert second["datasets/a/v2.json"] == first["datasets/a/v2.json"]
