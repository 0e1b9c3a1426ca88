"""`publish --verify-cave`: facts from CAVE recorded under `checks`, never blocking.

CAVE's info and materialization services are stood in for by a local HTTP server answering the
same paths and JSON shapes CAVEclient reads (info v2 datastack, materialization v3 versions
metadata, v2 tables), with Bearer-token checks like the real services.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import urlparse

import pytest

from registry.publish import publish

from tests.conftest import serving

from .conftest import base_spec

TOKEN = "cave-test-token"
VERSIONS = [
    {"version": 943, "time_stamp": "2024-01-22T08:10:01", "valid": False, "expires_on": "2024-05-01T00:00:00",
     "status": "EXPIRED", "is_merged": True, "datastack": "minnie65_phase3_v1"},
    {"version": 1078, "time_stamp": "2024-06-10T10:10:01", "valid": True, "expires_on": None,
     "status": "AVAILABLE", "is_merged": True, "datastack": "minnie65_phase3_v1"},
]
TABLES = {1078: ["synapses_pni_2", "nucleus_detection_v0"], 943: ["synapses_pni_2"]}


class CaveStandIn(BaseHTTPRequestHandler):
    calls: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.calls.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"error": "unauthorized"})
        parts = urlparse(self.path).path.strip("/").split("/")
        if parts[:4] == ["info", "api", "v2", "datastack"] and parts[4] == "full":
            if parts[5] == "minnie65_phase3_v1":
                return self._send(200, {"aligned_volume": {"name": "minnie65_phase3"}, "viewer_resolution_x": 4})
            return self._send(404, {"message": "not found"})
        if parts[:3] == ["materialize", "api", "v3"] and parts[-1] == "metadata" and len(parts) == 6:
            return self._send(200, VERSIONS)
        if parts[:3] == ["materialize", "api", "v2"] and parts[-1] == "tables":
            return self._send(200, TABLES.get(int(parts[6]), []))
        return self._send(404, {"message": "no route"})


@pytest.fixture(scope="module")
def cave_server() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), CaveStandIn)) as url:
        yield url


@pytest.fixture
def cave_env(cave_server, monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("CAVE_SERVER", cave_server)
    monkeypatch.setenv("CAVE_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.delenv("CAVE_TOKEN", raising=False)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "cave-secret.json").write_text(json.dumps({"token": TOKEN}))  # as CAVEclient stores it
    return cave_server


def facts(doc) -> dict[tuple[str, str | None], tuple[bool | None, str]]:
    return {(c.check, c.subject): (c.ok, c.detail) for c in doc.checks}


def test_verified_facts_are_recorded(cave_env, hive_table, tmp_registry):
    doc = publish(base_spec(hive_table[0]), tmp_registry, verify_cave=True).document
    f = facts(doc)
    assert f[("datastack_exists", "minnie65_phase3_v1")][0] is True
    assert f[("materialization_version_exists", "1078")][0] is True
    assert f[("materialization_version_valid", "1078")][0] is True
    assert f[("materialization_expires_on", "1078")] == (True, "no expiry set (kept indefinitely)")
    assert f[("annotation_table_exists", "synapses_pni_2")][0] is True
    assert f[("annotation_table_exists", "nucleus_detection_v0")][0] is True
    assert all(c.checked_at == doc.published_at for c in doc.checks)


def test_failed_facts_are_warnings_not_blocks(cave_env, hive_table, tmp_registry):
    spec = base_spec(hive_table[0], materialization={"version": 943})
    result = publish(spec, tmp_registry, verify_cave=True)
    assert result.written
    f = facts(result.document)
    assert f[("materialization_version_valid", "943")][0] is False
    assert "expires on 2024-05-01" in f[("materialization_expires_on", "943")][1]
    assert f[("annotation_table_exists", "nucleus_detection_v0")] == (False, "absent at version 943")
    assert any("materialization_version_valid" in w for w in result.warnings)


def test_unknown_datastack_is_recorded(cave_env, hive_table, tmp_registry):
    doc = publish(base_spec(hive_table[0], datastack="nope"), tmp_registry, verify_cave=True).document
    assert facts(doc)[("datastack_exists", "nope")][0] is False


def test_wrong_token_records_not_checked(cave_env, hive_table, tmp_registry, monkeypatch):
    monkeypatch.setenv("CAVE_TOKEN", "wrong")
    result = publish(base_spec(hive_table[0]), tmp_registry, verify_cave=True)
    f = facts(result.document)
    ok, detail = f[("datastack_exists", "minnie65_phase3_v1")]
    assert ok is None and "refused our token (401)" in detail
    assert any("not done" in w for w in result.warnings)


def test_no_network_records_not_checked_and_says_so(hive_table, tmp_registry, monkeypatch):
    monkeypatch.setenv("CAVE_SERVER", "http://127.0.0.1:9")  # nothing listens on the discard port
    result = publish(base_spec(hive_table[0]), tmp_registry, verify_cave=True)
    assert result.written
    not_checked = [c for c in result.document.checks if c.ok is None]
    assert {c.check for c in not_checked} >= {"datastack_exists", "materialization_version_exists",
                                               "annotation_table_exists"}
    assert all("not checked: cannot reach" in c.detail for c in not_checked)


def test_without_flag_nothing_is_asked(cave_env, hive_table, tmp_registry):
    CaveStandIn.calls.clear()
    doc = publish(base_spec(hive_table[0]), tmp_registry).document
    assert CaveStandIn.calls == [] and not any(c.check == "datastack_exists" for c in doc.checks)
