"""The example (demo) site in Debian's Chromium: the join badge that tells a 1078 user that
cell_types@2 shares no materialization version (and which version would), the referenced-by list,
and the materialization workbench's diagram, with no request to any other host."""

from __future__ import annotations

import pytest

from tests.site.test_browser import Watched

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, example_site):
    w = Watched(browser, example_site.url)
    yield w
    w.page.close()


def test_no_shared_version_badge_and_joinable_version(page):
    p = page.goto("datasets/synapse_embeddings/1.html")
    badge = p.locator('tr[data-column="post_pt_root_id"] [data-verdict="no_shared_version"]')
    assert badge.is_visible() and badge.inner_text().strip() == "no shared version"
    joinable = p.locator('tr[data-column="post_pt_root_id"] .fr-joinable a')
    assert joinable.inner_text() == "cell_types@1"
    joinable.click()
    p.wait_for_load_state("networkidle")
    assert p.url.endswith("/datasets/cell_types/1.html")
    ok = page.goto("datasets/morphology_features/1.html").locator('tr[data-column="nucleus_id"] [data-verdict="ok"]')
    assert ok.count() == 2 and ok.first.is_visible()
    assert page.errors == [] and page.foreign() == []


def test_referenced_by_list(page):
    p = page.goto("datasets/cell_types/2.html")
    rows = p.locator("#fr-referenced-by tbody tr")
    assert [rows.nth(i).get_attribute("data-ref") for i in range(rows.count())] == [
        "morphology_features@1", "synapse_embeddings@1"]
    assert rows.nth(1).locator('[data-verdict="no_shared_version"]').is_visible()
    p = page.goto("datasets/cell_types.html")
    assert p.locator("#fr-referenced-by tbody tr").count() == 2
    assert page.errors == [] and page.foreign() == []


def test_workbench_from_the_matrix(page):
    p = page.goto("materialization/minnie65_phase3_v1.html")
    p.locator('th[data-mat="1078"] a').click()
    p.wait_for_load_state("networkidle")
    assert p.url.endswith("/materialization/minnie65_phase3_v1/1078.html")
    p.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
    text = p.locator(".fr-mermaid-svg svg").first.text_content()
    assert "synapse_embeddings@1" in text and "cell_types@1" in text
    assert p.locator("pre.fr-mermaid[data-error]").count() == 0
    assert page.errors == [] and page.foreign() == []
