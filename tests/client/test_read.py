"""End to end through the real stack: frames read by Polars, DuckDB and pandas through the signer
equal the data written (partition columns included), and every refusal is a clear exception."""

from __future__ import annotations

import json

import pytest

from registry import Catalog
from registry.client import (
    AuthenticationError,
    CatalogUnavailable,
    DatasetNotFound,
    PermissionDenied,
    TermsOfServiceRequired,
)
from tests.conftest import free_port
from tests.signer.tables import ROWS, arrow_table, region_counts

pytestmark = pytest.mark.s3


def expected(table: str):
    t = arrow_table()
    return t.drop_columns(["region"]) if table == "plain" else t


def same(pdf, table: str) -> None:
    want = expected(table).to_pandas().sort_values("id").reset_index(drop=True)
    got = pdf.sort_values("id").reset_index(drop=True)[list(want.columns)]
    assert sorted(pdf.columns) == sorted(want.columns)
    assert got.equals(want.astype(got.dtypes.to_dict())) or got.to_dict("list") == want.to_dict("list")


@pytest.fixture
def cat(stack) -> Catalog:
    return Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)


@pytest.mark.parametrize("table", ["plain", "hive", "delta", "iceberg", "lance"])
def test_three_engines_read_the_data_written(cat, table):
    ds = cat.get(f"syn_{table}")
    same(ds.to_polars().collect().to_pandas(), table)
    same(ds.to_duckdb().df(), table)
    same(ds.to_pandas(), table)


def test_lance_goes_through_credentials(cat):
    ds = cat.get("syn_lance")
    signed = ds.sign(mode="credentials")
    assert signed.mode == "credentials" and "aws_session_token" in signed.storage_options
    assert ds.to_polars(columns=["id"], filter="id >= 100").collect().height == 20


def test_delta_in_credentials_mode_reads_with_its_own_library(cat):
    ds = cat.get("syn_delta")
    pdf = ds.to_pandas(mode="credentials", columns=["id", "region"], filter="region = 'b'")
    assert sorted(pdf["id"]) == [i for i in range(ROWS) if i % 3 == 1]


def test_partition_values_restored_and_typed(cat):
    ds = cat.get("syn_hive")
    files = ds.signed_files()
    assert sum(f.num_rows for f in files) == ROWS
    assert {f.partition["region"] for f in files} == {"a", "b", "c"}
    assert all("%3D" in f.url or "=" not in f.url.split("?")[0] for f in files)
    df = ds.to_polars().collect()
    assert dict(df.group_by("region").len().iter_rows()) == region_counts()
    rel = ds.to_duckdb()
    assert dict(rel.aggregate("region, count(*)").fetchall()) == region_counts()


def test_projection_and_filter_pushed_down(cat):
    import polars as pl

    ds = cat.get("syn_delta")
    want = sorted(i for i in range(ROWS) if i % 3 == 1 and i < 60)
    lf = ds.to_polars(columns=["id", "region"], filter="region = 'b' AND id < 60")
    plan = lf.explain()
    assert "SELECTION" in plan.upper() or "FILTER" in plan.upper()
    out = lf.collect()
    assert out.columns == ["id", "region"] and sorted(out["id"].to_list()) == want
    out2 = ds.to_polars(filter=(pl.col("region") == "b") & (pl.col("id") < 60)).collect()
    assert sorted(out2["id"].to_list()) == want
    rel = ds.to_duckdb(columns=["id"], filter="region = 'b' AND id < 60")
    assert sorted(r[0] for r in rel.fetchall()) == want
    assert list(ds.to_pandas(columns=["score"], filter="id = 7")["score"]) == [0.7]


def test_token_discovery_env_and_secret_files(stack, tmp_path, monkeypatch):
    cat = Catalog(stack.site_url, signer_url=stack.signer_url)
    with pytest.raises(AuthenticationError, match="no CAVE token"):
        cat.get("syn_plain").signed_files()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    monkeypatch.setenv("CAVE_SECRETS_DIR", str(secrets))
    (secrets / "cave-secret.json").write_text(json.dumps({"token": "not-this-one"}))
    (secrets / "global.daf-apis.com-cave-secret.json").write_text(json.dumps({"token": stack.token}))
    assert Catalog(stack.site_url, signer_url=stack.signer_url).get("syn_plain").to_pandas().shape[0] == ROWS
    monkeypatch.setenv("CAVE_TOKEN", "tok-from-env-unknown")
    with pytest.raises(AuthenticationError, match="invalid_token"):
        Catalog(stack.site_url, signer_url=stack.signer_url).get("syn_plain").signed_files()


def test_signer_url_from_environment(stack, monkeypatch):
    monkeypatch.setenv("FEATURE_REGISTRY_SIGNER_URL", stack.signer_url)
    assert Catalog(stack.site_url, token=stack.token).get("syn_plain").to_pandas().shape[0] == ROWS


def test_clear_exceptions(stack):
    base = dict(signer_url=stack.signer_url)
    with pytest.raises(AuthenticationError) as bad:
        Catalog(stack.site_url, token="nope-bad", **base).get("syn_plain").to_pandas()
    assert bad.value.status == 401 and "nope-bad" not in str(bad.value)
    with pytest.raises(PermissionDenied) as denied:
        Catalog(stack.site_url, token=stack.tokens["other"], **base).get("syn_plain").to_polars()
    assert denied.value.code == "no_permission"
    with pytest.raises(TermsOfServiceRequired) as tos:
        Catalog(stack.site_url, token=stack.tokens["tos"], **base).get("syn_plain").signed_files()
    assert tos.value.terms[0]["tos_name"] == "MICrONS public ToS"
    assert "MICrONS public ToS" in str(tos.value) and "/tos/7/accept" in str(tos.value)
    cat = Catalog(stack.site_url, token=stack.token, **base)
    with pytest.raises(DatasetNotFound, match="nope"):
        cat.get("nope")
    with pytest.raises(DatasetNotFound, match="syn_plain@9"):
        cat.get("syn_plain", "9")
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CatalogUnavailable, match="cannot reach"):
        Catalog(dead + "/")
    with pytest.raises(CatalogUnavailable, match="signer"):
        Catalog(stack.site_url, token=stack.token, signer_url=dead).get("syn_plain").signed_files()


def test_registry_uri_catalog_reads_too(stack):
    cat = Catalog(stack.registry, signer_url=stack.signer_url, token=stack.token)
    same(cat.get("syn_hive").to_pandas(), "hive")
