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

MkDocs runs first (the summary pages and the shells); then each dataset and version page is
rendered from its template straight into the shell (`shell_page`, called by `pages.PageWriter`):
no Markdown skeleton or fragment file is written for them. A page's table of contents lists its
`##` headings (the only level the templates use for sections; deeper ones get ids but no entry).
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Callable, Iterable, Optional

from markdown.extensions.toc import slugify, unique

TITLE = "FRSHELLTITLEMARK"
H1 = "FRSHELLHEADONE"
H2 = "FRSHELLHEADTWO"
BODY = "FRSHELLBODYMARK"
SHELLS = {"datasets/_shell.md": (1, True), "datasets/_shell-notoc.md": (1, False),
          "datasets/_shell/_shell.md": (2, True), "datasets/_shell/_shell-notoc.md": (2, False)}
"""The shell pages: one per folder depth and per front matter a bulk page's template asks for
(`templates/_macros.j2` `front`, with or without the table of contents). `_shell` is no dataset's
folder: a plain segment starts with a letter or digit, an encoded one ends in a hash (`paths`)."""
EXCLUDE = "/datasets/*.md\n/datasets/*/*.md\n!/datasets/index.md\n" + "".join(f"!/{rel}\n" for rel in SHELLS) + \
    "!/datasets/index/*.md\n"
"""`exclude_docs` for MkDocs: every dataset and version page but the list (and its pages
`datasets/index/<n>.md`, `paths.list_page`) and the shells (none are written into the docs dir:
a guard)."""

TOC_JOIN = "\n      \n        "
"""What Material's toc loop leaves between two entries (so pages are byte for byte MkDocs' own)."""
_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_UNESCAPE = re.compile(r"\\(.)")


def is_bulk(rel: str) -> bool:
    """A page made from the shell: `datasets/<name>.md` or `datasets/<name>/<version>.md`."""
    parts = rel.split("/")
    return parts[0] == "datasets" and rel != "datasets/index.md" and len(parts) in (2, 3) and \
        parts[1] != "index" and rel not in SHELLS  # datasets/index/<n>.md: the list's pages


def write_shell_sources(docs_dir: str, front: Callable[..., str]) -> None:
    """The shell pages' Markdown (rewritten every build, so a dirty MkDocs build renders them).
    `front`: the templates' own front matter macro, so a shell asks Material for what the pages ask."""
    for rel, (_depth, toc) in SHELLS.items():
        path = os.path.join(docs_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"{front(TITLE, toc=toc)}\n\n# {H1}\n\n{BODY}\n\n## {H2}\n")


def _front_matter(lines: list[str]) -> tuple[Optional[str], tuple[str, ...], int]:
    """(title, the other front matter lines, index of the first line after it). Those other
    lines (what to hide, search) pick the shell a page is made in."""
    if not lines or lines[0] != "---":
        return None, (), 0
    end = lines.index("---", 1)
    title: Optional[str] = None
    rest = []
    for line in lines[1:end]:
        if line.startswith("title: "):
            value = line[len("title: "):]
            title = json.loads(value) if value.startswith('"') else value
        else:
            rest.append(line)
    return title, tuple(rest), end + 1


def page_blocks(text: str, nonce: str) -> tuple[list[str], list[tuple[bool, str]]]:
    """A rendered page template split as both writers need it: (its front matter lines, fences
    included; its blocks in order). A block is `(True, heading)` for a nonce-marked line (the text
    after the nonce) or `(False, html)` for a run of other lines, stripped, never empty. Both
    `pages.split_page` (Markdown for MkDocs) and `shell_page` (HTML in the shell) are made from it."""
    lines = text.split("\n")
    start = _front_matter(lines)[2]
    blocks: list[tuple[bool, str]] = []
    buf: list[str] = []
    for line in lines[start:]:
        if not line.startswith(nonce):
            buf.append(line)
            continue
        if run := "\n".join(buf).strip():
            blocks.append((False, run))
        buf.clear()
        blocks.append((True, line[len(nonce):]))
    if run := "\n".join(buf).strip():
        blocks.append((False, run))
    return lines[:start], blocks


class Shell:
    """One shell page's HTML, cut at the markers."""

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


ShellKey = tuple[int, tuple[str, ...]]
"""(folder depth, front matter but the title): which shell a page is made in."""


def load_shells(site_dir: str, docs_dir: str) -> dict[ShellKey, Shell]:
    """Every shell MkDocs rendered into `site_dir`, by the front matter of its source in `docs_dir`."""
    shells = {}
    for rel, (depth, _toc) in SHELLS.items():
        with open(os.path.join(docs_dir, rel), encoding="utf-8") as fh:
            _title, front, _start = _front_matter(fh.read().split("\n"))
        rel_html = rel[:-3] + ".html"
        with open(os.path.join(site_dir, rel_html), encoding="utf-8") as fh:
            shells[(depth, front)] = Shell(fh.read(), rel_html)
    return shells


def shell_page(shells: dict[ShellKey, Shell], rel: str, text: str, nonce: str) -> str:
    """One page's HTML straight from its rendered template (`pages.PageWriter`): front matter (the
    title; the rest picks the shell), nonce-marked `#` headings (ids and table of contents as
    MkDocs' `toc` makes them) and the runs of HTML between them, each one block as Python-Markdown
    leaves a raw HTML block.

    The same split as `pages.split_page` (`page_blocks`), without the skeleton and fragment files
    in between: those were five file operations per page, ~10% of a large build (docs/benchmarks.md)."""
    front_lines, parts = page_blocks(text, nonce)
    title, front, _start = _front_matter(front_lines)
    shell = shells.get((rel.count("/"), front))
    if shell is None:
        raise ValueError(f"{rel}: no shell page has this front matter: {front!r} (shell.SHELLS)")
    blocks: list[str] = []
    used: set[str] = set()
    h1_id = None
    toc: list[tuple[str, str]] = []
    for is_heading, content in parts:
        if not is_heading:
            blocks.append(content)
            continue
        if not content.strip():
            continue
        h = _HEADING.match(content)
        if not h:
            raise ValueError(f"{rel}: a marked line that is not a heading: {content[:60]!r}")
        label = html.escape(_UNESCAPE.sub(r"\1", h.group(2)).strip(), quote=False)
        hid = unique(slugify(html.unescape(label), "-"), used)
        level = len(h.group(1))
        blocks.append(f'<h{level} id="{hid}">{label}</h{level}>')
        if level == 1 and h1_id is None:
            h1_id = hid
            if title is None:
                title = html.unescape(label)
        elif level == 2:
            toc.append((hid, label))
    if not toc:  # Material leaves out the toc's title and list then: not what the shell has
        raise ValueError(f"{rel}: a page made in the shell needs a `##` heading")
    return shell.render(rel[:-3] + ".html", title or "", "\n".join(blocks), h1_id or "", toc)


def remove_shells(site_dir: str) -> None:
    """The shells' own HTML is not a page of the site: removed once every bulk page is made."""
    for rel in SHELLS:
        path = os.path.join(site_dir, rel[:-3] + ".html")
        if os.path.exists(path):
            os.unlink(path)
    shell_dir = os.path.join(site_dir, "datasets", "_shell")
    if os.path.isdir(shell_dir) and not os.listdir(shell_dir):
        os.rmdir(shell_dir)


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
