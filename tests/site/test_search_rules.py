"""The shared search rules (`registry.search_rules`), in Python: words, postings, shards, expansion
limit, ranking. The browser's port is held to the same answers by tests/site/test_parity.py."""

from __future__ import annotations

import json

from registry import search_rules as rules


def test_words_and_query_words():
    assert rules.text_terms("Pre_pt_root_id, cell-types") == {
        "pre_pt_root_id", "pt_root_id", "root_id", "pre", "pt", "root", "id", "cell", "types"}
    assert rules.query_terms("Cell type  cell") == ["cell", "type"]
    assert rules.query_terms("pt_root_id cell-type") == ["pt_root_id", "cell", "type"]
    assert rules.query_terms("pre_pt_") == ["pre_pt"]  # typing an identifier: a prefix of it
    assert rules.query_terms("  ") == []


def test_best_field_wins_and_runs_join_neighbours():
    fields = ("syn", "Synapse table", "syn_id", "", "", "a syn word", "")
    terms = rules.version_terms(fields)
    assert terms["syn"] == 0 and terms["synapse"] == 1 and terms["syn_id"] == 2 and terms["word"] == 5
    post = rules.build_postings([{"a": 2}, {"a": 2}, {"a": 5}, {}, {"a": 2}])
    assert post["a"] == [0, 2, 2, 0, 1, 5, 1, 1, 2]  # [gap, length, field] runs


def _index(vocab_versions, target=60):
    post = rules.build_postings(vocab_versions)
    shards = list(rules.shard_postings(post, target))
    firsts = [t[0] for t, _ in shards]
    loaded = [json.loads(rules.shard_json(t, b)) for t, b in shards]
    return rules.Index(firsts, loaded.__getitem__), len(shards)


def test_expansion_crosses_shards_and_stops_at_the_limit():
    words = [f"feat_{i:03d}" for i in range(200)]
    index, n_shards = _index([{w: 2} for w in words] + [{"feat": 2}])
    assert n_shards > 5
    got = [w for w, _ in index.expansions("feat")]
    assert got[0] == "feat" and len(got) == rules.MAX_EXPANSIONS  # exact first, then sorted
    assert got[1:] == sorted(words)[: rules.MAX_EXPANSIONS - 1]
    assert [w for w, _ in index.expansions("feat_19")] == [f"feat_{i}" for i in range(190, 200)]
    assert index.expansions("zzz") == [] and index.expansions("a") == []


def test_scores_exact_above_prefix_and_every_word_required():
    index, _ = _index([{"cell": 1, "type": 1}, {"cells": 0, "type": 5}, {"cell": 3}])
    s = index.scores(["cell", "type"])
    assert set(s) == {0, 1}  # version 2 has no "type"
    assert s[0][0] == 5.0 + 5.0 and s[0][1] == [(1, "cell"), (1, "type")]
    assert s[1][0] == 10.0 * 0.5 + 1.0  # "cells" is a prefix match in the name
    ranked = rules.rank([0, 1, 2], lambda v: v, s)
    assert [d for d, _, _ in ranked] == [0, 1]


def test_rank_groups_versions_ties_by_dataset_then_newest():
    dataset_of = [0, 0, 1, 1, 1].__getitem__
    scores = {0: (3.0, []), 1: (1.0, []), 2: (3.0, []), 4: (3.0, [])}
    assert rules.rank(range(5), dataset_of, scores) == [(0, 3.0, [1, 0]), (1, 3.0, [4, 2])]
    assert rules.rank([1, 3], dataset_of, None) == [(0, 0.0, [1]), (1, 0.0, [3])]
