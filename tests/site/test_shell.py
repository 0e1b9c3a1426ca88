"""Dataset and version pages made in Material's shell are the pages MkDocs itself makes.

The build renders those pages straight into the shell (`site_builder.shell.shell_page`) instead of
through MkDocs, for speed. This holds it to MkDocs' own output: the same catalog rendered as
Markdown + fragments and built by MkDocs with nothing excluded, compared file by file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from site_builder.build import _quiet_mkdocs, mkdocs_config
from site_builder.catalog import RegistrySnapshot
from site_builder.pages import dataset_pages, page_writer, render_pages, templates_dir
from site_builder.shell import SHELLS, load_shells, shell_page, write_shell_sources

AT = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SITE_URL = "https://catalog.example/lab/"


def _mkdocs_site(catalog: RegistrySnapshot, base: Path) -> Path:
    """Every page through MkDocs (the dataset and version pages too), plus the two shells."""
    docs, fragments, site = base / "docs", base / "fragments", base / "site"
    shutil.copytree(templates_dir() / "assets", docs / "assets")
    render_pages(catalog, str(docs), str(fragments), site_url=SITE_URL, signer_url=None, registry_uri="gs://r",
                 generated_at=AT)
    write_shell_sources(str(docs), page_writer(str(docs), str(fragments), site_url=SITE_URL, signer_url=None,
                                               registry_uri="gs://r", generated_at=AT).front)
    config = mkdocs_config(base, docs, site, SITE_URL, fragments)
    cfg = yaml.safe_load(config.read_text())
    cfg["exclude_docs"] = ""  # MkDocs renders the dataset and version pages itself
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    with _quiet_mkdocs():
        build(load_config(str(config)))
    return site


@pytest.fixture(scope="module")
def through_mkdocs(example_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RegistrySnapshot, Path]:
    catalog = RegistrySnapshot.read(str(example_registry))
    return catalog, _mkdocs_site(catalog, tmp_path_factory.mktemp("mkdocs"))


def test_every_dataset_and_version_page_is_byte_for_byte_what_mkdocs_makes(through_mkdocs, tmp_path: Path):
    catalog, mkdocs_site = through_mkdocs
    shell_site = tmp_path / "shell"
    w = page_writer(str(tmp_path / "unused-docs"), str(tmp_path / "unused-fragments"), site_url=SITE_URL,
                    signer_url=None, registry_uri="gs://r", generated_at=AT)
    w.shells, w.site_dir = load_shells(str(mkdocs_site), str(mkdocs_site.parent / "docs")), str(shell_site)
    dataset_pages(w, catalog)
    made = sorted(p.relative_to(shell_site).as_posix() for p in shell_site.rglob("*.html"))
    expected = sorted(p.relative_to(mkdocs_site).as_posix() for p in (mkdocs_site / "datasets").rglob("*.html")
                      if p.relative_to(mkdocs_site).as_posix() not in {s[:-3] + ".html" for s in SHELLS}
                      and not p.relative_to(mkdocs_site).as_posix().startswith("datasets/index"))
    assert made == expected and len(made) > 10
    assert not (tmp_path / "unused-docs").exists()  # no skeleton or fragment file for those pages
    for rel in made:  # the example registry's hostile document included
        assert (shell_site / rel).read_text() == (mkdocs_site / rel).read_text(), rel


@pytest.mark.parametrize("line", ["## </h2><script>x</script>", "#no-space heading", "plain text"])
def test_a_marked_line_is_a_heading_or_an_error(through_mkdocs, line: str):
    """Only the templates write marked lines (untrusted text cannot know the nonce); a marked
    line's text is escaped like a heading's, and one that is not a heading is refused."""
    site = through_mkdocs[1]
    shells = load_shells(str(site), str(site.parent / "docs"))
    front = "hide:\n  - navigation\nsearch:\n  exclude: true"
    text = f"---\ntitle: t\n{front}\n---\nN1# Title\n<p>body</p>\nN1## Section\nN1{line}\n"
    if line.startswith("## "):
        page = shell_page(shells, "datasets/x.md", text, "N1")
        assert "<script>x</script>" not in page and "&lt;/h2&gt;&lt;script&gt;" in page
    else:
        with pytest.raises(ValueError, match="not a heading"):
            shell_page(shells, "datasets/x.md", text, "N1")


def test_a_page_the_shells_cannot_make_is_refused(through_mkdocs):
    """A front matter no shell was made with (Material would render other chrome), or a page
    without a `##` heading (Material leaves the table of contents out), is an error, not a page
    that differs from MkDocs' own."""
    site = through_mkdocs[1]
    shells = load_shells(str(site), str(site.parent / "docs"))
    with pytest.raises(ValueError, match="no shell page has this front matter"):
        shell_page(shells, "datasets/x.md", "---\ntitle: t\nhide:\n  - footer\n---\nN1# T\nN1## S\n", "N1")
    front = "hide:\n  - navigation\nsearch:\n  exclude: true"
    with pytest.raises(ValueError, match="needs a `##` heading"):
        shell_page(shells, "datasets/x.md", f"---\ntitle: t\n{front}\n---\nN1# T\n<p>x</p>\n", "N1")
