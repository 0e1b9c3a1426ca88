"""Fixtures for the catalog site: one small registry and one built site per test session.

The registry is written through the model (every document validates like a published one) and
includes a deprecated version with a successor, a draft, references between datasets, several
datastacks and formats, a document whose every free-text field carries a script payload, and two
broken documents (bad JSON, failing validation) that the build must skip and report.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterator

import pytest

from site_builder.synthetic import base_document, write_document, write_raw
from tests.conftest import serving

PORT_HOST = "127.0.0.1"

# Every payload tries to set window.__pwned or open a dialog if it ever runs.
XSS = '<script>window.__pwned=1;alert(1)</script><img src=x onerror="window.__pwned=1">'
XSS_MD = (
    "Payloads: " + XSS + "\n\n[click me](javascript:window.__pwned=1) "
    "[data](data:text/html,<script>window.__pwned=1</script>) <a href=\"javascript:window.__pwned=1\">raw</a>\n\n"
    "![img](https://evil.example/x.png) <svg onload=window.__pwned=1></svg>\n\n"
    "<iframe src=\"javascript:window.__pwned=1\"></iframe>\n\n# heading </title><script>window.__pwned=1</script>"
)
XSS_COLUMN = '"]; click n0 call alert(1); x["<img src=x onerror=window.__pwned=1>'


def _cols(*specs: tuple[str, str, str]) -> tuple[list[dict], list[dict]]:
    cols = [{"name": n, "semantic": s, "description": f"{n} column"} for n, s, _ in specs]
    inspected = [{"name": n, "type": t, "nullable": False} for n, _, t in specs]
    return cols, inspected


def example_documents() -> list[dict[str, Any]]:
    docs = []
    cols, insp = _cols(
        ("id", "annotation_id", "int64"), ("pre_pt_root_id", "root_id", "int64"),
        ("post_pt_root_id", "root_id", "int64"), ("synapse_embedding_vec", "embedding", "list<float>"),
    )
    refs = [
        {"column": "id", "annotation_table": "synapses_pni_2", "target_column": "id",
         "cardinality": "one_to_one", "stability": "stable"},
        {"column": "post_pt_root_id", "dataset": "cell_types@v1", "target_column": "pt_root_id",
         "cardinality": "many_to_one", "stability": "changes_with_proofreading"},
    ]
    common = dict(columns=cols, references=refs, tags=["synapses", "embeddings"],
                  owners=[{"name": "Ada Lovelace", "email": "ada@lab.example", "team": "features"}],
                  license="CC-BY-4.0", description="Synapse **embeddings** from the PNI synapse table.")
    docs.append(base_document(
        "synapse_embeddings", "v1", title="Synapse embeddings (first cut)", materialization={"version": 943},
        format="delta", status="deprecated", lineage={"superseded_by": "synapse_embeddings@v2"},
        inspected={"columns": insp, "row_count": 1000, "file_count": 2, "bytes": 5000, "fingerprint": "delta:1"},
        published_at="2025-06-01T00:00:00+00:00",
        history=[{"action": "published", "at": "2025-06-01T00:00:00+00:00", "by": "ada@lab.example"},
                 {"action": "deprecated", "at": "2025-08-01T00:00:00+00:00", "by": "ada@lab.example",
                  "reason": "wrong voxel size", "superseded_by": "synapse_embeddings@v2"}],
        **common,
    ))
    insp2 = copy.deepcopy(insp) + [{"name": "confidence", "type": "float32", "nullable": True}]
    docs.append(base_document(
        "synapse_embeddings", "v2", title="Synapse embeddings", materialization={"version": 1078},
        format="delta", lineage={"supersedes": ["synapse_embeddings@v1"]},
        inspected={"columns": insp2, "row_count": 1200, "file_count": 3, "bytes": 6000, "fingerprint": "delta:4"},
        published_at="2025-08-01T00:00:00+00:00",
        citation={"text": "Lovelace et al. 2025", "doi": "10.1000/xyz", "bibtex": "@article{lovelace2025,\n  title={Synapses}\n}"},
        layouts=[{"name": "by_post_pt_root_id", "location": "s3://lab/syn/post<b>x</b>", "ordering": ["post_pt_root_id"],
                  "file_count": 3, "table_version": 2, "manifest": True}],
        **common,
    ))
    ccols, cinsp = _cols(("pt_root_id", "root_id", "int64"), ("cell_type", "label", "string"))
    docs.append(base_document(
        "cell_types", "v1", title="Cell types", materialization={"version": 1078, "versions": [943, 1078]},
        format="parquet", columns=ccols, tags=["cell-types"],
        inspected={"columns": cinsp, "row_count": 80000, "file_count": 1, "bytes": 100000, "fingerprint": "parquet:abc"},
        published_at="2025-07-01T00:00:00+00:00",
    ))
    ncols, ninsp = _cols(("id", "annotation_id", "int64"), ("nucleus_volume_um3", "feature", "double"))
    docs.append(base_document(
        "nucleus_features", "v1", title="Nucleus features", materialization={"version": 1412},
        format="iceberg", columns=ncols, tags=["nuclei"],
        references=[{"column": "id", "annotation_table": "nucleus_detection_v0"}],
        inspected={"columns": ninsp, "row_count": 90000, "file_count": 4, "bytes": 200000, "fingerprint": "iceberg:123"},
        published_at="2025-09-01T00:00:00+00:00",
    ))
    fcols, finsp = _cols(("root_id", "root_id", "int64"), ("neurotransmitter", "label", "string"))
    docs.append(base_document(
        "fly_neuron_props", "v1", title="Fly neuron properties", datastack="flywire_fafb_public",
        aligned_volume="fafb_seg", materialization={"version": 783}, format="lance", columns=fcols, tags=["cell-types"],
        owners=[{"name": "Grace Hopper"}],
        inspected={"columns": finsp, "row_count": 130000, "file_count": 8, "bytes": 300000, "fingerprint": "lance:7"},
        published_at="2025-10-01T00:00:00+00:00",
    ))
    docs.append(base_document(
        "draft_thing", "v0", title="A draft", status="draft", materialization={"version": 1412},
        published_at="2025-11-01T00:00:00+00:00",
    ))
    # Every free-text field carries a payload.
    xcols = [{"name": "id", "semantic": "annotation_id", "description": XSS_MD, "unit": XSS},
             {"name": XSS_COLUMN, "semantic": "feature", "description": XSS}]
    docs.append(base_document(
        "xss_probe", "v1", title="Probe " + XSS, description=XSS_MD, datastack="stack " + XSS,
        aligned_volume=XSS, materialization={"version": 1078}, format="parquet",
        location="s3://b/" + XSS, columns=xcols,
        references=[{"column": "id", "annotation_table": XSS_COLUMN, "target_column": XSS,
                     "description": XSS},
                    {"column": XSS_COLUMN, "dataset": "cell_types@v1", "target_column": XSS}],
        owners=[{"name": "Mallory " + XSS, "team": XSS}],
        license=XSS, usage_constraints=XSS_MD,
        citation={"text": XSS, "doi": XSS, "bibtex": XSS + "\n\n# not a heading " + XSS},
        tags=["probe", "tag " + XSS], provenance={"pipeline": XSS, "code_url": "javascript:window.__pwned=1",
                                                  "commit": XSS, "model": XSS, "parameters": {"p": XSS}},
        access={"dataset": XSS},
        inspected={"columns": [{"name": "id", "type": "int64", "nullable": False},
                               {"name": XSS_COLUMN, "type": XSS, "nullable": True}],
                   "row_count": 1, "file_count": 1, "bytes": 1, "fingerprint": XSS,
                   "partition_columns": [XSS_COLUMN], "reader_features": {"x": XSS}},
        checks=[{"check": "materialization_version_valid", "ok": False, "detail": XSS,
                 "checked_at": "2025-01-01T00:00:00+00:00", "subject": XSS}],
        published_by=XSS,
        history=[{"action": "published", "at": "2025-01-01T00:00:00+00:00", "by": XSS, "reason": XSS}],
        published_at="2025-01-02T00:00:00+00:00",
    ))
    return docs


def write_example_registry(root: Path) -> None:
    for doc in example_documents():
        write_document(str(root), doc)
    write_raw(str(root), "broken_json", "v1", b"{ not json")
    bad = base_document("bad_semantic", "v1")
    bad["columns"][0]["semantic"] = "not_a_semantic"
    import json

    write_raw(str(root), "bad_semantic", "v1", json.dumps(bad).encode())


@pytest.fixture(scope="session")
def example_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("registry")
    write_example_registry(root)
    return root


@pytest.fixture(scope="session")
def built_site(example_registry: Path, tmp_path_factory: pytest.TempPathFactory):
    """(site directory, BuildReport) built once per session."""
    from site_builder.build import build_site

    out = tmp_path_factory.mktemp("site") / "site"
    report = build_site(str(example_registry), str(out), site_url="https://catalog.lab.example/",
                        signer_url="https://signer.lab.example", progress=False)
    return out, report


# One Chromium fixture for the whole suite lives in tests/conftest.py (package-scoped).
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, chromium_browser  # noqa: E402,F401 - re-exported for browser tests


@pytest.fixture(scope="package")
def browser():
    """One Chromium for this package's browser tests (tests/conftest.py says why per package)."""
    yield from chromium_browser()


def _serve(site: Path) -> Iterator[str]:
    import os

    from site_builder.cli import make_server

    os.environ["SITE_SERVE_QUIET"] = "1"
    with serving(make_server(str(site), PORT_HOST, 0)) as url:
        yield url


@pytest.fixture(scope="session")
def site_server(built_site) -> Iterator[str]:
    """The built site on 127.0.0.1 (a free port); stops at the end of the session."""
    yield from _serve(built_site[0])


def ranking_documents() -> list[dict[str, Any]]:
    """`exact_column` has the column `feat_kappa_1`; 126 fillers have one column each that starts
    with it (`feat_kappa_10`, `feat_kappa_11`, ...), and so does `prefix_column_0`
    (`feat_kappa_1999`, past the expansion limit in sorted order: never a hit). Names sort the
    exact dataset *after* most prefix matches, so only the ranking can put it first."""
    names = [f"filler_{i:03d}" for i in range(126)]
    columns = {"prefix_column_0": ["id", "feat_kappa_1999"], "zz_exact_column": ["id", "feat_kappa_1"]}
    for j, name in enumerate(names):
        columns[name] = ["id", "score", f"feat_kappa_1{j}"]
    docs = []
    for name, cols_ in columns.items():
        cols, insp = _cols(*[(c, "annotation_id" if c == "id" else "feature", "int64") for c in cols_])
        docs.append(base_document(name, "v1", title=name.replace("_", " ").capitalize(), columns=cols,
                                  inspected={"columns": insp, "row_count": 1, "file_count": 1, "bytes": 1,
                                             "fingerprint": "parquet:x"}))
    return docs


@pytest.fixture(scope="session")
def ranking_site_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second, tiny site for search ranking (kept apart so the example site's counts stay put)."""
    from site_builder.build import build_site

    root = tmp_path_factory.mktemp("ranking-registry")
    for doc in ranking_documents():
        write_document(str(root), doc)
    out = tmp_path_factory.mktemp("ranking-site") / "site"
    from registry import search_rules

    target = search_rules.SHARD_BYTES
    search_rules.SHARD_BYTES = 600  # many small term shards: expansions cross shard boundaries
    try:
        build_site(str(root), str(out), site_url="https://catalog.lab.example/", progress=False)
    finally:
        search_rules.SHARD_BYTES = target
    assert len(list((out / "catalog" / "search" / "terms").iterdir())) > 5
    yield from _serve(out)
