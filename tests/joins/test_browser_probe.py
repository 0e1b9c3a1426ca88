"""The workbench pages of the site fixture whose documents carry script payloads in every free-text
field (tests/site/conftest.py): in Chromium no payload runs, and the generated scripts quote
publisher text instead of running it."""

from __future__ import annotations

import html
import re

import pytest

from tests.site.conftest import XSS_COLUMN, built_site, example_registry, site_server  # noqa: F401
from tests.site.test_browser import Watched

pytestmark = pytest.mark.browser


def test_workbench_pages_run_no_payload(browser, site_server, built_site):  # noqa: F811
    out, _ = built_site
    pages = sorted(str(p.relative_to(out)) for p in (out / "materialization").glob("*/*.html"))
    assert len(pages) >= 4
    w = Watched(browser, site_server)
    try:
        for rel in pages:
            page = w.goto(rel)
            assert page.evaluate("typeof window.__pwned") == "undefined", rel
        assert w.dialogs == [] and w.foreign() == []
    finally:
        w.page.close()
    # the hostile datastack's pages live under its encoded slug (site_builder.paths)
    probe = next(p for p in pages if "stack-" in p.split("/")[1] and p.endswith("/1078.html"))
    text = (out / probe).read_text()
    code = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<code class="language-python">(.*?)</code>', text, re.S).group(1)))
    compile(code, "workbench", "exec")  # publisher text is quoted: still valid Python, no injected statements
    assert XSS_COLUMN not in [ln.split(" = ")[0] for ln in code.splitlines()]
