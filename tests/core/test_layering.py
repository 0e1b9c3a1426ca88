"""The rooms follow what ships (issue 12, item 0):

* `registry` (the core: model, storage seam, documents, inspection, publish, client, exports, the
  core commands) imports nothing above it: neither `site_builder`, `signer_function`,
  `feature_registry` nor MkDocs;
* `site_builder` (the site, its deploy, storage events and rebuild function) imports only the core;
* `feature_registry` (the `feature-registry` command, the demo, packaging) is the one place that
  may use all three.

Checked twice: statically (every `import` statement and `importlib.import_module("...")` string in
every module, also inside functions, where lazy imports hide), and at run time, importing every
module of the core in a fresh interpreter and attributing each newly loaded package to the module
whose import loaded it. The signer's entry points load no table library."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# package -> top-level packages of this project (or libraries) it must never import
FORBIDDEN = {
    "registry": {"site_builder", "signer_function", "feature_registry", "mkdocs", "material"},
    "site_builder": {"signer_function", "feature_registry"},
    "signer_function": {"site_builder", "feature_registry", "mkdocs"},
}
HEAVY = ("pyarrow", "deltalake", "pyiceberg", "lance", "pandas", "polars", "duckdb", "s3fs", "gcsfs", "mkdocs")


def _modules(package: str) -> list[str]:
    """Dotted names of every module of a package in this checkout."""
    root = REPO / package
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _imported_roots(path: Path, package: str) -> set[tuple[int, str]]:
    """(line, top-level name) of everything a module imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside its own package
                found.add((node.lineno, package))
            elif node.module:
                found.add((node.lineno, node.module.split(".")[0]))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add((node.lineno, node.args[0].value.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_statement_reaches_above_its_room(package):
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for line, name in sorted(_imported_roots(path, package)):
            if name in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_static_check_sees_lazy_imports(tmp_path):
    """The AST walk is not blind to imports inside functions or through importlib."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from site_builder.build import build_site\n"
                     "def g():\n    import importlib\n    importlib.import_module('signer_function.main')\n")
    assert {n for _, n in _imported_roots(probe, "registry")} >= {"site_builder", "signer_function"}


def _loaded_by_each(modules: list[str]) -> dict[str, list[str]]:
    """Import the modules one after another in one fresh interpreter; for each, the top-level
    packages its import added to sys.modules."""
    code = (
        "import importlib, json, sys\n"
        "out = {}\n"
        "for m in json.loads(sys.argv[1]):\n"
        "    before = {n.split('.')[0] for n in sys.modules}\n"
        "    importlib.import_module(m)\n"
        "    out[m] = sorted({n.split('.')[0] for n in sys.modules} - before)\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(modules)], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def test_importing_every_core_module_loads_nothing_above_it():
    modules = _modules("registry")
    assert "registry.cli" in modules and "registry.inspect.parquet" in modules and len(modules) > 40
    loaded = _loaded_by_each(modules)
    bad = {m: sorted(set(pkgs) & FORBIDDEN["registry"]) for m, pkgs in loaded.items()
           if set(pkgs) & FORBIDDEN["registry"]}
    assert not bad, bad


def test_importing_every_site_module_loads_no_signer_or_application():
    loaded = _loaded_by_each(_modules("site_builder"))
    bad = {m: sorted(set(pkgs) & FORBIDDEN["site_builder"]) for m, pkgs in loaded.items()
           if set(pkgs) & FORBIDDEN["site_builder"]}
    assert not bad, bad


@pytest.mark.parametrize("module", ["signer_function.main", "signer_function.aws_lambda"])
def test_signer_entry_points_load_no_table_library(module):
    assert not set(_loaded_by_each([module])[module]) & set(HEAVY)


def test_core_cli_needs_no_pyarrow_and_the_console_script_has_every_command():
    assert "pyarrow" not in _loaded_by_each(["registry.cli"])["registry.cli"]
    from click.testing import CliRunner

    from feature_registry.cli import main
    from registry.cli import main as core

    assert set(core.commands) >= {"publish", "validate", "list", "show", "deprecate", "schema", "join-plan",
                                  "scan-exports"}
    assert not set(core.commands) & {"build-site", "deploy-site", "package-signer"}
    assert set(main.commands) == set(core.commands) | {"build-site", "serve", "deploy-site", "package-signer",
                                                       "package-rebuild-function"}
    help_text = CliRunner().invoke(main, ["--help"]).output
    assert "build-site" in help_text and "publish" in help_text
