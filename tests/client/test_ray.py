"""`DatasetVersion.to_ray`: local Ray (2 CPUs, a small object store) reads the example tables through
the signer, one read task per file, exact rows and partition values."""

from __future__ import annotations

import warnings

import pytest

from registry import Catalog
from registry.client import ReadError
from tests.signer.tables import ROWS, region_counts

pytestmark = pytest.mark.s3
ray = pytest.importorskip("ray", reason="ray[data] is in the test extra")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    with warnings.catch_warnings():
        # Ray forks its raylet/GCS from this process, where lance (imported by the stack's table
        # writers) warns that it is not fork-safe; the children exec at once and never touch lance.
        warnings.filterwarnings("ignore", message="lance is not fork-safe", category=UserWarning)
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=150 * 1024 * 1024, log_to_driver=False,
                 configure_logging=False, _temp_dir=str(tmp_path_factory.mktemp("ray")))
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def cat(stack) -> Catalog:
    return Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)


@pytest.mark.parametrize("table", ["plain", "hive", "delta", "iceberg"])
def test_ray_reads_every_row_with_partitions(local_ray, cat, table):
    ds = cat.get(f"syn_{table}")
    rd = ds.to_ray().materialize()
    rows = rd.take_all()
    assert len(rows) == ROWS
    assert sorted(r["id"] for r in rows) == list(range(ROWS))
    if table != "plain":
        got: dict = {}
        for r in rows:
            got[r["region"]] = got.get(r["region"], 0) + 1
        assert got == region_counts()
    assert rd.num_blocks() == len(ds.signed_files())  # one block (read task) per file


def test_ray_projection_filter_and_refusals(local_ray, cat):
    rd = cat.get("syn_delta").to_ray(columns=["id", "region"], filter="region == 'c'")
    rows = rd.take_all()
    assert len(rows) == region_counts()["c"] and set(rows[0]) == {"id", "region"}
    with pytest.raises(ReadError, match="Lance"):
        cat.get("syn_lance").to_ray()
    with pytest.raises(ReadError, match="deletion vectors"):
        cat.get("syn_delta_dv").to_ray()


def test_simple_string_filters_reach_ray_as_predicates():
    """Ray deprecated string expressions: a filter in the pruning grammar becomes the equivalent
    `ray.data.expressions` predicate (no DeprecationWarning); anything else is left to Ray."""
    from ray.data.expressions import col

    from registry.client.ray_data import ray_predicate

    got = ray_predicate("region = 'c' AND id IN (1, 2) AND size >= 0.5")
    want = (col("region") == "c") & col("id").is_in([1, 2]) & (col("size") >= 0.5)
    assert got.structurally_equals(want)
    assert not got.structurally_equals((col("region") == "b") & col("id").is_in([1, 2]) & (col("size") >= 0.5))
    assert ray_predicate("region = 'c' OR id = 1") == "region = 'c' OR id = 1"
    assert ray_predicate(want) is want
