"""`make demo`: the whole product on one machine, on the bundled example registry.

1. starts a local S3 API server and the signer beside it (`signer_function.demo`, dev tokens),
2. writes the example tables (Parquet, Delta, Iceberg, Lance) to that S3 server,
3. publishes `examples/specs/*.yaml` into `DIR/registry` (a deprecated/superseded chain included)
   and lists them,
4. builds the catalog site into `DIR/site` and serves it on 127.0.0.1 until Ctrl-C.

Everything listens on 127.0.0.1 and stops by itself (the signer after `--ttl` seconds).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

from registry.documents import Registry
from registry.errors import AlreadyPublished
from registry.publish import PublishResult, deprecate, publish

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "examples" / "specs"
TABLES_PREFIX = "s3://demo-tables/examples"

# Publish order matters only for the facts recorded (references to datasets registered earlier).
EXAMPLE_ORDER = [
    "cell_types-1.yaml",
    "cell_types-2.yaml",
    "morphology_features-1.yaml",
    "cell_embeddings-1.yaml",
    "synapse_embeddings-1.yaml",
]
DEPRECATIONS = [
    ("cell_types@1", "recomputed at materialization 1412 with more proofread cells", "cell_types@2"),
]


def write_example_tables(out: str = TABLES_PREFIX) -> dict:
    """The example tables, written by their own libraries (see examples/make_tables.py)."""
    sys.path.insert(0, str(REPO / "examples"))
    try:
        import make_tables  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return make_tables.make_tables(out)


def example_spec(path: Path, tables_prefix: str = TABLES_PREFIX) -> dict:
    """One example spec, its location moved from the demo bucket to `tables_prefix` (e.g. a local
    directory that `write_example_tables(out)` wrote to)."""
    from registry.publish import load_yaml

    spec = load_yaml(path)
    if tables_prefix != TABLES_PREFIX and str(spec.get("location", "")).startswith(TABLES_PREFIX):
        spec["location"] = tables_prefix.rstrip("/") + spec["location"][len(TABLES_PREFIX):]
    return spec


def publish_examples(registry: str, specs_dir: Path = SPECS, tables_prefix: str = TABLES_PREFIX) -> list[PublishResult]:
    """Publish every example spec, then the deprecations: the example registry."""
    results = []
    for name in EXAMPLE_ORDER:
        try:
            results.append(publish(example_spec(specs_dir / name, tables_prefix), registry))
        except AlreadyPublished:
            continue  # re-running the demo against a kept registry
    for ref, reason, successor in DEPRECATIONS:
        name, _, version = ref.partition("@")
        if Registry(registry).get(name, version).status.value != "deprecated":
            deprecate(registry, ref, reason=reason, superseded_by=successor, user="demo")
    return results


def client_snippet(site_url: str, signer_url: str, token: str) -> str:
    """What a notebook user types: search the catalog, read a table through the signer."""
    return f"""CAVE_TOKEN={token} {sys.executable} - <<'PY'
from registry import Catalog
cat = Catalog("{site_url}", signer_url="{signer_url}")
print([r.ref for r in cat.search("cell", mat_version=1412)])
cells = cat.get("cell_types")                      # latest published: cell_types@2
print(cells.to_pandas(columns=["nucleus_id", "cell_type"]).groupby("cell_type").size())
PY"""


def join_snippet(site_url: str, signer_url: str, token: str) -> str:
    """`Catalog.at(1078).join(...)`: the versions valid at 1078, joined as declared (docs/joins.md)."""
    return f"""CAVE_TOKEN={token} {sys.executable} - <<'PY'
from registry import Catalog
joined = Catalog("{site_url}", signer_url="{signer_url}").at(1078).join("synapse_embeddings", "cell_types")
print(joined.aggregate("cell_type, count(*)").df())   # 1,600 synapses onto typed cells
PY"""


def _use_s3(endpoint: str) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo-secret",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def busy_port(port: int) -> bool:
    """True when something already listens on 127.0.0.1:`port` (checked before any work starts)."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def second_terminal_env(s3: str, registry: Path, signer: str, token: str) -> dict[str, str]:
    """What another shell needs to reach the demo's S3 server, registry and signer."""
    return {
        "AWS_ENDPOINT_URL": s3, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo-secret",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true",
        "AWS_EC2_METADATA_DISABLED": "true", "FEATURE_REGISTRY_URI": str(registry),
        "FEATURE_REGISTRY_SIGNER_URL": signer, "CAVE_TOKEN": token,
    }


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m feature_registry.demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=".demo", help="working folder (replaced)")
    ap.add_argument("--port", type=int, default=8000, help="site port on 127.0.0.1")
    ap.add_argument("--signer-port", type=int, default=8089)
    ap.add_argument("--ttl", type=float, default=7200, help="seconds before the signer stops by itself")
    ap.add_argument("--no-serve", action="store_true", help="build everything, print, and exit")
    args = ap.parse_args(argv)

    from signer_function import demo as signer_demo

    work = Path(args.dir).resolve()
    registry = work / "registry"
    signer_demo.stop_running(work / "signer")  # our own earlier demo's signer, by its pid file
    for port, what, setting in ((args.port, "the site", "PORT"), (args.signer_port, "the signer", "SIGNER_PORT")):
        if not args.no_serve or what == "the signer":
            if busy_port(port):
                print(f"error: port {port} ({what}) is in use on 127.0.0.1; choose another with "
                      f"`make demo {setting}=...` (--{setting.lower().replace('_', '-')}); nothing was started",
                      file=sys.stderr)
                return 2
    if registry.exists():
        shutil.rmtree(registry)
    registry.mkdir(parents=True)

    print("== starting a local S3 server and the signer (dev tokens) ...", flush=True)
    info = signer_demo.start(work / "signer", args.signer_port, args.ttl, registry=registry)
    try:
        return _run(args, work, registry, info, signer_demo)
    except BaseException:
        signer_demo.stop_running(work / "signer")  # a failed demo leaves nothing running
        raise


def _run(args: argparse.Namespace, work: Path, registry: Path, info: dict, signer_demo: Any) -> int:
    _use_s3(info["s3"])

    print(f"== writing the example tables to {TABLES_PREFIX} on {info['s3']} ...", flush=True)
    for name, table in write_example_tables().items():
        print(f"   {name:22} {table['format']:8} {table['location']}")

    print(f"== publishing examples/specs/*.yaml into {registry} ...", flush=True)
    for result in publish_examples(str(registry)):
        doc = result.document
        print(f"   published {doc.ref:26} {doc.format.value:8} pinned at {doc.table_version}, "
              f"{doc.inspected.row_count} rows in {doc.inspected.file_count} files")
        for w in result.warnings:
            print(f"     warning: {w}")
    for ref, _, successor in DEPRECATIONS:
        print(f"   deprecated {ref} (superseded by {successor})")

    print("== feature-registry list", flush=True)
    from registry.output import summary_table
    from registry.source import RegistrySource

    summary_table(RegistrySource(str(registry)).summaries())

    print("== building the catalog site ...", flush=True)
    from site_builder.build import build_site

    report = build_site(str(registry), str(work / "site"), signer_url=info["signer"], progress=False)
    print("   " + report.summary())
    print()
    print("Read a signed table with DuckDB directly (copy-paste):")
    print(signer_demo.snippet(info["signer"]))
    print()
    print("Or with the Python client, through the site and the signer (copy-paste):")
    print(client_snippet(f"http://127.0.0.1:{args.port}", info["signer"], signer_demo.DEMO_TOKEN))
    print()
    print("The 1078 question: synapse features and the cell types valid at 1078, joined (copy-paste):")
    print(join_snippet(f"http://127.0.0.1:{args.port}", info["signer"], signer_demo.DEMO_TOKEN))
    print(f"Plan it:      .venv/bin/feature-registry join-plan synapse_embeddings cell_types --mat-version 1078 "
          f"--registry {registry}")
    print()
    print(f"Catalog site: http://127.0.0.1:{args.port}/index.html   (search: /search.html)")
    print(f"Signer:       {info['signer']}  (dev token {signer_demo.DEMO_TOKEN!r})")
    env = second_terminal_env(info["s3"], registry, info["signer"], signer_demo.DEMO_TOKEN)
    exports = "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    (work / "env").write_text(exports + "\n", encoding="utf-8")
    print()
    print(f"In a second terminal (or `source {work / 'env'}`), to reach the demo's S3 server, registry and signer:")
    print(exports)
    print(f"Try:          .venv/bin/feature-registry show cell_types --registry {registry}")
    if args.no_serve:
        return 0
    from site_builder.cli import make_server, serve_until_interrupted

    try:
        server = make_server(str(work / "site"), "127.0.0.1", args.port)
    except OSError as exc:  # taken since the check at the start
        print(f"error: cannot serve the site on 127.0.0.1:{args.port} ({exc.strerror}); choose another port "
              "with `make demo PORT=...` (--port)", file=sys.stderr)
        signer_demo.stop_running(work / "signer")
        return 2
    print("Serving the site; Ctrl-C stops it (the signer stops with `make signer-stop` or by itself).", flush=True)
    try:
        serve_until_interrupted(server)
    finally:
        signer_demo.stop_running(work / "signer")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
