"""The filter parser and file pruning of registry/client/pruning.py, without a stack."""

from __future__ import annotations

from types import SimpleNamespace

from registry.client.pruning import Condition, choose_layout, keep, parse
from registry.model import Layout


def test_parse_simple_conjunctions_only():
    assert parse("post_pt_root_id = 5") == [Condition("post_pt_root_id", "=", (5,))]
    assert parse('"id" >= 10 AND region = \'b\'') == [Condition("id", ">=", (10,)), Condition("region", "=", ("b",))]
    assert parse("x IN (1, 2,3)") == [Condition("x", "in", (1, 2, 3))]
    assert parse("(x == 1.5)") == [Condition("x", "=", (1.5,))]
    for unsure in ("x = 1 OR y = 2", "NOT x = 1", "abs(x) = 1", "x = y", "", None, "x = 1 AND (y = 2 OR z = 3)"):
        assert parse(unsure) is None


def f(partition=None, lo=None, hi=None):
    stats = {"min": lo, "max": hi} if lo is not None else None
    return SimpleNamespace(partition=partition or {}, stats=stats)


def test_keep_uses_partitions_and_min_max():
    eq5 = parse("a = 5")
    assert keep(f(lo={"a": 0}, hi={"a": 9}), eq5) and not keep(f(lo={"a": 6}, hi={"a": 9}), eq5)
    assert keep(f(), eq5)  # nothing recorded: keep
    assert not keep(f(partition={"a": 4}), eq5) and keep(f(partition={"a": None}), eq5)
    assert not keep(f(lo={"a": 0}, hi={"a": 4}), parse("a > 4")) and keep(f(lo={"a": 0}, hi={"a": 5}), parse("a > 4"))
    assert keep(f(lo={"a": 0}, hi={"a": 4}), parse("a = 'x'"))  # not comparable: keep
    assert not keep(f(lo={"a": 0}, hi={"a": 4}), parse("a IN (7, 8)"))


def test_choose_layout_prefers_partition_then_ordering_and_needs_a_manifest():
    doc = SimpleNamespace(layouts=[
        Layout(name="by_pre", location="s3://b/pre", ordering=["pre"], manifest=True),
        Layout(name="by_post", location="s3://b/post", ordering=["post"], manifest=True),
        Layout(name="part_post", location="s3://b/pp", partition_columns=["post"], manifest=True),
        Layout(name="old", location="s3://b/old", ordering=["cell"], manifest=False),
    ])
    assert choose_layout(doc, parse("post = 1")) == "part_post"
    assert choose_layout(doc, parse("pre = 1")) == "by_pre"
    assert choose_layout(doc, parse("pre > 1 AND post = 2")) == "part_post"  # equality first
    assert choose_layout(doc, parse("cell = 1")) is None  # no manifest: not signable
    assert choose_layout(doc, None) is None
