"""Dataset and version pages without a trip through MkDocs: the same HTML, poured into Material's shell.

Why (measured, docs/benchmarks.md): MkDocs spends ~3 ms on each page, ~45% of it rendering
Material's base template and ~30% in Python-Markdown, for pages whose Markdown is only headings and
placeholders (`pages.split_page`). Those pages are 97% of a large catalog. So MkDocs renders two
*shell* pages, one per folder depth (`datasets/_shell.md`, `datasets/_shell/_shell.md`), whose
title, headings and body are markers; every dataset and version page is then the shell with the
markers replaced: the title, the heading ids (MkDocs' own `toc` slugify, so anchors are the same),
the table of contents (Material's own item markup, cut from the shell) and the body (the headings
and the page's HTML fragments, joined as Python-Markdown joins blocks). The look is Material's, from
Material's templates, and the shell follows any theme change at the next build.

The skeletons stay in `docs_dir` (the incremental cache reasons about them), excluded from MkDocs
by `exclude_docs`. A page's table of contents lists its `##` headings (the only level the
templates use for sections; deeper ones get ids but no entry).
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Iterable, Optional

from markdown.extensions.toc import slugify, unique

TITLE = "FRSHELLTITLEMARK"
H1 = "FRSHELLHEADONE"
H2 = "FRSHELLHEADTWO"
BODY = "FRSHELLBODYMARK"
SHELLS = {1: "datasets/_shell.md", 2: "datasets/_shell/_shell.md"}
EXCLUDE = "/datasets/*.md\n/datasets/*/*.md\n!/datasets/index.md\n!/datasets/_shell.md\n!/datasets/_shell/_shell.md\n" \
    "!/datasets/index/*.md\n"
"""`exclude_docs` for MkDocs: every dataset and version page but the list (and its pages
`datasets/index/<n>.md`, `paths.list_page`) and the shells."""

TOC_JOIN = "\n      \n        "
"""What Material's toc loop leaves between two entries (so pages are byte for byte MkDocs' own)."""
_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_PLACEHOLDER = re.compile(r"^FRBLOCK(\d+)-([0-9a-f]+)$")
_UNESCAPE = re.compile(r"\\(.)")


def is_bulk(rel: str) -> bool:
    """A page made from the shell: `datasets/<name>.md` or `datasets/<name>/<version>.md`."""
    parts = rel.split("/")
    return parts[0] == "datasets" and rel != "datasets/index.md" and len(parts) in (2, 3) and \
        parts[1] != "index" and rel not in SHELLS.values()  # datasets/index/<n>.md: the list's pages


def write_shell_sources(docs_dir: str) -> None:
    """The shell pages' Markdown (rewritten every build, so a dirty MkDocs build renders them)."""
    # the front matter every bulk page's template asks for (templates/_macros.j2 `front`): no left
    # navigation (the table of contents stays), kept out of MkDocs' search
    text = (f"---\ntitle: {TITLE}\nhide:\n  - navigation\nsearch:\n  exclude: true\n---\n\n# {H1}\n\n{BODY}\n\n## {H2}\n")
    for rel in SHELLS.values():
        path = os.path.join(docs_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


class Shell:
    """One depth's shell HTML, cut at the markers."""

    def __init__(self, page: str, rel_html: str):
        h1_id, h2_id = slugify(H1, "-"), slugify(H2, "-")
        start = page.index(f'<h1 id="{h1_id}">')
        end_tag = f'<h2 id="{h2_id}">{H2}</h2>'
        end = page.index(end_tag) + len(end_tag)
        anchor = page.index(f'href="#{h2_id}"')
        li_start = page.rfind('<li class="md-nav__item">', 0, anchor)
        li_end = page.index("</li>", anchor) + len("</li>")
        self.toc_item = page[li_start:li_end]
        if H2 not in self.toc_item:
            raise ValueError("the shell's table of contents has no entry for its heading")
        if not li_end <= start:
            raise ValueError("the shell's table of contents is not before its body")
        # the page around the toc entry and around the body: each page's parts go in between
        self.parts = [page[:li_start], page[li_end:start], page[end:]]
        self.h1_id, self.h2_id = h1_id, h2_id
        self.rel_html = rel_html
        if any(BODY in p or H2 in p for p in self.parts):
            raise ValueError("a shell marker is outside its place")
        # the title, the h1 anchor and the shell's own path, cut out of the chrome once: a page
        # fills those slots instead of three replaces over its whole text, which were slower and
        # also rewrote a page's own content that happened to contain a marker (a version `FRSHELLTITLEMARK`)
        marks = re.compile("|".join(re.escape(m) for m in (TITLE, f"#{h1_id}", rel_html)))
        self.cut = [marks.split(p) for p in self.parts]
        self.slots = [marks.findall(p) for p in self.parts]

    def _fill(self, k: int, values: dict[str, str]) -> str:
        pieces, slots = self.cut[k], self.slots[k]
        out = [pieces[0]]
        for slot, piece in zip(slots, pieces[1:]):
            out.append(values[slot])
            out.append(piece)
        return "".join(out)

    def render(self, rel_html: str, title: str, body: str, h1_id: str, toc: list[tuple[str, str]]) -> str:
        items = TOC_JOIN.join(self.toc_item.replace(f"#{self.h2_id}", f"#{i}").replace(H2, t) for i, t in toc)
        values = {TITLE: html.escape(title, quote=False), f"#{self.h1_id}": f"#{h1_id}", self.rel_html: rel_html}
        return self._fill(0, values) + items + self._fill(1, values) + body + self._fill(2, values)


def load_shells(site_dir: str) -> dict[int, Shell]:
    shells = {}
    for depth, rel in SHELLS.items():
        rel_html = rel[:-3] + ".html"
        with open(os.path.join(site_dir, rel_html), encoding="utf-8") as fh:
            shells[depth] = Shell(fh.read(), rel_html)
    return shells


def page_html(shell: Shell, rel: str, skeleton: str, fragments: list[str], nonce: str) -> str:
    """One page from its skeleton (front matter, `#` headings, placeholders) and fragments."""
    lines = skeleton.split("\n")
    title: Optional[str] = None
    i = 0
    if lines and lines[0] == "---":
        end = lines.index("---", 1)
        for line in lines[1:end]:
            if line.startswith("title: "):
                value = line[len("title: "):]
                title = json.loads(value) if value.startswith('"') else value
        i = end + 1
    blocks: list[str] = []
    used: set[str] = set()
    h1_id = None
    toc: list[tuple[str, str]] = []
    for line in lines[i:]:
        if not line.strip():
            continue
        m = _PLACEHOLDER.match(line)
        if m and m.group(2) == nonce:
            blocks.append(fragments[int(m.group(1))])
            continue
        h = _HEADING.match(line)
        if not h:
            raise ValueError(f"{rel}: unexpected Markdown in a page skeleton: {line[:60]!r}")
        text = html.escape(_UNESCAPE.sub(r"\1", h.group(2)).strip(), quote=False)
        hid = unique(slugify(html.unescape(text), "-"), used)
        level = len(h.group(1))
        blocks.append(f'<h{level} id="{hid}">{text}</h{level}>')
        if level == 1 and h1_id is None:
            h1_id = hid
            if title is None:
                title = html.unescape(text)
        elif level == 2:
            toc.append((hid, text))
    rel_html = rel[:-3] + ".html"
    return shell.render(rel_html, title or "", "\n".join(blocks), h1_id or "", toc)


def pour(site_dir: str, docs_dir: str, fragments_dir: str, rels: Iterable[str]) -> int:
    """Write the HTML of every bulk page in `rels` into `site_dir`; then remove the shells' HTML."""
    shells = load_shells(site_dir)
    n = 0
    made: set[str] = set()  # one makedirs per folder: a syscall per page cost more than the page
    for rel in rels:
        with open(os.path.join(docs_dir, rel), encoding="utf-8") as fh:
            skeleton = fh.read()
        with open(os.path.join(fragments_dir, rel + ".json"), encoding="utf-8") as fh:
            stored = json.load(fh)
        out = page_html(shells[rel.count("/")], rel, skeleton, stored["fragments"], stored["nonce"])
        path = os.path.join(site_dir, rel[:-3] + ".html")
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(out)
        n += 1
    for rel in SHELLS.values():
        path = os.path.join(site_dir, rel[:-3] + ".html")
        if os.path.exists(path):
            os.unlink(path)
    shell_dir = os.path.join(site_dir, "datasets", "_shell")
    if os.path.isdir(shell_dir) and not os.listdir(shell_dir):
        os.rmdir(shell_dir)
    return n


SITEMAP_MAX_URLS = 50_000
"""The sitemaps.org limit per file (and 50 MB): a larger site gets a sitemap index."""


def fix_sitemap(site_dir: str, site_url: Optional[str], *pages: Iterable[str]) -> None:
    """MkDocs' sitemap lists the pages it built: drop the shells, add every bulk page (`pages`:
    their HTML paths, same `lastmod` as the others), and write the gzipped copy again. Past
    `SITEMAP_MAX_URLS` pages (100,000 versions are 133,000 pages), `sitemap.xml` becomes a
    sitemap index of `sitemap-<n>.xml` files, as the protocol asks."""
    import gzip

    path = os.path.join(site_dir, "sitemap.xml")
    if not site_url or not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    entries = re.findall(r"<url>.*?</url>", text, flags=re.S)
    base = site_url.rstrip("/") + "/"
    kept = [e for e in entries if "/_shell" not in e]
    lastmod = re.search(r"<lastmod>([^<]*)</lastmod>", text)
    mod = f"\n         <lastmod>{lastmod.group(1)}</lastmod>" if lastmod else ""
    for rel in (r for group in pages for r in group):
        loc = html.escape(base + rel, quote=False)
        kept.append(f"<url>\n         <loc>{loc}</loc>{mod}\n    </url>")
    head = text[: text.index("<urlset")]
    found = re.search(r"<urlset[^>]*>", text)
    if found is None:  # MkDocs always writes one; a sitemap without it is left as it is
        return
    urlset = found.group(0)

    def write(name: str, out: str) -> None:
        with open(os.path.join(site_dir, name), "w", encoding="utf-8") as fh:
            fh.write(out)
        with open(os.path.join(site_dir, name + ".gz"), "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(out.encode())

    for old in os.listdir(site_dir):  # parts of a larger site built into this folder before
        if re.fullmatch(r"sitemap-\d+\.xml(\.gz)?", old):
            os.unlink(os.path.join(site_dir, old))
    if len(kept) <= SITEMAP_MAX_URLS:
        write("sitemap.xml", head + urlset + "\n" + "".join(f"    {e}\n" for e in kept) + "</urlset>\n")
        return
    index = [head, '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for n, start in enumerate(range(0, len(kept), SITEMAP_MAX_URLS), 1):
        write(f"sitemap-{n}.xml", head + urlset + "\n" + "".join(
            f"    {e}\n" for e in kept[start:start + SITEMAP_MAX_URLS]) + "</urlset>\n")
        loc = html.escape(f"{base}sitemap-{n}.xml", quote=False)
        index.append(f"    <sitemap>\n         <loc>{loc}</loc>{mod}\n    </sitemap>\n")
    write("sitemap.xml", "".join(index) + "</sitemapindex>\n")
