"""The rebuild lock cannot be forged into a permanent stop (issue 10, item 5): on the code before
this test, a `_ops/rebuild.lock` dated in the future, or one whose body did not parse, was never
taken over, so no rebuild ever ran again. Now such a lock is stale at once, and any lock lives at
most `lock_ttl` by the store's own clock."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from site_builder.events import LOCK, Debouncer, RebuildConfig, handle_keys
from registry.storage import Store


def _lock(root: Path, body: bytes, age_seconds: float = 0.0) -> Path:
    path = root / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    if age_seconds:
        t = dt.datetime.now().timestamp() - age_seconds
        os.utime(path, (t, t))
    return path


def _at(delta: dt.timedelta) -> bytes:
    return json.dumps({"owner": "x", "at": (dt.datetime.now(dt.timezone.utc) + delta).isoformat()}).encode()


@pytest.mark.parametrize("body", [
    _at(dt.timedelta(days=3650)),         # dated ten years ahead
    b"not json at all",
    b'{"owner": "x"}',                    # no time
    b'{"owner": "x", "at": "2026-01-01T00:00:00"}',  # no time zone
    b"\xff\xfe",
], ids=["future", "garbage", "no-time", "naive-time", "not-utf8"])
def test_forged_locks_are_taken_over(tmp_path, body):
    _lock(tmp_path, body)
    deb = Debouncer(Store(str(tmp_path)), lock_ttl=900)
    assert deb.acquire("me")
    assert json.loads((tmp_path / LOCK).read_bytes())["owner"] == "me"


def test_a_live_lock_is_respected_and_an_old_one_expires_by_the_stores_clock(tmp_path):
    deb = Debouncer(Store(str(tmp_path)), lock_ttl=900)
    _lock(tmp_path, _at(dt.timedelta(seconds=-5)))
    assert not deb.acquire("me"), "a build holding the lock for 5 s keeps it"
    # the body claims it is fresh, the store says it was written an hour ago: the store wins
    _lock(tmp_path, _at(dt.timedelta(0)), age_seconds=3600)
    assert deb.acquire("me")
    # the body claims an old date, the store says just now: still held (never shortened either)
    _lock(tmp_path, _at(dt.timedelta(hours=-5)))
    assert not deb.acquire("other")


def test_rebuilds_run_again_after_a_future_dated_lock(tmp_path):
    (tmp_path / "datasets" / "a").mkdir(parents=True)
    _lock(tmp_path, _at(dt.timedelta(days=365)))
    builds = []
    cfg = RebuildConfig(registry=str(tmp_path), target=str(tmp_path / "out"), debounce=0, lock_ttl=900)
    outcome = handle_keys([("", "datasets/a/v1.json")], cfg, build=lambda c: builds.append(1) or "built",
                          sleep=lambda s: None)
    assert outcome.action == "rebuilt" and builds == [1]
    assert not (tmp_path / LOCK).exists(), "released after the build"
