"""Finding and understanding: search and filters agree with `feature-registry list`, the site and a
registry URI give the same answers, the on-disk cache revalidates, and DatasetVersion navigation."""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner

from registry import Catalog
from registry.cli import main
from registry.client import DatasetVersion, RootIdJoinWarning
from registry.documents import Registry
from registry.publish import deprecate
from registry.source import RegistrySource
from tests.signer.conftest import document


@pytest.fixture
def local(tmp_registry: str) -> str:
    """A local registry: two versions of one dataset (the first deprecated, superseded), one other."""
    reg = Registry(tmp_registry)
    cols = {"columns": [{"name": "id", "type": "int64"}, {"name": "pre_pt_root_id", "type": "int64"}],
            "row_count": 3, "file_count": 1, "fingerprint": "x"}
    for name, version, extra in [
        ("synapse_embeddings", "1", {"tags": ["synapses"], "owners": [{"name": "Ada Lovelace"}]}),
        ("synapse_embeddings", "2", {"tags": ["synapses"], "owners": [{"name": "Ada Lovelace"}],
                                     "materialization": {"version": 1412}}),
        ("cell_types", "1", {"title": "Cell types", "description": "one label per synapse-bearing cell",
                             "format": "delta", "materialization": {"versions": [1078, 1412]}}),
    ]:
        doc, manifest = document(name, version, f"s3://lab-tables/features/{name}", **extra)
        if name == "synapse_embeddings":
            doc = doc.model_copy(update={"inspected": doc.inspected.model_validate(cols)})
        reg.put_new(doc, manifest)
    deprecate(tmp_registry, "synapse_embeddings@1", reason="wrong voxel size", superseded_by="synapse_embeddings@2")
    return tmp_registry


def test_search_filters_and_ranking(local):
    cat = Catalog(local)
    assert [r.ref for r in cat.search("synapse")] == ["synapse_embeddings@2", "cell_types@1"]  # name beats description
    assert [r.ref for r in cat.search("root")] == ["synapse_embeddings@2"]  # column word
    assert [r.ref for r in cat.search(mat_version=1078)] == ["cell_types@1"]  # deprecated left out
    assert [r.ref for r in cat.search(mat_version=1078, status="deprecated")] == ["synapse_embeddings@1"]
    assert [r.ref for r in cat.search(format="delta")] == ["cell_types@1"]
    assert [r.ref for r in cat.search(tag="synapses", owner="ada")] == ["synapse_embeddings@2"]
    assert cat.search("nothing-like-this") == []
    pdf = cat.search().to_pandas()
    assert list(pdf["ref"]) == ["cell_types@1", "synapse_embeddings@2"]
    assert cat.search("synapse").to_polars()["ref"].to_list() == ["synapse_embeddings@2", "cell_types@1"]
    assert cat.search("zzz").to_pandas().empty


def test_dataset_version_navigation_and_diff(local):
    cat = Catalog(local)
    new = cat.get("synapse_embeddings")
    assert isinstance(new, DatasetVersion) and new.version == "2"
    assert new.materialization.version == 1412 and new.columns == [] and new.inspected.columns[1].name == "pre_pt_root_id"
    old = cat.get("synapse_embeddings@1")
    assert old.status.value == "deprecated" and old.superseded_by == "synapse_embeddings@2"
    assert old.latest.version == "2" and old.successor().version == "2" and not old.is_latest
    assert [v.version for v in new.versions()] == ["1", "2"] and new.versions()[0].get().version == "1"
    d = new.diff(old)
    assert d and "materialization" in d.fields and "status" in d.fields and not d.added
    assert not new.diff(new)
    other = cat.get("cell_types")
    d2 = other.diff(new)
    assert ("pre_pt_root_id", "int64") in d2.removed


@pytest.mark.s3
def test_site_and_registry_agree(stack):
    site = Catalog(stack.site_url)
    reg = Catalog(stack.registry)
    keys = set(RegistrySource(stack.registry).summaries()[0])
    s_rows = [{k: r[k] for k in keys if k not in ("description",)} for r in site.as_source().summaries()]
    r_rows = [{k: r[k] for k in keys if k not in ("description",)} for r in reg.as_source().summaries()]
    for rows in (s_rows, r_rows):  # the site does not publish these two summary fields
        for r in rows:
            r.pop("file_count"), r.pop("license")
    assert s_rows == r_rows
    assert [r.ref for r in site.search("score")] == [r.ref for r in reg.search("score")]
    assert site.get("syn_delta").to_dict() == reg.get("syn_delta").to_dict()


@pytest.mark.s3
def test_site_json_is_cached_and_revalidated(stack, client_cache):
    import requests

    calls = []
    real = requests.Session.get

    def spy(self, url, **kw):
        resp = real(self, url, **kw)
        calls.append((url, kw.get("headers", {}), resp.status_code))
        return resp

    requests.Session.get = spy
    try:
        Catalog(stack.site_url).get("syn_plain")
        Catalog(stack.site_url).get("syn_plain")
    finally:
        requests.Session.get = real
    assert list(client_cache.glob("*.body"))
    index_calls = [c for c in calls if c[0].endswith("index.json")]
    assert index_calls[0][2] == 200 and index_calls[-1][2] == 304
    assert "If-Modified-Since" in index_calls[-1][1] or "If-None-Match" in index_calls[-1][1]


@pytest.mark.s3
def test_joins_resolve_and_warn_on_root_ids(stack):
    cat = Catalog(stack.site_url)
    ds = cat.get("syn_scores")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        joins = ds.joins()
    assert [(j.column, j.target_kind, j.target) for j in joins] == [
        ("id", "annotation_table", "synapses_pni_2"), ("pt_root_id", "dataset", "syn_hive@1")]
    assert joins[0].warning is None and joins[1].dataset.ref == "syn_hive@1"
    assert [w.category for w in caught] == [RootIdJoinWarning] and "1078" in str(caught[0].message)


@pytest.mark.s3
def test_cli_list_and_show_against_a_served_site(stack):
    runner = CliRunner()
    site = runner.invoke(main, ["list", "--registry", stack.site_url, "--json"])
    assert site.exit_code == 0, site.output
    reg = runner.invoke(main, ["list", "--registry", stack.registry, "--json"])
    assert [r["ref"] for r in json.loads(site.output)] == [r["ref"] for r in json.loads(reg.output)]
    filtered = runner.invoke(main, ["list", "--registry", stack.site_url, "--mat-version", "1078", "--jsonl"])
    assert filtered.exit_code == 0 and len(filtered.output.strip().splitlines()) == 6
    shown = runner.invoke(main, ["show", "syn_hive", "--registry", stack.site_url, "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["inspected"]["partition_columns"] == ["region"]
    human = runner.invoke(main, ["show", "syn_hive@1", "--registry", stack.site_url])
    assert human.exit_code == 0 and "syn_hive" in human.output
    missing = runner.invoke(main, ["show", "nope", "--registry", stack.site_url])
    assert missing.exit_code == 2 and "nope" in missing.output
