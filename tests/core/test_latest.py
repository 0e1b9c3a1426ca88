"""`latest` is defined once (registry/latest.py) and every reader picks the same version: the
registry, the site's catalog, the client over a site index, and the signer — also on a tie of
`published_at`, where each used to break it its own way (listing order, version label)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace


from registry.latest import newest_published, recency


def _v(version, status, day, hour=0):
    return SimpleNamespace(version=version, status=status, published_at=dt.datetime(2026, 1, day, hour))


def test_newest_published_skips_drafts_and_deprecated_and_breaks_ties_by_version():
    docs = [_v("3", "draft", 9), _v("2", "published", 5), _v("1", "published", 5), _v("4", "deprecated", 8)]
    assert newest_published(docs).version == "2"
    assert newest_published(reversed(docs)).version == "2"  # order of the listing does not matter
    assert newest_published([_v("1", "draft", 1)]) is None
    assert sorted(docs, key=recency)[-1].version == "3"


def test_rows_work_with_dict_get():
    rows = [{"version": "a", "status": "published", "published_at": "2026-01-02T00:00:00Z"},
            {"version": "b", "status": "published", "published_at": "2026-01-03T00:00:00Z"}]
    assert newest_published(rows, get=dict.get)["version"] == "b"


def test_every_reader_picks_the_same_latest_on_a_tie(tmp_path):
    """Same published_at for "a" and "b": registry, site catalog, client (site index rows) and
    signer all answer "b"."""
    from registry.documents import Registry
    from signer_function.lookup import Lookup
    from site_builder.catalog import RegistrySnapshot
    from tests.signer.conftest import document

    root = str(tmp_path / "reg")
    reg = Registry(root)
    when = "2026-01-05T10:00:00+00:00"
    for version in ("b", "a", "0"):  # "0" is newer but deprecated
        fields = {"status": "deprecated"} if version == "0" else {}
        doc, manifest = document("syn", version, "s3://bucket/t", published_at=when if version != "0" else
                                 "2026-02-01T00:00:00+00:00", **fields)
        reg.put_new(doc, manifest)
    assert reg.get("syn").version == "b"
    assert RegistrySnapshot.read(root).datasets["syn"].latest.version == "b"
    assert Lookup(root).find("syn", "latest").document.version == "b"
    rows = [{"version": d.version, "status": d.status.value, "published_at": when} for d in reg.versions("syn")]
    assert newest_published(rows, get=dict.get)["version"] == "b"
