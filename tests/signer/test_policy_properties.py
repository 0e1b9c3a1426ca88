"""Property tests: hostile locations against the canonicalisation, the allowlist and both policy
builders. Each generated CEL condition and IAM policy is read back by an independent parser
(`policies.py`) and must grant nothing outside the table's own prefix, which must itself be what
the document literally says and inside the allowed prefix."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from signer_function.access import parse_allowed
from signer_function.credentials import gcs_access_boundary, s3_session_policy
from signer_function.errors import LocationNotAllowed
from signer_function.locations import TableLocation, canonical_location, location_allowed

from .policies import CelError, iam_language, iam_match, parse_cel

# Per test, not a global profile: other modules' Hypothesis tests keep their own settings.
SIGNER = settings(database=None, deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = list("'\"\\*?${}/.%#& \n\t\r\x00\x7f=+-_~:@,|()[]<>`!") + ["é", "\u202e", "\u2028", "ｆ"]
PIECES = HOSTILE + ["..", "//", "%2F", "${aws:username}", "abc", "X", "0", "_", "=a"]
INJECTIONS = [
    "x') || resource.name.startsWith('projects/_/buckets/lab-tables/objects/",
    "x' || true || 'a",
    "x\\') || true || (\\'",
    "t/'+'",
    "syn*",
    "syn?/x",
    "*",
    "${aws:userid}/x",
    "t/../../private",
    "t/./x",
    "t//x",
    "t\n",
    "t/",
    "t%27",
    "t/\u0000",
    "/",
]
segment_text = st.lists(
    st.sampled_from(PIECES) | st.characters(codec="utf-8", max_codepoint=0x2FFF), max_size=20
).map("".join)
suffix = st.one_of(segment_text, st.sampled_from(INJECTIONS), st.builds(lambda a, b: a + b, st.sampled_from(INJECTIONS), segment_text))
locations = st.builds(
    lambda scheme, base, tail: f"{scheme}://lab-tables/{base}{tail}",
    st.sampled_from(["gs", "s3", "gcs", "s3a", "GS", "http", "file"]),
    st.sampled_from(["features/", "features", "features-other/", "", "/", "features/t/", "features/t"]),
    suffix,
)
clean_segment = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._=+-]{0,12}", fullmatch=True).filter(lambda s: s not in (".", ".."))
clean_locations = st.builds(
    lambda scheme, segs: f"{scheme}://lab-tables/features/" + "/".join(segs),
    st.sampled_from(["gs", "s3"]),
    st.lists(clean_segment, min_size=1, max_size=5),
)

ALLOWED = parse_allowed(("gs://lab-tables/features", "s3://lab-tables/features"))


def canonical_or_none(text: str) -> TableLocation | None:
    try:
        return canonical_location(text)
    except LocationNotAllowed:
        return None


def says_literally(text: str, loc: TableLocation) -> bool:
    """The canonical location is the document's own text, up to the scheme alias and one
    trailing slash: nothing was decoded, dropped or normalised into something else."""
    rest = text.split("://", 1)[1]
    rest = rest[:-1] if rest.endswith("/") else rest
    return rest == (f"{loc.bucket}/{loc.prefix}" if loc.prefix else loc.bucket)


def check_cel(loc: TableLocation, single: bool) -> None:
    boundary = gcs_access_boundary(loc, single).to_json()
    (rule,) = boundary["accessBoundary"]["accessBoundaryRules"]
    assert rule["availableResource"] == f"//storage.googleapis.com/projects/_/buckets/{loc.bucket}"
    assert rule["availablePermissions"] == ["inRole:roles/storage.objectViewer"]
    grants = parse_cel(rule["availabilityCondition"]["expression"])
    objects = f"projects/_/buckets/{loc.bucket}/objects/"
    table = objects + loc.prefix
    assert grants
    for g in grants:
        if g.kind == "object_exact":
            assert single and g.value == table
        elif g.kind == "object_prefix":
            assert g.value.startswith(table + "/") if loc.prefix else g.value == objects
        else:
            assert loc.prefix and g.value.startswith(loc.prefix + "/")


def check_iam(loc: TableLocation, single: bool) -> None:
    policy = json.loads(json.dumps(s3_session_policy(loc, single)))
    assert set(policy) == {"Version", "Statement"}
    arn = "arn:aws:s3:::"
    table = f"{loc.bucket}/{loc.prefix}"
    for stmt in policy["Statement"]:
        assert stmt["Effect"] == "Allow"
        assert set(stmt) <= {"Sid", "Effect", "Action", "Resource", "Condition"}  # no NotResource etc.
        actions = [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]
        assert set(actions) <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
        resources = [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
        for res in resources:
            assert res.startswith(arn)
            language = iam_language(res[len(arn) :])
            assert language is not None, f"unbounded resource {res!r}"
            literal, open_ended = language
            if "s3:ListBucket" in actions:
                assert literal == loc.bucket and not open_ended
            elif open_ended:
                assert literal.startswith(table + "/") if loc.prefix else literal == loc.bucket + "/"
            else:
                assert single and literal == table
        for op, cond in (stmt.get("Condition") or {}).items():
            assert op == "StringLike" and set(cond) == {"s3:prefix"}
            for value in cond["s3:prefix"]:
                language = iam_language(value)
                assert language is not None, f"unbounded list prefix {value!r}"
                literal, open_ended = language
                if loc.prefix:
                    assert literal.startswith(loc.prefix + "/") or (single and literal == loc.prefix and not open_ended)
    # Concretely: neighbours of the table are matched by no resource, and the table itself is.
    if loc.prefix:
        read = policy["Statement"][0]["Resource"]
        parent, _, last = loc.prefix.rpartition("/")
        sibling = "zz" if last != "zz" else "zy"  # a sibling directory, never the table's own name
        outside = (
            loc.prefix + "-other/x",
            loc.prefix + "_v2/part-0.parquet",
            loc.prefix + "z/x",  # the `/` boundary: `t` must not open `tz/`
            (parent + "/" if parent else "") + sibling + "/x",
        )
        for other in outside:
            assert not (other == loc.prefix or other.startswith(loc.prefix + "/")), other  # a true neighbour
            assert not any(iam_match(r[len(arn) :], f"{loc.bucket}/{other}") for r in read), other
        inside = loc.prefix if single else loc.prefix + "/part-0.parquet"
        assert any(iam_match(r[len(arn) :], f"{loc.bucket}/{inside}") for r in read)


@SIGNER
@given(locations, st.booleans())
def test_cel_from_hostile_locations_grants_only_the_table(text, single):
    loc = canonical_or_none(text)
    if loc is None:
        return
    assert says_literally(text, loc)
    if single and not loc.prefix:
        return
    check_cel(loc, single)


@SIGNER
@given(locations, st.booleans())
def test_iam_from_hostile_locations_grants_only_the_table(text, single):
    loc = canonical_or_none(text)
    if loc is None:
        return
    assert says_literally(text, loc)
    if single and not loc.prefix:
        return
    check_iam(loc, single)


@SIGNER
@given(locations)
def test_allowlist_matches_whole_segments(text):
    loc = canonical_or_none(text)
    if loc is None or not location_allowed(loc, ALLOWED):
        return
    assert loc.bucket == "lab-tables" and (loc.prefix == "features" or loc.prefix.startswith("features/"))


@SIGNER
@given(clean_locations, st.booleans())
@example("gs://lab-tables/features/zz", False)  # once tripped the checker's own sibling probe (zz/x)
@example("s3://lab-tables/features/t", True)
def test_clean_locations_are_accepted_and_bounded(text, single):
    """The grammar is not so strict that it refuses real tables (this keeps the tests above honest)."""
    loc = canonical_location(text)
    assert location_allowed(loc, ALLOWED) and says_literally(text, loc)
    check_cel(loc, single)
    check_iam(loc, single)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_known_injections_are_refused_or_literal(payload):
    for scheme in ("gs", "s3"):
        loc = canonical_or_none(f"{scheme}://lab-tables/features/{payload}")
        if loc is not None:  # only the harmless "t/" (a trailing slash) may pass
            assert loc.prefix == "features/t", payload


@pytest.mark.parametrize("text", ["gs://lab-tables//", "s3://lab-tables//", "gs://lab-tables///x", "gs:///features"])
def test_double_slashes_never_become_the_bucket_root(text):
    """Found by test_cel_from_hostile_locations_grants_only_the_table: `gs://lab-tables//` was
    once canonicalised to the whole bucket."""
    assert canonical_or_none(text) is None


def test_the_checker_itself_catches_the_old_injection():
    """The parser is not a rubber stamp: the condition main used to emit for a quoted location
    parses to an extra term that grants the whole bucket, and an unescaped quote is an error."""
    injected = "features/x') || resource.name.startsWith('projects/_/buckets/lab-tables/objects/"
    expr = f"resource.name.startsWith('projects/_/buckets/lab-tables/objects/{injected}/')"
    grants = parse_cel(expr)  # valid CEL: two terms, the second one the attacker's
    assert len(grants) == 2
    assert not grants[1].value.startswith("projects/_/buckets/lab-tables/objects/features/")
    with pytest.raises(CelError):
        parse_cel("resource.name.startsWith('projects/_/buckets/b/objects/a'b/')")
    with pytest.raises(CelError):
        parse_cel("resource.name.startsWith('projects/_/buckets/b/objects/a/') || true")
    assert iam_language("lab-tables/features/syn*/*") is None and iam_match("lab-tables/features/syn*/*", "lab-tables/features/synapses_private/x")


# ---- the lookup and the request body, against hostile names and versions -------------------------

labels = st.one_of(
    st.sampled_from(["1", "2", "3", "1.files", "latest", "..", "1\n", "a/b", "", "v1 ", "é"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,4}", fullmatch=True),
)
names = st.sampled_from(["victim", "evil", "other", "Victim", "victim\n", "a-b"])
entries = st.one_of(
    st.tuples(names, labels, names, labels),  # a body that may lie about its path
    st.tuples(names, labels).map(lambda t: (t[0], t[1], t[0], t[1])),  # an honest one
)


@settings(SIGNER, max_examples=120)
@given(st.lists(entries, min_size=1, max_size=6), names, labels)
def test_lookup_answers_only_documents_whose_body_matches_their_path(stored, asked_name, asked_version):
    """Whatever documents sit at whatever paths, `find(n, v)` answers a document that says it is
    n@v and sits at datasets/n/v.json, or not found; `latest` answers one of n's own documents."""
    import tempfile
    from pathlib import Path

    from registry.documents import dumps
    from signer_function.errors import NotFound
    from signer_function.lookup import NAME, VERSION, Lookup

    from .conftest import document

    with tempfile.TemporaryDirectory() as root:
        for path_name, path_version, body_name, body_version in stored:
            if not (NAME.fullmatch(path_name) and VERSION.fullmatch(path_version)):
                continue  # not a path a registry can hold
            try:
                doc, manifest = document(body_name, body_version, "s3://lab-tables/features/t")
            except Exception:
                continue  # a body the model refuses is just an invalid document: covered elsewhere
            folder = Path(root) / "datasets" / path_name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{path_version}.json").write_bytes(dumps(doc.to_dict()))
            (folder / f"{path_version}.files.json").write_bytes(dumps(manifest.to_dict()))
        lookup = Lookup(root, ttl=0.0001)
        for version in (asked_version, "latest"):
            try:
                found = lookup.find(asked_name, version)
            except NotFound as exc:
                assert root not in exc.message
                continue
            assert found.document.name == asked_name
            assert found.path == f"datasets/{asked_name}/{found.document.version}.json"
            if version != "latest":
                assert found.document.version == version


@settings(SIGNER, max_examples=200)
@given(st.binary(max_size=200) | st.builds(lambda n, v: json.dumps({"dataset": n, "version": v}).encode(), names, labels))
def test_parse_body_accepts_only_the_grammar(raw):
    from signer_function.core import parse_body
    from signer_function.errors import BadRequest
    from signer_function.lookup import NAME, VERSION

    try:
        req = parse_body(raw)
    except BadRequest:
        return
    assert NAME.fullmatch(req.dataset) and (req.version == "latest" or VERSION.fullmatch(req.version))


@settings(SIGNER, max_examples=300)
@given(clean_locations, st.lists(st.sampled_from(PIECES + ["part-0.parquet", "region=a", "", "/"]), max_size=8).map("".join))
def test_manifest_paths_stay_inside_the_location(location, path):
    """Whatever a manifest says, every object the signer would sign is strictly under the table."""
    from signer_function.errors import BadRequest
    from signer_function.lookup import resolve_files

    from .conftest import document

    try:
        doc, manifest = document("syn", "1", location, files=[{"path": path, "size": 1, "rows": 1, "partition": {}}])
    except Exception:
        return  # the model refused the manifest itself
    try:
        loc, objects = resolve_files(doc, manifest)
    except BadRequest:
        return
    for o in objects:
        assert (o.scheme, o.bucket) == (loc.scheme, loc.bucket)
        assert o.key == loc.prefix or o.key.startswith(loc.prefix + "/")
        assert ".." not in o.key.split("/") and "" not in o.key.split("/")
