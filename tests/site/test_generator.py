"""Unit tests of the site generator: report, JSON API, schema validity, pages, safety, vendoring."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from registry.errors import RegistryError
from registry.model import DatasetDocument
from site_builder import diagrams
from site_builder.build import BuildFailed, build_site
from site_builder.catalog import RegistrySnapshot
from site_builder.jsonout import site_document_schema
from site_builder.pages import compatibility_matrix, split_page
from site_builder.sanitize import markdown_to_safe_html, safe_url
from site_builder.vendor import VendorMissing

from .conftest import XSS_COLUMN, example_documents


def _doc_models():
    return [DatasetDocument.from_dict(d) for d in example_documents()]


# ---- build report -------------------------------------------------------------------------------

def test_report_counts_and_lists_invalid_documents(built_site):
    out, report = built_site
    assert report.versions == len(example_documents())
    assert report.datasets == len({d["name"] for d in example_documents()})
    skipped = sorted(Path(s.path).parent.name for s in report.skipped)
    assert skipped == ["bad_semantic", "broken_json"]
    bad = next(s for s in report.skipped if "bad_semantic" in s.path)
    assert "columns[0].semantic" in bad.message
    assert not (out / "datasets" / "bad_semantic.html").exists()
    assert (out / "datasets" / "synapse_embeddings" / "v2.html").is_file()


def test_build_leaves_the_garbage_collector_as_it_found_it(example_registry, built_site, tmp_path):
    """The build freezes the catalog for its duration (see site_builder.build._frozen_catalog);
    nothing may stay frozen or disabled afterwards, also when the build fails."""
    import gc

    assert gc.isenabled() and gc.get_freeze_count() == 0
    build_site(str(example_registry), str(tmp_path / "again"), progress=False)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with pytest.raises(BuildFailed):
        build_site(str(example_registry), str(tmp_path / "strict"), strict=True, progress=False)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_strict_fails_and_writes_nothing(example_registry, tmp_path):
    out = tmp_path / "strict-site"
    with pytest.raises(BuildFailed, match="2 document"):
        build_site(str(example_registry), str(out), strict=True, progress=False)
    assert not out.exists()


def test_refuses_to_empty_a_directory_that_is_not_a_site(example_registry, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(BuildFailed, match="refusing"):
        build_site(str(example_registry), str(tmp_path), progress=False)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_missing_vendor_scripts_is_a_clear_error(example_registry, tmp_path, monkeypatch):
    monkeypatch.setenv("SITE_VENDOR_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(VendorMissing, match="make site-vendor"):
        build_site(str(example_registry), str(tmp_path / "site"), progress=False)
    # one error family: the command maps it by type (RegistryError, exit 1), no traceback
    from click.testing import CliRunner

    from feature_registry.cli import main

    assert issubclass(VendorMissing, RegistryError)
    result = CliRunner().invoke(main, ["build-site", "--registry", str(example_registry), "--out", str(tmp_path / "s2")])
    assert result.exit_code == 1 and "make site-vendor" in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit) and not (tmp_path / "s2").exists()


def test_cli_build_site_uses_env_registry(example_registry, tmp_path, monkeypatch):
    from site_builder.cli import build_site as cmd

    monkeypatch.setenv("FEATURE_REGISTRY_URI", str(example_registry))
    result = CliRunner().invoke(cmd, ["--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "built 7 versions" in result.output
    assert (tmp_path / "s" / "index.json").is_file()
    strict = CliRunner().invoke(cmd, ["--out", str(tmp_path / "s2"), "--strict"])
    assert strict.exit_code == 1
    assert "bad_semantic" in strict.output


# ---- JSON for scripts ---------------------------------------------------------------------------

def test_index_and_documents_validate_against_published_schemas(built_site):
    out, _ = built_site
    index = json.loads((out / "index.json").read_text())
    jsonschema.validate(index, json.loads((out / "schema" / "index.schema.json").read_text()))
    schema = json.loads((out / "schema" / "dataset.schema.json").read_text())
    assert schema == json.loads(json.dumps(site_document_schema()))  # the document's, plus derived `join`
    docs = list((out / "api" / "datasets").glob("*/*.json"))
    assert len(docs) == index["version_count"] == 7
    for path in docs:
        data = json.loads(path.read_text())
        jsonschema.validate(data, schema)
        assert DatasetDocument.from_dict(data).ref == f"{path.parent.name}@{path.stem}"


def test_index_summaries_and_dataset_api(built_site):
    out, _ = built_site
    index = {v["ref"]: v for v in json.loads((out / "index.json").read_text())["versions"]}
    v1, v2 = index["synapse_embeddings@v1"], index["synapse_embeddings@v2"]
    assert (v1["status"], v1["latest"], v1["superseded_by"]) == ("deprecated", False, "synapse_embeddings@v2")
    assert v1["deprecated_reason"] == "wrong voxel size"
    assert (v2["latest"], v2["materialization_versions"]) == (True, [1078])
    assert index["cell_types@v1"]["materialization_versions"] == [943, 1078]
    assert "synapse_embedding_vec" in v2["columns"]
    assert (out / v2["page"]).is_file() and (out / v2["document"]).is_file()
    ds = json.loads((out / "api" / "datasets" / "synapse_embeddings.json").read_text())
    assert ds["latest"] == "v2"
    assert [v["version"] for v in ds["versions"]] == ["v1", "v2"]
    draft = json.loads((out / "api" / "datasets" / "draft_thing.json").read_text())
    assert draft["latest"] is None


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.elements: list[tuple[str, dict]] = []
        self._in: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "script":
            self._in = a
            self.scripts.append((a, ""))

    def handle_data(self, data):
        if self._in is not None:
            a, text = self.scripts[-1]
            self.scripts[-1] = (a, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = None


def _parse(path: Path) -> _Collect:
    p = _Collect()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_version_page_embeds_schema_org_dataset(built_site):
    out, _ = built_site
    page = _parse(out / "datasets" / "synapse_embeddings" / "v2.html")
    ld = [json.loads(t) for a, t in page.scripts if a.get("type") == "application/ld+json"]
    assert len(ld) == 1
    data = ld[0]
    assert data["@type"] == "Dataset" and data["name"] == "synapse_embeddings@v2"
    assert data["version"] == "v2" and data["license"] == "CC-BY-4.0"
    assert data["creator"][0]["name"] == "Ada Lovelace"
    assert "embeddings" in data["keywords"]
    assert {"synapse_embedding_vec", "id"} <= {v["name"] for v in data["variableMeasured"]}
    assert data["url"] == "https://catalog.lab.example/datasets/synapse_embeddings/v2.html"
    assert any(d["contentUrl"].endswith("api/datasets/synapse_embeddings/v2.json") for d in data["distribution"])
    assert "doi.org/10.1000/xyz" in data["citation"]


def test_version_page_content(built_site):
    out, _ = built_site
    html = (out / "datasets" / "synapse_embeddings" / "v2.html").read_text()
    assert "Delta table version" in html
    assert 'class="fr-added">added <code>confidence</code>' in html  # schema diff against v1
    assert 'signer_url="https://signer.lab.example"' in html  # how-to-read pinned to the signer
    assert 'cat.get("synapse_embeddings", "v2")' in html  # ... and to this version
    assert "@article{lovelace2025," in html  # BibTeX
    assert "FRBLOCK" not in html  # every fragment was put back
    assert "Layout <code>by_post_pt_root_id</code>" in html and "ordered by post_pt_root_id" in html
    assert "post&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # a layout's location is escaped
    v1 = (out / "datasets" / "synapse_embeddings" / "v1.html").read_text()
    assert 'class="fr-successor" href="../../datasets/synapse_embeddings/v2.html"' in v1


def test_home_and_browse_pages(built_site):
    out, _ = built_site
    for rel in ["index.html", "search.html", "datasets/index.html", "datastacks/index.html",
                "datastacks/minnie65_phase3_v1.html", "materialization/index.html",
                "materialization/minnie65_phase3_v1.html", "tags/index.html", "tags/cell-types.html",
                "owners/index.html", "datasets/synapse_embeddings.html"]:
        assert (out / rel).is_file(), rel
    tag = (out / "tags" / "cell-types.html").read_text()
    assert "cell_types" in tag and "fly_neuron_props" in tag and "synapse_embeddings@" not in tag


def test_compatibility_matrix():
    docs = [d for d in _doc_models() if d.datastack == "minnie65_phase3_v1"]
    mx = compatibility_matrix(docs)
    assert mx["mats"] == [943, 1078, 1412]
    cells = {name: {m: [d.version for d in ds] for m, ds in row.items()} for name, row in mx["rows"].items()}
    assert cells["synapse_embeddings"] == {943: ["v1"], 1078: ["v2"]}
    assert cells["cell_types"] == {943: ["v1"], 1078: ["v1"]}
    assert cells["nucleus_features"] == {1412: ["v1"]}
    assert "draft_thing" not in cells


def test_dataset_pages_stay_out_of_nav_and_material_search(built_site):
    out, _ = built_site
    index = json.loads((out / "search" / "search_index.json").read_text())
    locations = {d["location"].split("#")[0] for d in index["docs"]}
    assert not any(loc.startswith("datasets/") for loc in locations)
    home = (out / "index.html").read_text()
    assert "synapse_embeddings/v2.html" not in home.split('class="md-nav')[1].split("</nav>")[0]


# ---- self-contained ------------------------------------------------------------------------------

def test_vendored_scripts_and_licences_present(built_site):
    out, _ = built_site
    for pkg, script in (("mermaid", "mermaid.min.js"), ("lunr", "lunr.min.js")):
        d = out / "assets" / "vendor" / pkg
        assert (d / script).stat().st_size > 10_000
        assert "MIT" in (d / "LICENSE").read_text() or "Permission is hereby granted" in (d / "LICENSE").read_text()


def test_no_page_loads_from_another_host(built_site):
    out, _ = built_site
    for path in out.rglob("*.html"):
        for tag, attrs in _parse(path).elements:
            loads = tag == "link" and attrs.get("rel") not in ("canonical", "alternate", "author")
            for key in ("src", "srcset") + (("href",) if loads else ()):
                value = attrs.get(key) or ""
                assert not re.match(r"^(https?:)?//", value), f"{path}: <{tag} {key}={value}>"


# ---- untrusted text -------------------------------------------------------------------------------

def test_payload_pages_have_no_active_content(built_site):
    out, _ = built_site
    probe_pages = [out / "datasets" / "xss_probe" / "v1.html", out / "datasets" / "xss_probe.html",
                   out / "datasets" / "index.html", out / "index.html"]
    probe_pages += list((out / "tags").glob("*.html")) + list((out / "owners").glob("*.html"))
    probe_pages += list((out / "datastacks").glob("*.html")) + list((out / "materialization").glob("*.html"))
    for path in probe_pages:
        parsed = _parse(path)
        text = path.read_text(encoding="utf-8")
        article = _Collect()
        article.feed(text[text.index("<article"): text.index("</article>")])
        for tag, _ in article.elements:  # Material's own icons are inline SVG outside the article
            assert tag not in ("iframe", "img", "svg", "object", "embed"), f"{path}: <{tag}>"
        for tag, attrs in parsed.elements:
            for k, v in attrs.items():
                assert not k.startswith("on"), f"{path}: <{tag} {k}>"
                if k in ("href", "src", "action"):
                    assert not (v or "").strip().lower().startswith(("javascript:", "data:")), f"{path}: {k}={v}"
        for attrs, text in parsed.scripts:
            assert "__pwned" not in text or attrs.get("type") == "application/ld+json", path
            if attrs.get("type") == "application/ld+json":
                assert "</script" not in text.lower()
                json.loads(text)
    # the title element holds only the pattern-checked name
    v1 = (out / "datasets" / "xss_probe" / "v1.html").read_text()
    assert re.search(r"<title>xss_probe@v1 - ", v1)


def test_sanitizer_unit():
    html = markdown_to_safe_html("[a](javascript:alert(1)) <b onclick=x>b</b> ![i](http://h/i.png) **ok**")
    assert 'href="javascript' not in html and "onclick=" not in html.replace("&lt;b onclick=x&gt;", "") and "<img" not in html and "<b " not in html
    assert "<strong>ok</strong>" in html and 'href="http://h/i.png"' in html
    assert safe_url("JaVaScRiPt:alert(1)") is None and safe_url(" java\nscript:x") is None
    assert safe_url("https://example.org/x") == "https://example.org/x"


def test_mermaid_labels_cannot_break_out():
    """Every line of a diagram built from payload text matches the fixed grammar the generator
    emits, and labels carry no quote or angle bracket: nothing can start a new statement."""
    cat = RegistrySnapshot.from_documents(_doc_models())
    probe = cat.get("xss_probe@v1")
    src = diagrams.join_diagram(probe, cat)
    grammar = re.compile(
        r'^  (n\d+\["[^"<>]*"\]|n\d+\(\["[^"<>]*"\]\)|n\d+ (-->|-\.->)\|"[^"<>]*"\| n\d+|class n\d+ \w+|classDef .*)$'
    )
    lines = src.splitlines()
    assert lines[0] == "flowchart LR" and len(lines) > 4
    for line in lines[1:]:
        assert grammar.match(line), line
    assert not any(ch in diagrams.label(XSS_COLUMN) for ch in '"<>[]();|')


def test_split_page_keeps_only_nonce_headings():
    text = "---\ntitle: x\n---\nN1## Real\n<p>a</p>\n## forged\n<p>b</p>\n"
    skeleton, fragments = split_page(text, "N1")
    assert "## Real" in skeleton and "forged" not in skeleton
    assert fragments == ["<p>a</p>\n## forged\n<p>b</p>"]
