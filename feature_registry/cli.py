"""Operations commands joined to `feature-registry` by registry/cli.py: `scan-exports`, `deploy-site`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from registry import output
from registry.cli import REGISTRY_ENV, run


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


@click.command("scan-exports")
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
    from registry.errors import BadInput
    from registry.ops.exports import publish_derived, scan, specs_yaml

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
        outcomes = []
        if registry_uri:
            outcomes = publish_derived(derived, registry_uri, dry_run=not do_publish, verify_cave=verify_cave)
        else:
            outcomes = []
        if as_json:
            rows = outcomes or [{"ref": d.ref, "action": "found", "detail": ""} for d in derived]
            output.print_json([o if isinstance(o, dict) else o.__dict__ for o in rows])
        else:
            for o in outcomes:
                output.info(f"{o.action:14} {o.ref}" + (f"  ({o.detail})" if o.detail else ""), err=dry_run)
        if any(o.action in ("failed", "conflict") for o in outcomes):
            sys.exit(1 if any(o.action == "failed" for o in outcomes) else 2)

    run(go)


@click.command("deploy-site")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="The built site (output of build-site).")
@click.option("--to", "target", required=True, metavar="URI", help="gs://bucket/prefix or s3://bucket/prefix.")
@click.option("--dry-run", is_flag=True, help="Say what would be uploaded and deleted; change nothing.")
@click.option("--no-delete", is_flag=True, help="Keep objects that are no longer part of the site.")
@click.option("--force", is_flag=True, help="Deploy into a non-empty prefix that holds no site (index.json).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def deploy_site(out_dir: str, target: str, dry_run: bool, no_delete: bool, force: bool, as_json: bool) -> None:
    """Upload a built site: changed files only (by content hash), with content types and cache
    lifetimes; pages of removed documents are deleted after every upload has finished."""
    from registry.ops.deploy import deploy_site as do_deploy

    def go() -> None:
        report = do_deploy(out_dir, target, delete=not no_delete, dry_run=dry_run, force=force)
        if as_json:
            output.print_json({"target": report.target, "uploaded": report.uploaded, "unchanged": report.unchanged,
                               "deleted": report.deleted, "bytes_uploaded": report.bytes_uploaded,
                               "dry_run": report.dry_run})
        else:
            output.info(report.summary())

    run(go)


def _package_command(deployable: str, command: str, what: str) -> click.Command:
    @click.command(command, help=f"""Build the {what} deploy artifact into DIR.

    --target lambda writes one zip (dependencies fetched for the Lambda platform; boto3/botocore
    are the runtime's); --target gcf writes a Cloud Functions source dir (main.py, requirements.txt).""")
    @click.option("--target", type=click.Choice(["lambda", "gcf"]), required=True, help="Where it runs.")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR",
                  help="Directory to write the artifact into.")
    @click.option("--platform", default="manylinux2014_x86_64", show_default=True,
                  help="Wheel platform for Lambda (manylinux2014_aarch64 for arm64 functions).")
    @click.option("--python-version", default="3.12", show_default=True, help="The Lambda runtime's Python.")
    @click.option("--json", "as_json", is_flag=True, help="Print the artifact's path, size and requirements as JSON.")
    def cmd(target: str, out_dir: str, platform: str, python_version: str, as_json: bool) -> None:
        from registry.ops.package import package

        def go() -> None:
            art = package(deployable, target, out_dir, platform=platform, python_version=python_version)
            if as_json:
                output.print_json(art.__dict__)
            else:
                output.info(art.summary())

        run(go)

    return cmd


package_signer = _package_command("signer", "package-signer", "signer")
package_rebuild_function = _package_command("rebuild-function", "package-rebuild-function", "site rebuild function")
