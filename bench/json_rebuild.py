"""CPU cost of `write_json` in a one-dataset rebuild (the forked JSON child's share of a rebuild).

    python bench/json_rebuild.py REGISTRY [--profile N]

Reads REGISTRY, writes the JSON API fully once (with an in-memory part store), then rebuilds it
the way a cached rebuild does: every dataset but one is unloaded, and loading it parses its
documents again from their bytes (what a rebuild's document cache costs per dataset); only the
changed dataset and its join neighbours are rewritten (`reuse`). Prints CPU seconds of both.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())

from registry.model import DatasetDocument  # noqa: E402
from site_builder.catalog import Dataset, RegistrySnapshot  # noqa: E402
from site_builder.jsonout import write_json  # noqa: E402

try:
    from site_builder.parts import PartStore  # noqa: E402
except ImportError:  # before the part store existed
    PartStore = None  # type: ignore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("registry")
    ap.add_argument("--profile", type=int, default=0, help="print the N top functions of the rebuild")
    a = ap.parse_args()
    full = RegistrySnapshot.read(a.registry)
    out = tempfile.mkdtemp(prefix="jsonbench")
    parts_dir = os.path.join(out, ".parts")
    if PartStore is not None:  # on disk, as a build's cache keeps it
        full.parts = PartStore(parts_dir, code="bench")
    when = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    t = time.process_time()
    write_json(full, out, None, when)
    t_full = time.process_time() - t
    if PartStore is not None:
        full.parts.save()
    names = sorted(full.datasets)
    changed = names[len(names) // 2]
    linked = {changed}
    for ds in full.datasets.values():  # the changed dataset and what points at it or it points at
        for v in ds.versions:
            for r in v.references:
                if r.dataset and r.dataset.partition("@")[0] == changed:
                    linked.add(ds.name)
                if ds.name == changed and r.dataset:
                    linked.add(r.dataset.partition("@")[0])
    raw = {v.ref: v.model_dump_json() for v in full.versions}

    datasets = {}
    loads = []
    for name, ds in full.datasets.items():
        if name == changed:
            datasets[name] = Dataset(name, list(ds.versions), cid=ds.cid)
            continue

        def loader(n=name, refs=tuple(v.ref for v in ds.versions)):
            loads.append(n)
            return [DatasetDocument.model_validate_json(raw[r]) for r in refs]
        datasets[name] = Dataset(name, loader=loader, cid=ds.cid, count=ds.count)
    pr = cProfile.Profile()
    t = time.process_time()
    pr.enable()
    lazy = RegistrySnapshot(datasets, [], dict(full.digests),
                            parts=PartStore(parts_dir, code="bench") if PartStore is not None else None)
    write_json(lazy, out, None, when, reuse=lambda n: n not in linked)
    if lazy.parts is not None:
        lazy.parts.save()  # the part files are read and written again by every rebuild
    pr.disable()
    t_inc = time.process_time() - t
    print(f"{len(full.versions)} versions, {len(names)} datasets: write_json full {t_full:.3f} s CPU, "
          f"rebuild {t_inc:.3f} s CPU; rewritten {len(linked)} datasets, loaded {len(set(loads))}")
    if a.profile:
        pstats.Stats(pr).sort_stats("cumtime").print_stats(a.profile)


if __name__ == "__main__":
    main()
