"""The packaged Lambda signer, as the runtime would start it: zip size, cold import CPU of
`signer_function.aws_lambda` and the first `/sign` in a fresh `python -S` process whose sys.path is
the unpacked zip, the standard library and boto3/botocore (+ deps), against the local S3 server
(registry there) and a CAVE stand-in. Prints one JSON line; `.venv/bin/python bench/package_signer.py [RUNS]`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
TOKEN = "tok-bench"
SCRIPT = r"""
import json, sys, time
task, runtime = sys.argv[1], sys.argv[2]
sys.path[:] = [task] + [p for p in sys.path if p and "site-packages" not in p] + [runtime]
c0, w0 = time.process_time(), time.perf_counter()
from signer_function.aws_lambda import handler
cpu = time.process_time() - c0
ev = {"version": "2.0", "rawPath": "/sign", "headers": {"authorization": "Bearer " + sys.argv[3]},
      "requestContext": {"http": {"method": "POST", "path": "/sign"}}, "body": json.dumps({"dataset": "syn"}),
      "isBase64Encoded": False}
w1, c1 = time.perf_counter(), time.process_time()
out = handler(ev, None)
first, first_cpu = time.perf_counter() - w1, time.process_time() - c1
w2 = time.perf_counter()
handler(ev, None)
warm = time.perf_counter() - w2
print(json.dumps({"status": out["statusCode"], "import_cpu_s": cpu, "import_wall_s": w1 - w0,
                  "first_sign_s": first, "first_sign_cpu_s": first_cpu,
                  "warm_sign_s": warm}))
"""


def main() -> None:
    import importlib

    from registry.documents import Registry
    from feature_registry.package import package
    from tests.conftest import AWS_TEST_ENV
    from tests.s3_server import S3Server
    from tests.signer.conftest import document
    from tests.signer.standins import CaveAuth

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    work = Path(tempfile.mkdtemp(prefix="bench-package-"))
    s3 = S3Server().start()
    cave = CaveAuth().start()
    try:
        os.environ.update(AWS_TEST_ENV, AWS_ENDPOINT_URL=s3.url)
        import boto3

        boto3.client("s3", endpoint_url=s3.url).create_bucket(Bucket="bench-registry")
        cave.add_user(TOKEN, 1, {"minnie65_public": ["view"]})
        cave.datastacks["minnie65_phase3_v1"] = "minnie65_public"
        doc, manifest = document("syn", "1", "s3://lab-tables/features/syn",
                                 files=[{"path": f"part-{i}.parquet", "size": 1000, "rows": 10, "partition": {}}
                                        for i in range(100)])
        Registry("s3://bench-registry/registry").put_new(doc, manifest)

        art = package("signer", "lambda", str(work / "out"), python_version=PY)
        task = work / "task"
        zipfile.ZipFile(art.path).extractall(task)
        runtime = work / "runtime"
        runtime.mkdir()
        for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"):
            src = Path(importlib.import_module(name).__file__)
            if src.name == "__init__.py":
                shutil.copytree(src.parent, runtime / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copyfile(src, runtime / src.name)
        # the runtime's own SDK is precompiled too (as on Lambda): compile it once, untimed
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(runtime)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(REGISTRY_URI="s3://bench-registry/registry", AUTH_URL=cave.auth_url,
                   ALLOWED_LOCATIONS="s3://lab-tables/features")
        modes: dict[str, dict] = {}
        load = os.getloadavg()
        for mode, extra in (("lazy", {}), ("preload", {"SIGNER_PRELOAD": "1"})):
            results = []
            for _ in range(runs):  # interleaving the modes would be fairer on a busy machine; kept simple
                proc = subprocess.run([sys.executable, "-S", "-c", SCRIPT, str(task), str(runtime), TOKEN],
                                      env={**env, **extra}, capture_output=True, text=True, timeout=120)
                if proc.returncode != 0:
                    raise SystemExit(proc.stderr[-2000:])
                results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            modes[mode] = {"status": sorted({r["status"] for r in results}), "median_ms": {
                k: round(statistics.median(r[k] for r in results) * 1000, 1)
                for k in ("import_cpu_s", "import_wall_s", "first_sign_s", "first_sign_cpu_s", "warm_sign_s")}}
        print(json.dumps({"zip_mb": round(art.size / 1e6, 2), "unzipped_mb": round(
            sum(p.stat().st_size for p in task.rglob("*") if p.is_file()) / 1e6, 1), "runs": runs,
            "python": PY, "files_signed": 100, "load_before": [round(x, 1) for x in load],
            "load_after": [round(x, 1) for x in os.getloadavg()], **modes}))
    finally:
        cave.stop()
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
