"""Untrusted text -> safe HTML.

Everything a publisher writes (titles, descriptions, column notes, citations, ...) is untrusted:
the site must never run a script because of it. Two layers:

* free text that is *not* Markdown is HTML-escaped by Jinja's autoescape in the templates;
* Markdown descriptions are rendered by markdown-it-py with raw HTML *disabled* (so `<script>`
  stays text), images turned into plain links (an image would make the reader's browser contact
  another host), then the HTML goes through nh3 (ammonia) with an allow-list of tags, attributes and
  URL schemes: `javascript:`/`data:` links, event attributes and styles cannot survive.

Mermaid labels get their own treatment in :mod:`site_builder.diagrams` (an allow-list of characters).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
_MARKUP = re.compile(r"[<>&*_`\[\]!#|~\\]|^\s*([-+]|\d+[.)])\s|^ {4}", re.M)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")

    def image_as_link(self, tokens, idx, options, env):  # noqa: ANN001 - markdown-it renderer signature
        token = tokens[idx]
        src = token.attrGet("src") or ""
        alt = "".join(child.content for child in (token.children or [])) or src
        if not md.validateLink(src):
            return str(escape(alt))
        return f'<a href="{escape(md.normalizeLink(src))}">{escape(alt)}</a>'

    md.add_render_rule("image", image_as_link)
    return md


def _demote_headings(html: str) -> str:
    """A description's `# Heading` must not compete with the page's own h1/h2 (and the TOC)."""
    return re.sub(r"<(/?)h([12])>", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 2}>", html)


def markdown_to_safe_html(text: Optional[str]) -> Markup:
    """Render untrusted Markdown to HTML that cannot run script or load from another host."""
    if not text:
        return Markup("")
    html = _demote_headings(_markdown().render(text))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    # Blank lines would let Python-Markdown (MkDocs) end the raw HTML block and treat the rest as
    # Markdown again; keep the sanitised fragment on contiguous lines.
    return Markup(re.sub(r"\n\s*\n", "\n", clean).strip())


def safe_url(url: Optional[str]) -> Optional[str]:
    """A URL for an href, or None when it is not http(s)/mailto (e.g. `javascript:`)."""
    if not url:
        return None
    stripped = "".join(ch for ch in url.strip() if ch >= " " and ch != "\x7f")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", stripped)
    if scheme and scheme.group(1).lower() in URL_SCHEMES:
        return stripped
    return None


def plain_text(text: Optional[str], limit: int = 0) -> str:
    """Markdown/HTML-ish text reduced to plain words (for search, summaries and JSON-LD)."""
    if not text:
        return ""
    if not _MARKUP.search(text):  # the common case: nothing to render, just tidy whitespace
        words = re.sub(r"\s+", " ", text).strip()
        return words if not limit or len(words) <= limit else words[: limit - 1].rstrip() + "…"
    words = re.sub(r"\s+", " ", nh3.clean(_markdown().render(text), tags=set())).strip()
    words = words.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    if limit and len(words) > limit:
        words = words[: limit - 1].rstrip() + "…"
    return words
