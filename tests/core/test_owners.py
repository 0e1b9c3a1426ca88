"""Datasets have owners (issue 10, build 2): the first publisher's team is recorded in
`datasets/<name>/_owners.json`, and another team's new version, which on the code before this test
was accepted and became the dataset's `latest`, is refused (exit 2, nothing written)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from click.testing import CliRunner

from registry.cli import main
from registry.documents import Registry
from registry.errors import BadInput
from registry.owners import OWNERS_FILE
from registry.publish import publish
from site_builder.synthetic import base_document, write_document

from .conftest import base_spec


def _publish(spec_path: Path, registry: str, *extra: str):
    return CliRunner().invoke(main, ["publish", str(spec_path), "--registry", registry, *extra],
                              catch_exceptions=False)


def _team(team: str) -> list[dict]:
    return [{"name": f"someone from {team}", "team": team}]


def test_another_team_cannot_add_a_version(hive_table, write_spec, tmp_registry):
    ok = _publish(write_spec(base_spec(hive_table[0], owners=_team("synapses"))), tmp_registry)
    assert ok.exit_code == 0, ok.output
    owners = json.loads((Path(tmp_registry) / "datasets/synapse_features" / OWNERS_FILE).read_text())
    assert owners["teams"] == ["synapses"]

    bad = _publish(write_spec(base_spec(hive_table[0], version="2", owners=_team("mallory"))), tmp_registry)
    assert bad.exit_code == 2
    assert "owned by team(s) synapses" in bad.stderr and "you publish as mallory" in bad.stderr
    assert not (Path(tmp_registry) / "datasets/synapse_features/2.json").exists()
    assert not (Path(tmp_registry) / "datasets/synapse_features/2.files.json").exists()
    assert Registry(tmp_registry).get("synapse_features").version == "1"

    same = _publish(write_spec(base_spec(hive_table[0], version="3", owners=_team("synapses"))), tmp_registry)
    assert same.exit_code == 0, same.output


def test_owners_can_allow_another_team(hive_table, write_spec, tmp_registry):
    assert _publish(write_spec(base_spec(hive_table[0], owners=_team("synapses"))), tmp_registry).exit_code == 0
    path = Path(tmp_registry) / "datasets/synapse_features" / OWNERS_FILE
    owners = json.loads(path.read_text())
    path.write_text(json.dumps({**owners, "allow": ["cells"]}))
    r = _publish(write_spec(base_spec(hive_table[0], version="2", owners=_team("cells"))), tmp_registry)
    assert r.exit_code == 0, r.output


def test_team_flag_and_environment_name_the_publisher(hive_table, write_spec, tmp_registry, monkeypatch):
    assert _publish(write_spec(base_spec(hive_table[0], owners=[])), tmp_registry, "--team", "synapses").exit_code == 0
    monkeypatch.setenv("FEATURE_REGISTRY_TEAM", "mallory")
    r = _publish(write_spec(base_spec(hive_table[0], version="2", owners=_team("synapses"))), tmp_registry)
    assert r.exit_code == 2 and "you publish as mallory" in r.stderr


def test_concurrent_first_publishers_of_a_name_one_team_wins(hive_table, tmp_registry):
    results: dict[str, str] = {}
    barrier = threading.Barrier(4)

    def go(team: str, version: str) -> None:
        barrier.wait()
        try:
            publish(base_spec(hive_table[0], version=version, owners=_team(team)), tmp_registry)
            results[version] = team
        except BadInput as exc:
            results[version] = f"refused: {exc}"

    threads = [threading.Thread(target=go, args=(t, v)) for t, v in
               (("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    winner = json.loads((Path(tmp_registry) / "datasets/synapse_features" / OWNERS_FILE).read_text())["teams"]
    assert winner in (["a"], ["b"])
    published = {d.version for d in Registry(tmp_registry).documents()}
    assert published == {f"{winner[0]}1", f"{winner[0]}2"}, results
    loser = "b" if winner == ["a"] else "a"
    assert all("owned by team(s)" in results[f"{loser}{i}"] for i in (1, 2)), results


def test_datasets_from_before_owners_are_claimed_for_their_first_team(hive_table, tmp_registry):
    write_document(tmp_registry, base_document("synapse_features", "0", owners=_team("features")))
    try:
        publish(base_spec(hive_table[0], owners=_team("mallory")), tmp_registry)
        raise AssertionError("another team's version was accepted")
    except BadInput as exc:
        assert "owned by team(s) features" in str(exc)
    result = publish(base_spec(hive_table[0], owners=_team("features")), tmp_registry)
    assert result.written
    docs, problems = Registry(tmp_registry).load_all()
    assert problems == [], "the owners file is not a document"
    assert sorted(d.version for d in docs) == ["0", "1"]


def test_a_dataset_without_a_team_stays_open_and_publish_says_so(hive_table, tmp_registry):
    first = publish(base_spec(hive_table[0], owners=[]), tmp_registry)
    assert any("no owning team" in w for w in first.warnings)
    assert publish(base_spec(hive_table[0], version="2", owners=_team("anyone")), tmp_registry).written
