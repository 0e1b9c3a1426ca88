"""The package's public names stay what `__all__` says, whatever was imported before.

Importing a submodule binds it as an attribute of its package: `registry.publish` (the module)
used to replace `registry.publish` (the function) after the first call, so a pipeline that
published twice in one process failed with "'module' object is not callable". Each check runs in a
fresh interpreter, so no earlier test's imports hide the trap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_publish_is_the_function_on_every_call(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64())}), tmp_path / "t.parquet")
    for v in ("1", "2"):
        spec = {"name": "tiny", "version": v, "title": "Tiny", "description": "d", "datastack": "ds",
                "aligned_volume": "av", "materialization": {"version": 1}, "location": str(tmp_path / "t.parquet"),
                "format": "parquet", "columns": [{"name": "id", "semantic": "annotation_id", "description": "id"}]}
        (tmp_path / f"spec{v}.yaml").write_text(yaml.safe_dump(spec))
    out = _run(f"""
        import registry, registry.publish as also_fine, importlib
        reg = {str(tmp_path / 'reg')!r}
        r1 = registry.publish({str(tmp_path / 'spec1.yaml')!r}, registry=reg)
        importlib.import_module("registry.publish")   # a second import binds nothing new
        from registry import publish                   # nor does a from-import
        r2 = publish({str(tmp_path / 'spec2.yaml')!r}, registry=reg)
        r3 = registry.deprecate(reg, "tiny@1", reason="replaced", superseded_by="tiny@2")
        print(r1.document.ref, r2.document.ref, r3.status.value, callable(registry.publish))
    """, tmp_path)
    assert out.split() == ["tiny@1", "tiny@2", "deprecated", "True"]


def test_every_public_name_resolves_after_importing_every_submodule(tmp_path):
    out = _run("""
        import importlib, json, pkgutil, types, registry
        before = {n: getattr(registry, n) for n in registry.__all__}
        mods = [m.name for m in pkgutil.walk_packages(registry.__path__, "registry.")
                if not m.name.endswith(("__main__", "rebuild_function"))]
        failed = {}
        for m in mods:
            try:
                importlib.import_module(m)
            except ImportError as exc:   # an optional part not installed here is reported, not hidden
                failed[m] = str(exc)
        after = {n: getattr(registry, n) for n in registry.__all__}
        print(json.dumps({
            "all": registry.__all__,
            "modules_bound_to_public_names": [n for n, v in after.items() if isinstance(v, types.ModuleType)],
            "changed": [n for n in before if before[n] is not after[n]],
            "home": {n: getattr(v, "__module__", None) for n, v in after.items()},
            "dir_missing": sorted(set(registry.__all__) - set(dir(registry))),
            "importlib_module": type(importlib.import_module("registry.publish")).__name__,
            "failed": failed,
        }))
    """, tmp_path)
    facts = json.loads(out)
    assert facts["failed"] == {}
    assert facts["modules_bound_to_public_names"] == [] and facts["changed"] == []
    assert facts["dir_missing"] == []
    assert facts["importlib_module"] == "module"  # the submodule itself is still importable
    # each public name is defined where the package says it is (no stale or shadowed entry)
    lazy = json.loads(_run("import registry, json; print(json.dumps(registry._LAZY))", tmp_path))
    assert sorted(lazy) == sorted(facts["all"])
    for name, home in facts["home"].items():
        assert home == lazy[name] or home.startswith(lazy[name] + "."), (name, home)
