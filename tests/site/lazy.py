"""A catalog as a rebuild sees it, for tests of code that must not parse unchanged datasets.

    store = PartStore()                       # in memory
    full = RegistrySnapshot.read(reg); full.parts = store
    expected = consumer(full)                 # computes and remembers the parts
    lazy, loads = lazy_copy(full, store, changed={"cell_types"})
    assert consumer(lazy) == expected and set(loads) <= {...}
"""

from __future__ import annotations

from typing import Iterable

from site_builder.catalog import Dataset, RegistrySnapshot
from site_builder.parts import PartStore


def lazy_copy(catalog: RegistrySnapshot, store: PartStore,
              changed: Iterable[str] = ()) -> tuple[RegistrySnapshot, list[str]]:
    """(a copy of `catalog` whose datasets outside `changed` are not loaded, the list their loads
    are recorded in). Content ids are kept, so `store`'s parts of the original apply."""
    changed = set(changed)
    loads: list[str] = []
    datasets: dict[str, Dataset] = {}
    for name, ds in catalog.datasets.items():
        versions = list(ds.versions)
        if name in changed:
            datasets[name] = Dataset(name, versions, cid=ds.cid)
            continue

        def loader(n: str = name, vs: list = versions) -> list:
            loads.append(n)
            return list(vs)

        datasets[name] = Dataset(name, loader=loader, cid=ds.cid, count=len(versions))
    snap = RegistrySnapshot(datasets, list(catalog.skipped), dict(catalog.digests), parts=store)
    return snap, loads
