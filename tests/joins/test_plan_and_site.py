"""join-plan (command line) against the site's JSON API and pages, on the example registry: one
source of truth for join facts; the plan's DuckDB SQL run on the real tables gives exact counts."""

from __future__ import annotations

import json

import duckdb
import jsonschema
import pytest
import requests
from click.testing import CliRunner

from registry.cli import main
from registry.documents import Registry


def _plan(registry: str, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["join-plan", *args, "--json", "--registry", registry])
    return result.exit_code, json.loads(result.stdout)


def _api(site, rel: str) -> dict:
    return json.loads((site.dir / rel).read_text())


def _views(con: duckdb.DuckDBPyConnection, registry: str, *refs: str) -> None:
    """Each NAME@VERSION as a DuckDB view of its pinned table, read with the format's own library."""
    from deltalake import DeltaTable

    reg = Registry(registry)
    for ref in refs:
        doc = reg.get(*ref.split("@"))
        if doc.format.value == "parquet":
            rel = con.sql(f"SELECT * FROM read_parquet('{doc.location}/*/*.parquet', hive_partitioning = true)")
        else:
            rel = con.from_arrow(DeltaTable(doc.location, version=doc.table_version).to_pyarrow_table())
        con.register(ref, rel.to_arrow_table())


def test_api_json_carries_join_facts_and_validates(example_site):
    schema = _api(example_site, "schema/dataset.schema.json")
    syn = _api(example_site, "api/datasets/synapse_embeddings/1.json")
    jsonschema.validate(syn, schema)
    joins = {r["column"]: r["join"] for r in syn["references"]}
    post = joins["post_pt_root_id"]
    assert (post["verdict"], post["valid_at"], post["joinable_target_versions"]) == ("no_shared_version", [], ["1"])
    assert joins["id"]["verdict"] == "ok" and joins["id"]["valid_at"] == [1078]
    bad = json.loads(json.dumps(syn))
    bad["references"][0]["join"]["verdict"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    cells = _api(example_site, "api/datasets/cell_types.json")
    assert [(r["name"], r["version"], r["column"], r["target_column"], r["valid_at"]) for r in cells["referenced_by"]] == [
        ("morphology_features", "1", "nucleus_id", "nucleus_id", [1412]),
        ("synapse_embeddings", "1", "post_pt_root_id", "pt_root_id", []),
    ]


def test_join_plan_agrees_with_the_api(example_site):
    reg = example_site.registry
    # morphology_features declares an (unpinned) join to cell_types: the plan's facts are the API's
    code, plan = _plan(reg, "morphology_features", "cell_types", "--mat-version", "1412")
    assert code == 0 and (plan["verdict"], plan["left"], plan["right"]) == ("ok", "morphology_features@1", "cell_types@2")
    api = _api(example_site, "api/datasets/morphology_features/1.json")["references"][1]["join"]
    assert plan["reference"] == api
    assert plan["keys"][0]["left"] == plan["keys"][0]["right"] == "nucleus_id" and plan["stability"] == "stable"
    # the 1078 question: the API says cell_types@2 shares no version and names the joinable one
    code, plan = _plan(reg, "synapse_embeddings", "cell_types", "--mat-version", "1078")
    api = _api(example_site, "api/datasets/synapse_embeddings/1.json")["references"][2]["join"]
    assert plan["right"] in [f"cell_types@{v}" for v in api["joinable_target_versions"]]
    assert code == 0 and plan["verdict"] == "target_deprecated" and plan["right"] == "cell_types@1"
    assert plan["reference"]["valid_at"] == [1078] and plan["stability"] == "changes_with_proofreading"
    assert any("deprecated" in w for w in plan["warnings"])
    # same answer read through the built site instead of the registry
    _, via_site = _plan(example_site.url, "synapse_embeddings", "cell_types", "--mat-version", "1078")
    assert via_site == plan


def test_cross_version_root_ids_are_refused_with_the_remedy(example_site):
    code, plan = _plan(example_site.registry, "synapse_embeddings", "cell_types@2", "--mat-version", "1078")
    assert code == 2 and plan["verdict"] == "no_shared_version" and plan["cross_version"]
    assert "get_roots" in plan["remedy"] and '"post_pt_supervoxel_id"' in plan["remedy"]
    assert any("invalidation radius 2000 nm" in w for w in plan["warnings"])
    code, plan = _plan(example_site.registry, "synapse_embeddings", "nope", "--mat-version", "1078")
    assert code == 2 and plan["verdict"] == "target_missing" and plan["remedy"] is None
    # a CAVE annotation table with no registered export: the plan says how to read it from CAVE
    code, plan = _plan(example_site.registry, "synapse_embeddings", "synapses_pni_2", "--mat-version", "1078")
    assert code == 2 and plan["verdict"] == "target_missing"
    assert 'query_table("synapses_pni_2", materialization_version=1078)' in plan["remedy"]


def test_stable_annotation_key_first(example_site):
    code, plan = _plan(example_site.registry, "cell_embeddings", "cell_types", "--mat-version", "1412")
    assert code == 0 and plan["verdict"] == "ok"
    assert (plan["keys"][0]["left"], plan["keys"][0]["right"]) == ("id", "nucleus_id")
    assert "nucleus_detection_v0.id" in plan["keys"][0]["why"] and plan["stability"] == "stable"


def test_plan_sql_runs_with_exact_counts(example_site):
    reg = example_site.registry
    con = duckdb.connect()
    _views(con, reg, "synapse_embeddings@1", "cell_types@1", "cell_types@2")
    _, at_1078 = _plan(reg, "synapse_embeddings", "cell_types", "--mat-version", "1078")
    assert con.sql(f"SELECT count(*) FROM ({at_1078['sql']})").fetchone()[0] == 1600
    _, crossed = _plan(reg, "synapse_embeddings", "cell_types@2", "--mat-version", "1078")
    assert con.sql(f"SELECT count(*) FROM ({crossed['sql']})").fetchone()[0] == 1200  # 400 rows lost
    cols = [d[0] for d in con.sql(at_1078["sql"]).description]
    assert "cell_type" in cols and "split" in cols and len(cols) == len(set(cols))


def test_show_and_pages_show_the_facts(example_site):
    shown = CliRunner().invoke(main, ["show", "synapse_embeddings", "--registry", example_site.registry])
    assert shown.exit_code == 0
    assert "post_pt_root_id -> cell_types@2.pt_root_id" in shown.stdout and "[no_shared_version]" in shown.stdout
    assert "joinable target versions: 1" in shown.stdout
    page = requests.get(f"{example_site.url}/datasets/synapse_embeddings/1.html", timeout=10).text
    assert 'data-verdict="no_shared_version"' in page and "get_roots" in page and "query_table" in page
    cells = requests.get(f"{example_site.url}/datasets/cell_types/2.html", timeout=10).text
    assert 'id="fr-referenced-by"' in cells and "synapse_embeddings@1" in cells
    morph = requests.get(f"{example_site.url}/datasets/morphology_features/1.html", timeout=10).text
    assert "0 of 8 columns described" in morph and "No description:" in morph


def test_materialization_workbench(example_site):
    matrix = requests.get(f"{example_site.url}/materialization/minnie65_phase3_v1.html", timeout=10).text
    assert 'href="../materialization/minnie65_phase3_v1/1078.html"' in matrix or "minnie65_phase3_v1/1078.html" in matrix
    page = requests.get(f"{example_site.url}/materialization/minnie65_phase3_v1/1078.html", timeout=10)
    assert page.status_code == 200
    text = page.text
    assert 'data-dataset="synapse_embeddings"' in text and 'data-dataset="cell_types"' in text
    assert 'data-left="synapse_embeddings@1" data-right="cell_types@1"' in text
    assert 'at = Catalog(' in text and ".at(1078)" in text and "query_table" in text
    assert "read_parquet" in text and "fr-mermaid" in text
    at_1412 = requests.get(f"{example_site.url}/materialization/minnie65_phase3_v1/1412.html", timeout=10).text
    assert 'data-left="morphology_features@1" data-right="cell_types@2"' in at_1412
    assert 'data-right="cell_types@2"' in at_1412 and "cell_embeddings@1" in at_1412


def test_workbench_script_runs(example_site):
    """The workbench's client script, as printed, against the example registry (no signer needed
    to plan; the join itself is tested through the signer in test_client.py)."""
    import html
    import re

    from site_builder.pages import environment  # noqa: F401  (the site's own renderer made this page)

    text = requests.get(f"{example_site.url}/materialization/minnie65_phase3_v1/1412.html", timeout=10).text
    code = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<code class="language-python">(.*?)</code>', text, re.S).group(1)))
    code = code.replace('Catalog("https://catalog.lab.example/", signer_url="https://signer.lab.example")',
                        f'Catalog({example_site.registry!r})').replace("at.join(", "at.plan(")
    code = code.split("# CAVE annotation tables")[0]
    ns: dict = {}
    exec(compile(code, "workbench", "exec"), ns)  # noqa: S102 - our own generated page
    assert ns["cell_types"].ref == "cell_types@2" and ns["joined_0"].verdict == "ok"
