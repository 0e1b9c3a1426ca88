"""Rebuild on change: real CloudEvent and S3 event shapes, debouncing, and a failed build that
leaves the deployed site as it was."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import boto3
import pytest

from site_builder.events import (
    RebuildConfig,
    handle_keys,
    object_keys_from_cloudevent,
    object_keys_from_s3_event,
    relevant,
)
from site_builder.synthetic import base_document, write_document, write_raw

pytestmark = pytest.mark.s3


def gcs_cloudevent(bucket: str, name: str, etype: str = "google.cloud.storage.object.v1.finalized"):
    """A CloudEvent exactly as Eventarc delivers a GCS finalize (attributes + StorageObjectData)."""
    from cloudevents.http import CloudEvent

    return CloudEvent(
        {"specversion": "1.0", "type": etype, "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
         "subject": f"objects/{name}", "id": "1234567890", "time": "2026-11-02T10:00:00.000Z",
         "datacontenttype": "application/json"},
        {"kind": "storage#object", "id": f"{bucket}/{name}/1730000000000000", "name": name, "bucket": bucket,
         "generation": "1730000000000000", "metageneration": "1", "contentType": "application/json",
         "timeCreated": "2026-11-02T10:00:00.000Z", "updated": "2026-11-02T10:00:00.000Z",
         "storageClass": "STANDARD", "size": "2048", "md5Hash": "1B2M2Y8AsgTpgAmY7PhCfg==", "crc32c": "AAAAAA=="},
    )


def s3_event(bucket: str, *keys: str, name: str = "ObjectCreated:Put") -> dict:
    """An S3 event notification (version 2.1) as Lambda receives it; keys URL-encoded."""
    from urllib.parse import quote_plus

    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T10:00:00.000Z", "eventName": name,
        "userIdentity": {"principalId": "AWS:EXAMPLE"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE", "x-amz-id-2": "EXAMPLE"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "site-rebuild",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(k, safe="/@"), "size": 2048, "eTag": "0123456789abcdef",
                          "sequencer": "0A1B2C3D4E5F678901"}},
    } for k in keys]}


def test_event_shapes_and_filter():
    ev = gcs_cloudevent("lab-registry", "datasets/syn/v1.json")
    assert object_keys_from_cloudevent(ev) == [("lab-registry", "datasets/syn/v1.json")]
    assert object_keys_from_cloudevent(gcs_cloudevent("b", "x", "google.cloud.storage.object.v1.deleted")) == []
    keys = object_keys_from_s3_event(s3_event("lab", "reg/datasets/my set/v 1.json", "reg/datasets/a/v1.files.json"))
    assert keys == [("lab", "reg/datasets/my set/v 1.json"), ("lab", "reg/datasets/a/v1.files.json")]
    assert object_keys_from_s3_event(s3_event("lab", "reg/datasets/a/v1.json", name="ObjectRemoved:Delete")) == []
    # only documents under the registry's datasets/ count: not manifests, not _ops/, not other buckets
    assert relevant(keys, "s3://lab/reg") == ["reg/datasets/my set/v 1.json"]
    assert relevant([("lab", "reg/_ops/rebuild-request.json"), ("other", "reg/datasets/a/v1.json")], "s3://lab/reg") == []
    assert relevant([("", "datasets/a/v1.json")], "/local/registry") == ["datasets/a/v1.json"]


def test_burst_of_events_causes_one_build(s3_bucket, s3_env):
    """Eight concurrent invocations (one per published document) share state only through the
    registry bucket on the S3 server: exactly one of them builds."""
    cfg = RebuildConfig(registry=f"s3://{s3_bucket}/reg", target="unused", debounce=0.6)
    builds: list[int] = []
    outcomes = []
    lock = threading.Lock()

    def build(c):
        with lock:
            builds.append(1)
        return "built"

    def invoke(i):
        out = handle_keys([(s3_bucket, f"reg/datasets/t{i}/v1.json")], cfg, build=build)
        with lock:
            outcomes.append(out.action)

    threads = [threading.Thread(target=invoke, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1, outcomes
    assert sorted(outcomes).count("rebuilt") == 1
    assert set(outcomes) <= {"rebuilt", "debounced", "deferred"}
    # the lock is released, the status recorded
    fs_objects = {o["Key"] for o in boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
                  .list_objects_v2(Bucket=s3_bucket).get("Contents", [])}
    assert "reg/_ops/rebuild.lock" not in fs_objects and "reg/_ops/last-rebuild.json" in fs_objects


def test_publish_during_build_triggers_a_second_round(tmp_registry):
    cfg = RebuildConfig(registry=tmp_registry, target="unused", debounce=0.0)
    rounds = []

    def build(c):
        rounds.append(1)
        if len(rounds) == 1:  # a publish lands while this build runs; its invocation defers to us
            inner = handle_keys([("", "datasets/late/v1.json")], cfg, build=build)
            assert inner.action == "deferred"
        return "ok"

    out = handle_keys([("", "datasets/first/v1.json")], cfg, build=build)
    assert out.action == "rebuilt" and out.builds == 2


def test_irrelevant_events_do_nothing(tmp_registry):
    cfg = RebuildConfig(registry=tmp_registry, target="unused", debounce=0.0)
    out = handle_keys([("", "datasets/a/v1.files.json"), ("", "elsewhere/x.json")], cfg,
                      build=lambda c: pytest.fail("must not build"))
    assert out.action == "ignored"
    assert not (Path(tmp_registry) / "_ops").exists()


def _objects(client, bucket: str) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_lambda_and_cloud_function_rebuild_deploy_and_failed_build(tmp_path, s3_bucket, s3_env, monkeypatch):
    """End to end with the real builder: an S3 event -> build -> deploy to the S3 server; then a
    CloudEvent through functions-framework's own app whose strict build fails: the deployed site
    stays exactly as it was and the reason is recorded."""
    # functions_framework writes FUNCTION_TARGET / FUNCTION_SIGNATURE_TYPE into os.environ when a
    # function registers; setting them here first makes monkeypatch restore them afterwards, so they
    # never leak into later tests' subprocesses (a signer served as a CloudEvent function).
    monkeypatch.setenv("FUNCTION_TARGET", "on_storage_event")
    monkeypatch.setenv("FUNCTION_SIGNATURE_TYPE", "cloudevent")
    import functions_framework
    from site_builder import rebuild_function

    client = boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
    registry = tmp_path / "registry"
    write_document(str(registry), base_document("syn", "v1", title="Synapses"))
    monkeypatch.setenv("FEATURE_REGISTRY_URI", str(registry))
    monkeypatch.setenv("SITE_TARGET", f"s3://{s3_bucket}/site")
    monkeypatch.setenv("REBUILD_DEBOUNCE_SECONDS", "0")
    monkeypatch.setenv("SITE_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("SITE_STRICT", "true")

    result = rebuild_function.handler(s3_event("ignored-bucket-name", "datasets/syn/v1.json"), None)
    assert result["action"] == "rebuilt", result
    deployed = _objects(client, s3_bucket)
    assert "site/index.json" in deployed and "site/datasets/syn/v1.html" in deployed
    index = json.loads(client.get_object(Bucket=s3_bucket, Key="site/index.json")["Body"].read())
    assert [v["ref"] for v in index["versions"]] == ["syn@v1"]

    # a second document and a broken one: strict build fails -> nothing deployed
    write_document(str(registry), base_document("syn", "v2", title="Synapses 2"))
    write_raw(str(registry), "broken", "v1", b"{not json")
    app = functions_framework.create_app("on_storage_event", rebuild_function.__file__, "cloudevent")
    ev = gcs_cloudevent("lab-registry", "datasets/syn/v2.json")
    from cloudevents.conversion import to_structured

    headers, body = to_structured(ev)
    resp = app.test_client().post("/", headers=headers, data=body)
    assert resp.status_code == 200
    assert _objects(client, s3_bucket) == deployed  # the live site is untouched
    status = json.loads((registry / "_ops" / "last-rebuild.json").read_text())
    assert status["ok"] is False and "broken" in status["reason"]
