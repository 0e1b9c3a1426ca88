"""The search index step of a one-document rebuild: `python bench/search_rebuild.py REGISTRY [--profile]`.

Reads a (synthetic) registry, writes the index with an empty cache (the full build's index step),
adds a version `v99` of the middle dataset in memory and writes the index again with the cache, the
catalog as a rebuild sees it: unchanged datasets unloaded (their versions load on first use, and
each load is counted) with the per-dataset parts of the first build. Prints CPU seconds of both
steps, term shards and record chunks rewritten, and the datasets the rebuild loaded. Nothing is
asserted; figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.model import DatasetDocument  # noqa: E402
from site_builder.catalog import Dataset, RegistrySnapshot  # noqa: E402
from site_builder.parts import PartStore, content_id  # noqa: E402
from site_builder.search_index import write_search_index  # noqa: E402
from site_builder.synthetic import base_document  # noqa: E402


def _lazy(catalog: RegistrySnapshot, store: PartStore, changed: str, loads: list[str]) -> RegistrySnapshot:
    datasets = {}
    for name, ds in catalog.datasets.items():
        if name == changed:
            datasets[name] = Dataset(name, list(ds.versions), cid=ds.cid)
            continue

        def loader(n=name, vs=ds.versions):
            loads.append(n)
            return list(vs)
        datasets[name] = Dataset(name, loader=loader, cid=ds.cid, count=len(ds.versions))
    return RegistrySnapshot(datasets, parts=store)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("registry")
    ap.add_argument("--profile", action="store_true", help="print the rebuild step's cProfile")
    ap.add_argument("--rebuilds", type=int, default=1, help="one-document rebuilds in a row (new datasets changed each time)")
    args = ap.parse_args()
    catalog = RegistrySnapshot.read(args.registry)
    work = Path(tempfile.mkdtemp(prefix="bench-search-rebuild-"))
    try:
        store = PartStore()
        catalog.parts = store
        c0 = time.process_time()
        full = write_search_index(catalog, str(work / "site"), cache_dir=str(work / "cache"))
        print(f"{len(catalog.versions):,} versions, {len(catalog.datasets):,} datasets: full index step "
              f"{time.process_time() - c0:.2f} s CPU, {full.shards} term shards")
        names = sorted(catalog.datasets)
        for r in range(args.rebuilds):
            name = names[(len(names) // 2 + 37 * r) % len(names)]
            ds = catalog.datasets[name]
            doc = DatasetDocument.from_dict(base_document(name, f"v99r{r}", title=f"{name} v99",
                                                          published_at=f"2027-01-{r % 28 + 1:02d}T00:00:00+00:00"))
            versions = [*ds.versions, doc]
            catalog.datasets[name] = Dataset(name, versions, cid=content_id([ds.cid, doc.ref]))
            loads: list[str] = []
            lazy = _lazy(catalog, store, name, loads)
            prof = cProfile.Profile()
            c0 = time.process_time()
            prof.enable()
            inc = write_search_index(lazy, str(work / f"site{r}"), cache_dir=str(work / "cache"))
            prof.disable()
            cpu = time.process_time() - c0
            tail = work / f"site{r}" / "catalog" / "search" / "terms" / "tail.json"
            tail_gz = len(gzip.compress(tail.read_bytes(), 6)) if tail.exists() else 0
            print(f"rebuild {r + 1} ({name}): index step {cpu:.3f} s CPU; term shards rewritten "
                  f"{inc.shards_built}/{inc.shards}; tail {getattr(inc, 'tail_bytes', 0) / 1e3:.0f} kB raw / {tail_gz / 1e3:.0f} kB gz; "
                  f"datasets loaded {len(loads)}")
            if args.profile and (r == args.rebuilds - 1 or inc.shards_built):
                pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("CI", "true")
    main()
