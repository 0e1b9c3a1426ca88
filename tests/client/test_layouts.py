"""Layouts end to end: a synthetic synapse table written twice with deltalake (ordered by `id`, and
a copy ordered by `post_pt_root_id`, as MaterializationEngine exports it), published with the copy
as a layout, signed by the real signer, and read by the client, which picks the copy whose ordering
matches the filter and skips files by the min/max recorded at publish."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from registry import Catalog
from registry.client import DatasetNotFound
from registry.documents import Registry
from tests.signer.conftest import DATASTACK

pytestmark = pytest.mark.s3
N, FILES, ROOTS = 16_000, 8, 64


def synapses() -> pa.Table:
    ids = list(range(N))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "pre_pt_root_id": pa.array([864691135000000000 + (i * 7919) % ROOTS for i in ids], pa.int64()),
        "post_pt_root_id": pa.array([864691136000000000 + (i * 104729) % ROOTS for i in ids], pa.int64()),
        "size": pa.array([(i * 31) % 1000 for i in ids], pa.int32()),
    })


def write_in_files(table: pa.Table, uri: str, order: str) -> None:
    import deltalake

    from registry.storage import object_store_options

    t = table.sort_by(order)
    step = N // FILES
    for k in range(FILES):  # one append per file: each file holds one contiguous range of `order`
        deltalake.write_deltalake(uri, t.slice(k * step, step), mode="append", storage_options=object_store_options(uri))


@pytest.fixture(scope="module")
def published(stack) -> SimpleNamespace:
    from registry.publish import publish

    table = synapses()
    base = f"s3://{stack.bucket}/tables/synapses_pni_2/v1078"
    write_in_files(table, f"{base}/id", "id")
    write_in_files(table, f"{base}/post_pt_root_id", "post_pt_root_id")
    spec = {"name": "syn_layouts", "version": "1", "title": "synapses with two layouts", "datastack": DATASTACK,
            "materialization": {"version": 1078}, "location": f"{base}/id", "format": "delta",
            "layouts": [{"name": "by_post_pt_root_id", "location": f"{base}/post_pt_root_id",
                         "ordering": ["post_pt_root_id"]}]}
    result = publish(spec, stack.registry)
    return SimpleNamespace(table=table, doc=result.document, base=base)


def test_publish_pins_the_layout_and_records_stats(published, stack):
    (lay,) = published.doc.layouts
    assert lay.manifest and lay.file_count == FILES and lay.row_count == N and lay.table_version == FILES - 1
    assert lay.fingerprint and lay.ordering == ["post_pt_root_id"]
    m = Registry(stack.registry).layout_manifest("syn_layouts", "1", "by_post_pt_root_id")
    lows = [f.stats["min"]["post_pt_root_id"] for f in m.files]
    highs = [f.stats["max"]["post_pt_root_id"] for f in m.files]
    assert len(m.files) == FILES and all(lo <= hi for lo, hi in zip(lows, highs))
    main = Registry(stack.registry).manifest("syn_layouts", "1")
    assert all(f.stats["min"]["id"] <= f.stats["max"]["id"] for f in main.files)


def test_one_root_id_reads_the_matching_layout_and_few_files(published, stack):
    cat = Catalog(stack.registry, signer_url=stack.signer_url, token=stack.token)
    ds = cat.get("syn_layouts")
    root = 864691136000000000 + 17
    filt = f"post_pt_root_id = {root}"
    plan = ds.read_plan(filt)
    assert plan["layout"] == "by_post_pt_root_id" and plan["files"] <= 2 and plan["table_files"] == FILES
    assert plan["bytes"] * 3 < plan["table_bytes"]
    want = published.table.filter(pc.equal(published.table["post_pt_root_id"], root))
    got = ds.to_pandas(filter=filt)
    assert len(got) == want.num_rows > 0 and sorted(got["id"]) == sorted(want["id"].to_pylist())
    # an id range uses the main copy (ordered by id) and its per-file stats
    by_id = ds.read_plan("id < 100")
    assert by_id["layout"] is None and by_id["files"] == 1
    assert len(ds.to_pandas(filter="id < 100")) == 100
    # what pruning cannot decide reads everything, and the answer is still exact
    assert ds.read_plan(f"post_pt_root_id = {root} OR id = 1")["files"] == FILES
    assert len(ds.to_polars(filter=f"post_pt_root_id IN ({root}, {root + 1})").collect()) == \
        published.table.filter(pc.is_in(published.table["post_pt_root_id"], pa.array([root, root + 1]))).num_rows
    nothing = ds.to_pandas(filter="id > 99999999")
    assert len(nothing) == 0 and "post_pt_root_id" in nothing.columns


def test_signer_signs_the_layout_asked_for(published, stack):
    cat = Catalog(stack.registry, signer_url=stack.signer_url, token=stack.token)
    ds = cat.get("syn_layouts")
    signed = ds.sign(mode="urls", layout="by_post_pt_root_id")
    assert signed.raw["layout"] == "by_post_pt_root_id"
    assert signed.raw["location"] == f"{published.base}/post_pt_root_id"
    assert all("/post_pt_root_id/" in f.uri and f.stats for f in signed.files)
    with pytest.raises(DatasetNotFound, match="no layout"):
        ds.sign(mode="urls", layout="by_nothing")


def test_spark_and_ray_plans_use_the_layout_too(published, stack):
    from registry.client.distributed import signed_files_for_workers

    ds = Catalog(stack.registry, signer_url=stack.signer_url, token=stack.token).get("syn_layouts")
    root = 864691136000000000 + 17
    files = signed_files_for_workers(ds, "Spark", f"post_pt_root_id = {root}")
    assert 1 <= len(files) <= 2 and all("/post_pt_root_id/" in f.uri for f in files)
    assert len(signed_files_for_workers(ds, "Ray")) == FILES
