"""`feature-registry`'s core commands: thin click commands over the registry core (publish,
validate, list, show, join-plan, deprecate, schema, scan-exports). `python -m registry.cli` runs
them alone; the installed `feature-registry` (feature_registry/cli.py) adds the site and
packaging commands — the core never imports the packages above it.

Exit codes: 0 success, 1 failure while working, 2 bad input (nothing written). Human output goes
to a terminal as tables; `--json` gives scripts stable JSON on stdout. Warnings go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import click

from . import output
from .errors import BadInput, RegistryError, SpecInvalid
from .model import Status, document_json_schema, parse_ref

REGISTRY_ENV = "FEATURE_REGISTRY_URI"

registry_option = click.option(
    "--registry",
    "registry_uri",
    envvar=REGISTRY_ENV,
    required=True,
    metavar="URI",
    help=f"Registry URI: a path, file://, memory://, gs://bucket/prefix, s3://bucket/prefix, or (list/show) a catalog site URL. Default: ${REGISTRY_ENV}.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")


def run(fn: Callable[[], Any]) -> Any:
    """Map our exceptions to messages and exit codes; never a traceback for a user's mistake."""
    try:
        return fn()
    except SpecInvalid as exc:
        output.error(str(exc))
        sys.exit(2)
    except BadInput as exc:
        output.error(str(exc))
        sys.exit(2)
    except RegistryError as exc:
        output.error(str(exc))
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        extra = _EXTRA_OF.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        output.error(f"this needs {exc.name}, which is not installed: "
                     f"pip install 'connectomics-feature-registry[{extra}]'")
        sys.exit(1)


# Optional libraries -> the extra that installs them (pyproject.toml), for a missing-module message.
_EXTRA_OF = {
    "pyarrow": "publish", "deltalake": "formats", "pyiceberg": "formats", "lance": "formats",
    "s3fs": "s3", "obstore": "s3", "gcsfs": "gcs", "mkdocs": "site", "jinja2": "site",
    "duckdb": "client", "polars": "client", "pandas": "client",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="connectomics-feature-registry")
def main() -> None:
    """Publish, find and read connectomics feature tables.

    The registry holds metadata only: tables stay where they are (GCS, S3) as Parquet, Delta Lake,
    Iceberg or Lance.
    """


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@registry_option
@click.option("--draft", is_flag=True, help="Publish as a draft (not signed, not 'latest'; may be replaced).")
@click.option("--dry-run", is_flag=True, help="Validate and inspect, print the document, write nothing.")
@click.option("--verify-cave", is_flag=True, help="Record facts from CAVE (datastack, materialization version, tables).")
@click.option("--team", envvar="FEATURE_REGISTRY_TEAM", default=None,
              help="The team you publish as (default: the spec's owners[].team). A dataset belongs to its first publisher's team.")
@json_option
def publish(spec: Path, registry_uri: str, draft: bool, dry_run: bool, verify_cave: bool, team: Optional[str],
            as_json: bool) -> None:
    """Validate SPEC.yaml, inspect the table (metadata only) and write its immutable document."""
    def go() -> None:
        from .publish import publish as do_publish  # inside run(): a missing pyarrow is a message

        with output.progress("inspecting files") as bar:
            result = do_publish(spec, registry_uri, draft=draft, dry_run=dry_run, verify_cave=verify_cave, progress=bar,
                                team=team)
        for w in result.warnings:
            output.warn(w)
        doc = result.document
        printed_json = as_json or dry_run
        if printed_json:
            output.print_json(doc.to_dict())
        if not as_json:  # with JSON on stdout, the human summary goes to stderr
            verb = "would publish" if dry_run else ("published draft" if doc.status == Status.DRAFT else "published")
            output.info(
                f"{verb} {doc.ref}: {doc.inspected.row_count if doc.inspected.row_count is not None else '?'} rows, "
                f"{doc.inspected.file_count} files, {doc.format.value} pinned at {doc.table_version}"
                + ("" if dry_run else f" -> {registry_uri.rstrip('/')}/datasets/{doc.name}/{doc.version}.json"),
                err=printed_json,
            )

    run(go)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--registry", "registry_uri", envvar=REGISTRY_ENV, default=None, metavar="URI",
              help="Also check specs against this registry: name@version still free, referenced datasets registered.")
@json_option
def validate(files: tuple[Path, ...], registry_uri: Optional[str], as_json: bool) -> None:
    """Validate authoring specs (YAML) or published documents (JSON); print every problem with its path."""
    from .publish import load_spec, load_yaml

    registry = None
    if registry_uri:
        from .documents import Registry

        registry = Registry(registry_uri)
    report: list[dict[str, Any]] = []
    for path in files:
        problems: list[tuple[str, str]] = []
        kind = "document" if path.suffix == ".json" else "spec"
        try:
            if kind == "document":
                from .documents import parse_document, split_document_path

                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    raise SpecInvalid.single("(file)", "does not exist") from None
                except OSError as exc:
                    raise SpecInvalid.single("(file)", f"cannot be read ({exc.strerror or exc})") from None
                # the reader's own checks (size, encoding, nesting, body matching a registry path)
                expected = split_document_path("/".join(path.parts[-3:]))
                parse_document(data, "", expected)
            else:
                spec = load_spec(load_yaml(path))
                if registry is not None:
                    problems = _registry_problems(spec, registry)
        except SpecInvalid as exc:
            problems = exc.problems
        report.append({"file": str(path), "kind": kind, "ok": not problems,
                       "problems": [{"path": p, "message": m} for p, m in problems]})
    if as_json:
        output.print_json(report)
    else:
        for item in report:
            if item["ok"]:
                output.info(f"{item['file']}: valid {item['kind']}")
            else:
                output.error(f"{item['file']}: {len(item['problems'])} problem(s)")
                for p in item["problems"]:
                    output.error(f"  {p['path']}: {p['message']}")
    if not all(i["ok"] for i in report):
        sys.exit(2)


def _registry_problems(spec: Any, registry: Any) -> list[tuple[str, str]]:
    """Pre-flight checks of a spec against a registry (what publish would refuse or record)."""
    from .model import parse_ref as split

    problems = []
    if registry.exists(spec.name, spec.version):
        problems.append(("version", f"{spec.ref} is already published in {registry.uri}"))
    for i, ref in enumerate(spec.references):
        if ref.dataset and not (registry.exists(*split(ref.dataset)) if ref.pinned else registry.versions(ref.dataset)):
            problems.append((f"references[{i}].dataset", f"{ref.dataset} is not in {registry.uri}"))
    for field in ("derived_from", "supersedes"):
        for i, ref in enumerate(getattr(spec.lineage, field)):
            if not registry.exists(*split(ref)):
                problems.append((f"lineage.{field}[{i}]", f"{ref} is not in {registry.uri}"))
    return problems


def _open(registry_uri: str):
    """A registry URI, or a catalog site URL (http/https) read through its index.json."""
    from .source import open_source

    return open_source(registry_uri)


@main.command("list")
@registry_option
@click.option("--datastack", help="Only this datastack.")
@click.option("--mat-version", type=int, help="Only tables valid at this materialization version.")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--tag", help="Only versions with this tag.")
@click.option("--all", "show_all", is_flag=True, help="Include deprecated versions (hidden unless --status asks for them).")
@json_option
@click.option("--jsonl", is_flag=True, help="One JSON object per line (for jq / streaming).")
def list_command(registry_uri: str, datastack: Optional[str], mat_version: Optional[int], status: Optional[str],
                 tag: Optional[str], as_json: bool, jsonl: bool, show_all: bool = False) -> None:
    """List dataset versions, newest first within each dataset. Deprecated versions are left out
    unless `--status deprecated` or `--all` asks for them, as on the site and in the client."""

    def go() -> None:
        source = _open(registry_uri)
        rows = source.summaries(datastack=datastack, mat_version=mat_version, status=status, tag=tag)
        for problem in source.problems:
            output.warn(problem)
        hidden = 0
        if status is None and not show_all:
            kept = [r for r in rows if r["status"] != Status.DEPRECATED.value]
            hidden, rows = len(rows) - len(kept), kept
        if hidden and not (as_json or jsonl):
            click.echo(f"({hidden} deprecated version(s) not shown; --all or --status deprecated lists them)", err=True)
        if as_json:
            output.print_json(rows)
        elif jsonl:
            for r in rows:
                click.echo(json.dumps(r, default=str))
        else:
            output.summary_table(rows)

    run(go)


@main.command()
@click.argument("ref", metavar="NAME[@VERSION]")
@registry_option
@json_option
def show(ref: str, registry_uri: str, as_json: bool) -> None:
    """Show one document; @latest (the default) is the newest published version."""

    def go() -> None:
        name, version = parse_ref(ref)
        source = _open(registry_uri)
        doc = source.get(name, version)
        for problem in getattr(source, "problems", []):
            output.warn(f"skipped {problem}")
        if as_json:
            output.print_json(doc.to_dict())
        else:
            output.document(doc, joins=source.join_facts(doc))

    run(go)


@main.command("join-plan")
@click.argument("left", metavar="LEFT")
@click.argument("right", metavar="RIGHT")
@click.option("--mat-version", type=int, required=True, help="The materialization version to join at.")
@registry_option
@json_option
def join_plan(left: str, right: str, mat_version: int, registry_uri: str, as_json: bool) -> None:
    """Plan LEFT joined with RIGHT at a materialization version: the versions valid there, the key
    (stable ids first) and the DuckDB SQL. NAME picks the version valid at --mat-version;
    NAME@VERSION pins one. Exit 0 when a plan is made, 2 when none can be."""
    from .joinplan import plan_join

    def go() -> None:
        source = _open(registry_uri)
        names = {left.partition("@")[0], right.partition("@")[0]}
        plan = plan_join(left, right, mat_version, {n: source.documents_of(n) for n in names})
        if as_json:
            output.print_json(plan.to_json())
        else:
            output.join_plan(plan)
        if not plan.ok:
            sys.exit(2)

    run(go)


@main.command()
@click.argument("ref", metavar="NAME@VERSION")
@registry_option
@click.option("--reason", required=True, help="Why: shown to every reader of the version.")
@click.option("--superseded-by", metavar="NAME@VERSION", help="The version readers should use instead.")
@json_option
def deprecate(ref: str, registry_uri: str, reason: str, superseded_by: Optional[str], as_json: bool) -> None:
    """Deprecate a published version: the only change ever made to a published document."""
    from .publish import deprecate as do_deprecate

    def go() -> None:
        doc = do_deprecate(registry_uri, ref, reason=reason, superseded_by=superseded_by)
        if as_json:
            output.print_json(doc.to_dict())
        else:
            output.info(f"deprecated {doc.ref}" + (f", superseded by {superseded_by}" if superseded_by else ""))

    run(go)


@main.command()
@click.option("--spec", "which", flag_value="spec", help="The authoring spec's schema instead.")
@click.option("--document", "which", flag_value="document", default=True, help="The published document's schema (default).")
def schema(which: str) -> None:
    """Print the JSON Schema of the published document (or, with --spec, of the authoring spec)."""
    from .model import spec_json_schema

    output.print_json(spec_json_schema() if which == "spec" else document_json_schema())


def _resolution(value: Optional[str]) -> Optional[list[float]]:
    if not value:
        return None
    try:
        parts = [float(x) for x in value.split(",")]
    except ValueError:
        raise click.BadParameter("give numbers separated by commas, e.g. 4,4,40") from None
    if not 1 <= len(parts) <= 3:
        raise click.BadParameter("one to three numbers, e.g. 4,4,40")
    return parts


@main.command("scan-exports")
@click.argument("uri")
@click.option("--registry", "registry_uri", envvar=REGISTRY_ENV, metavar="URI",
              help=f"Registry to check and publish into. Default: ${REGISTRY_ENV}. Needed unless --dry-run.")
@click.option("--dry-run", is_flag=True, help="Print the derived specs as editable YAML; write nothing.")
@click.option("--publish", "do_publish", is_flag=True, help="Publish every derived spec not yet registered.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write one editable SPEC.yaml per table here (for `feature-registry publish`).")
@click.option("--name-template", default="{table}", show_default=True,
              help="Dataset name from {table}, {datastack}, {version}.")
@click.option("--version-template", default="v{version}", show_default=True,
              help="Dataset version label from {table}, {datastack}, {version}.")
@click.option("--aligned-volume", help="Aligned volume to record (e.g. minnie65_phase3).")
@click.option("--resolution", help="Voxel resolution of position columns in nm, e.g. 4,4,40.")
@click.option("--verify-cave", is_flag=True, help="Record CAVE facts when publishing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def scan_exports(uri: str, registry_uri: Optional[str], dry_run: bool, do_publish: bool, out_dir: Optional[Path],
                 name_template: str, version_template: str, aligned_volume: Optional[str],
                 resolution: Optional[str], verify_cave: bool, as_json: bool) -> None:
    """Find MaterializationEngine Delta exports under URI ({bucket}/{datastack}/v{version}/{table}/...)
    and derive a spec for each; layout copies of one table become one dataset.

    Without --publish nothing is written: the report says which tables are new and which are
    already registered. With --dry-run the specs are printed as YAML to edit and publish by hand.
    """
    from .ops.exports import publish_derived, scan, specs_yaml

    def go() -> None:
        if do_publish and dry_run:
            raise BadInput("--dry-run and --publish exclude each other")
        if do_publish and not registry_uri:
            raise BadInput(f"--publish needs --registry URI (or ${REGISTRY_ENV})")
        with output.progress("reading export metadata"):
            derived = scan(uri, name_template=name_template, version_template=version_template,
                           aligned_volume=aligned_volume, resolution=_resolution(resolution))
        if not derived:
            output.warn(f"no exports found under {uri} (expected {{datastack}}/v{{version}}/{{table}}/.../_delta_log)")
        if out_dir:
            import yaml

            out_dir.mkdir(parents=True, exist_ok=True)
            for d in derived:
                (out_dir / f"{d.spec['name']}@{d.spec['version']}.yaml").write_text(
                    yaml.safe_dump(d.spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
        if dry_run and not as_json:
            click.echo(specs_yaml(derived), nl=False)
        for d in derived:
            for note in d.notes:
                output.warn(f"{d.ref}: {note}")
        outcomes = (publish_derived(derived, registry_uri, dry_run=not do_publish, verify_cave=verify_cave)
                    if registry_uri else [])
        if as_json:
            output.print_json([o.__dict__ for o in outcomes]
                              or [{"ref": d.ref, "action": "found", "detail": ""} for d in derived])
        else:
            for o in outcomes:
                output.info(f"{o.action:14} {o.ref}" + (f"  ({o.detail})" if o.detail else ""), err=dry_run)
        if any(o.action in ("failed", "conflict") for o in outcomes):
            sys.exit(1 if any(o.action == "failed" for o in outcomes) else 2)

    run(go)


if __name__ == "__main__":  # pragma: no cover
    main()
