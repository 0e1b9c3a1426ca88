"""The Delta Sharing endpoints, in-process: the mapping, pagination, the same checks as /sign
(token, permission, terms of service, allowed locations, audit), pruning and the error shape.
The real client reading real tables is tests/client/test_delta_sharing.py."""

from __future__ import annotations

import json

import pytest

from signer_function import delta_predicates as preds
from signer_function.delta_schema import schema_string, spark_type
from signer_function.core import Request
from signer_function.delta_sharing import sharing_parts

from .conftest import DATASTACK, TOKENS, call

LOC = "s3://lab-tables/features/synapses"
PARTS = [
    {"path": "region=a/part-0.parquet", "size": 100, "rows": 3, "partition": {"region": "a", "z": 1},
     "stats": {"min": {"id": 0}, "max": {"id": 2}}},
    {"path": "region=b/part-0.parquet", "size": 120, "rows": 4, "partition": {"region": "b", "z": 2}},
    {"path": "region=c/part-0.parquet", "size": 130, "rows": 5, "partition": {"region": None, "z": 3}},
]
COLS = [{"name": "id", "type": "int64", "nullable": False}, {"name": "emb", "type": "fixed_size_list<float>[4]", "nullable": True},
        {"name": "region", "type": "string", "nullable": True}, {"name": "z", "type": "int32", "nullable": True}]
BASE = "/delta-sharing/shares"


def inspected(files, fmt="parquet", **rf):
    return {"columns": COLS, "row_count": sum(f["rows"] for f in files), "file_count": len(files), "bytes": 350,
            "partition_columns": ["region", "z"], "fingerprint": "t", "reader_features": {"faithful_file_list": True, **rf}}


@pytest.fixture
def tables(put_doc):
    put_doc("synapses", "1", LOC, files=PARTS, inspected=inspected(PARTS))
    put_doc("synapses", "2.1", LOC, files=PARTS, inspected=inspected(PARTS), table_version=4)
    put_doc("synapses", "3", LOC, files=PARTS, inspected=inspected(PARTS), status="draft")
    put_doc("vecs", "1", "s3://lab-tables/features/vecs.lance", "lance", inspected=inspected(PARTS, needs_credentials=True))
    put_doc("fly", "1", "s3://lab-tables/features/fly", datastack="flywire_fafb_public")
    put_doc("outside", "1", "s3://elsewhere/t")


def get(signer, path, token=TOKENS["reader"], method="GET", body=None, headers=None):
    return call(signer, body, token=token, method=method, path=path, headers=headers)


def lines(resp):
    return [json.loads(x) for x in resp.body_bytes().decode().splitlines()]


def test_paths_and_types():
    assert sharing_parts("/prod/delta-sharing/shares/x") == ["shares", "x"]
    assert sharing_parts("/sign") is None
    assert spark_type("fixed_size_list<float>[4]") == {"type": "array", "elementType": "float", "containsNull": True}
    assert spark_type("struct<x: int64, y: list<double>>")["fields"][1]["type"]["elementType"] == "double"
    assert spark_type("map<string, int64>")["valueType"] == "long"
    assert spark_type("timestamp[us, tz=UTC]") == "timestamp" and spark_type("decimal128(10, 2)") == "decimal(10,2)"
    assert json.loads(schema_string([]))["type"] == "struct"


def test_listings_map_datastack_dataset_version_and_hide_what_you_cannot_read(make_signer, tables, audit_lines):
    s = make_signer()
    shares = get(s, BASE)
    assert shares.status == 200 and [x["name"] for x in shares.body["items"]] == sorted([DATASTACK, "flywire_fafb_public"])
    assert [x["name"] for x in get(s, BASE, token=TOKENS["other"]).body["items"]] == ["flywire_fafb_public"]
    assert get(s, BASE, token=TOKENS["tos"]).body["items"] == []  # terms not accepted: nothing to list
    assert get(s, f"{BASE}/{DATASTACK.upper()}").body["share"]["name"] == DATASTACK  # case-insensitive
    assert get(s, f"{BASE}/{DATASTACK}", token=TOKENS["other"]).status == 404
    schemas = get(s, f"{BASE}/{DATASTACK}/schemas").body["items"]
    assert [x["name"] for x in schemas] == ["synapses", "vecs"]  # "outside" is not signable here
    tables_ = get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables").body["items"]
    assert [t["name"] for t in tables_] == ["latest", "1", "2_1"]  # drafts never; '.' -> '_'
    assert all(t["share"] == DATASTACK and t["schema"] == "synapses" and t["id"] for t in tables_)
    every = get(s, f"{BASE}/{DATASTACK}/all-tables").body["items"]
    assert {(t["schema"], t["name"]) for t in every} >= {("vecs", "1"), ("synapses", "latest")}
    lines_ = audit_lines()
    assert {line["mode"] for line in lines_} >= {"delta-sharing:list_shares", "delta-sharing:list_tables"}
    assert all(TOKENS["reader"] not in json.dumps(line) for line in lines_)


def test_pagination(make_signer, tables):
    s = make_signer()
    path = f"{BASE}/{DATASTACK}/all-tables"
    names, token, pages = [], None, 0
    while pages < 10:  # bounded
        q = {"maxResults": "2", **({"pageToken": token} if token else {})}
        resp = s.handle(Request("GET", path, {"authorization": f"Bearer {TOKENS['reader']}"}, {}, q))
        assert resp.status == 200
        names += [t["name"] for t in resp.body["items"]]
        pages += 1
        token = resp.body.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and len(names) == 5
    bad = s.handle(Request("GET", f"{BASE}/{DATASTACK}/all-tables", {"authorization": f"Bearer {TOKENS['reader']}"}, {},
                           {"pageToken": "bm9wZQ"}))
    assert bad.status == 400 and bad.body["errorCode"] == "INVALID_PARAMETER_VALUE"
    zero = s.handle(Request("GET", f"{BASE}/{DATASTACK}/all-tables", {"authorization": f"Bearer {TOKENS['reader']}"}, {},
                            {"maxResults": "0"}))
    assert zero.body["items"] == [] and zero.body["nextPageToken"]


def test_version_metadata_and_query(make_signer, tables, audit_lines, monkeypatch):
    # This signer's config names no S3 endpoint, but boto3 reads AWS_ENDPOINT_URL(_S3) itself: one left
    # in the shell (e.g. sourced from `make demo`'s env file) would make the URLs http://127.0.0.1:...
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    s = make_signer()
    t = f"{BASE}/{DATASTACK}/schemas/synapses/tables"
    head = get(s, f"{t}/2_1", method="HEAD")
    assert head.status == 200 and head.headers["Delta-Table-Version"] == "4"
    assert get(s, f"{t}/latest/version").headers["Delta-Table-Version"] == "4"  # latest = 2.1
    meta = get(s, f"{t}/1/metadata")
    assert meta.headers["Content-Type"].startswith("application/x-ndjson")
    proto, md = lines(meta)
    assert proto == {"protocol": {"minReaderVersion": 1}}
    assert md["metaData"]["partitionColumns"] == ["region", "z"] and md["metaData"]["format"] == {"provider": "parquet"}
    fields = json.loads(md["metaData"]["schemaString"])["fields"]
    assert [(f["name"], f["type"] if isinstance(f["type"], str) else f["type"]["type"]) for f in fields] == [
        ("id", "long"), ("emb", "array"), ("region", "string"), ("z", "integer")]
    audit_lines()
    q = get(s, f"{t}/1/query", method="POST", body={})
    assert q.status == 200, q.body
    out = lines(q)
    files = [x["file"] for x in out[2:]]
    assert [f["partitionValues"] for f in files] == [{"region": "a", "z": "1"}, {"region": "b", "z": "2"},
                                                     {"region": None, "z": "3"}]
    assert [json.loads(f["stats"])["numRecords"] for f in files] == [3, 4, 5]
    assert json.loads(files[0]["stats"])["minValues"] == {"id": 0} and "minValues" not in json.loads(files[1]["stats"])
    assert all(f["url"].startswith("https://") and f["expirationTimestamp"] > 0 and len(f["id"]) == 32 for f in files)
    (line,) = audit_lines()  # one decision, written by /sign itself
    assert line["outcome"] == "granted" and line["dataset"] == "synapses" and line["mode"] == "urls"


def query_files(s, body, table="1"):
    resp = get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/{table}/query", method="POST", body=body)
    assert resp.status == 200, resp.body
    return [x["file"]["partitionValues"]["region"] for x in lines(resp)[2:]]


def col(name, vt):
    return {"op": "column", "name": name, "valueType": vt}


def lit(v, vt):
    return {"op": "literal", "value": v, "valueType": vt}


def test_predicates_and_limit_prune_files(make_signer, tables):
    s = make_signer()
    eq_b = {"op": "equal", "children": [col("region", "string"), lit("b", "string")]}
    assert query_files(s, {"jsonPredicateHints": json.dumps(eq_b)}) == ["b"]
    z_ge_2 = {"op": "greaterThanOrEqual", "children": [col("z", "int"), lit("2", "int")]}
    assert query_files(s, {"jsonPredicateHints": json.dumps(z_ge_2)}) == ["b", None]
    not_b = {"op": "not", "children": [eq_b]}
    assert query_files(s, {"jsonPredicateHints": json.dumps(not_b)}) == ["a"]  # NOT (NULL = b) is NULL
    nn = {"op": "not", "children": [{"op": "isNull", "children": [col("region", "string")]}]}
    assert query_files(s, {"jsonPredicateHints": json.dumps(nn)}) == ["a", "b"]
    either = {"op": "or", "children": [eq_b, {"op": "lessThan", "children": [col("id", "long"), lit("1", "long")]}]}
    assert query_files(s, {"jsonPredicateHints": json.dumps(either)}) == ["a", "b", None]  # id: a data column
    assert query_files(s, {"jsonPredicateHints": "{not json"}) == ["a", "b", None]  # best effort: no filter
    assert query_files(s, {"limitHint": 5}) == ["a", "b"]  # 3 + 4 rows >= 5
    assert query_files(s, {"limitHint": 0}) == []
    assert query_files(s, {"version": 0}) == ["a", "b", None]
    wrong = get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/1/query", method="POST", body={"version": 3})
    assert wrong.status == 404 and "pinned to table version 0" in wrong.body["message"]
    ts = get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/1/query", method="POST", body={"startingVersion": 0})
    assert ts.status == 400 and ts.body["errorCode"] == "FEATURE_NOT_SUPPORTED"


def test_unit_predicates():
    tree = preds.parse(json.dumps({"op": "and", "children": [
        {"op": "greaterThan", "children": [col("d", "date"), lit("2021-01-01", "date")]},
        {"op": "equal", "children": [col("flag", "bool"), lit("true", "bool")]}]}))
    assert preds.keeps(tree, {"d": "2021-02-01", "flag": True})
    assert not preds.keeps(tree, {"d": "2020-12-31", "flag": True})
    assert preds.keeps(tree, {"d": "not a date", "flag": True})  # cannot decide: keep
    lt5 = preds.parse(json.dumps({"op": "lessThan", "children": [col("id", "long"), lit("5", "long")]}))
    five_lt = preds.parse(json.dumps({"op": "greaterThan", "children": [lit("5", "long"), col("id", "long")]}))
    for tree in (lt5, five_lt):  # min/max decide data columns, whichever side the column is on
        assert not preds.keeps(tree, {}, {"min": {"id": 5}, "max": {"id": 9}})
        assert preds.keeps(tree, {}, {"min": {"id": 4}, "max": {"id": 9}})
    assert not preds.keeps(preds.parse(json.dumps({"op": "not", "children": [lt5]})), {}, {"min": {"id": 0}, "max": {"id": 4}})
    assert preds.keeps(lt5, {}, None) and preds.keeps(lt5, {}, {"min": {"x": 9}, "max": {"x": 9}})
    for bad in ('{"op": "nope"}', '[1]', '{"op": "equal", "children": []}'):
        with pytest.raises(preds.PredicateError):
            preds.parse(bad)


def test_same_refusals_as_sign(make_signer, tables, audit_lines):
    s = make_signer()
    t = f"{BASE}/{DATASTACK}/schemas/synapses/tables/1"
    none = get(s, f"{t}/metadata", token=None)
    assert none.status == 401 and none.body["errorCode"] == "UNAUTHENTICATED" and none.body["error"] == "no_token"
    assert get(s, f"{t}/metadata", token="nope").status == 401
    other = get(s, f"{t}/query", token=TOKENS["other"], method="POST", body={})
    assert other.status == 403 and other.body["errorCode"] == "PERMISSION_DENIED"
    tos = get(s, f"{t}/query", token=TOKENS["tos"], method="POST", body={})
    assert tos.status == 403 and tos.body["error"] == "missing_tos" and tos.body["tos"][0]["tos_id"] == 7
    draft = get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/3/metadata")
    assert draft.status == 404 and draft.body["errorCode"] == "RESOURCE_DOES_NOT_EXIST"  # /sign: drafts are not signed
    assert get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/3", method="HEAD").status == 404
    assert get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/3/metadata", token=TOKENS["other"]).status == 404
    assert get(s, f"{t}__no_such_layout/metadata", token=TOKENS["other"]).status == 403  # no layout names leak
    outside = get(s, f"{BASE}/{DATASTACK}/schemas/outside/tables/1/query", method="POST", body={})
    assert outside.status == 403 and outside.body["error"] == "location_not_allowed"
    lance = get(s, f"{BASE}/{DATASTACK}/schemas/vecs/tables/latest/query", method="POST", body={})
    assert lance.status == 400 and lance.body["errorCode"] == "FEATURE_NOT_SUPPORTED" and "Lance" in lance.body["message"]
    wrong_share = get(s, f"{BASE}/flywire_fafb_public/schemas/synapses/tables/1/metadata")
    assert wrong_share.status == 404
    assert get(s, f"{t}/query").status == 405  # GET on query
    assert get(s, f"{t}/changes").body["errorCode"] == "FEATURE_NOT_SUPPORTED"
    assert get(s, "/delta-sharing/nope").status == 404
    assert get(s, f"{BASE}/{DATASTACK}/schemas/../tables/registry/metadata").status == 404  # never a path
    outcomes = [(line["outcome"], line.get("error")) for line in audit_lines()]
    assert ("denied", "no_token") in outcomes and ("denied", "missing_tos") in outcomes
    assert ("denied", "location_not_allowed") in outcomes and ("denied", "not_shareable") in outcomes


def test_misconfigured_fails_closed(make_signer, tables):
    s = make_signer(allowed_locations=("s3://lab-tables/features*",))  # as /sign: 503, never a listing or table
    for path in (BASE, f"{BASE}/{DATASTACK}/schemas/synapses/tables/1/metadata"):
        assert get(s, path).status == 503


def test_auth_down_fails_closed(make_signer, tables, cave):
    s = make_signer()
    cave.failing = True
    try:
        resp = get(s, f"{BASE}/{DATASTACK}/schemas/synapses/tables/1/metadata", token="fresh-token-never-cached")
    finally:
        cave.failing = False  # the stand-in is shared by the session
    assert resp.status == 503 and resp.body["errorCode"] == "TEMPORARILY_UNAVAILABLE"
