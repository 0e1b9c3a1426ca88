"""Every "how to read" snippet on each version page of the served site runs as shown (with the
reader's token from $CAVE_TOKEN, as a user would have it) and reads the whole table."""

from __future__ import annotations

import html
import re

import pytest
import requests

from tests.signer.tables import ROWS

pytestmark = pytest.mark.s3

HOWTO = re.compile(r'<div class="fr-howto">(.*?)</div>', re.S)
CODE = re.compile(r'<code class="language-python">(.*?)</code>', re.S)


@pytest.mark.parametrize("name", ["syn_plain", "syn_hive", "syn_delta", "syn_iceberg", "syn_lance"])
def test_version_page_snippets_run(stack, monkeypatch, name):
    monkeypatch.setenv("CAVE_TOKEN", stack.token)
    page = requests.get(f"{stack.site_url}datasets/{name}/1.html", timeout=10)
    assert page.status_code == 200
    block = HOWTO.search(page.text)
    assert block, "no how-to-read section"
    snippets = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in CODE.findall(block.group(1))]
    assert len(snippets) == 4 and stack.signer_url in snippets[0] and stack.site_url in snippets[0]
    ns: dict = {}
    for code in snippets:
        exec(compile(code, f"{name}-snippet", "exec"), ns)  # noqa: S102 - our own generated page
    assert ns["df"].height == ROWS
    assert ns["pdf"].shape[0] == ROWS
    assert ns["rel"].aggregate("count(*)").fetchone()[0] == ROWS
