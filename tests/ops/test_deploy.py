"""Deploying a site to the moto S3 server (and the GCS emulator): changed files only, headers,
stale removal, and uploads strictly before deletions, proven by listing the bucket mid-deploy."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from feature_registry.cli import main
from registry.errors import BadInput
from site_builder.deploy import LONG_CACHE, MEDIUM_CACHE, SHORT_CACHE, cache_control, content_type, deploy_site

pytestmark = pytest.mark.s3


def make_site(root: Path, versions: dict[str, str]) -> Path:
    """A small site with the shapes deploy cares about: entry points, pages, API, hashed assets."""
    files = {
        "index.json": json.dumps({"versions": sorted(versions)}),
        "index.html": "<html>home " + " ".join(sorted(versions)) + "</html>",
        "search.html": "<html>search</html>",
        "catalog/versions.json": json.dumps(sorted(versions)),
        "assets/javascripts/bundle.4f3c2a1b9d.min.js": "console.log(1)",
        "assets/stylesheets/main.0a1b2c3d4e.min.css": "body{}",
        "assets/vendor/mermaid.min.js": "/* mermaid */",
        "assets/site.css": ".x{}",
        "sitemap.xml": "<urlset/>",
    }
    for ref, body in versions.items():
        name, version = ref.split("@")
        files[f"datasets/{name}/{version}.html"] = f"<html>{ref} {body}</html>"
        files[f"api/datasets/{name}/{version}.json"] = json.dumps({"ref": ref, "body": body})
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def listing(client, bucket: str, prefix: str) -> dict[str, str]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = o["ETag"].strip('"')
    return out


def test_headers_rules():
    assert cache_control("index.json") == SHORT_CACHE
    assert cache_control("api/datasets/a/v1.json") == SHORT_CACHE
    assert cache_control("datasets/a/v1.html") == SHORT_CACHE
    assert cache_control("assets/javascripts/bundle.4f3c2a1b9d.min.js") == LONG_CACHE
    assert cache_control("assets/vendor/mermaid.min.js") == MEDIUM_CACHE
    assert content_type("a/b.html") == "text/html; charset=utf-8"
    assert content_type("x.js").startswith("text/javascript")
    assert content_type("x.svg") == "image/svg+xml"


def test_deploy_changed_only_headers_stale_and_order(tmp_path, s3_bucket, s3_env):
    client = s3(s3_env)
    target = f"s3://{s3_bucket}/site"
    site = make_site(tmp_path / "a", {"syn@v1": "one", "syn@v2": "two", "old@v1": "gone soon"})
    first = deploy_site(str(site), target)
    assert len(first.uploaded) == len(list(p for p in site.rglob("*") if p.is_file())) and not first.deleted

    head = client.head_object(Bucket=s3_bucket, Key="site/index.json")
    assert head["ContentType"] == "application/json" and head["CacheControl"] == SHORT_CACHE
    head = client.head_object(Bucket=s3_bucket, Key="site/assets/javascripts/bundle.4f3c2a1b9d.min.js")
    assert head["CacheControl"] == LONG_CACHE and head["ContentType"].startswith("text/javascript")
    head = client.head_object(Bucket=s3_bucket, Key="site/datasets/syn/v1.html")
    assert head["ContentType"] == "text/html; charset=utf-8"

    # Same site again: nothing to upload.
    again = deploy_site(str(site), target)
    assert again.uploaded == [] and again.deleted == [] and again.unchanged == first_count(site)

    # Next build: one new version, one changed page, one removed dataset.
    site2 = make_site(tmp_path / "b", {"syn@v1": "one", "syn@v2": "two, corrected", "syn@v3": "three"})
    expected = {p.relative_to(site2).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
                for p in site2.rglob("*") if p.is_file()}
    seen: list[tuple[str, str, int, dict[str, str]]] = []

    def on_step(step):
        seen.append((step.action, step.path, step.phase, listing(client, s3_bucket, "site/")))

    report = deploy_site(str(site2), target, workers=1, on_step=on_step)
    assert sorted(report.deleted) == ["api/datasets/old/v1.json", "datasets/old/v1.html"]
    assert set(report.uploaded) == {
        "index.json", "index.html", "catalog/versions.json",
        "datasets/syn/v2.html", "api/datasets/syn/v2.json", "datasets/syn/v3.html", "api/datasets/syn/v3.json",
    }
    actions = [a for a, *_ in seen]
    first_delete = actions.index("delete")
    assert "upload" not in actions[first_delete:], "a deletion happened before the last upload"
    # leaves (new pages) before entry points (index.json links to them)
    phases = [p for a, _, p, _ in seen if a == "upload"]
    assert phases == sorted(phases)
    new_page_at = next(i for i, s in enumerate(seen) if s[1] == "datasets/syn/v3.html")
    index_at = next(i for i, s in enumerate(seen) if s[1] == "index.json")
    assert new_page_at < index_at
    # listed while deploying: before the first deletion, the whole new site is already in place
    # and the stale pages are still there (nobody following an old link gets a 404 mid-deploy)
    before_delete = seen[first_delete - 1][3]
    assert all(before_delete.get(rel) == md5 for rel, md5 in expected.items())
    assert "datasets/old/v1.html" in before_delete
    assert listing(client, s3_bucket, "site/") == expected


def first_count(site: Path) -> int:
    return sum(1 for p in site.rglob("*") if p.is_file())


def test_refuses_to_empty_a_prefix_that_is_not_a_site(tmp_path, s3_bucket, s3_env):
    client = s3(s3_env)
    client.put_object(Bucket=s3_bucket, Key="data/table.parquet", Body=b"x")
    site = make_site(tmp_path / "a", {"syn@v1": "one"})
    with pytest.raises(BadInput, match="no index.json"):
        deploy_site(str(site), f"s3://{s3_bucket}/data")
    assert listing(client, s3_bucket, "data/") == {"table.parquet": hashlib.md5(b"x").hexdigest()}


def test_dry_run_changes_nothing_and_cli(tmp_path, s3_bucket, s3_env):
    client = s3(s3_env)
    site = make_site(tmp_path / "a", {"syn@v1": "one"})
    target = f"s3://{s3_bucket}/p"
    dry = deploy_site(str(site), target, dry_run=True)
    assert dry.uploaded and listing(client, s3_bucket, "p/") == {}
    result = CliRunner().invoke(main, ["deploy-site", "--out", str(site), "--to", target, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["uploaded"]
    assert "index.json" in listing(client, s3_bucket, "p/")
    bad = CliRunner().invoke(main, ["deploy-site", "--out", str(tmp_path), "--to", target])
    assert bad.exit_code == 2 and "not a built site" in bad.output


def test_deploy_to_gcs_emulator(tmp_path, gcs_env):
    """The same deploy through gcsfs against the GCS emulator: md5Hash drives change detection."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": gcs_env})
    bucket = client.create_bucket(f"site-{tmp_path.name[-8:].lower().replace('_', '-')}x")
    target = f"gs://{bucket.name}/site"
    site = make_site(tmp_path / "a", {"syn@v1": "one", "old@v1": "x"})
    files = _search_files(site)
    deploy_site(str(site), target)
    blob = bucket.get_blob("site/index.json")
    assert blob.content_type == "application/json"
    for rel, data in files.items():  # gzipped as on S3 (test_what_a_search_fetches_is_stored_gzipped)
        blob = bucket.get_blob(f"site/{rel}")
        assert (blob.content_encoding == "gzip") == (rel in GZIPPED), rel
        stored = blob.download_as_bytes(raw_download=True)
        assert (gzip.decompress(stored) if rel in GZIPPED else stored) == data, rel
    _search_files(site2 := make_site(tmp_path / "b", {"syn@v1": "one"}))
    report = deploy_site(str(site2), target)
    assert sorted(report.deleted) == ["api/datasets/old/v1.json", "datasets/old/v1.html"]
    assert "datasets/syn/v1.html" not in report.uploaded  # unchanged by md5
    assert not GZIPPED & set(report.uploaded)  # the MD5 of the stored gzipped bytes
    names = {b.name for b in client.list_blobs(bucket.name, prefix="site/")}
    assert "site/datasets/old/v1.html" not in names and "site/datasets/syn/v1.html" in names


def _search_files(root: Path) -> dict[str, bytes]:
    """What a query fetches, at sizes where gzip pays, plus a page and a tiny index file."""
    files = {
        "catalog/search/terms/17.json": json.dumps({"k": [f"word{i}" for i in range(2000)]}).encode(),
        "catalog/search/meta.json": b'{"versions": 3}',  # under GZIP_MIN_BYTES: stored as built
        "assets/search-engine.js": b"/* engine */\n" + b"function f(x) { return x + 1; }\n" * 200,
        "search.html": b"<html>" + b"<p>search</p>" * 200 + b"</html>",
        "datasets/syn/v9.html": b"<html>" + b"<p>page</p>" * 200 + b"</html>",  # pages: as built
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


GZIPPED = {"catalog/search/terms/17.json", "assets/search-engine.js", "search.html"}


def test_what_a_search_fetches_is_stored_gzipped(tmp_path, s3_bucket, s3_env):
    import gzip

    import requests

    client = s3(s3_env)
    site = make_site(tmp_path / "a", {"syn@v1": "one"})
    files = _search_files(site)
    deploy_site(str(site), f"s3://{s3_bucket}/site")
    for rel, data in files.items():
        got = client.get_object(Bucket=s3_bucket, Key=f"site/{rel}")
        stored = got["Body"].read()
        if rel in GZIPPED:
            assert got.get("ContentEncoding") == "gzip", rel
            assert len(stored) < len(data) and gzip.decompress(stored) == data, rel
        else:
            assert "ContentEncoding" not in got and stored == data, rel
        assert got["ContentType"] == content_type(rel)
        # what a browser (or the client's requests session) gets over HTTP: the file as built
        url = client.generate_presigned_url("get_object", Params={"Bucket": s3_bucket, "Key": f"site/{rel}"})
        r = requests.get(url, timeout=10)  # a private bucket: a signed URL, as the signer gives
        assert r.status_code == 200 and r.content == data, rel
        assert (r.headers.get("Content-Encoding") == "gzip") == (rel in GZIPPED), rel
    again = deploy_site(str(site), f"s3://{s3_bucket}/site")  # MD5 of the stored (gzipped) bytes
    assert again.uploaded == []
    (site / "catalog/search/terms/17.json").write_bytes(files["catalog/search/terms/17.json"] + b" ")
    assert deploy_site(str(site), f"s3://{s3_bucket}/site").uploaded == ["catalog/search/terms/17.json"]


def test_local_target_stores_files_as_built(tmp_path):
    site = make_site(tmp_path / "a", {"syn@v1": "one"})
    files = _search_files(site)
    deploy_site(str(site), f"file://{tmp_path / 'out'}")
    for rel, data in files.items():
        assert (tmp_path / "out" / rel).read_bytes() == data
