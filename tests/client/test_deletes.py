"""Tables whose file list is not the table (Delta deletion vectors, Iceberg positional delete files),
read through the signer in credentials mode: every engine returns exactly the rows that survive the
deletes. Reading such a table from plain signed URLs would return deleted rows, so the client refuses."""

from __future__ import annotations

import pytest

from registry import Catalog
from registry.client import ReadError

pytestmark = [pytest.mark.s3, pytest.mark.timeout(90)]

TABLES = ["delta_dv", "iceberg_deletes"]


@pytest.fixture
def cat(stack) -> Catalog:
    return Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)


@pytest.mark.parametrize("table", TABLES)
def test_the_published_table_needs_its_own_reader(cat, stack, table):
    t = stack.deletes[table]
    assert len(t["expected_ids"]) == len(t["all_ids"]) - 3  # the deletes hit 3 distinct rows
    ds = cat.get(f"syn_{table}")
    assert ds.inspected.reader_features["faithful_file_list"] is False
    signed = ds.sign()  # auto: the signer chooses credentials
    assert signed.mode == "credentials" and "aws_session_token" in signed.storage_options


@pytest.mark.parametrize("table", TABLES)
def test_engines_return_the_rows_that_survive_the_deletes(cat, stack, table):
    want = stack.deletes[table]["expected_ids"]
    ds = cat.get(f"syn_{table}")
    assert sorted(ds.to_polars().collect()["id"].to_list()) == want
    assert sorted(r[0] for r in ds.to_duckdb(columns=["id"]).fetchall()) == want
    assert sorted(ds.to_pandas()["id"]) == want
    # projection and a filter still apply on top of the deletes
    few = ds.to_pandas(columns=["id", "split"], filter="split = 0")
    assert list(few.columns) == ["id", "split"] and sorted(few["id"]) == [i for i in want if i % 3 == 0]


@pytest.mark.parametrize("table", TABLES)
def test_plain_urls_are_refused_rather_than_returning_deleted_rows(cat, stack, table):
    ds = cat.get(f"syn_{table}")
    with pytest.warns(UserWarning, match="may not read this table correctly"):
        files = ds.signed_files()  # the raw files are still available to whoever asks, with a warning
    assert sum(f.num_rows for f in files) == len(stack.deletes[table]["all_ids"])
    with pytest.warns(UserWarning, match="may not read this table correctly"):
        cat2 = Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)
        with pytest.raises(ReadError, match="credentials"):
            cat2.get(f"syn_{table}").to_pandas(mode="urls")
    with pytest.raises(ReadError, match="delete"):
        ds.to_polars(mode="urls")
