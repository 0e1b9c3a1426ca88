"""`make demo`'s signer step: starts in the background, signs the example table, stops on request."""

from __future__ import annotations

import os
import time

import pytest
import requests

from signer_function import demo
from tests.conftest import free_port

from .test_e2e import duckdb_connection, duckdb_query

pytestmark = pytest.mark.s3


def test_demo_start_sign_read_stop(tmp_path):
    work = tmp_path / "signer"
    info = demo.start(work, free_port(), ttl=120)
    pid = int((work / "serve.pid").read_text())
    try:
        hdr = {"Authorization": f"Bearer {demo.DEMO_TOKEN}"}
        ans = requests.post(info["signer"] + "/sign", json={"dataset": "synapse_demo"}, headers=hdr, timeout=30).json()
        assert ans["mode"] == "urls" and len(ans["files"]) == 3
        con = duckdb_connection()
        counts = dict(con.execute(f"SELECT split, count(*) FROM ({duckdb_query(ans['files'])}) GROUP BY split").fetchall())
        assert counts == {"train": 1000, "val": 1000, "test": 1000}
        assert requests.post(info["signer"] + "/sign", json={"dataset": "synapse_demo"},
                             headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
        assert "LOAD '" in demo.snippet(info["signer"])
    finally:
        assert demo.stop_running(work)
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
