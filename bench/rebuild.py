"""Full site build vs the rebuild after one new document (incremental cache), at N versions.

    .venv/bin/python bench/rebuild.py 1000 10000

For each N: write a synthetic registry (site_builder.synthetic), build it with an empty cache
(= a full build, filling the cache), add one new document (a new version of one dataset), rebuild
with the cache, and print both times, their ratio and the phases. Target: rebuild < 20% of full
at 10,000 versions.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time

os.environ.setdefault("CI", "true")  # no progress bars in the figures

from site_builder.build import build_site  # noqa: E402
from site_builder.synthetic import base_document, write_document, write_synthetic_registry  # noqa: E402


def run(n: int) -> dict:
    work = tempfile.mkdtemp(prefix=f"bench-rebuild-{n}-")
    try:
        reg, out, cache = (os.path.join(work, x) for x in ("reg", "out", "cache"))
        write_synthetic_registry(reg, n)
        t = time.perf_counter()
        full = build_site(reg, out, cache_dir=cache, progress=False)
        full_s = time.perf_counter() - t
        name = sorted(os.listdir(os.path.join(reg, "datasets")))[len(os.listdir(os.path.join(reg, "datasets"))) // 2]
        write_document(reg, base_document(name, "v99", title=f"{name} v99", published_at="2027-01-01T00:00:00+00:00"))
        t = time.perf_counter()
        inc = build_site(reg, out, cache_dir=cache, progress=False)
        inc_s = time.perf_counter() - t
        return {"n": n, "full": full_s, "rebuild": inc_s, "ratio": inc_s / full_s, "reused": inc.reused,
                "datasets": inc.datasets, "full_phases": full.timings, "rebuild_phases": inc.timings,
                "shards": inc.search.shards if inc.search else 0,
                "shards_built": inc.search.shards_built if inc.search else 0}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1000]
    print(f"# {platform.node()} {platform.processor() or platform.machine()} {os.cpu_count()} cores, "
          f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print("| versions | full build (s) | rebuild after 1 new doc (s) | ratio | datasets reused |")
    print("|---:|---:|---:|---:|---:|")
    rows = []
    for n in sizes:
        r = run(n)
        rows.append(r)
        print(f"| {n:,} | {r['full']:.1f} | {r['rebuild']:.1f} | {r['ratio']:.0%} | {r['reused']:,}/{r['datasets']:,} |",
              flush=True)
    for r in rows:
        fmt = lambda d: ", ".join(f"{k} {v:.1f}" for k, v in d.items())  # noqa: E731
        print(f"\n{r['n']:,}: full phases: {fmt(r['full_phases'])}\n{r['n']:,}: rebuild phases: {fmt(r['rebuild_phases'])}"
              f"\n{r['n']:,}: rebuild ran lunr for {r['shards_built']} of {2 * r['shards']} search shards")


if __name__ == "__main__":
    main(sys.argv[1:])
