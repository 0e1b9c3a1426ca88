"""The catalog at N versions, end to end: `python bench/catalog_scale.py N [--keep DIR] [--no-browser]`.

Writes a synthetic registry (site_builder.synthetic; not timed), builds the site with an empty
incremental cache (the full build), adds one new version of one dataset and rebuilds with the cache
(the one-document rebuild), then measures search in Chromium on the result (bench/search_scale.py).
Prints wall and CPU seconds (the machine is shared: CPU time is the steadier figure), the phases,
peak RSS of the builder and of its forked child, the site on disk, and the search figures.
Nothing is asserted; figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CI", "true")  # no progress bars
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_builder.build import build_site  # noqa: E402
from site_builder.synthetic import base_document, write_document, write_synthetic_registry  # noqa: E402


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(fn):
    w, c = time.perf_counter(), cpu()
    out = fn()
    return out, time.perf_counter() - w, cpu() - c


def next_version(reg: Path, name: str) -> dict:
    """What a weekly export publishes: the dataset's newest version again, at the next
    materialization version, with a new table version (same datastack, tags, owners, columns)."""
    import json

    docs = [json.loads(p.read_text()) for p in (reg / "datasets" / name).glob("*.json")
            if not p.name.endswith(".files.json") and p.stem != "v99"]
    doc = max(docs, key=lambda d: d["published_at"])
    doc.update(version="v99", title=f"{doc['title']} (next)", published_at="2027-01-01T00:00:00+00:00",
               table_version=int(doc.get("table_version") or 0) + 1,
               history=[{"action": "published", "at": "2027-01-01T00:00:00Z", "by": "bench@example.org"}])
    doc["materialization"] = {"version": max(doc["materialization"].get("versions") or [doc["materialization"]["version"]]) + 1}
    doc["location"] = doc["location"].rstrip("/").rsplit("/", 1)[0] + "/v99"
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--keep", help="keep the site here")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--rebuilds", type=int, default=3, help="one-document rebuilds to time (default 3)")
    ap.add_argument("--foreign", action="store_true",
                    help="the new version is a minimal document (other datastack, no tags or owners: it joins and "
                         "leaves lists) instead of its predecessor at the next materialization version")
    ap.add_argument("--registry", help="use (or write and keep) the synthetic registry here")
    args = ap.parse_args()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}", flush=True)
    work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{args.n}-"))
    try:
        reg, cache = Path(args.registry) if args.registry else work / "reg", work / "cache"
        site = Path(args.keep) if args.keep else work / "site"
        if site.exists():
            shutil.rmtree(site)
        if not reg.exists():
            t0 = time.perf_counter()
            write_synthetic_registry(str(reg), args.n, validate_every=50)
            print(f"registry written in {time.perf_counter() - t0:.0f} s (not part of the build)", flush=True)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        full, fw, fc = timed(lambda: build_site(str(reg), str(site), cache_dir=str(cache), progress=False))
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"versions {full.versions:,}, datasets {full.datasets:,}, pages {full.pages:,}")
        print(f"full build: {fw:.1f} s wall, {fc:.1f} s CPU ({fw / full.pages * 1000:.2f} ms/page wall); phases: "
              + ", ".join(f"{k} {v:.1f}" for k, v in full.timings.items()), flush=True)
        print(f"peak RSS: builder {peak_self / 1e6:.2f} GB (after writing the registry: {rss0 / 1e6:.2f} GB), "
              f"forked JSON+search child {peak_child / 1e6:.2f} GB")
        s = full.search
        print(f"search index: {s.shards} term shards {s.index_bytes / 1e6:.1f} MB raw / {s.index_gzip_bytes / 1e6:.1f} MB gz; "
              f"meta+facets {s.facets_bytes / 1e3:.0f} kB raw / {s.facets_gzip_bytes / 1e3:.0f} kB gz; "
              f"records {s.columns_bytes / 1e6:.1f} MB raw / {s.columns_gzip_bytes / 1e6:.1f} MB gz")
        files = [f for f in site.rglob("*") if f.is_file()]
        print(f"site on disk: {sum(f.stat().st_size for f in files) / 1e9:.2f} GB in {len(files):,} files", flush=True)

        names = sorted(os.listdir(reg / "datasets"))
        for i in range(args.rebuilds):  # each: one new version of another dataset, then a rebuild
            name = names[(len(names) // 2 + 7 * i) % len(names)]
            write_document(str(reg), next_version(reg, name) if not args.foreign else base_document(
                name, "v99", title=f"{name} v99", published_at="2027-01-01T00:00:00+00:00"))
            inc, iw, ic = timed(lambda: build_site(str(reg), str(site), cache_dir=str(cache), progress=False))
            print(f"one-document rebuild: {iw:.2f} s wall ({iw / fw:.1%} of full), {ic:.2f} s CPU ({ic / fc:.1%}); "
                  f"reused {inc.reused:,}/{inc.datasets:,}, parsed {inc.parsed:,}; term shards rewritten "
                  f"{inc.search.shards_built}/{inc.search.shards} (tail {inc.search.tail_bytes / 1e3:.0f} kB raw); "
                  "phases: " + ", ".join(f"{k} {v:.2f}" for k, v in inc.timings.items()), flush=True)
        if not args.no_browser:
            from bench.search_scale import measure

            measure([site], runs=3)
    finally:
        if args.registry:  # leave the kept registry as it was written
            for p in (reg / "datasets").glob("*/v99*.json"):
                p.unlink()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
