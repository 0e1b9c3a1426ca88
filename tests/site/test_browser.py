"""The built site in Debian's Chromium (Playwright): search, facets, diagrams, banners, the
compatibility matrix, no request to any other host, and no publisher payload ever running."""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlparse

import pytest

from tests.site.conftest import CHROMIUM, CHROMIUM_ARGS as ARGS  # noqa: F401 - used by tests/ops

pytestmark = pytest.mark.browser

# The `browser` fixture (one Chromium per test package) is in tests/conftest.py:
# Playwright's sync API cannot run two of them in one thread.


class Watched:
    """A page that records every request, console error and dialog."""

    def __init__(self, browser, base: str):
        self.page = browser.new_page()
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)

    def goto(self, rel: str):
        self.page.goto(f"{self.base}/{rel}")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def foreign(self) -> list[str]:
        host = urlparse(self.base).netloc
        return [u for u in self.requests if urlparse(u).scheme not in ("data", "blob", "about")
                and urlparse(u).netloc != host]


@pytest.fixture
def watched(browser, site_server):
    w = Watched(browser, site_server)
    yield w
    w.page.close()


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll `expression` with page.evaluate (CDP, not subject to the site's CSP, which rightly
    forbids the eval that Playwright's wait_for_function uses)."""
    import time

    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def shown(page, qs: str) -> None:
    """Wait until the search page shows the results for the query string `qs` (rendering is async:
    the URL changes at once, the results when their index files have arrived)."""
    wait_until(page, f"document.querySelector('#fr-search').dataset.shown === {qs!r}")


def _results(page) -> list[str]:
    return page.eval_on_selector_all("#fr-results li", "els => els.map(e => e.dataset.dataset)")


def _refs(page) -> list[str]:
    return page.eval_on_selector_all("#fr-results a.fr-r-version", "els => els.map(e => e.dataset.ref)")


def test_search_by_column_name_finds_the_dataset(watched):
    page = watched.goto("search.html")
    page.wait_for_selector("#fr-search[data-ready]")
    page.fill("#fr-q", "synapse_embedding_vec")
    shown(page, "q=synapse_embedding_vec")
    assert _results(page)[0] == "synapse_embeddings"
    assert page.get_attribute("#fr-results li .fr-r-why", "data-fields") == "column"
    # a word from a column *description* is found too ("<name> column"), each word in its field
    page.fill("#fr-q", "neurotransmitter column")
    shown(page, "q=neurotransmitter+column")
    assert _results(page) == ["fly_neuron_props"]
    assert page.get_attribute("#fr-results li .fr-r-why", "data-fields") == "column,column description"
    assert watched.errors == [] and watched.foreign() == []


def test_a_column_match_names_the_column(watched, built_site):
    """`root` is indexed as a part of `pt_root_id` and `pre_pt_root_id`: the result says which column
    of the shown version it matched in (its full name, a real column of that version), not the
    query word. Same in the header box."""
    import json

    out, _ = built_site
    page = watched.goto("search.html?q=root")
    shown(page, "q=root")
    rows = page.eval_on_selector_all("#fr-results li", """els => els.map(e => [e.querySelector('.fr-r-name').textContent,
        e.querySelector('.fr-r-why').dataset.fields, e.querySelector('.fr-r-why').textContent])""")
    checked = 0
    for ref, fields, text in rows:
        if fields != "column":
            continue
        name, version = ref.split("@")
        doc = json.loads((out / "api" / "datasets" / name / f"{version}.json").read_text())
        shown_name = text.split("\u201c", 1)[1].rstrip("\u201d")
        assert shown_name != "root" and "root" in shown_name, text
        assert shown_name in [c["name"] for c in doc["inspected"]["columns"]], (ref, text)
        checked += 1
    assert checked >= 2, rows
    page.click("#fr-box-q")
    page.keyboard.type("root")
    wait_until(page, "document.querySelector('#fr-box').dataset.shown === 'root'")
    whys = page.eval_on_selector_all("#fr-box-results li .fr-box-why", "els => els.map(e => e.textContent)")
    assert whys and all("\u201croot\u201d" not in w for w in whys), whys
    assert watched.errors == [] and watched.foreign() == []


def test_exact_column_name_ranks_above_prefix_matches(browser, ranking_site_server):
    """Asking for `feat_kappa_1` puts the dataset with that column first, above datasets whose
    columns only start with it, found across several term shards and record chunks
    (`ranking_documents`)."""
    w = Watched(browser, ranking_site_server)
    try:
        page = w.goto("search.html?q=feat_kappa_1")
        shown(page, "q=feat_kappa_1")
        assert len({u for u in w.requests if "/catalog/search/terms/" in u}) > 1
        assert len({u for u in w.requests if "/catalog/search/records/" in u}) > 1
        results = _results(page)
        assert results[0] == "zz_exact_column", results[:5]
        assert "prefix_column_0" not in results  # feat_kappa_1999: past the expansion limit
        assert len(results) == 50 and results[1:] == sorted(results[1:])  # prefix matches tie: by name
        assert w.errors == []
    finally:
        w.page.close()


def test_the_early_start_paints_the_first_results_itself(browser, ranking_site_server):
    """search.html's early copy of the engine (first in the head) paints the URL's first results
    without search.js: blocked, the first FIRST (10) still appear, in the order search.js shows
    them; with search.js, it keeps those and adds the rest, none twice."""
    w = Watched(browser, ranking_site_server)
    try:
        page = w.goto("search.html?q=feat_kappa_1")
        shown(page, "q=feat_kappa_1")
        full = _results(page)
        assert len(full) == len(set(full)) == 50 and full[0] == "zz_exact_column"
        assert w.errors == []
    finally:
        w.page.close()
    w = Watched(browser, ranking_site_server)
    try:
        w.page.route("**/assets/search.js", lambda route: route.abort())
        page = w.goto("search.html?q=feat_kappa_1")
        wait_until(page, "document.querySelectorAll('#fr-results li').length === 10")
        assert _results(page) == full[:10]
        assert page.evaluate("typeof window.frSearchFirstAt") == "number"
        assert page.inner_text("#fr-summary") == "Loading the index…"  # search.js never ran
        assert page.input_value("#fr-q") == "feat_kappa_1"
        assert page.get_attribute("#fr-results li a.fr-r-name", "href").startswith("datasets/zz_exact_column/")
    finally:
        w.page.close()


def test_search_page_head_starts_the_query_first(built_site):
    """The policy comes before every script and stylesheet, and search.html's early engine and
    index preloads before any stylesheet (docs/site.md, "Speed")."""
    html = (built_site[0] / "search.html").read_text()
    head = html[:html.index("</head>")]
    csp = head.index('http-equiv="Content-Security-Policy"')
    assert csp < head.index('rel="stylesheet"') and csp < head.index("<script")
    early = head.index("data-early")
    assert early < head.index('rel="stylesheet"') and head.index('as="fetch"') < head.index('rel="stylesheet"')
    assert head.count("data-early") == 1
    other = (built_site[0] / "index.html").read_text()
    assert "data-early" not in other and 'as="fetch"' not in other


def test_facets_narrow_and_deprecated_hidden_by_default(watched):
    page = watched.goto("search.html")
    page.wait_for_selector("#fr-search[data-ready]")
    everything = _results(page)
    assert {"synapse_embeddings", "cell_types", "fly_neuron_props", "nucleus_features"} <= set(everything)
    assert "synapse_embeddings@v1" not in _refs(page)  # deprecated: hidden by default
    assert "synapse_embeddings@v2" in _refs(page)
    page.check("fieldset[data-facet='s'] input[value='flywire_fafb_public']")
    shown(page, "s=flywire_fafb_public")
    assert _results(page) == ["fly_neuron_props"]
    page.uncheck("fieldset[data-facet='s'] input[value='flywire_fafb_public']")
    shown(page, "")
    page.check("fieldset[data-facet='m'] input[value='943']")
    shown(page, "m=943")
    assert set(_results(page)) == {"cell_types"}  # synapse_embeddings@v1 is at 943 but deprecated
    page.check("fieldset[data-facet='st'] input[value='deprecated']")
    shown(page, "m=943&st=deprecated")
    assert _refs(page) == ["synapse_embeddings@v1"]
    assert watched.errors == [] and watched.foreign() == []


def test_join_diagram_renders_to_svg(watched):
    page = watched.goto("datasets/synapse_embeddings/v2.html")
    page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
    svgs = page.locator(".fr-mermaid-svg svg")
    assert svgs.count() == 2  # joins and lineage
    text = svgs.first.text_content()
    assert "synapses_pni_2" in text and "cell_types@v1" in text
    assert "changes with proofreading" in text
    assert page.locator("pre.fr-mermaid[data-error]").count() == 0
    assert watched.errors == [] and watched.foreign() == []


def test_deprecation_banner_links_to_successor(watched):
    page = watched.goto("datasets/synapse_embeddings/v1.html")
    banner = page.locator("#fr-deprecated")
    assert "wrong voxel size" in banner.text_content()
    banner.locator("a.fr-successor").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/datasets/synapse_embeddings/v2.html")
    assert page.locator("h1").first.text_content() == "synapse_embeddings@v2"


def test_compatibility_matrix_for_the_example_registry(watched):
    page = watched.goto("materialization/minnie65_phase3_v1.html")
    mats = page.eval_on_selector_all("#fr-matrix thead th[data-mat]", "els => els.map(e => e.dataset.mat)")
    assert mats == ["943", "1078", "1412"]
    cells = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#fr-matrix tbody tr')].map(
        tr => [tr.dataset.dataset, Object.fromEntries([...tr.querySelectorAll('td')].map(
            td => [td.dataset.mat, [...td.querySelectorAll('a')].map(a => a.dataset.version)]))]))""")
    assert cells["synapse_embeddings"] == {"943": ["v1"], "1078": ["v2"], "1412": []}
    assert cells["cell_types"] == {"943": ["v1"], "1078": ["v1"], "1412": []}
    assert cells["nucleus_features"] == {"943": [], "1078": [], "1412": ["v1"]}
    assert "fly_neuron_props" not in cells
    assert page.locator("a.fr-cell-deprecated").count() == 1


def test_pages_contact_no_other_host(watched):
    for rel in ["index.html", "search.html?q=cell", "datasets/index.html", "datasets/synapse_embeddings.html",
                "datasets/synapse_embeddings/v2.html", "materialization/minnie65_phase3_v1.html",
                "tags/index.html", "datasets/xss_probe/v1.html"]:
        watched.goto(rel)
    assert any(u.endswith("mermaid.min.js") for u in watched.requests)
    assert any(u.endswith("catalog/search/meta.json") for u in watched.requests)
    assert watched.foreign() == []


def test_no_publisher_payload_runs(watched, built_site):
    out, _ = built_site
    pages = ["datasets/xss_probe/v1.html", "datasets/xss_probe.html", "datasets/index.html", "index.html",
             "search.html?q=probe&st=published", "search.html?q=pwned"]
    for folder in ("tags", "owners", "datastacks", "materialization"):
        pages += [f"{folder}/{p.name}" for p in (out / folder).glob("*.html")]
    for rel in pages:
        page = watched.goto(rel)
        if rel.startswith("datasets/xss_probe/"):
            page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
            # follow every link in the article that is not plain navigation: none may run script
            hrefs = page.eval_on_selector_all("article a[href]", "els => els.map(a => a.getAttribute('href'))")
            assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:", "vbscript:"))]
        if rel.startswith("search.html?q=probe"):
            shown(page, "q=probe&st=published")
            assert "xss_probe" in _results(page)
        assert page.evaluate("typeof window.__pwned") == "undefined", rel
    assert watched.dialogs == []
    assert watched.foreign() == []


def test_a_query_fetches_only_what_it_needs(watched):
    """A query loads meta + facets, the term shard(s) of its words and the records of the results
    shown: never the whole index, never the client's refs.json."""
    page = watched.goto("search.html?q=synapse")
    shown(page, "q=synapse")
    assert _results(page)[0] == "synapse_embeddings"
    got = [u.split("/catalog/search/", 1)[1] for u in watched.requests if "/catalog/search/" in u]
    assert {"meta.json", "facets.json"} <= set(got)
    assert 1 <= sum(g.startswith("terms/") for g in got) <= 2
    assert "refs.json" not in got
    assert watched.errors == [] and watched.foreign() == []


def test_header_box_finds_a_column_from_a_version_page(watched):
    """The header search box searches the catalog from any page (here a version page, two folders
    deep) and says which field matched; Enter's target is the full search page."""
    page = watched.goto("datasets/synapse_embeddings/v2.html")
    page.click("#fr-box-q")
    page.keyboard.type("pre_pt_root_id")
    wait_until(page, "document.querySelector('#fr-box').dataset.shown === 'pre_pt_root_id'")
    names = page.eval_on_selector_all("#fr-box-results li", "els => els.map(e => e.dataset.dataset)")
    assert "synapse_embeddings" in names
    assert page.get_attribute("#fr-box-results li .fr-box-why", "data-fields") == "column"
    assert page.is_visible("#fr-box-results li")
    href = page.get_attribute("#fr-box-results li a", "href")
    assert href.startswith("../../datasets/")
    page.click("#fr-box-results li a")
    page.wait_for_load_state("networkidle")
    assert "/datasets/" in page.url and page.url.endswith(".html")
    assert watched.errors == [] and watched.foreign() == []


# ---- The Content-Security-Policy is a defence, not decoration (issue 10, item 9): pages run no
# inline script of their own, so `script-src` can leave out 'unsafe-inline', and markup that
# escaping failed to stop (simulated by writing it into a built page) does not run. Before, the
# policy allowed inline script and the injected handlers ran. (Here, not in a module of its own:
# Playwright's sync API allows one running instance, this module's `browser`.)

INJECTED = (
    '<img id="fr-inj-img" src="x-missing.png" onerror="window.__pwned=1">'
    '<script>window.__pwned=2</script>'
    '<a id="fr-inj-a" href="#" onclick="window.__pwned=3;return false">click</a>'
    '<svg onload="window.__pwned=4"></svg>'
    '<div id="fr-inj-mouse" onmouseover="window.__pwned=5" style="width:50px;height:50px">hover</div>'
)


@pytest.fixture(scope="module")
def injected_site(built_site, tmp_path_factory):
    """A copy of the built site with one page whose body carries live inline script."""
    from tests.site.conftest import _serve

    src, _ = built_site
    site = tmp_path_factory.mktemp("csp") / "site"
    shutil.copytree(src, site)
    page = site / "datasets" / "synapse_embeddings" / "v2.html"
    html = page.read_text()
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + INJECTED, html, count=1)
    (page.parent / "injected.html").write_text(html)
    yield from _serve(site)


def _csp_violations(watched: Watched) -> list[str]:
    return [e for e in watched.errors if "Content Security Policy" in e]


def test_policy_forbids_inline_script(built_site):
    out, _ = built_site
    for rel in ("index.html", "search.html", "datasets/synapse_embeddings/v2.html", "404.html"):
        html = (out / rel).read_text()
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, rel
        # every <script> either loads a file or is a data block (JSON-LD, Material's config)
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in attrs or re.search(r'type="application/(ld\+)?json"', attrs), (rel, attrs, body[:80])
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), rel


def test_pages_work_under_the_policy(browser, site_server):
    w = Watched(browser, site_server)
    try:
        page = w.goto("datasets/synapse_embeddings/v2.html")
        page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
        assert page.evaluate("typeof __md_get === 'function' && __md_scope instanceof URL")
        page = w.goto("search.html")
        page.wait_for_selector("#fr-search[data-ready]")
        page.fill("#fr-q", "synapse_embedding_vec")
        page.press("#fr-q", "Enter")  # was an inline onsubmit; must still not reload the page
        wait_until(page, "document.querySelectorAll('#fr-results li').length > 0")
        assert page.url.endswith("search.html") or "q=" in page.url
        w.goto("index.html")
        assert _csp_violations(w) == [] and w.errors == []
    finally:
        w.page.close()


def test_an_injected_inline_handler_does_not_run(browser, injected_site):
    w = Watched(browser, injected_site)
    try:
        page = w.goto("datasets/synapse_embeddings/injected.html")
        page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)  # the page's own scripts still run
        page.click("#fr-inj-a")
        page.hover("#fr-inj-mouse")
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert _csp_violations(w), "the browser reports the refused inline script"
    finally:
        w.page.close()


@pytest.mark.s3
def test_search_from_a_bucket_the_deploy_filled(browser, built_site, s3_bucket, s3_env):
    """`deploy-site` to the moto S3 server, then the search page read straight from the bucket:
    the index and the page shell arrive gzipped (`Content-Encoding: gzip`, as stored) and the
    query answers as from the build directory."""
    import json as _json

    import boto3

    from site_builder.deploy import deploy_site

    site, _report = built_site
    deploy_site(str(site), f"s3://{s3_bucket}/site")
    boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1").put_bucket_policy(
        Bucket=s3_bucket, Policy=_json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{s3_bucket}/*"}]}))
    w = Watched(browser, f"{s3_env}/{s3_bucket}/site")
    encodings: dict[str, str] = {}
    w.page.on("response", lambda r: encodings.__setitem__(
        r.url.split("/site/", 1)[-1], r.headers.get("content-encoding", "")))
    try:
        page = w.goto("search.html?q=synapse")
        shown(page, "q=synapse")
        assert _results(page)[0] == "synapse_embeddings"
        index = {k: v for k, v in encodings.items() if k.startswith("catalog/search/")}
        big = {k for k in index if (site / k.split("?")[0]).stat().st_size >= 1024}
        assert big and all(index[k] == "gzip" for k in big), index
        assert encodings["assets/search-engine.js"] == "gzip"
        assert w.errors == [] and w.foreign() == []
    finally:
        w.page.close()
