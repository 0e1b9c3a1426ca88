"""A wheel (not just the editable checkout) carries the site templates and base mkdocs.yml, so the
rebuild function and other non-editable installs can build the site."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_ships_templates_and_mkdocs_config(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = next(n.split("/data/")[0] for n in names if ".data/data/share/" in n) + "/data/share/connectomics-feature-registry/"
    expected = {prefix + "mkdocs.yml"} | {
        prefix + str(p.relative_to(REPO)) for p in (REPO / "templates").rglob("*") if p.is_file()
    }
    assert expected <= names, expected - names
    assert any(n.startswith("registry/") for n in names) and any(n.startswith("signer_function/") for n in names)


# ---- the wheel is the product ---------------------------------------------------------------------
# Built with `python -m build` (sdist, then the wheel from the sdist, as a release would), installed
# with its [site] extra into a fresh venv, and used from a temporary directory with no checkout on
# sys.path and no npm on PATH.

import os  # noqa: E402
import shutil  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    from site_builder.vendor import ASSETS, VendorMissing, check_vendor

    work = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:  # reuse the checkout's npm prefix when it holds the pins; else the build runs npm itself
        env["SITE_VENDOR_DIR"] = str(check_vendor())
    except VendorMissing:
        env.pop("SITE_VENDOR_DIR", None)
    src = work / "src"  # a clean copy: no build/ or egg-info from the editable checkout leaks in
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", ".cache", ".demo", "build", "dist",
                                                             "*.egg-info", "__pycache__", "_vendor", "site"))
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(src)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel = next((work / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for a in ASSETS:
        for f in a.files:
            assert f"site_builder/_vendor/{a.package}/{Path(f).name}" in names
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[site]"],
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bare = {k: v for k, v in env.items() if not k.startswith(("SITE_", "VIRTUAL_ENV"))}
    bare["PATH"] = str(venv / "bin")  # no npm, no node: only the venv's own scripts
    return venv, bare, work


@pytest.mark.slow
@pytest.mark.timeout(1800)  # builds a wheel and a venv on a shared machine
def test_installed_wheel_builds_the_example_site_that_renders_in_chromium(wheel_venv, tmp_path):
    from tests.site.conftest import write_example_registry

    venv, env, _ = wheel_venv
    registry, site = tmp_path / "registry", tmp_path / "site"
    write_example_registry(registry)
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import site_builder.vendor as v, sys; print(v.check_vendor()); print(sys.path)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    vendor_at, path = where.stdout.splitlines()
    assert Path(vendor_at).is_relative_to(venv) and vendor_at.endswith("site_builder/_vendor")
    assert str(REPO) not in path
    proc = subprocess.run([str(venv / "bin" / "feature-registry"), "build-site", "--registry", str(registry),
                           "--out", str(site), "--strict"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and "nothing built" in proc.stderr  # --strict refuses the two broken documents
    assert not site.exists() or not any(site.iterdir())
    proc = subprocess.run([str(venv / "bin" / "feature-registry"), "build-site", "--registry", str(registry),
                           "--out", str(site)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for pkg, script in (("mermaid", "mermaid.min.js"), ("lunr", "lunr.min.js")):
        assert (site / "assets" / "vendor" / pkg / script).stat().st_size > 10_000
        assert "Permission is hereby granted" in (site / "assets" / "vendor" / pkg / "LICENSE").read_text()

    # [site] carries no pyarrow: the CLI works without it and says which extra publishing needs
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "import pyarrow"], cwd=tmp_path, env=env,
                          capture_output=True, timeout=60).returncode == 1
    (tmp_path / "spec.yaml").write_text("name: t\n")
    proc = subprocess.run([str(venv / "bin" / "feature-registry"), "publish", str(tmp_path / "spec.yaml"),
                           "--registry", str(registry)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "connectomics-feature-registry[publish]" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr

    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    from tests.site.conftest import _serve
    from tests.site.test_browser import ARGS, CHROMIUM, Watched, _results, shown

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for base in _serve(site):
                w = Watched(browser, base)
                page = w.goto("datasets/synapse_embeddings/v2.html")
                page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
                assert "synapses_pni_2" in page.locator(".fr-mermaid-svg svg").first.text_content()
                page = w.goto("search.html")
                page.wait_for_selector("#fr-search[data-ready]")
                page.fill("#fr-q", "synapse_embedding_vec")
                shown(page, "q=synapse_embedding_vec")  # this query's results, not the list before it
                assert _results(page)[0] == "synapse_embeddings"
                assert any(u.endswith("mermaid.min.js") for u in w.requests)
                assert w.errors == [] and w.foreign() == []
        finally:
            browser.close()
