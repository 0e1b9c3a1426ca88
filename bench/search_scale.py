"""Search cost per query on a built site: `python bench/search_scale.py SITE_DIR [SITE_DIR ...] [--runs 3]`.

Serves SITE_DIR on 127.0.0.1 with a server that records every file it sends (HTTP/1.0, or
HTTP/1.1 keep-alive with `--keep-alive`), opens
`search.html?q=...` in Chromium (a fresh browser context per run: nothing cached) and prints, per
query: hits (datasets), time from navigation start to the first ranked result on screen
(`window.frSearchFirstAt`, set by assets/search.js), requests, bytes sent (raw, as this server
sends them) and what a host that gzips would send (each file gzipped at level 6), split into the
page shell (HTML, CSS, Material's and our JS) and the search index (`catalog/search/`). Queries:
a dataset's unique name (1 hit), a rare column, a word in every dataset (`pt_root_id`), a common
word, a multi-word query (taken from the first site). With several sites (e.g. before and after a
change), each query's runs alternate between them, in turn and then in reverse, so a machine
whose speed drifts over minutes affects all alike; a median and the count under 500 ms per query
and site close each line. Nothing is asserted; figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
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


def serve(site: Path, log: list, keep_alive: bool = False):
    """`site` on 127.0.0.1, recording each path sent. Python's server speaks HTTP/1.0 (a new
    connection per request); `keep_alive`: HTTP/1.1 with persistent connections, as GCS and S3
    serve (measured: medians 10–80 ms lower at 100k, docs/benchmarks.md)."""

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

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
    one = next(r for r in recs[(meta["datasets"] // 2) % meta["chunk"]:] + recs if r)["n"]  # None: a hole
    return [("one dataset (its name)", one), ("rare column", "feat_ririmoto_1"), ("every dataset", "pt_root_id"),
            ("common word", "embedding"), ("two words", "cell type")]


def first_result(page, url: str) -> tuple[float, str]:
    """Open `url` (search.html?q=...) and return (ms from navigation start to the first ranked
    result in the list, the summary's dataset count) once the page is idle."""
    page.goto(url)
    end = time.monotonic() + 120
    while page.evaluate("window.frSearchFirstAt === undefined") and time.monotonic() < end:
        time.sleep(0.01)
    first = page.evaluate("window.frSearchFirstAt")
    page.wait_for_load_state("networkidle")
    return first, page.inner_text("#fr-summary").split(" dataset")[0]


def measure(sites: list[Path], runs: int, keep_alive: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    logs: list[list[str]] = [[] for _ in sites]
    servers = [serve(site, log, keep_alive) for site, log in zip(sites, logs)]
    bases = [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for label, q in queries(sites[0]):
                times: list[list[float]] = [[] for _ in sites]
                hits = [""] * len(sites)
                got: list[list[str]] = [[] for _ in sites]
                for r in range(runs):
                    for i in (range(len(sites)) if r % 2 == 0 else reversed(range(len(sites)))):
                        ctx = browser.new_context()  # nothing cached
                        logs[i].clear()
                        t, hits[i] = first_result(ctx.new_page(), f"{bases[i]}/search.html?q={quote(q)}")
                        times[i].append(t)
                        got[i] = list(logs[i])
                        ctx.close()
                for i, site in enumerate(sites):
                    idx = [g for g in got[i] if g.startswith("catalog/search/")]
                    shell = [g for g in got[i] if not g.startswith("catalog/search/")]
                    ir = sum(sizes(str(site / g))[0] for g in idx)
                    ig = sum(sizes(str(site / g))[1] for g in idx)
                    sr = sum(sizes(str(site / g))[0] for g in shell)
                    sg = sum(sizes(str(site / g))[1] for g in shell)
                    terms = sum(g.startswith("catalog/search/terms/") for g in idx)
                    recs = sum(g.startswith("catalog/search/records/") for g in idx)
                    name = f" [{site}]" if len(sites) > 1 else ""
                    print(f"{label:24s} q={q!r:32s} hits {hits[i]:>6s}  first result ms "
                          + ", ".join(f"{t:.0f}" for t in times[i])
                          + f" (median {statistics.median(times[i]):.0f}, {sum(t < 500 for t in times[i])}/{runs} < 500)"
                          + f"  | index: {len(idx)} req ({terms} term shards, {recs} record chunks) "
                          f"{ir / 1e3:.0f} kB raw, {ig / 1e3:.0f} kB gz | page shell: {len(shell)} req "
                          f"{sr / 1e3:.0f} kB raw, {sg / 1e3:.0f} kB gz{name}", flush=True)
            browser.close()
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sites", type=Path, nargs="+", metavar="site")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep-alive", action="store_true", help="serve HTTP/1.1 with persistent connections")
    args = ap.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit("no Chromium at /usr/bin/chromium")
    measure(args.sites, args.runs, args.keep_alive)


if __name__ == "__main__":
    main()
