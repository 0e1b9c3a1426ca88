"""registry.uris: the one reading of a URI's spelling (protocol, the form table libraries get, a
comparable form), shared by storage, the inspectors, the site's event filter and the signer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry.uris import comparable_uri, library_uri, local_path, protocol_of

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("uri, proto", [
    ("gs://b/x", "gs"), ("gcs://b/x", "gs"), ("GS://b", "gs"), ("s3://b", "s3"), ("s3a://b/k", "s3"),
    ("s3n://b/k", "s3"), ("memory://x", "memory"), ("/tmp/reg", "file"), ("rel/dir", "file"),
    ("file:///tmp/x", "file"), ("C:\\data\\reg", "file"), ("https://h/x", "https"),
])
def test_protocol_of(uri, proto):
    assert protocol_of(uri) == proto


def test_library_uri_gives_local_paths_decoded_and_urls_without_trailing_slash(tmp_path):
    assert library_uri("file://" + str(tmp_path / "a%20b") + "/") == str(tmp_path / "a b")
    assert library_uri("rel/t") == os.path.abspath("rel/t")
    assert library_uri("s3://b/t/") == "s3://b/t"
    assert local_path("file:///x/%3D") == "/x/="


def test_comparable_uri_folds_spellings_but_keeps_escapes():
    assert comparable_uri("s3a://b/t/") == comparable_uri("s3://b/t") == "s3://b/t"
    assert comparable_uri("gcs://b/t") == "gs://b/t"
    assert comparable_uri("/x/y/") == comparable_uri("file:///x/y") == "file:///x/y"
    # object names as a table log stores them: an escape is part of the name
    assert comparable_uri("s3://b/t/tz=10%3A05") != comparable_uri("s3://b/t/tz=10:05")


def test_uris_is_stdlib_only():
    """The signer imports it: it must not pull in fsspec or anything heavy."""
    code = "import sys, registry.uris; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 'pydantic', 'pyarrow', 'yaml'))))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == ""
