"""The pages that summarise every dataset (home, the dataset list, datastack / tag / owner pages,
browse indexes, matrices, workbenches) in a one-document rebuild (issue 16): made from per-dataset
parts, they parse no unchanged dataset but those a re-rendered workbench shows, they equal a full
build's, and a page the rebuild reuses is still right. The long lists are paginated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from registry.joins import export_index
from registry.model import Stability
from site_builder import pagination, paths, workbench
from site_builder.catalog import RegistrySnapshot
from site_builder.pages import PageWriter, environment, summary_pages
from site_builder.pagination import Pager, paginate
from site_builder.parts import PartStore
from site_builder.synthetic import base_document, write_document, write_synthetic_registry
from tests.site.lazy import lazy_copy

NONCE = "0123456789abcdef"


class Pages:
    """A stand-in for the incremental cache's `reuse_page`: a page is reused when the previous
    run wrote it with the same names and none of them changed (what `Cache.reuse_page` decides
    from the datasets' keys)."""

    def __init__(self, previous: dict[str, frozenset[str]] | None = None, changed: frozenset[str] = frozenset()):
        self.previous = previous or {}
        self.changed = changed
        self.names: dict[str, frozenset[str]] = {}

    def __call__(self, rel: str, names) -> bool:
        names = frozenset(names)
        self.names[rel] = names
        return self.previous.get(rel) == names and not names & self.changed


def _render(catalog: RegistrySnapshot, out: Path, pages: Pages) -> set[str]:
    """Summary pages of `catalog` under `out`; returns the files written."""
    common = {"site_url": None, "signer_url": "https://signer.example", "catalog_url": "https://catalog.example/",
              "registry_uri": "reg", "generated_at": dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)}
    w = PageWriter(str(out / "docs"), str(out / "frag"), environment(), common, nonce=NONCE, reuse_page=pages)
    summary_pages(w, catalog)
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def _rendered_once(tmp_path, n: int, seed: int, out: str):
    """A synthetic registry of `n` versions, read with an in-memory part store and its summary
    pages rendered into `tmp_path / out`: (registry dir, snapshot, store, the pages written)."""
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), n, seed=seed)
    snap = RegistrySnapshot.read(str(reg))
    store = PartStore()
    snap.parts = store
    first = Pages()
    _render(snap, tmp_path / out, first)
    return reg, snap, store, first


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(pagination, "PAGE_SIZE", 4)


def test_a_rebuild_loads_only_what_it_re_renders_and_equals_a_full_build(tmp_path, small_pages):
    reg, before, store, first = _rendered_once(tmp_path, 60, seed=3, out="before")

    names = sorted(before.datasets)
    name = names[len(names) // 2]
    newest = before.datasets[name].newest  # a new version in the same datastack, tags and owners
    write_document(str(reg), base_document(
        name, "v99", title=f"{name} v99", published_at="2027-01-01T00:00:00+00:00", datastack=newest.datastack,
        tags=list(newest.tags), owners=[o.model_dump(exclude_none=True) for o in newest.owners]))
    after = RegistrySnapshot.read(str(reg))
    full = _render(after, tmp_path / "full", Pages())  # the full build of the new registry

    lazy, loads = lazy_copy(after, store, changed={name})
    rebuild = Pages(first.names, frozenset({name}))
    written = _render(lazy, tmp_path / "lazy", rebuild)

    for rel in written:  # what the rebuild wrote is what a full build writes
        assert (tmp_path / "lazy" / rel).read_bytes() == (tmp_path / "full" / rel).read_bytes(), rel
    for rel in full - written:  # what it kept from the previous build is still right
        assert (tmp_path / "before" / rel).read_bytes() == (tmp_path / "full" / rel).read_bytes(), rel

    # one page of the dataset list was rendered again: the one listing `name`
    lists = sorted(r for r in written if r.startswith("docs/datasets/"))
    assert len([r for r in full if r.startswith("docs/datasets/")]) >= 3
    assert len(lists) == 1 and name in rebuild.names[lists[0].removeprefix("docs/")]
    # group pages: only those showing `name`
    for rel in written:
        rel = rel.removeprefix("docs/")
        if rel in rebuild.names and not rel.startswith("materialization/"):
            assert name in rebuild.names[rel], rel
    # loads: only the other side of a join plan with `name` (a reference either way, or a shared
    # stable annotation-table key) on a workbench rendered again
    def keys(n):
        return {(r.annotation_table, r.target_column) for d in after.datasets[n].versions for r in d.references
                if r.annotation_table and r.stability == Stability.STABLE}

    def targets(n):
        return {r.dataset.partition("@")[0] for d in after.datasets[n].versions for r in d.references if r.dataset}

    partners = {n for n in after.datasets if n != name and (keys(n) & keys(name) or name in targets(n))} | targets(name)
    assert set(loads) <= partners, (loads, partners)
    assert len(loads) < len(names) / 2
    # workbenches: only where the new version changed what `name` shows (its entry at that version)
    benches = {r for r in written if r.startswith("docs/materialization/") and r.count("/") == 3}
    old = workbench.dataset_entries(before.datasets[name].versions)
    new = workbench.dataset_entries(after.datasets[name].versions)
    moved = {f"docs/materialization/{paths.slug(st)}/{m}.md" for st, m in set(old) | set(new) if old.get((st, m)) != new.get((st, m))}
    assert benches and benches <= moved, (benches, moved)


def test_exports_from_parts_equal_the_full_index(tmp_path):
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 30, seed=5)
    for mat, version in ((943, "v943"), (1078, "v1078")):
        write_document(str(reg), base_document(
            "synapses_pni_2_export", version, materialization={"version": mat},
            provenance={"pipeline": "materialization export", "parameters": {"annotation_table": "synapses_pni_2"}}))
    full = RegistrySnapshot.read(str(reg))
    want = export_index(full.by_name)
    assert want  # the registry has exports
    store = PartStore()
    full.parts = store
    assert full.exports() == want
    lazy, loads = lazy_copy(full, store)
    assert lazy.exports() == want and loads == []


def test_pages_sizes_and_boundaries():
    assert [(p.number, p.count, p.start, p.size, list(items)) for p, items in paginate([], "datasets/index.html", 3)] == [
        (1, 1, 0, 0, [])]
    assert [len(items) for _, items in paginate(list(range(3)), "x/a.html", 3)] == [3]
    pages = paginate(list(range(7)), "x/a.html", 3)
    assert [list(items) for _, items in pages] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [p.rel for p, _ in pages] == ["x/a.html", "x/a/2.html", "x/a/3.html"]
    first, _, last = (p for p, _ in pages)
    assert (first.prev, first.next, last.prev, last.next) == (None, 2, 2, None)
    assert first.shape == last.shape == "#list:7"
    with pytest.raises(ValueError):
        paginate([1], "x/a.html", 0)


@pytest.mark.parametrize("number,count,want", [
    (1, 1, [1]), (1, 3, [1, 2, 3]), (1, 10, [1, 2, 3, None, 10]), (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
    (10, 10, [1, None, 8, 9, 10]), (4, 10, [1, 2, 3, 4, 5, 6, None, 10]), (4, 7, [1, 2, 3, 4, 5, 6, 7])])
def test_page_numbers_shown(number, count, want):
    assert Pager("a.html", number, count, count * 10, 0, 10).numbers() == want


def test_list_pages_cannot_be_a_dataset_version_or_group_page():
    # `index` is reserved: a dataset called index has its own folder, its version "2" is not page 2
    assert paths.list_page("datasets/index.html", 2) == "datasets/index/2.html"
    assert paths.version_page("index", "2") != "datasets/index/2.html"
    assert paths.dataset_page("index") != "datasets/index.html"
    # a group's pages live in its own folder; the key spelled "<key>/2" has another slug
    assert paths.list_page(f"tags/{paths.slug('foo')}.html", 2) == "tags/foo/2.html"
    assert paths.slug("foo/2") != "foo/2" and f"tags/{paths.slug('foo/2')}.html" != "tags/foo/2.html"
    assert paths.slug("index") != "index"
    with pytest.raises(ValueError):
        paths.list_page("datasets/index.html", 0)


def test_a_rebuild_with_nothing_changed_parses_nothing_and_reuses_every_list_page(tmp_path, small_pages):
    _reg, full, store, first = _rendered_once(tmp_path, 30, seed=9, out="first")
    computed = dict(store.computed)
    lazy, loads = lazy_copy(full, store)
    again = Pages(first.names)
    written = _render(lazy, tmp_path / "again", again)
    assert loads == [] and store.computed == computed  # every part was known
    # only the pages that summarise everything are written again; no list, group, matrix or workbench page
    assert {r.removeprefix("docs/") for r in written if r.startswith("docs/")} == {
        "index.md", "search.md", "datastacks/index.md", "tags/index.md", "owners/index.md", "materialization/index.md"}


def test_a_workbench_digest_moves_with_each_input_it_reads():
    """`page_inputs` is what a rebuild compares to reuse a workbench: each input it reads (an
    entry's digest, the datasets on the page, a pair's plan digest, an annotation table's export)
    must move it, and the same inputs give the same digest."""
    ref = workbench.WbRef("pt_root_id", None, "b@v1", "pt_root_id", Stability.CHANGES_WITH_PROOFREADING)
    keys = {"a": ("d-a", (ref,)), "b": ("d-b", ())}  # a references b: the page plans (a, b)
    table = workbench.WbRef("id", "synapses", None, "id", Stability.STABLE)
    with_table = {**keys, "c": ("d-c", (table,))}
    plans = {("a", "b"): "p1"}

    def digest(keys=keys, plan="p1", exports=None, mat=7):
        return workbench.page_inputs("stack", mat, keys, lambda a, b: plans[(a, b)] if plan == "p1" else plan,
                                     exports or {})

    base = digest()
    assert base == digest()
    assert workbench.pairs({n: k[1] for n, k in keys.items()}) == [("a", "b")]
    assert digest(plan="p2") != base  # the join plan of a pair on the page changed
    assert digest(keys={**keys, "b": ("d-b2", ())}) != base  # what one dataset shows changed
    assert digest(keys={"a": keys["a"]}) != base  # a dataset left the page
    assert digest(mat=8) != base
    exported = {("stack", "synapses"): {7: "gs://exports/v7"}}
    assert digest(keys=with_table, exports=exported) != digest(keys=with_table)  # an export appeared
    assert digest(keys=with_table, exports={("stack", "synapses"): {8: "x"}}) == digest(keys=with_table)
