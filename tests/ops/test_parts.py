"""The per-dataset part store: parts are computed once per content id, survive a save and a new
store, and an unreadable or other-code file is ignored (the parts are computed again)."""

from __future__ import annotations

import os

from site_builder.catalog import RegistrySnapshot
from site_builder.parts import PartStore, shard_of
from site_builder.synthetic import write_synthetic_registry
from tests.site.lazy import lazy_copy


def _titles(ds):
    return [v.title for v in ds.versions]


def test_parts_are_remembered_by_content_id(tmp_path):
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 9, seed=2)
    full = RegistrySnapshot.read(str(reg))
    assert all(ds.cid for ds in full.datasets.values())
    store = PartStore(str(tmp_path / "parts"), code="c1")
    full.parts = store
    want = {n: full.part("titles", ds, _titles) for n, ds in full.datasets.items()}
    assert store.computed == {"titles": len(full.datasets)}
    store.save()

    again = PartStore(str(tmp_path / "parts"), code="c1")
    changed = next(iter(full.datasets))
    lazy, loads = lazy_copy(full, again, changed={changed})
    got = {n: lazy.part("titles", ds, _titles) for n, ds in lazy.datasets.items()}
    assert got == want and loads == [] and again.computed == {}

    other_code = PartStore(str(tmp_path / "parts"), code="c2")
    lazy2, loads2 = lazy_copy(full, other_code)
    assert {n: lazy2.part("titles", ds, _titles) for n, ds in lazy2.datasets.items()} == want
    assert sorted(loads2) == sorted(full.datasets)  # nothing reused under other code

    for shard in (tmp_path / "parts" / "titles").iterdir():
        shard.write_bytes(b"not a pickle")
    broken = PartStore(str(tmp_path / "parts"), code="c1")
    lazy3, loads3 = lazy_copy(full, broken)
    assert {n: lazy3.part("titles", ds, _titles) for n, ds in lazy3.datasets.items()} == want
    assert len(loads3) == len(full.datasets)


def test_a_part_that_reads_another_dataset_is_keyed_by_both(tmp_path):
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 9, seed=4)
    full = RegistrySnapshot.read(str(reg))
    a, b, c = list(full.datasets.values())[:3]
    store = PartStore()
    full.parts = store
    full.part("pair", a, lambda ds: ds.name, depends=[b])
    full.part("pair", a, lambda ds: ds.name, depends=[b])
    assert store.computed == {"pair": 1}
    full.part("pair", a, lambda ds: ds.name, depends=[c])
    assert store.computed == {"pair": 2}


def _stamps(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_only_the_files_whose_parts_changed_are_written_again(tmp_path):
    """A rebuild that computed no part of a kind and used the same datasets leaves its files
    alone (at 100,000 versions one kind is 150 MB); one changed dataset rewrites the file its
    part is in; a smaller set of datasets rewrites or removes the files that lost parts."""
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 40, seed=2)
    full = RegistrySnapshot.read(str(reg))
    full.parts = PartStore(str(tmp_path / "parts"), code="c1")
    for ds in full.datasets.values():
        full.part("titles", ds, _titles)
    full.parts.save()
    folder = tmp_path / "parts" / "titles"
    assert len(list(folder.iterdir())) > 5  # spread over files by content id
    for p in folder.iterdir():
        os.utime(p, ns=(1, 1))
    before = _stamps(folder)

    again = PartStore(str(tmp_path / "parts"), code="c1")
    lazy, _ = lazy_copy(full, again)
    for ds in lazy.datasets.values():
        lazy.part("titles", ds, _titles)
    again.save()
    assert _stamps(folder) == before  # nothing rewritten

    changed = next(iter(full.datasets))
    one = PartStore(str(tmp_path / "parts"), code="c1")
    lazy1, loads = lazy_copy(full, one, changed={changed})
    lazy1.datasets[changed].cid = "a-new-content-id"
    for ds in lazy1.datasets.values():
        lazy1.part("titles", ds, _titles)
    one.save()
    after = _stamps(folder)
    rewritten = {n for n in after if after[n] != before.get(n)} | (set(before) - set(after))
    assert rewritten == {shard_of(full.datasets[changed].cid) + ".pkl", shard_of("a-new-content-id") + ".pkl"}
    assert one.computed == {"titles": 1}

    fewer = PartStore(str(tmp_path / "parts"), code="c1")
    lazy2, _ = lazy_copy(full, fewer)
    first = next(iter(lazy2.datasets.values()))
    lazy2.part("titles", first, _titles)
    fewer.save()
    assert [p.name for p in folder.iterdir()] == [shard_of(first.cid) + ".pkl"]
    reread = PartStore(str(tmp_path / "parts"), code="c1")
    assert len(reread._load("titles")) == 1
