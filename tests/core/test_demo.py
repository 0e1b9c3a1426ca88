"""`make demo` end to end (without the blocking serve): local S3 server + signer, example tables,
publish, list, site build; then the client snippet it prints runs against the served site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import CHILD_WARNINGS, free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.s3


def test_demo_publishes_builds_and_its_client_snippet_reads(tmp_path):
    site_port, signer_port = free_port(), free_port()
    work = tmp_path / "demo"
    env = {**os.environ, **CHILD_WARNINGS,
           "SITE_VENDOR_DIR": os.environ.get("SITE_VENDOR_DIR", str(REPO / ".cache" / "site-vendor"))}
    done = subprocess.run(
        [sys.executable, "-m", "feature_registry.demo", "--dir", str(work), "--no-serve", "--port", str(site_port),
         "--signer-port", str(signer_port), "--ttl", "300"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    try:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        out = done.stdout
        for ref in ("cell_types@1", "cell_types@2", "morphology_features@1", "cell_embeddings@1", "synapse_embeddings@1"):
            assert f"published {ref}" in out
        assert "deprecated cell_types@1 (superseded by cell_types@2)" in out
        assert (work / "site" / "index.json").exists()
        # a second terminal: the printed exports (also in DIR/env) reach the demo's S3 server and registry
        exports = (work / "env").read_text()
        assert exports.strip() in out and "AWS_ENDPOINT_URL=http://127.0.0.1:" in exports
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FEATURE_REGISTRY"))}
        second = subprocess.run(["bash", "-c", f"source {work / 'env'} && {sys.executable} -m registry.cli list --json "
                                 "&& aws_url=$AWS_ENDPOINT_URL " + sys.executable + " -c \"import fsspec; "
                                 "print(len(fsspec.filesystem('s3', endpoint_url=__import__('os').environ['aws_url'])"
                                 ".ls('demo-tables/examples')))\""],
                                cwd=REPO, env=clean, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr[-2000:]
        assert '"cell_types@2"' in second.stdout.replace(" ", "") or "cell_types" in second.stdout

        from site_builder.cli import make_server

        server = make_server(str(work / "site"), "127.0.0.1", site_port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            snippet = out.split("Or with the Python client, through the site and the signer (copy-paste):\n", 1)[1]
            snippet = snippet[: snippet.index("\nPY") + 3]
            ran = subprocess.run(["bash", "-c", snippet], cwd=REPO, capture_output=True, text=True, timeout=120)
            assert ran.returncode == 0, ran.stderr[-3000:]
            assert "'cell_types@2'" in ran.stdout
            counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+(\d+)$", ran.stdout, re.M)}
            assert sum(counts.values()) == 800  # every row of cell_types@2 (Delta version 1)
            # the 1078 question, as printed: the versions valid at 1078, joined through the signer
            joined = out.split("The 1078 question: synapse features and the cell types valid at 1078, joined (copy-paste):\n", 1)[1]
            joined = joined[: joined.index("\nPY") + 3]
            ran = subprocess.run(["bash", "-c", joined], cwd=REPO, capture_output=True, text=True, timeout=120)
            assert ran.returncode == 0, ran.stderr[-3000:]
            assert sum(int(m.group(1)) for m in re.finditer(r"\s(\d+)\s*$", ran.stdout, re.M)) == 1600
        finally:
            server.shutdown()
            server.server_close()
    finally:
        subprocess.run([sys.executable, "-m", "signer_function.demo", "stop", "--dir", str(work)], cwd=REPO, timeout=60)
