"""`feature-registry`: thin click commands over the registry core.

Exit codes: 0 success, 1 failure while working, 2 bad input (nothing written). Human output goes
to a terminal as tables; `--json` gives scripts stable JSON on stdout. Warnings go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import click
from pydantic import ValidationError

from . import output
from .errors import BadInput, RegistryError, SpecInvalid
from .model import DatasetDocument, Status, document_json_schema, format_validation_error, parse_ref

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
@json_option
def publish(spec: Path, registry_uri: str, draft: bool, dry_run: bool, verify_cave: bool, as_json: bool) -> None:
    """Validate SPEC.yaml, inspect the table (metadata only) and write its immutable document."""
    from .publish import publish as do_publish

    def go() -> None:
        with output.progress("inspecting files") as bar:
            result = do_publish(spec, registry_uri, draft=draft, dry_run=dry_run, verify_cave=verify_cave, progress=bar)
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
    report = []
    for path in files:
        problems: list[tuple[str, str]] = []
        kind = "document" if path.suffix == ".json" else "spec"
        try:
            if kind == "document":
                try:
                    raw = json.loads(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    raise SpecInvalid.single("(file)", "does not exist") from None
                except json.JSONDecodeError as exc:
                    raise SpecInvalid.single(f"(json) line {exc.lineno}", exc.msg) from None
                try:
                    DatasetDocument.from_dict(raw)
                except ValidationError as exc:
                    raise SpecInvalid(format_validation_error(exc)) from None
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
        if ref.dataset and not registry.exists(*split(ref.dataset)):
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
@click.option("--all", "show_all", is_flag=True,
              help="Also deprecated versions (left out unless asked for, as on the site and in the client).")
@json_option
@click.option("--jsonl", is_flag=True, help="One JSON object per line (for jq / streaming).")
def list_command(registry_uri: str, datastack: Optional[str], mat_version: Optional[int], status: Optional[str],
                 tag: Optional[str], show_all: bool, as_json: bool, jsonl: bool) -> None:
    """List dataset versions, newest first within each dataset. Deprecated versions are left out
    unless --status deprecated or --all asks for them."""

    def go() -> None:
        source = _open(registry_uri)
        rows = source.summaries(datastack=datastack, mat_version=mat_version, status=status, tag=tag)
        if status is None and not show_all:
            rows = [r for r in rows if r.get("status") != "deprecated"]
        for problem in source.problems:
            output.warn(problem)
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
        doc = _open(registry_uri).get(name, version)
        if as_json:
            output.print_json(doc.to_dict())
        else:
            output.document(doc)

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


def _register_optional_commands() -> None:
    """Commands of other packages (site builder, operations) join the group when installed."""
    import importlib

    for module_name, names in (
        ("site_builder.cli", ("build_site", "serve")),
        ("registry.ops_cli", ("scan_exports", "deploy_site")),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # that part is not installed; a bug inside it still shows
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        for attr in names:
            cmd = getattr(module, attr, None)
            if isinstance(cmd, click.Command):
                main.add_command(cmd)


_register_optional_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
