"""`Catalog.at(N)` through the real stack (moto S3, the signer under functions-framework, the
served site): the example tables joined at the right materialization version in DuckDB and
Polars with exact row counts, and cross-version root-id joins refused or visibly lossy."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from registry import Catalog
from registry.client import DeprecatedVersionWarning, MaterializationMismatch, RootIdJoinWarning

from .conftest import world

pytestmark = pytest.mark.s3
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cat(signed_examples) -> Catalog:
    return Catalog(signed_examples.site_url, signer_url=signed_examples.signer_url, token=signed_examples.token)


def test_get_and_search_at_a_materialization_version(cat):
    at = cat.at(1078)
    assert at.get("synapse_embeddings").ref == "synapse_embeddings@1"
    with pytest.warns(DeprecatedVersionWarning, match="cell_types@1 is deprecated"):
        assert at.get("cell_types").ref == "cell_types@1"
    assert [r.ref for r in at.search("")] == ["synapse_embeddings@1"]  # deprecated left out, as in search
    assert sorted(r.ref for r in cat.at(1412).search("")) == ["cell_embeddings@1", "cell_types@2", "morphology_features@1"]
    assert cat.at(1412).get("cell_types").ref == "cell_types@2"
    with pytest.raises(Exception, match="no version valid at materialization 943"):
        cat.at(943).get("cell_types")


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_join_at_1078_returns_every_match(cat, engine):
    with pytest.warns(DeprecatedVersionWarning):
        joined = cat.at(1078).join("synapse_embeddings", "cell_types", engine=engine)
    if engine == "duckdb":
        counts = dict(joined.aggregate("cell_type, count(*)").fetchall())
        cols = [d[0] for d in joined.description]
    else:
        df = joined.collect()
        counts = dict(df.group_by("cell_type").len().iter_rows())
        cols = df.columns
    assert sum(counts.values()) == 1600  # every synapse onto a cell with a nucleus
    assert "post_pt_root_id" in cols and "cell_type" in cols and "split" in cols


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_cross_version_root_ids_refused_then_lossy(cat, engine):
    at = cat.at(1078)
    with pytest.raises(MaterializationMismatch) as caught:
        at.join("synapse_embeddings", "cell_types@2", engine=engine)
    msg = str(caught.value)
    assert "synapse_embeddings@1" in msg and "cell_types@2" in msg and "[1300, 1412]" in msg and "get_roots" in msg
    with pytest.warns(RootIdJoinWarning, match="across materialization versions"):
        joined = at.join("synapse_embeddings", "cell_types@2", engine=engine, allow_mismatch=True)
    n = joined.aggregate("count(*)").fetchone()[0] if engine == "duckdb" else joined.collect().height
    assert n == 1200  # the 400 synapses onto cells proofread between 1078 and 1412 are lost


def test_supervoxel_route_loses_nothing(cat):
    """The remedy: re-resolve post-synaptic root ids from supervoxels at 1412 (CAVEclient's
    get_roots; here the example world's segmentation), then join cell_types@2."""
    import duckdb

    syn = cat.at(1078).get("synapse_embeddings").to_pandas(columns=["id", "post_pt_supervoxel_id"])
    syn["post_pt_root_id"] = world().get_roots(syn["post_pt_supervoxel_id"].values, 1412)
    cells = cat.at(1412).get("cell_types").to_pandas(columns=["pt_root_id", "cell_type"])
    con = duckdb.connect()
    con.register("syn", syn)
    con.register("cells", cells)
    n = con.sql("SELECT count(*) FROM syn JOIN cells ON syn.post_pt_root_id = cells.pt_root_id").fetchone()[0]
    assert n == 1600


def test_stable_keys_at_1412(cat):
    at = cat.at(1412)
    assert at.join("morphology_features", "cell_types", engine="polars").collect().height == 500
    rel = at.join("cell_embeddings", "cell_types")  # Lance read with credentials; key: nucleus ids
    assert rel.aggregate("count(*)").fetchone()[0] == 800
    assert at.plan("cell_embeddings", "cell_types").keys[0].left == "id"


def test_joins_and_referenced_by_in_the_client(cat):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        joins = {j.column: j for j in cat.get("synapse_embeddings").joins()}
    assert {w.category for w in caught} == {RootIdJoinWarning}
    post = joins["post_pt_root_id"]
    assert (post.verdict, post.valid_at, post.joinable_target_versions) == ("no_shared_version", [], ["1"])
    assert post.dataset.ref == "cell_types@2"
    morph = {j.column: j for j in cat.get("morphology_features").joins(warn=False) if j.target_kind == "dataset"}
    assert morph["nucleus_id"].dataset.ref == "cell_types@2" and morph["nucleus_id"].verdict == "ok"
    refs = cat.get("cell_types", "2").referenced_by()
    assert [(r["name"], r["version"], r["column"]) for r in refs] == [
        ("morphology_features", "1", "nucleus_id"), ("synapse_embeddings", "1", "post_pt_root_id")]


def _doc_block(path: Path, marker: str) -> str:
    text = path.read_text()
    block = text.split(marker, 1)[1]
    return re.search(r"```python\n(.*?)```", block, re.S).group(1)


@pytest.mark.parametrize("doc", ["docs/client.md", "README.md"])
def test_the_1078_question_in_three_lines(signed_examples, monkeypatch, doc):
    code = _doc_block(REPO / doc, "<!-- the 1078 question -->")
    lines = [ln for ln in code.strip().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(lines) == 3
    code = code.replace("http://127.0.0.1:8000/", signed_examples.site_url).replace(
        "http://127.0.0.1:8089", signed_examples.signer_url)
    monkeypatch.setenv("CAVE_TOKEN", signed_examples.token)
    ns: dict = {}
    with pytest.warns(DeprecatedVersionWarning):
        exec(compile(code, doc, "exec"), ns)  # noqa: S102 - our own documentation
    assert ns["joined"].aggregate("count(*)").fetchone()[0] == 1600
