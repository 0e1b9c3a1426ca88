#!/usr/bin/env python
"""Benchmark the signer: cold import, warm latency over loopback, throughput, raw signing speed.

    .venv/bin/python bench/signer.py [--requests 300] [--files 1000] [--seconds 5]

What it does (all on 127.0.0.1, nothing leaves the machine):
* cold start: `import signer_function.main` in a fresh interpreter (median of 5), and the first
  request's latency in a fresh process (signing clients load then);
* warm latency p50/p99 of POST /sign through functions-framework (gunicorn, as deployed) for a
  1-file and a FILES-file table, S3 SigV4 and GCS V4 with a service-account key; auth answers are
  cached (the CAVE auth stand-in from the tests answers the first call);
* throughput with 16 concurrent clients on the 1-file table;
* signing alone, in-process: FILES URLs with each back end.
S3 presigning is offline, so no S3 server is needed; the key is a throwaway RSA key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOKEN = "bench-token-4b1e"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def cold_import() -> float:
    times = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", "import time; t=time.perf_counter(); import signer_function.main; print(time.perf_counter()-t)"],
            cwd=REPO, capture_output=True, text=True, check=True,
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def setup(tmp: Path, files: int) -> dict:
    from registry.documents import Registry
    from tests.signer.conftest import document
    from tests.signer.standins import new_service_account

    reg = tmp / "registry"
    reg.mkdir()
    r = Registry(str(reg))
    many = [{"path": f"split={i % 8}/part-{i:05d}.parquet", "size": 1_000_000, "rows": 1000, "partition": {"split": i % 8}} for i in range(files)]
    for scheme in ("s3", "gs"):
        r.put_new(*document(f"one_{scheme}", "1", f"{scheme}://bench-bucket/t/one.parquet", files=[{"path": "", "size": 1, "rows": 1, "partition": {}}]))
        r.put_new(*document(f"many_{scheme}", "1", f"{scheme}://bench-bucket/t/many", files=many))
    key, info = new_service_account()
    keyfile = tmp / "key.json"
    keyfile.write_text(json.dumps(info))
    return {"registry": str(reg), "keyfile": str(keyfile)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    import requests

    from tests.conftest import free_port
    from tests.signer.standins import CaveAuth

    print(f"# signer benchmark, {dt.date.today()}, {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"cold import of signer_function.main: {cold_import() * 1000:.0f} ms (median of 5)")

    cave = CaveAuth().start()
    cave.add_user(TOKEN, 1, {"minnie65_public": ["view"]})
    cave.datastacks["minnie65_phase3_v1"] = "minnie65_public"
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        paths = setup(tmp, args.files)
        env = {
            **os.environ,
            "REGISTRY_URI": paths["registry"],
            "AUTH_URL": cave.auth_url,
            "ALLOWED_LOCATIONS": "s3://bench-bucket,gs://bench-bucket",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
            "SIGNER_GCS_KEY_FILE": paths["keyfile"], "SIGNER_GCS_SIGNING": "key",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("AWS_ENDPOINT_URL", None)
        port = free_port()
        exe = Path(sys.executable).with_name("functions-framework")
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(exe), "--target=sign", "--signature-type=http", "--source=signer_function/main.py", "--host=127.0.0.1", f"--port={port}"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    requests.get(url + "/health", timeout=0.5)
                    break
                except requests.RequestException:
                    time.sleep(0.05)
            ready = time.perf_counter() - started
            s = requests.Session()
            hdr = {"Authorization": f"Bearer {TOKEN}"}

            def one(name: str, session=s) -> float:
                t0 = time.perf_counter()
                r = session.post(url + "/sign", json={"dataset": name}, headers=hdr, timeout=30)
                assert r.status_code == 200, r.text
                return time.perf_counter() - t0

            first = {n: one(n) for n in ("one_s3", "one_gs")}
            print(f"functions-framework up (health answers): {ready * 1000:.0f} ms; first /sign: "
                  f"S3 {first['one_s3'] * 1000:.0f} ms, GCS {first['one_gs'] * 1000:.0f} ms (clients load lazily)")
            for name, n in (("one_s3", args.requests), ("one_gs", args.requests), ("many_s3", max(20, args.requests // 10)), ("many_gs", max(20, args.requests // 10))):
                one(name)
                lat = [one(name) for _ in range(n)]
                files = 1 if name.startswith("one") else args.files
                print(f"warm POST /sign {name:8s} ({files:5d} files): p50 {pct(lat, 50) * 1000:7.1f} ms  p99 {pct(lat, 99) * 1000:7.1f} ms  (n={n})")

            def client(stop: float, counts: list) -> None:
                sess = requests.Session()
                k = 0
                while time.perf_counter() < stop:
                    one("one_s3", sess)
                    k += 1
                counts.append(k)

            counts: list[int] = []
            stop = time.perf_counter() + args.seconds
            threads = [threading.Thread(target=client, args=(stop, counts)) for _ in range(16)]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - t0
            print(f"throughput, 16 concurrent clients, 1-file S3: {sum(counts) / elapsed:.0f} requests/s over {elapsed:.1f} s")
        finally:
            proc.terminate()
            proc.wait(10)

        # Signing alone, in-process.
        from signer_function.config import Config
        from signer_function.lookup import ObjectRef
        from signer_function.signing_gcs import GcsSigner
        from signer_function.signing_s3 import sign_s3

        objs = lambda scheme: [ObjectRef(scheme, "bench-bucket", f"t/many/split={i % 8}/part-{i:05d}.parquet", 1, 1, {}) for i in range(args.files)]  # noqa: E731
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
        cfg = Config(gcs_key_file=paths["keyfile"], gcs_signing="key")
        sign_s3(cfg, objs("s3")[:1], 60)
        t0 = time.perf_counter()
        sign_s3(cfg, objs("s3"), 3600)
        s3t = time.perf_counter() - t0
        g = GcsSigner(cfg)
        g.sign(objs("gs")[:1], 60)
        t0 = time.perf_counter()
        g.sign(objs("gs"), 3600)
        gst = time.perf_counter() - t0
        print(f"signing alone, {args.files} URLs: S3 SigV4 {s3t * 1000:.0f} ms, GCS V4 with key {gst * 1000:.0f} ms")
    cave.stop()


if __name__ == "__main__":
    main()
