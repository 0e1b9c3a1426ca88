"""The `feature-registry` command: the core commands (registry/cli.py), the site's (build-site,
serve, deploy-site: site_builder/cli.py) and the deploy artifacts' (package-signer,
package-rebuild-function) in one group. This is the console script; it lives above the three
packages because it is the only thing that needs all of them."""

from __future__ import annotations

import click

from registry import output
from registry.cli import main as core
from registry.cli import run
from site_builder.cli import build_site, deploy_site, serve


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
        from .package import package

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


@click.group(context_settings=core.context_settings, help=core.help)
@click.version_option(package_name="connectomics-feature-registry")
def main() -> None:
    pass


for _command in (*core.commands.values(), build_site, serve, deploy_site, package_signer, package_rebuild_function):
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
