def test_smoke(stack):
    from registry import Catalog
    import json
    print(stack.site_url)
    cat = Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)
    print(cat.search("synapse").to_pandas()[["ref","score"]])
    ds = cat.get("syn_hive")
    print(repr(ds), ds.columns, ds.inspected.partition_columns)
    print(ds.to_polars().collect())
    print(ds.to_duckdb().df())
    print(cat.get("syn_lance").to_pandas())
    print(cat.get("syn_iceberg").to_polars(columns=["id","region"], filter="id < 5").collect())
    print(cat.get("syn_delta").to_pandas(mode="credentials", columns=["id","region"], filter="id < 5"))
    print(cat.get("syn_iceberg").to_pandas(mode="credentials", columns=["id","region"], filter="id < 5"))
    print(cat.get("syn_scores").joins())
