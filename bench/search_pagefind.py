"""Measure Pagefind as the catalog search: `python bench/search_pagefind.py SITE [--runs 3] [--no-browser]`.

Why it exists: at 50,000 versions every query on our lunr search page fetches all 32 shards of the
ranked index (10 MB gzipped) and then all 32 description shards (17 MB); FIELD-NOTES says to
measure Pagefind (a chunked static index: the browser loads only the fragments a query needs)
before choosing. Pagefind is not a project dependency: install it in the venv by hand,
`.venv/bin/pip install 'pagefind[bin]==1.5.2'` (PyPI ships the binary).

SITE is a site kept by `bench/site_build.py N --keep SITE --no-browser`. This script:

1. Indexes SITE with the Pagefind CLI in two ways, timing each:
   * `records` -> SITE/pagefind/: one record per *dataset* carrying the text the lunr indexes carry
     (name and its parts, every version's title, every column name and its parts, tags, owners,
     datastack; newest version's description and column descriptions at weight 0.5), weighted like
     the lunr fields, with the facets as `data-pagefind-filter` and the result line as
     `data-pagefind-meta`. The records are small HTML files written from SITE/api/datasets/*.json
     into a staging directory that mirrors the dataset page URLs, then
     `pagefind --site STAGING --output-path SITE/pagefind`. (Not the Python API's add_html_file:
     pagefind 1.5.2's client reads one reply per 100 ms, ~28 min for 16,667 records.)
   * `pages` -> SITE/pagefind-pages/: the built HTML as it is, `--glob 'datasets/**/*.html'`
     (dataset pages and version pages, one record each, whole <body>: our templates have no
     data-pagefind-body). What zero configuration gives. The binary holds the whole site in memory
     (4.5 GB RSS at 10k versions; past 16 GB at 50k), so each run is killed past --max-rss-gb.
2. Prints each bundle's size on disk by file kind (Pagefind's index files are already gzipped)
   next to the lunr files of the same site (raw and gzipped).
3. Serves SITE on 127.0.0.1 (site_builder.cli.make_server, with a per-request byte log: Pagefind
   1.5 searches in a web worker, whose fetches the page's Resource Timing does not see) and, in
   Chromium, opens a generated test page SITE/pf-bench.html that imports the bundle's pagefind.js,
   calls init(), search(q) and results[0].data(), then data() of the first 10 results. Per query
   and run (fresh browser context each time): ms from navigation start to init, search and first
   result data, and requests/bytes served before the first result and in total.
4. For the same queries, our lunr page `search.html?q=`: `first_result_ms` from bench/site_build.py
   (reused: the figure docs/benchmarks.md records; it reports when the facet-table pass rendered,
   whichever pass put the first result on screen), and an instrumented run: ms to the first
   rendered result, to `data-index-ready` (ranked) and `data-columns-ready` (descriptions), and
   requests/bytes.

Queries (fixed, so 10k and 50k compare; the 50k registry starts with the 10k one's datasets):
"embedding" (the query bench/site_build.py times), "pt_root_id" (a column of every dataset),
"feat_ririmoto_1" (a column of ~1 dataset in 3,334) and "mogaberber" (the rarest description word
at 10k, in ~4% of datasets; the synthetic vocabulary has no truly rare prose word). Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import version as package_version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_build import CHROMIUM, CHROMIUM_ARGS, first_result_ms  # noqa: E402

from site_builder.cli import make_server  # noqa: E402
from site_builder.sanitize import plain_text  # noqa: E402

QUERIES = ["embedding", "pt_root_id", "feat_ririmoto_1", "mogaberber"]
BUNDLES = {"records": "pagefind", "pages": "pagefind-pages"}
TOP = 10  # results whose data() a result list would load

BENCH_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pagefind bench</title></head>
<body><p>Pagefind timing page written by bench/search_pagefind.py.</p>
<script type="module">
const p = new URLSearchParams(location.search);
const out = {epoch: performance.timeOrigin};
try {
  const pagefind = await import(p.get("bundle") + "pagefind.js");
  await pagefind.init();
  out.init = performance.now();
  const search = await pagefind.search(p.get("q"));
  out.search = performance.now();
  out.count = search.results.length;
  if (search.results.length) {
    const first = await search.results[0].data();
    out.first = performance.now();
    out.firstUrl = first.url;
    await Promise.all(search.results.slice(0, %d).map((r) => r.data()));
    out.top = performance.now();
  }
} catch (err) {
  out.error = String(err);
}
window.pfBench = out;
</script>
</body></html>
""" % TOP

LUNR_PROBE = """
(() => {
  const t = {epoch: performance.timeOrigin};
  const seen = () => {
    const box = document.getElementById("fr-search");
    if (t.first === undefined && document.querySelector("#fr-results li")) t.first = performance.now();
    if (box && t.ranked === undefined && box.getAttribute("data-index-ready")) t.ranked = performance.now();
    if (box && t.columns === undefined && box.hasAttribute("data-columns-ready")) {
      t.columns = performance.now();
      const li = document.querySelector("#fr-results li");
      t.top = li ? li.getAttribute("data-dataset") : null;
      t.summary = (document.getElementById("fr-summary") || {}).textContent;
    }
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true, attributes: true});
  window.lunrBench = t;
})();
"""


# ---------------------------------------------------------------- indexing

def record_html(summary: dict, newest: dict) -> str:
    """One dataset as a Pagefind record: the lunr corpus (site_builder.search_index) with its boosts
    mapped to data-pagefind-weight (name 10, title 5, columns 3, other 1, descriptions 0.5)."""
    e = html.escape
    name = summary["name"]
    titles, columns = [], []
    for v in summary["versions"]:
        if v["title"] not in titles:
            titles.append(v["title"])
        for c in v.get("columns", []):
            if c not in columns:
                columns.append(c)
    latest = next((v for v in reversed(summary["versions"]) if v["version"] == summary.get("latest")),
                  summary["versions"][-1])
    other = [" ".join(c.split("_")) for c in columns] + list(newest.get("tags", []))
    other += [o.get("name", "") for o in newest.get("owners", [])] + [newest.get("datastack", "")]
    prose = [plain_text(newest.get("description"), 2000)]
    prose += [plain_text(c.get("description"), 300) for c in newest.get("columns", []) if c.get("description")]
    filters = set()
    for v in summary["versions"]:
        filters.add(("datastack", v["datastack"]))
        filters.add(("format", v["format"]))
        filters.add(("status", v["status"]))
        filters.update(("mat", str(m)) for m in v.get("materialization_versions", []))
        filters.update(("tag", t) for t in v.get("tags", []))
    spans = "".join(f'<span data-pagefind-filter="{k}:{e(x)}"></span>' for k, x in sorted(filters))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(name)}</title></head><body><main data-pagefind-body>"
        f'<h1 data-pagefind-weight="10" data-pagefind-meta="title">{e(name)}</h1>'
        f'<p data-pagefind-weight="10">{e(" ".join(name.split("_")))}</p>'
        f'<p data-pagefind-weight="5" data-pagefind-meta="subtitle">{e(" ".join(titles))}</p>'
        f'<p data-pagefind-weight="3">{e(" ".join(columns))}</p>'
        f'<p>{e(" ".join(x for x in other if x))}</p>'
        f'<div data-pagefind-weight="0.5">{e(" ".join(x for x in prose if x))}</div>'
        f'<span data-pagefind-meta="latest:{e(latest["version"])}"></span>'
        f'<span data-pagefind-meta="page:{e(latest["page"])}"></span>'
        f"{spans}</main></body></html>"
    )


def stage_records(site: Path, staging: Path) -> int:
    """Write one record per dataset to staging/datasets/<name>.html (the dataset page's URL)."""
    out = staging / "datasets"
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in sorted((site / "api" / "datasets").glob("*.json")):
        summary = json.loads(f.read_text())
        newest = json.loads((site / summary["versions"][-1]["document"]).read_text())
        (out / f"{summary['name']}.html").write_text(record_html(summary, newest))
        n += 1
    return n


def run_pagefind(args: list[str], max_rss_gb: float) -> tuple[float, float, str]:
    """Run the Pagefind CLI; returns wall seconds, its peak RSS in MB (sampled every 0.2 s) and its
    summary lines. Killed if its RSS passes `max_rss_gb` (the binary holds the whole site in memory)."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pagefind", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # execs the binary: same pid
    peak, killed = 0.0, False
    out_parts: list[str] = []
    reader = threading.Thread(target=lambda: out_parts.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                rss = next((int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:")), 0) / 1024
        except (FileNotFoundError, ProcessLookupError):
            rss = 0.0
        peak = max(peak, rss)
        if rss > max_rss_gb * 1024 and not killed:
            proc.kill()
            killed = True
        time.sleep(0.2)
    reader.join()
    wall = time.perf_counter() - t
    out = "".join(out_parts)
    if killed:
        return wall, peak, f"KILLED at {peak / 1024:.1f} GB RSS (cap {max_rss_gb} GB) after {wall:.0f} s"
    if proc.returncode:
        print(out)
        raise SystemExit(f"pagefind failed ({proc.returncode})")
    keep = [ln.strip() for ln in out.splitlines() if re.search(r"Indexed|Finished", ln)]
    return wall, peak, "; ".join(keep)


def index_records(site: Path, max_rss_gb: float) -> None:
    bundle = site / BUNDLES["records"]
    shutil.rmtree(bundle, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix="pf-records-"))
    try:
        t = time.perf_counter()
        n = stage_records(site, staging)
        stage = time.perf_counter() - t
        wall, peak, summary = run_pagefind(["--site", str(staging), "--output-path", str(bundle)], max_rss_gb)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if summary.startswith("KILLED"):
        shutil.rmtree(bundle, ignore_errors=True)
    print(f"records: {n} dataset records staged in {stage:.1f} s; pagefind {wall:.1f} s "
          f"(peak RSS {peak:.0f} MB); total {stage + wall:.1f} s")
    print(f"  pagefind says: {summary}")


def index_pages(site: Path, max_rss_gb: float) -> None:
    shutil.rmtree(site / BUNDLES["pages"], ignore_errors=True)
    wall, peak, summary = run_pagefind(["--site", str(site), "--glob", "datasets/**/*.html",
                                        "--output-subdir", BUNDLES["pages"]], max_rss_gb)
    if summary.startswith("KILLED"):
        shutil.rmtree(site / BUNDLES["pages"], ignore_errors=True)
    print(f"pages: pagefind {wall:.1f} s (peak RSS {peak:.0f} MB)")
    print(f"  pagefind says: {summary}")


# ---------------------------------------------------------------- sizes

_gz_memo: dict[Path, int] = {}


def served_gzip(path: Path) -> int:
    """Bytes a gzip-serving host would send: the file as is if already gzipped (Pagefind's index
    files), else its gzip -6 size."""
    if path not in _gz_memo:
        raw = path.read_bytes()
        _gz_memo[path] = len(raw) if raw[:2] == b"\x1f\x8b" else len(gzip.compress(raw, 6))
    return _gz_memo[path]


def bundle_sizes(bundle: Path) -> None:
    kinds: dict[str, list[int]] = {}
    for f in bundle.rglob("*"):
        if not f.is_file():
            continue
        if f.parent.name in ("index", "fragment", "filter"):
            kind = f.parent.name
        elif f.suffix == ".pf_meta":
            kind = "pf_meta"
        elif f.name.startswith("wasm."):
            kind = "wasm"
        else:
            kind = "js/css/ui"
        k = kinds.setdefault(kind, [0, 0])
        k[0] += 1
        k[1] += f.stat().st_size
    total = sum(v[1] for v in kinds.values())
    search = sum(v[1] for k, v in kinds.items() if k in ("index", "fragment", "filter", "pf_meta"))
    print(f"  {bundle.name}/: {total / 1e6:.2f} MB on disk; index+fragments+filters+meta {search / 1e6:.2f} MB")
    for k in ("pf_meta", "index", "fragment", "filter", "wasm", "js/css/ui"):
        if k in kinds:
            n, b = kinds[k]
            print(f"    {k:9s} {n:6d} files {b / 1e6:8.2f} MB  (mean {b / n / 1e3:.1f} kB)")


def lunr_sizes(site: Path) -> None:
    for part in ("search-index", "search-columns"):
        files = list((site / "catalog" / part).glob("*.json"))
        raw = sum(f.stat().st_size for f in files)
        gz = sum(served_gzip(f) for f in files)
        print(f"  lunr catalog/{part}/: {len(files)} files, {raw / 1e6:.2f} MB raw, {gz / 1e6:.2f} MB gzipped")
    f = site / "catalog" / "versions.json"
    print(f"  lunr catalog/versions.json: {f.stat().st_size / 1e6:.2f} MB raw, {served_gzip(f) / 1e6:.2f} MB gzipped")


# ---------------------------------------------------------------- browser

def logging_server(site: Path):
    """make_server's server, its handler subclassed to log (epoch ms at end, path, bytes) per file."""
    os.environ["SITE_SERVE_QUIET"] = "1"
    server = make_server(str(site), "127.0.0.1", 0)
    base = server.RequestHandlerClass
    handler_cls = base.func if isinstance(base, functools.partial) else base
    log: list[tuple[float, str, int]] = []

    class Logged(handler_cls):  # type: ignore[misc, valid-type]
        def copyfile(self, source, outputfile):  # noqa: ANN001 - stdlib signature
            n = 0
            while chunk := source.read(1 << 16):
                outputfile.write(chunk)
                n += len(chunk)
            log.append((time.time() * 1000, self.path.split("?")[0], n))

    server.RequestHandlerClass = functools.partial(Logged, directory=str(site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, log


def traffic(site: Path, entries: list[tuple[float, str, int]], until: float | None = None,
            prefix: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """requests, bytes served (raw), bytes a gzip host would send; optionally only those finished by
    `until` (epoch ms) and under one of `prefix`."""
    n = raw = gz = 0
    for t, path, size in entries:
        if until is not None and t > until:
            continue
        if prefix and not path.lstrip("/").startswith(prefix):
            continue
        n += 1
        raw += size
        f = site / path.lstrip("/")
        gz += served_gzip(f) if f.is_file() else size
    return n, raw, gz


def fmt_traffic(x: tuple[int, int, int]) -> str:
    return f"{x[0]} req {x[1] / 1e3:,.0f} kB ({x[2] / 1e3:,.0f} kB gz)"


def poll(page, expr: str, timeout_s: float):
    """Poll `expr` until defined (page.wait_for_function evaluates strings, which the site's CSP
    forbids; page.evaluate goes through the DevTools protocol and is not subject to it)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        v = page.evaluate(expr)
        if v is not None:
            return v
        time.sleep(0.02)
    raise TimeoutError(expr)


def browse(site: Path, queries: list[str], runs: int, bundles: list[str], lunr: bool, verbose: bool) -> None:
    from playwright.sync_api import sync_playwright

    (site / "pf-bench.html").write_text(BENCH_PAGE)
    server, log = logging_server(site)
    port = server.server_address[1]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in bundles:
                print(f"pagefind [{name}] bundle /{BUNDLES[name]}/ (ms from navigation start; traffic "
                      f"until the first result's data / including {TOP} results' data)")
                for q in queries:
                    for r in range(runs):
                        log.clear()
                        page = browser.new_page()  # a new context: empty cache
                        page.goto(f"http://127.0.0.1:{port}/pf-bench.html?bundle=/{BUNDLES[name]}/&q={q}")
                        b = poll(page, "window.pfBench", 120)
                        page.close()
                        if b.get("error"):
                            print(f"  {q!r} run {r + 1}: error {b['error']}")
                            continue
                        first = b.get("first")
                        until = traffic(site, log, b["epoch"] + first) if first else None
                        if verbose and r == 0:
                            for t, path, size in log:
                                print(f"      {t - b['epoch']:7.0f} ms  {size:9d} B  {path}")
                        print(f"  {q!r} run {r + 1}: init {b['init']:.0f}  search {b['search']:.0f}  "
                              f"first result {first or float('nan'):.0f}  top {TOP} {b.get('top') or float('nan'):.0f}  "
                              f"hits {b['count']}  first={b.get('firstUrl')}  "
                              f"| to first: {fmt_traffic(until) if until else '-'} | all: {fmt_traffic(traffic(site, log))}")
            browser.close()
            if lunr:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                print("lunr search.html (ms from navigation start: first rendered result, ranked index "
                      "ready, descriptions ready; search traffic = catalog/ + search.js + lunr)")
                for q in queries:
                    for r in range(runs):
                        log.clear()
                        ctx = browser.new_context()
                        ctx.add_init_script(LUNR_PROBE)
                        page = ctx.new_page()
                        page.goto(f"http://127.0.0.1:{port}/search.html?q={q}")
                        b = poll(page, "window.lunrBench && window.lunrBench.columns !== undefined "
                                 "? window.lunrBench : undefined", 300)
                        ctx.close()
                        srch = ("catalog/", "assets/search.js", "assets/vendor/lunr/")
                        until = traffic(site, log, b["epoch"] + b["first"], srch) if b.get("first") else None
                        print(f"  {q!r} run {r + 1}: first result {b.get('first', float('nan')):.0f}  "
                              f"ranked {b['ranked']:.0f}  descriptions {b['columns']:.0f}  top={b.get('top')}  "
                              f"| search traffic: {fmt_traffic(traffic(site, log, None, srch))}; "
                              f"page total {fmt_traffic(traffic(site, log))}"
                              f"{' | to first: ' + fmt_traffic(until) if until else ''}  [{(b.get('summary') or '')[:60]}]")
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", help="a site kept by bench/site_build.py N --keep SITE")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", nargs="+", default=QUERIES)
    ap.add_argument("--bundles", nargs="+", default=list(BUNDLES), choices=list(BUNDLES))
    ap.add_argument("--skip-index", action="store_true", help="reuse the bundles already in SITE")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-lunr", action="store_true", help="skip the lunr page timings")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the Pagefind requests of each query's first run")
    ap.add_argument("--max-rss-gb", type=float, default=16.0, help="kill a pagefind run past this RSS")
    args = ap.parse_args()
    site = Path(args.site)

    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"pagefind {package_version('pagefind')} (bin {package_version('pagefind_bin')}), "
          f"playwright {package_version('playwright')}")
    pages = sum(1 for _ in (site / "datasets").rglob("*.html"))
    print(f"site: {site}  dataset+version pages: {pages}")
    if not args.skip_index:
        if "records" in args.bundles:
            index_records(site, args.max_rss_gb)
        if "pages" in args.bundles:
            index_pages(site, args.max_rss_gb)
    print("sizes on disk:")
    bundles = [b for b in args.bundles if (site / BUNDLES[b] / "pagefind.js").is_file()]
    for name in bundles:
        bundle_sizes(site / BUNDLES[name])
    lunr_sizes(site)
    if args.no_browser or not os.path.exists(CHROMIUM):
        return
    browse(site, args.queries, args.runs, bundles, not args.no_lunr, args.verbose)
    if not args.no_lunr:
        ms = first_result_ms(str(site), query="embedding", runs=args.runs)
        print("lunr first_result_ms('embedding') from bench/site_build.py (facet-table pass), per run: "
              + ", ".join(f"{x:.0f}" for x in ms))


if __name__ == "__main__":
    main()
