"""`make demo` for the signer: a local S3 server with an example table, the signer beside it.

    python -m signer_function.demo start --dir .demo    # returns once the signer answers
    python -m signer_function.demo stop --dir .demo

`start` launches a background process (`serve`) that runs the moto S3 server on 127.0.0.1, writes a
small hive-partitioned Parquet table to it, publishes it into its own registry
(`DIR/signer/registry`), and serves the signer with functions-framework using the `dev`
authenticator (explicitly enabled, token `demo-token`). Everything stops by itself after `--ttl`
seconds (default 2 h) or on `stop`. Then it prints a copy-paste DuckDB snippet.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DEMO_TOKEN = "demo-token"
DATASTACK = "minnie65_phase3_v1"
REPO = Path(__file__).resolve().parents[1]
# The background `serve` processes this process started, by pid: `stop_running` waits on the
# `Popen` itself, so a long-lived caller (a test session) reaps its child and never drops a
# running `Popen` (a ResourceWarning when it is collected).
_STARTED: dict[int, subprocess.Popen] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _table():
    import pyarrow as pa

    n = 3000
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "pre_pt_root_id": pa.array([864691135000000000 + (i * 7919) % 500 for i in range(n)], pa.int64()),
            "post_pt_root_id": pa.array([864691135000000000 + (i * 104729) % 500 for i in range(n)], pa.int64()),
            "size": pa.array([(i * 37) % 900 + 40 for i in range(n)], pa.int32()),
            "split": pa.array([("train", "val", "test")[i % 3] for i in range(n)], pa.string()),
        }
    )


def serve(work: Path, port: int, ttl: float, registry: Path | None = None) -> None:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, s3_port = moto.get_host_and_port()
    endpoint = f"http://{host}:{s3_port}"
    env = {
        "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo-secret", "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true", "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint,
    }
    os.environ.update(env)
    import boto3
    import pyarrow.dataset as pads
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    from registry.publish import publish
    from registry.storage import filesystem

    boto3.client("s3").create_bucket(Bucket="demo-tables")
    location = "s3://demo-tables/minnie65/synapse_demo"
    fs, _ = filesystem(location)
    pads.write_dataset(_table(), "demo-tables/minnie65/synapse_demo", format="parquet",
                       filesystem=PyFileSystem(FSSpecHandler(fs)), partitioning=["split"], partitioning_flavor="hive")
    registry = registry or work / "registry"
    publish(
        {
            "name": "synapse_demo", "version": "1", "title": "Demo synapses (signer)",
            "description": "A small synthetic synapse table on the local S3 server, for the signer demo.",
            "datastack": DATASTACK, "materialization": {"version": 1078}, "location": location,
            "format": "parquet", "format_options": {"partitioning": "hive"}, "tags": ["demo"],
        },
        str(registry),
        if_exists="skip",
    )
    tokens = work / "dev-tokens.json"
    tokens.write_text(json.dumps({
        DEMO_TOKEN: {"id": 1, "name": "demo user", "email": "demo@example.org",
                     "permissions_v2": {"minnie65_public": ["view"]}, "missing_tos": []},
        "datastacks": {DATASTACK: "minnie65_public"},
    }))
    signer_env = {
        **os.environ, **env,
        "REGISTRY_URI": str(registry), "SIGNER_AUTH": "dev", "SIGNER_ALLOW_DEV_AUTH": "1",
        "SIGNER_DEV_TOKENS": str(tokens), "ALLOWED_LOCATIONS": "s3://demo-tables",
        # The operator's binding of table prefixes to CAVE permissions (docs/security.md).
        "LOCATION_PERMISSIONS": json.dumps({"s3://demo-tables": {"dataset": "minnie65_public", "permission": "view"}}),
        "CORS_ORIGINS": "http://127.0.0.1:8000", "PYTHONUNBUFFERED": "1",
    }
    exe = Path(sys.executable).with_name("functions-framework")
    with open(work / "signer.log", "a") as log:
        proc = subprocess.Popen(
            [str(exe), "--target=sign", "--signature-type=http", "--source=signer_function/main.py", "--host=127.0.0.1", f"--port={port}"],
            cwd=REPO, env=signer_env, stdout=log, stderr=subprocess.STDOUT,
        )
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    (work / "ready.json").write_text(json.dumps({"signer": f"http://127.0.0.1:{port}", "s3": endpoint, "pid": os.getpid()}))
    deadline = time.monotonic() + ttl
    try:
        while not stop["now"] and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        moto.stop()
        (work / "ready.json").unlink(missing_ok=True)


def snippet(signer_url: str) -> str:
    import duckdb

    try:
        import duckdb_extension_httpfs

        ext = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    except ImportError:
        ext = Path("httpfs.duckdb_extension")
    return f'''{sys.executable} - <<'PY'
import duckdb, requests
ans = requests.post("{signer_url}/sign", json={{"dataset": "synapse_demo", "version": "latest"}},
                    headers={{"Authorization": "Bearer {DEMO_TOKEN}"}}).json()
con = duckdb.connect(config={{"autoinstall_known_extensions": False, "autoload_known_extensions": False}})
con.execute("LOAD '{ext}'")
sql = " UNION ALL BY NAME ".join(
    "SELECT *" + "".join(f", '{{v}}' AS {{k}}" for k, v in f["partition"].items())
    + f" FROM read_parquet('{{f['url']}}')" for f in ans["files"])
print(ans["mode"], ans["mode_reason"], "- expires", ans["expires_at"])
con.sql(f"SELECT split, count(*) AS synapses, avg(size) AS mean_size FROM ({{sql}}) GROUP BY split ORDER BY split").show()
PY'''


def start(work: Path, port: int, ttl: float, timeout: float = 90, registry: Path | None = None) -> dict:
    stop_running(work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    with open(work / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "signer_function.demo", "serve", "--work", str(work), "--port", str(port), "--ttl", str(ttl)]
            + (["--registry", str(Path(registry).resolve())] if registry else []),
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    _STARTED[proc.pid] = proc
    (work / "serve.pid").write_text(str(proc.pid))
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _STARTED.pop(proc.pid, None)
            raise SystemExit("signer demo failed to start:\n" + (work / "serve.log").read_text()[-3000:])
        ready = work / "ready.json"
        if ready.exists():
            info = json.loads(ready.read_text())
            try:
                if requests.get(info["signer"] + "/health", timeout=1).status_code == 200:
                    return info
            except requests.RequestException:
                pass
        time.sleep(0.2)
    stop_running(work)
    raise SystemExit("signer demo did not answer in time; see " + str(work / "serve.log"))


def stop_running(work: Path) -> bool:
    pid_file = work / "serve.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.kill(pid, signal.SIGTERM)  # our own background process, by its id
    except ProcessLookupError:
        _STARTED.pop(pid, None)
        return False
    started = _STARTED.pop(pid, None)
    if started is not None:  # started by this process: wait on its Popen (reaps it)
        try:
            started.wait(10)
        except subprocess.TimeoutExpired:
            started.kill()
            started.wait(10)
        return True
    for _ in range(100):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child (a test): reap it
                break
        except ChildProcessError:  # started by an earlier `start` that has exited
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
        time.sleep(0.1)
    return True


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m signer_function.demo")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--dir", default=".demo")
    s.add_argument("--port", type=int, default=8089)
    s.add_argument("--ttl", type=float, default=7200)
    t = sub.add_parser("stop")
    t.add_argument("--dir", default=".demo")
    v = sub.add_parser("serve")
    v.add_argument("--work", required=True)
    v.add_argument("--port", type=int, required=True)
    v.add_argument("--ttl", type=float, required=True)
    v.add_argument("--registry", default=None, help="registry folder to serve (default: WORK/registry)")
    args = ap.parse_args(argv)
    if args.cmd == "serve":
        serve(Path(args.work), args.port, args.ttl, Path(args.registry) if args.registry else None)
    elif args.cmd == "stop":
        print("signer demo stopped" if stop_running(Path(args.dir) / "signer") else "no signer demo running")
    else:
        info = start(Path(args.dir) / "signer", args.port, args.ttl)
        print(f"signer demo: {info['signer']} (dev token {DEMO_TOKEN!r}; local S3 at {info['s3']}); "
              f"stops by itself in {args.ttl / 60:.0f} min or with `python -m signer_function.demo stop --dir {args.dir}`")
        print("Read the signed example table with DuckDB (copy-paste):\n")
        print(snippet(info["signer"]))


if __name__ == "__main__":
    main()
