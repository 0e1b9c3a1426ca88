"""Search cost per query on a built site: `python bench/search_scale.py SITE_DIR [--runs 3]`.

Serves SITE_DIR on 127.0.0.1 with a server that records every file it sends, opens
`search.html?q=...` in Chromium (a fresh browser context per run: nothing cached) and prints, per
query: hits (datasets), time from navigation start to the first ranked result on screen
(`window.frSearchFirstAt`, set by assets/search.js), requests, bytes sent (raw, as this server
sends them) and what a host that gzips would send (each file gzipped at level 6), split into the
page shell (HTML, CSS, Material's and our JS) and the search index (`catalog/search/`). Queries:
a dataset's unique name (1 hit), a rare column, a word in every dataset (`pt_root_id`), a common
word, a multi-word query. Nothing is asserted; figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import threading
import time
from functools import lru_cache
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def serve(site: Path, log: list):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(site), **kw)

        def log_message(self, *a):
            pass

        def send_head(self):
            f = super().send_head()
            if f is not None:
                path = unquote(urlparse(self.path).path).lstrip("/")
                log.append(path)
            return f

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@lru_cache(maxsize=None)
def sizes(path: str) -> tuple[int, int]:
    raw = Path(path).read_bytes()
    return len(raw), len(gzip.compress(raw, 6))


def queries(site: Path) -> list[tuple[str, str]]:
    meta = json.loads((site / "catalog/search/meta.json").read_text())
    recs = json.loads((site / "catalog/search/records" / f"{(meta['datasets'] // 2) // meta['chunk']}.json").read_text())
    one = recs[(meta["datasets"] // 2) % meta["chunk"]]["n"]
    return [("one dataset (its name)", one), ("rare column", "feat_ririmoto_1"), ("every dataset", "pt_root_id"),
            ("common word", "embedding"), ("two words", "cell type")]


def measure(site: Path, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    log: list[str] = []
    server = serve(site, log)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for label, q in queries(site):
                times, hits = [], None
                for _ in range(runs):
                    ctx = browser.new_context()
                    page = ctx.new_page()
                    log.clear()
                    page.goto(f"{base}/search.html?q={quote(q)}")
                    end = time.monotonic() + 120
                    while page.evaluate("window.frSearchFirstAt === undefined") and time.monotonic() < end:
                        time.sleep(0.02)
                    times.append(page.evaluate("window.frSearchFirstAt"))
                    page.wait_for_load_state("networkidle")
                    hits = page.inner_text("#fr-summary").split(" dataset")[0]
                    got = list(log)
                    ctx.close()
                idx = [g for g in got if g.startswith("catalog/search/")]
                shell = [g for g in got if not g.startswith("catalog/search/")]
                ir = sum(sizes(str(site / g))[0] for g in idx)
                ig = sum(sizes(str(site / g))[1] for g in idx)
                sr = sum(sizes(str(site / g))[0] for g in shell)
                sg = sum(sizes(str(site / g))[1] for g in shell)
                terms = sum(g.startswith("catalog/search/terms/") for g in idx)
                recs = sum(g.startswith("catalog/search/records/") for g in idx)
                print(f"{label:24s} q={q!r:32s} hits {hits:>6s}  first result ms "
                      + ", ".join(f"{t:.0f}" for t in times)
                      + f"  | index: {len(idx)} req ({terms} term shards, {recs} record chunks) "
                      f"{ir / 1e3:.0f} kB raw, {ig / 1e3:.0f} kB gz | page shell: {len(shell)} req "
                      f"{sr / 1e3:.0f} kB raw, {sg / 1e3:.0f} kB gz", flush=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit("no Chromium at /usr/bin/chromium")
    measure(args.site, args.runs)


if __name__ == "__main__":
    main()
