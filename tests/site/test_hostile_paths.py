"""A bucket with documents `publish` would refuse today still builds, and no document takes
another's page (issue 10, item 5): on the code before this test, the dataset `index` replaced the
dataset list, a 250-character name killed the build (file name too long), `datasets/evil/1.json`
claiming `victim@1` replaced victim's page and JSON, and a non-UTF-8 or deeply nested document
stopped the build for everyone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from site_builder import paths
from site_builder.synthetic import base_document, write_document, write_raw

LONG = "n" + "x" * 249
LONG_VERSION = "v" + "1" * 199
ENCODED_LOOKALIKE = paths.slug("a b")  # a tag spelled exactly like another tag's encoded page


def _docs() -> list[dict]:
    return [
        base_document("victim", "1", title="Genuine victim"),
        base_document("index", "1", title="Dataset called index", tags=["index", "a b", ENCODED_LOOKALIKE],
                      owners=[{"name": "index"}]),
        base_document("index", "index", title="Version called index", published_at="2026-02-01T00:00:00+00:00"),
        base_document(LONG, "1", title="Long name", datastack="index"),
        base_document("casey", "1", title="Case one", tags=["Foo"]),
        base_document("casey", "2", title="Case two", tags=["foo"], published_at="2026-02-01T00:00:00+00:00"),
    ]


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    from site_builder.build import build_site

    root = tmp_path_factory.mktemp("hostile-registry")
    for doc in _docs():
        write_document(str(root), doc)
    write_raw(str(root), LONG, LONG_VERSION,  # no manifest fits beside it; the document does
              json.dumps(base_document(LONG, LONG_VERSION, title="Long version")).encode())
    write_raw(str(root), "evil", "1", json.dumps(base_document("victim", "1", title="FORGED")).encode())
    write_raw(str(root), "nonutf", "1", json.dumps(base_document("nonutf", "1")).encode()[:-2] + b'\xff"}')
    write_raw(str(root), "deep", "1", b"[" * 100_000 + b"]" * 100_000)
    out = tmp_path_factory.mktemp("hostile-site") / "site"
    report = build_site(str(root), str(out), progress=False)
    return out, report


def test_build_succeeds_and_lists_the_bad_documents(hostile_site):
    out, report = hostile_site
    reasons = {s.path: s.message for s in report.skipped}
    assert set(reasons) == {"datasets/evil/1.json", "datasets/nonutf/1.json", "datasets/deep/1.json"}
    assert "claims to be victim@1" in reasons["datasets/evil/1.json"]
    assert report.versions == 7


def test_a_forged_document_does_not_replace_its_victim(hostile_site):
    out, _ = hostile_site
    assert json.loads((out / "api/datasets/victim/1.json").read_text())["title"] == "Genuine victim"
    assert "FORGED" not in (out / "datasets/victim/1.html").read_text()
    assert "FORGED" not in (out / "index.json").read_text()


def test_section_index_pages_stay_index_pages(hostile_site):
    out, _ = hostile_site
    listing = (out / "datasets/index.html").read_text()
    assert "victim" in listing and "casey" in listing  # still the list of every dataset
    for section in ("tags", "owners", "datastacks"):
        assert "<table" in (out / section / "index.html").read_text()
    assert (out / paths.dataset_page("index")).is_file()
    assert paths.dataset_page("index") != "datasets/index.html"


def test_every_page_and_json_path_is_distinct_and_exists(hostile_site):
    out, _ = hostile_site
    index = json.loads((out / "index.json").read_text())
    pages = [v["page"] for v in index["versions"]]
    documents = [v["document"] for v in index["versions"]]
    assert len(set(pages)) == len(pages) == 7 and len(set(documents)) == 7
    for rel in pages + documents:
        path = (out / rel).resolve()
        assert path.is_file(), rel
        assert str(path).startswith(str(out.resolve()) + os.sep)
        assert all(len(part) <= 255 for part in Path(rel).parts)
    for v in index["versions"]:  # each JSON document is the one its entry describes
        doc = json.loads((out / v["document"]).read_text())
        assert (doc["name"], doc["version"]) == (v["name"], v["version"])
    tag_pages = {paths.slug(t) for t in ("index", "a b", ENCODED_LOOKALIKE, "Foo", "foo")}
    assert len(tag_pages) == 5
    for slug in tag_pages:
        assert (out / "tags" / f"{slug}.html").is_file()


def test_plain_names_keep_their_contract_urls():
    assert paths.version_page("synapse_embeddings", "v2") == "datasets/synapse_embeddings/v2.html"
    assert paths.version_api("cell_types", "1.0") == "api/datasets/cell_types/1.0.json"
    assert paths.dataset_api("cell_types") == "api/datasets/cell_types.json"
    assert paths.slug("minnie65_phase3_v1") == "minnie65_phase3_v1"


def test_the_client_follows_encoded_paths_and_refuses_a_mislabelled_document(hostile_site, tmp_path, monkeypatch):
    import shutil

    from registry import Catalog
    from registry.client.errors import DatasetNotFound
    from tests.site.conftest import _serve

    monkeypatch.setenv("FEATURE_REGISTRY_CACHE", str(tmp_path / "cache"))
    site = tmp_path / "site"
    shutil.copytree(hostile_site[0], site)
    # a tampered site file: victim's JSON now holds another dataset's document
    (site / "api/datasets/victim/1.json").write_text((site / "api/datasets/casey/1.json").read_text())
    server = _serve(site)
    url = next(server)
    try:
        cat = Catalog(url, cache=False)
        assert cat.get("index").title == "Version called index"
        assert cat.get(LONG, LONG_VERSION).title == "Long version"
        with pytest.raises(DatasetNotFound, match="claims to be casey@1"):
            cat.get("victim", "1")
    finally:
        server.close()
