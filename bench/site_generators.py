"""Does the catalog's docs dir build under a maintained successor of MkDocs? (docs/site.md)

    python bench/site_generators.py OUT NAME=COMMAND ...
    e.g. python bench/site_generators.py /tmp/gen \\
           mkdocs=".venv/bin/mkdocs build" properdocs="/tmp/pd/bin/properdocs build" \\
           zensical="/tmp/zs/bin/zensical build" zensical+inline="/tmp/zs/bin/zensical build"

A NAME ending in `+inline` gets the HTML fragments written into the Markdown first (what the
MkDocs hook does after conversion), for generators that do not run MkDocs hooks.

Writes the example registry's pages exactly as `build-site` hands them to MkDocs (Markdown
skeletons, HTML fragments, the derived mkdocs.yml with its hook) into OUT/docs, then runs each
COMMAND in its own copy (`-f OUT/<name>/mkdocs.yml` appended; install each generator in its own
venv first) and reports, per generator: exit code and seconds, pages written, whether the
fragment hook ran (no FRBLOCK placeholder left), whether the theme override ran (the CSP meta),
whether extra_css/extra_javascript, the palette toggle, the front-matter `search.exclude` and
`hide`, 404.html and sitemap.xml came out. Nothing here needs the network.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def prepare(out: Path) -> Path:
    """The docs dir, fragments and mkdocs.yml of one example build, kept (build-site removes them)."""
    import datetime as dt

    from site_builder.build import mkdocs_config
    from site_builder.catalog import RegistrySnapshot
    from site_builder.pages import render_pages, templates_dir
    from tests.site.conftest import write_example_registry

    registry = out / "registry"
    if not registry.exists():
        registry.mkdir(parents=True)
        write_example_registry(registry)
    base = out / "input"
    shutil.rmtree(base, ignore_errors=True)
    docs, fragments = base / "docs", base / "fragments"
    docs.mkdir(parents=True)
    shutil.copytree(templates_dir() / "assets", docs / "assets")
    catalog = RegistrySnapshot.read(str(registry))
    render_pages(catalog, str(docs), str(fragments), site_url=None, signer_url=None,
                 registry_uri=str(registry), generated_at=dt.datetime.now(dt.timezone.utc))
    return mkdocs_config(base, docs, base / "site", None, fragments)


def check(site: Path) -> dict:
    pages = list(site.rglob("*.html")) if site.is_dir() else []
    version = site / "datasets" / "synapse_embeddings" / "v2.html"
    text = version.read_text(encoding="utf-8") if version.is_file() else ""
    excluded = None
    for index in (site / "search" / "search_index.json", site / "search.json"):  # MkDocs, zensical
        if index.is_file():
            data = json.loads(index.read_text())
            docs = data.get("docs", data.get("items", [])) if isinstance(data, dict) else data
            locs = [str(d.get("location", d.get("url", ""))) for d in docs if isinstance(d, dict)]
            excluded = not any("datasets/" in loc for loc in locs)
    return {
        "html_pages": len(pages),
        "fragments_swapped_in": bool(text) and "FRBLOCK" not in text and "fr-schema" in text,
        "theme_override_csp": "Content-Security-Policy" in text,
        "extra_css_js": "assets/site.css" in text and "assets/site.js" in text,
        "palette_toggle": "__palette_1" in text,
        "hide_navigation": 'data-md-type="navigation" hidden' in text,
        "mermaid_pre_kept": text.count('<pre class="fr-mermaid">'),
        "search_excludes_dataset_pages": excluded,
        "page_404": (site / "404.html").is_file(),
        "sitemap": (site / "sitemap.xml").is_file(),
        "tables_with_class": len(re.findall(r'<table class="fr-', text)),
    }


def inline_fragments(docs: Path, fragments: Path) -> None:
    """The hook's work done before the generator runs: each placeholder replaced by its HTML, as
    a raw HTML block, for a generator that runs no MkDocs hooks (zensical). Slower to convert
    (Python-Markdown parses every tag, docs/benchmarks.md) but needs nothing of MkDocs."""
    for md in docs.rglob("*.md"):
        stored = fragments / (str(md.relative_to(docs)) + ".json")
        if not stored.is_file():
            continue
        data = json.loads(stored.read_text(encoding="utf-8"))
        pattern = re.compile(r"^FRBLOCK(\d+)-" + data["nonce"] + "$", re.M)
        text = pattern.sub(lambda m, data=data: data["fragments"][int(m.group(1))], md.read_text(encoding="utf-8"))
        md.write_text(text, encoding="utf-8")


def run(name: str, command: str, config: Path, out: Path, inline: bool = False) -> dict:
    work = out / name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(config.parent, work, ignore=shutil.ignore_patterns("site"))
    import yaml

    cfg = yaml.safe_load((work / "mkdocs.yml").read_text())
    # relative to the config file: zensical 0.0.73 panics on an absolute docs_dir
    # ("invariant: Id(Format(Path(RootDir)))"); MkDocs and properdocs take either
    cfg.update(docs_dir="docs", site_dir="site")
    cfg["extra"]["fr_fragments"] = str(work / "fragments")
    (work / "mkdocs.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    if inline:
        inline_fragments(work / "docs", work / "fragments")
    t = time.perf_counter()
    proc = subprocess.run(shlex.split(command) + ["-f", str(work / "mkdocs.yml")], cwd=work,
                          capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    result = {"generator": name, "exit": proc.returncode, "seconds": round(time.perf_counter() - t, 2)}
    result.update(check(work / "site"))
    log = (proc.stdout + proc.stderr).strip().splitlines()
    result["log"] = [line for line in log if re.search(r"(?i)error|warn|unknown|not supported|ignor", line)][:12]
    return result


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = Path(argv[0]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    config = prepare(out)
    for spec in argv[1:]:
        name, _, command = spec.partition("=")
        inline = name.endswith("+inline")  # e.g. zensical+inline="..."
        print(json.dumps(run(name, command, config, out, inline=inline), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
