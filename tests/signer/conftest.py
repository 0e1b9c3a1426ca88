"""Signer fixtures: stand-ins for CAVE auth and Google APIs, a throwaway service-account key, a
registry writer, and helpers to call the signer in-process (the e2e module runs it for real under
functions-framework)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Callable, Iterator, Optional

import pytest

from registry.documents import Registry
from registry.model import DatasetDocument, FileManifest
from signer_function.config import Config
from signer_function.core import Request, Response, Signer, reset_default_signer

from .standins import CaveAuth, GoogleApis, new_service_account

logging.getLogger("werkzeug").setLevel(logging.ERROR)

SA_EMAIL = "signer@test-project.iam.gserviceaccount.com"
DATASTACK = "minnie65_phase3_v1"
CAVE_DATASET = "minnie65_public"

TOKENS = {
    "reader": "tok-reader-6d1f0c",
    "other": "tok-other-a83b11",
    "tos": "tok-tos-0b77e2",
    "admin": "tok-admin-55c0aa",
}


TEST_AWS_KEY = ("AKIDSIGNERTEST", "signer-test-secret")


@pytest.fixture(autouse=True)
def aws_signing_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 presigning is offline but needs *some* keys; tests that use the S3 server set their own."""
    import os

    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_AWS_KEY[0])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_AWS_KEY[1])


@pytest.fixture(scope="session")
def cave_server() -> Iterator[CaveAuth]:
    server = CaveAuth().start()
    server.add_user(TOKENS["reader"], 101, {CAVE_DATASET: ["view"], "flywire": ["view", "edit"]})
    server.add_user(TOKENS["other"], 102, {"flywire": ["view"]})
    server.add_user(
        TOKENS["tos"],
        103,
        {},
        missing_tos=[{"dataset_id": 1, "dataset_name": CAVE_DATASET, "tos_id": 7, "tos_name": "MICrONS public ToS"}],
    )
    server.add_user(TOKENS["admin"], 1, {}, admin=True)
    server.datastacks[DATASTACK] = CAVE_DATASET
    server.datastacks["flywire_fafb_public"] = "flywire"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cave(cave_server: CaveAuth) -> CaveAuth:
    cave_server.reset_counts()
    cave_server.failing = False
    cave_server.unavailable_next = 0
    cave_server.faults.clear()  # no scripted faults left over from another test
    return cave_server


@pytest.fixture(scope="session")
def google_sa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A throwaway service-account key whose token_uri is the local Google stand-in."""
    key, info = new_service_account(SA_EMAIL)
    apis = GoogleApis(key, SA_EMAIL).start()
    info["token_uri"] = apis.url + "/token"
    path = tmp_path_factory.mktemp("sa") / "key.json"
    path.write_text(json.dumps(info))
    try:
        yield {"key": key, "public_key": key.public_key(), "info": info, "path": str(path), "apis": apis}
    finally:
        apis.stop()


def document(
    name: str,
    version: str,
    location: str,
    fmt: str = "parquet",
    *,
    datastack: str = DATASTACK,
    files: Optional[list[dict[str, Any]]] = None,
    **fields: Any,
) -> tuple[DatasetDocument, FileManifest]:
    files = files if files is not None else [{"path": "part-0.parquet", "size": 10, "rows": 3, "partition": {}}]
    doc = {
        "name": name,
        "version": version,
        "title": f"{name} {version}",
        "datastack": datastack,
        "materialization": {"version": 1078},
        "location": location,
        "format": fmt,
        "table_version": 0,
        "inspected": {
            "columns": [{"name": "id", "type": "int64", "nullable": False}],
            "row_count": sum(f.get("rows") or 0 for f in files),
            "file_count": len(files),
            "partition_columns": sorted({k for f in files for k in f.get("partition", {})}),
            "fingerprint": "test",
            "reader_features": {"faithful_file_list": True},
        },
        "published_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "published_by": "tests",
    }
    doc.update(fields)
    return DatasetDocument.from_dict(doc), FileManifest.from_dict({"files": files})


@pytest.fixture
def put_doc(tmp_registry: str) -> Callable[..., DatasetDocument]:
    """Write a document and its manifest into the test registry (as publish would)."""
    reg = Registry(tmp_registry)

    def put(*args: Any, **kwargs: Any) -> DatasetDocument:
        doc, manifest = document(*args, **kwargs)
        reg.put_new(doc, manifest)
        return doc

    return put


@pytest.fixture
def make_signer(tmp_registry: str, cave: CaveAuth) -> Callable[..., Signer]:
    def make(**overrides: Any) -> Signer:
        settings: dict[str, Any] = dict(
            registry_uri=tmp_registry,
            auth_url=cave.auth_url,
            allowed_locations=("s3://lab-tables/features", "gs://lab-tables/features"),
            aws_region="us-east-1",
        )
        settings.update(overrides)
        return Signer(Config(**settings))

    return make


def call(
    signer: Signer,
    body: Any = None,
    *,
    token: Optional[str] = TOKENS["reader"],
    via: str = "header",
    method: str = "POST",
    path: str = "/sign",
    headers: Optional[dict[str, str]] = None,
    raw: Optional[bytes] = None,
) -> Response:
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    cookies: dict[str, str] = {}
    query: dict[str, str] = {}
    if token is not None:
        if via == "header":
            hdrs["authorization"] = f"Bearer {token}"
        elif via == "cookie":
            cookies["middle_auth_token"] = token
        else:
            query["middle_auth_token"] = token
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return signer.handle(Request(method=method, path=path, headers=hdrs, cookies=cookies, query=query, body=data))


@pytest.fixture
def audit_lines(capsys: pytest.CaptureFixture) -> Callable[[], list[dict[str, Any]]]:
    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    return read


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, tmp_registry: str, cave: CaveAuth, put_doc: Callable[..., DatasetDocument]) -> Iterator[None]:
    """The Lambda's environment (as deployed) and one published version, `syn@1`."""
    monkeypatch.setenv("REGISTRY_URI", tmp_registry)
    monkeypatch.setenv("AUTH_URL", cave.auth_url)
    monkeypatch.setenv("ALLOWED_LOCATIONS", "s3://lab-tables/features")
    monkeypatch.setenv("CORS_ORIGINS", "https://catalog.example.org")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDA")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lambda-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    put_doc("syn", "1", "s3://lab-tables/features/syn",
            files=[{"path": "region=a/p.parquet", "size": 5, "rows": 2, "partition": {"region": "a"}}])
    reset_default_signer()
    yield
    reset_default_signer()
