"""MkDocs hook: put each page's HTML fragments back in place of their placeholders.

Why: pages are mostly HTML (tables, diagrams, sanitised descriptions). Left inside the Markdown,
Python-Markdown re-parses every tag of every raw HTML block with `html.parser`, which measured as
~75% of the whole build (docs/benchmarks.md). So the generator writes Markdown that holds only the
headings (for the table of contents) and placeholder paragraphs, and keeps the HTML beside it;
this hook swaps the HTML in after Markdown conversion. A side effect that matters for safety:
publisher text never goes through Python-Markdown at all.
"""

from __future__ import annotations

import json
import os
import re

PLACEHOLDER = re.compile(r"<p>FRBLOCK(\d+)-([0-9a-f]+)</p>")


def on_page_content(html, page, config, files):  # noqa: ANN001 - MkDocs hook signature
    base = (config.get("extra") or {}).get("fr_fragments")
    if not base:
        return html
    path = os.path.join(base, page.file.src_uri + ".json")
    if not os.path.exists(path):
        return html
    with open(path, encoding="utf-8") as fh:
        stored = json.load(fh)
    nonce, fragments = stored["nonce"], stored["fragments"]

    def swap(m: re.Match) -> str:
        if m.group(2) != nonce:  # not ours: leave it as the text it is
            return m.group(0)
        return fragments[int(m.group(1))]

    return PLACEHOLDER.sub(swap, html)


def on_env(env, config, files):  # noqa: ANN001 - MkDocs hook signature
    """Incremental builds: keep Material's compiled templates between runs (a dirty rebuild spent
    more time compiling the theme's templates than rendering its few pages). jinja2 checks each
    template's source checksum, so a changed theme is compiled again."""
    cache = (config.get("extra") or {}).get("fr_jinja_cache")
    if cache:
        import jinja2

        os.makedirs(cache, exist_ok=True)
        env.bytecode_cache = jinja2.FileSystemBytecodeCache(cache)
    return env
