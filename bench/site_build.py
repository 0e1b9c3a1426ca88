"""Benchmark the catalog site build: `python bench/site_build.py N [--no-browser] [--keep DIR]`.

Writes a synthetic registry of N dataset versions (30-column schemas, references, 3 versions per
dataset; site_builder.synthetic), builds the site, and prints the phases' times, pages, the search
index size (raw and gzipped) and, with Chromium available, the time from navigation start to the
first search result on `search.html?q=...` served from 127.0.0.1. Figures go into
docs/benchmarks.md; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_builder.build import build_site  # noqa: E402
from site_builder.cli import make_server  # noqa: E402
from site_builder.synthetic import write_synthetic_registry  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def first_result_ms(site: str, query: str = "embedding", runs: int = 3) -> list[float]:
    """ms from navigation start to the first rendered result, per run (fresh page each time)."""
    from playwright.sync_api import sync_playwright

    os.environ["SITE_SERVE_QUIET"] = "1"
    server = make_server(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(runs):
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/search.html?q={query}")
                page.wait_for_selector("#fr-results li", timeout=60_000)
                out.append(page.evaluate("window.frSearchFirstAt"))
                page.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of dataset versions")
    ap.add_argument("--keep", help="build into this directory and keep it")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium search timing")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        registry = work / "registry"
        t = time.perf_counter()
        write_synthetic_registry(str(registry), args.n)
        gen = time.perf_counter() - t
        site = Path(args.keep) if args.keep else work / "site"
        if args.keep and site.exists():
            shutil.rmtree(site)
        t = time.perf_counter()
        report = build_site(str(registry), str(site), progress=False)
        total = time.perf_counter() - t
        print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}")
        print(f"versions: {report.versions}  datasets: {report.datasets}  pages: {report.pages}  json files: {report.json_files}")
        print(f"registry written in {gen:.1f} s (not part of the build)")
        print(f"build total: {total:.1f} s  ({total / max(report.pages, 1) * 1000:.1f} ms/page)")
        for k, v in report.timings.items():
            print(f"  {k:8s} {v:7.2f} s")
        s = report.search
        if s:
            print(f"search index (all of it; a query fetches a few files): term shards {s.shards}, "
                  f"{s.index_bytes / 1e6:.2f} MB raw, {s.index_gzip_bytes / 1e6:.2f} MB gzipped; "
                  f"meta + facets (every query) {s.facets_bytes / 1e6:.2f} MB raw, {s.facets_gzip_bytes / 1e6:.3f} MB gzipped; "
                  f"display records {s.columns_bytes / 1e6:.2f} MB raw, {s.columns_gzip_bytes / 1e6:.2f} MB gzipped")
        import resource

        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(f"peak RSS (largest process: the builder or its forked child): {peak / 1e6:.2f} GB")
        files = [f for f in site.rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        print(f"site size: {size / 1e6:.0f} MB in {len(files)} files")
        if not args.no_browser and os.path.exists(CHROMIUM):
            ms = first_result_ms(str(site))
            print("first search result after page load (ms, per run): " + ", ".join(f"{x:.0f}" for x in ms))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
