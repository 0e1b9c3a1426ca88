"""Screenshots of the catalog site for the README and docs (docs/img/*.png), 1400 px wide.

    python bench/site_screenshots.py [--out docs/img]        (or: make site-screenshots)

Builds the site of `make demo`'s example registry (the example tables written by their own
libraries to a local S3 server on 127.0.0.1, `examples/specs` published, `cell_types@1`
deprecated), serves it on 127.0.0.1 and photographs every page kind in Debian's Chromium: home,
search with results, a dataset, a version (top, and its joins), the compatibility matrix, a
deprecated version, and a version page in dark mode. Look at them before committing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTH, HEIGHT = 1400, 1000

# file name -> (page, what to wait for, element to scroll to, colour scheme)
SHOTS = {
    "home.png": ("index.html", None, None, "light"),
    # typed into the page's box: with `?q=` in the URL, Material's header search opens too
    "search.png": ("search.html", "#fr-results li", None, "light"),
    "dataset.png": ("datasets/cell_types.html", None, None, "light"),
    "version.png": ("datasets/synapse_embeddings/1.html", None, None, "light"),
    "version-joins.png": ("datasets/synapse_embeddings/1.html", ".fr-mermaid-svg svg", "joins", "light"),
    "matrix.png": ("materialization/minnie65_phase3_v1.html", None, None, "light"),
    "deprecated.png": ("datasets/cell_types/1.html", None, None, "light"),
    "dark.png": ("datasets/synapse_embeddings/1.html", ".fr-mermaid-svg svg", "joins", "dark"),
}


def build_demo_site(work: Path) -> Path:
    """The demo's registry and site, without the signer (the pages need none)."""
    import boto3

    from feature_registry.demo import _use_s3, publish_examples, write_example_tables
    from site_builder.build import build_site
    from tests.s3_server import S3Server

    server = S3Server().start()
    try:
        _use_s3(server.url)
        boto3.client("s3", endpoint_url=server.url, region_name="us-east-1").create_bucket(Bucket="demo-tables")
        write_example_tables()
        registry = work / "registry"
        publish_examples(str(registry))
    finally:
        server.stop()
    site = work / "site"
    build_site(str(registry), str(site), site_url="https://catalog.lab.example/",
               signer_url="https://signer.lab.example", progress=False)
    return site


def photograph(site: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from site_builder.cli import make_server
    from tests.conftest import serving

    os.environ["SITE_SERVE_QUIET"] = "1"
    written = []
    with serving(make_server(str(site), "127.0.0.1", 0)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, (rel, wait_for, scroll_to, scheme) in SHOTS.items():
            ctx = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, color_scheme=scheme)
            page = ctx.new_page()
            page.goto(f"{base}/{rel}")
            page.wait_for_load_state("networkidle")
            if name == "search.png":
                page.fill("#fr-q", "root id")
            if wait_for:
                page.wait_for_selector(wait_for, timeout=20_000)
            if scroll_to:
                page.evaluate("(id) => { document.getElementById(id).scrollIntoView(); window.scrollBy(0, -70); }",
                              scroll_to)
            time.sleep(0.5)  # let fonts, diagrams and the search settle
            path = out / name
            page.screenshot(path=str(path))
            written.append(path)
            ctx.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "img"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="site-shots-") as tmp:
        site = build_demo_site(Path(tmp))
        for path in photograph(site, out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
