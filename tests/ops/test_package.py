"""`feature-registry package-signer` / `package-rebuild-function`: the artifacts run on their own.

The Lambda zip is unpacked and imported with `python -S` and a sys.path of only the zip's contents,
the standard library and boto3/botocore with their dependencies (what the Lambda Python runtime
provides), then answers a real API Gateway v2 request for a document on the S3 server, with a CAVE
stand-in for auth. The GCF source dir runs under functions-framework from a fresh venv made from
its requirements.txt (slow).
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import requests

from tests.conftest import AWS_TEST_ENV, free_port

REPO = Path(__file__).resolve().parents[2]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
TOKEN = "tok-package-reader"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "feature_registry.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def cave_auth():
    from tests.signer.standins import CaveAuth

    server = CaveAuth().start()
    server.add_user(TOKEN, 7, {"minnie65_public": ["view"]})
    server.datastacks["minnie65_phase3_v1"] = "minnie65_public"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_registry(s3_bucket):
    """A registry on the S3 server holding one document whose table lives under s3://lab-tables/."""
    from registry.documents import Registry
    from tests.signer.conftest import document

    uri = f"s3://{s3_bucket}/registry"
    doc, manifest = document("syn", "1", "s3://lab-tables/features/syn",
                             files=[{"path": "region=a/p.parquet", "size": 5, "rows": 2, "partition": {"region": "a"}}])
    Registry(uri).put_new(doc, manifest)
    return uri


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pkg")
    proc = _cli("package-signer", "--target", "lambda", "--out", str(out), "--python-version", PY, "--json", cwd=out)
    assert proc.returncode == 0, proc.stderr
    art = json.loads(proc.stdout)
    assert art["path"].endswith("signer-lambda.zip") and Path(art["path"]).is_file()
    return Path(art["path"])


@pytest.fixture(scope="module")
def runtime_sdk(tmp_path_factory) -> Path:
    """boto3, botocore and their dependencies only: the Lambda runtime's share of sys.path."""
    import importlib

    root = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_PROVIDED:
        mod = importlib.import_module(name)
        src = Path(mod.__file__)
        if src.name == "__init__.py":
            shutil.copytree(src.parent, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(src, root / src.name)
    return root


@pytest.mark.timeout(900)  # the module fixture fetches wheels for the zip
def test_lambda_zip_is_small_and_carries_the_handler(lambda_zip):
    names = zipfile.ZipFile(lambda_zip).namelist()
    assert "signer_function/aws_lambda.py" in names and "registry/model.py" in names
    tops = {n.split("/")[0] for n in names}
    assert not tops & {"boto3", "botocore", "pyarrow", "s3fs", "aiobotocore", "pandas", "click", "rich"}, tops
    # the signer reads documents without pydantic/fsspec and calls out on the runtime's urllib3
    assert not tops & {"pydantic", "pydantic_core", "fsspec", "requests", "urllib3", "yaml"}, tops
    assert lambda_zip.stat().st_size < 15_000_000


LAMBDA_SCRIPT = r"""
import json, sys
task, runtime = sys.argv[1], sys.argv[2]
sys.path[:] = [task] + [p for p in sys.path if p and "site-packages" not in p] + [runtime]
import time
t0 = time.process_time()
from signer_function.aws_lambda import handler
imported = time.process_time() - t0
from tests_event import event
out = {"imported_cpu_s": imported}
out["health"] = handler(event("GET", "/health"), None)
out["sign"] = handler(event("POST", "/sign", body=json.dumps({"dataset": "syn", "version": "latest"}),
                            headers={"authorization": "Bearer " + sys.argv[3], "content-type": "application/json"}), None)
out["denied"] = handler(event("POST", "/sign", body=json.dumps({"dataset": "syn"}),
                              headers={"authorization": "Bearer wrong"}), None)
out["tables"] = handler(event("GET", "/delta-sharing/shares/minnie65_phase3_v1/schemas/syn/tables",
                              headers={"authorization": "Bearer " + sys.argv[3]}), None)
out["outside"] = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())
                         if getattr(m, "__file__", None) and not m.__file__.startswith((task, runtime, sys.base_prefix))})
out["heavy"] = sorted(n for n in ("pyarrow", "s3fs", "pandas", "google", "yaml", "click", "pydantic", "fsspec",
                                  "requests") if n in sys.modules)
print(json.dumps(out))
"""


@pytest.mark.timeout(900)
def test_unpacked_lambda_zip_answers_with_python_dash_S(lambda_zip, runtime_sdk, s3_registry, s3_env, cave_auth,
                                                      tmp_path):
    task = tmp_path / "task"
    zipfile.ZipFile(lambda_zip).extractall(task)
    helper = tmp_path / "helper"
    helper.mkdir()
    from tests.signer.test_lambda import event as documented_event  # the documented event shape

    (helper / "tests_event.py").write_text("import base64\n\n" + inspect.getsource(documented_event))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(AWS_TEST_ENV, AWS_ENDPOINT_URL=s3_env, REGISTRY_URI=s3_registry, AUTH_URL=cave_auth.auth_url,
               ALLOWED_LOCATIONS="s3://lab-tables/features", PYTHONPATH=str(helper))
    # -S: no site-packages; PYTHONPATH only adds the event helper (stdlib-only code)
    proc = subprocess.run([sys.executable, "-S", "-c", LAMBDA_SCRIPT, str(task), str(runtime_sdk), TOKEN],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["health"]["statusCode"] == 200
    assert out["sign"]["statusCode"] == 200, out["sign"]
    body = json.loads(out["sign"]["body"])
    assert body["version"] == "1" and body["files"][0]["partition"] == {"region": "a"}
    assert body["files"][0]["url"].startswith(("https://", "http://")) and "X-Amz-Signature=" in body["files"][0]["url"]
    assert out["denied"]["statusCode"] == 401
    assert out["tables"]["statusCode"] == 200, out["tables"]  # Delta Sharing lists through the same light reader
    assert [t["name"] for t in json.loads(out["tables"]["body"])["items"]] == ["latest", "1"]
    assert [p for p in out["outside"] if not p.startswith(str(helper))] == []
    assert out["heavy"] == []


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a fresh venv from requirements.txt
def test_gcf_source_dir_runs_under_functions_framework_from_its_requirements(tmp_path, s3_registry, s3_env,
                                                                             cave_auth):
    proc = _cli("package-signer", "--target", "gcf", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    src = tmp_path / "out" / "signer-gcf"
    assert (src / "main.py").is_file() and (src / "signer_function" / "core.py").is_file()
    reqs = (src / "requirements.txt").read_text()
    assert "pyarrow" not in reqs and "functions-framework" in reqs
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r",
                          str(src / "requirements.txt")], capture_output=True, text=True, timeout=1200)
    assert pip.returncode == 0, pip.stderr[-3000:]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "VIRTUAL_ENV"))}
    env.update(AWS_TEST_ENV, AWS_ENDPOINT_URL=s3_env, REGISTRY_URI=s3_registry, AUTH_URL=cave_auth.auth_url,
               ALLOWED_LOCATIONS="s3://lab-tables/features", PATH=str(venv / "bin"))
    log = tmp_path / "ff.log"
    with open(log, "w") as fh:
        server = subprocess.Popen([str(venv / "bin" / "functions-framework"), "--target=sign", "--source=main.py",
                                   "--host=127.0.0.1", f"--port={port}"], cwd=src, env=env, stdout=fh,
                                  stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        r = requests.post(url + "/sign", json={"dataset": "syn"}, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["files"][0]["partition"] == {"region": "a"}
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_rebuild_function_lambda_handler_imports_without_functions_framework(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["functions_framework"] = None   # not installed (the Lambda case)
        from site_builder import rebuild_function
        print(rebuild_function.handler({"Records": []}, None)["action"])
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "FEATURE_REGISTRY_URI": str(tmp_path / "reg"),
           "SITE_TARGET": str(tmp_path / "site")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "ignored"


def test_unknown_target_is_bad_input(tmp_path):
    proc = _cli("package-signer", "--target", "azure", "--out", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_rebuild_gcf_source_dir_builds_from_its_own_files(tmp_path):
    proc = _cli("package-rebuild-function", "--target", "gcf", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    src = tmp_path / "out" / "rebuild-function-gcf"
    reqs = (src / "requirements.txt").read_text()
    assert "functions-framework" in reqs and "gcsfs" in reqs and "pyarrow" not in reqs
    code = textwrap.dedent("""
        import json, main, registry, site_builder.vendor as v, site_builder.pages as p, site_builder.build as b
        print(json.dumps([registry.__file__, str(v.check_vendor()), str(p.templates_dir()), str(b.base_config_path()),
                          callable(main.on_storage_event)]))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SITE_VENDOR_DIR")}
    ran = subprocess.run([sys.executable, "-c", code], cwd=src, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    *paths, ok = json.loads(ran.stdout)
    assert ok and all(Path(x).resolve().is_relative_to(src.resolve()) for x in paths), paths


REBUILD_SCRIPT = r"""
import json, sys
task = sys.argv[1]
sys.path[:] = [task] + [p for p in sys.path if p and "site-packages" not in p]
from site_builder.rebuild_function import handler
event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                      "s3": {"bucket": {"name": sys.argv[2]}, "object": {"key": "registry/datasets/syn/1.json"}}}]}
out = handler(event, None)
outside = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)
                  and not m.__file__.startswith((task, sys.base_prefix))})
print(json.dumps({"out": out, "outside": outside, "ff": "functions_framework" in sys.modules}))
"""


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_rebuild_lambda_zip_builds_and_deploys_the_site_on_its_own(tmp_path, s3_bucket, s3_env):
    import boto3

    from registry.documents import Registry
    from tests.signer.conftest import document

    proc = _cli("package-rebuild-function", "--target", "lambda", "--out", str(tmp_path / "out"),
                "--python-version", PY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    task = tmp_path / "task"
    zipfile.ZipFile(tmp_path / "out" / "rebuild-function-lambda.zip").extractall(task)
    doc, manifest = document("syn", "1", "s3://lab-tables/features/syn")
    Registry(f"s3://{s3_bucket}/registry").put_new(doc, manifest)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "SITE_"))}
    env.update(AWS_TEST_ENV, AWS_ENDPOINT_URL=s3_env, FEATURE_REGISTRY_URI=f"s3://{s3_bucket}/registry",
               SITE_TARGET=f"s3://{s3_bucket}/site", REBUILD_DEBOUNCE_SECONDS="0",
               SITE_WORK_DIR=str(tmp_path / "work"))
    ran = subprocess.run([sys.executable, "-S", "-c", REBUILD_SCRIPT, str(task), s3_bucket], env=env,
                         capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    got = json.loads(ran.stdout.strip().splitlines()[-1])
    assert got["out"]["action"] == "rebuilt", got["out"]
    assert got["outside"] == [] and got["ff"] is False
    s3 = boto3.client("s3", endpoint_url=s3_env)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="site/")["Contents"]}
    assert {"site/index.json", "site/assets/vendor/mermaid/mermaid.min.js", "site/assets/vendor/lunr/LICENSE",
            "site/datasets/syn/1.html"} <= keys
