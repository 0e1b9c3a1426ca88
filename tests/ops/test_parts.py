"""The per-dataset part store: parts are computed once per content id, survive a save and a new
store, and an unreadable or other-code file is ignored (the parts are computed again)."""

from __future__ import annotations

from site_builder.catalog import RegistrySnapshot
from site_builder.parts import PartStore
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

    (tmp_path / "parts" / "titles.pkl").write_bytes(b"not a pickle")
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


def test_an_unchanged_kind_is_not_written_again(tmp_path):
    """A rebuild that computed no part of a kind and used the same datasets leaves its file
    alone (at 100,000 versions one kind's file is tens of MB); a changed set is written."""
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 9, seed=2)
    full = RegistrySnapshot.read(str(reg))
    full.parts = PartStore(str(tmp_path / "parts"), code="c1")
    for ds in full.datasets.values():
        full.part("titles", ds, _titles)
    full.parts.save()
    path = tmp_path / "parts" / "titles.pkl"
    before = path.stat().st_mtime_ns
    path.touch()
    touched = path.stat().st_mtime_ns
    assert touched != before

    again = PartStore(str(tmp_path / "parts"), code="c1")
    lazy, _ = lazy_copy(full, again)
    for ds in lazy.datasets.values():
        lazy.part("titles", ds, _titles)
    again.save()
    assert path.stat().st_mtime_ns == touched  # not rewritten

    fewer = PartStore(str(tmp_path / "parts"), code="c1")
    lazy2, _ = lazy_copy(full, fewer)
    first = next(iter(lazy2.datasets.values()))
    lazy2.part("titles", first, _titles)
    fewer.save()
    assert path.stat().st_mtime_ns != touched
    reread = PartStore(str(tmp_path / "parts"), code="c1")
    assert len(reread._load("titles")) == 1
