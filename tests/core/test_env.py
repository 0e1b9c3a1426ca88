"""registry.env: one reading of on/off flags and of the standard AWS settings, for every reader
(fsspec storage options, the Rust object stores, pyiceberg, the signer's configuration)."""

from __future__ import annotations

import pytest

from registry import storage
from registry.env import aws_allow_http, aws_endpoint, aws_region, flag, truthy


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), (" Yes ", True), ("ON", True),
                                             ("0", False), ("false", False), ("", False), (None, False), ("2", False)])
def test_truthy(value, expected):
    assert truthy(value) is expected


def test_every_reader_takes_the_s3_specific_endpoint_and_the_default_region(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ALLOW_HTTP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://generic.example")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert aws_endpoint() == "http://127.0.0.1:9" and aws_region() == "eu-west-3" and aws_allow_http()
    assert storage.s3_client_kwargs() == {"endpoint_url": "http://127.0.0.1:9",
                                          "client_kwargs": {"region_name": "eu-west-3"}}
    opts = storage.object_store_options("s3://b/t")
    assert (opts["aws_endpoint"], opts["aws_region"], opts["allow_http"]) == ("http://127.0.0.1:9", "eu-west-3", "true")
    props = storage.pyiceberg_properties("s3://b/t")
    assert (props["s3.endpoint"], props["s3.region"]) == ("http://127.0.0.1:9", "eu-west-3")
    from signer_function.config import Config

    cfg = Config.from_env(dict(__import__("os").environ))
    assert (cfg.aws_endpoint_url, cfg.aws_region) == ("http://127.0.0.1:9", "eu-west-3")


def test_region_default_and_flags(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert aws_region() == "us-east-1" and aws_region(default=None) is None
    assert "client_kwargs" not in storage.s3_client_kwargs()  # the SDK's own default chain decides
    assert flag("X_FLAG", {"X_FLAG": "on"}) and not flag("X_FLAG", {})
