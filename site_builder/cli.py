"""Click commands of the catalog site, joined to `feature-registry` by feature_registry/cli.py:
`build-site`, `serve` and `deploy-site`. Runnable alone too: `python -m site_builder.cli build-site ...`."""

from __future__ import annotations

import functools
import http.server
import os

import click


@click.command("build-site")
@click.option("--registry", "registry_uri", envvar="FEATURE_REGISTRY_URI", required=True,
              help="Registry URI (any fsspec URL). Default: $FEATURE_REGISTRY_URI.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory (new, empty, or a previous site: it is replaced).")
@click.option("--site-url", default=None, help="Public URL of the site (canonical links, JSON-LD, sitemap).")
@click.option("--signer-url", envvar="FEATURE_REGISTRY_SIGNER_URL", default=None,
              help="Signer base URL used in the 'how to read' snippets. Default: $FEATURE_REGISTRY_SIGNER_URL.")
@click.option("--strict", is_flag=True, help="Fail (exit 1, nothing built) if any document is invalid.")
@click.option("--cache-dir", envvar="SITE_BUILD_CACHE", default=None, type=click.Path(file_okay=False),
              help="Incremental build cache: reuse pages of unchanged datasets from the last build. Default: $SITE_BUILD_CACHE.")
def build_site(registry_uri: str, out_dir: str, site_url: str | None, signer_url: str | None, strict: bool,
               cache_dir: str | None = None) -> None:
    """Compile every document in the registry into the static catalog site."""
    from registry.cli import run

    from .build import build_site as build

    # BuildFailed, VendorMissing, NotFound, ...: one family (RegistryError), mapped by type in run()
    report = run(lambda: build(registry_uri, out_dir, site_url=site_url, strict=strict, signer_url=signer_url,
                               cache_dir=cache_dir))
    click.echo(report.summary())
    if report.skipped:
        click.echo(f"warning: {len(report.skipped)} invalid document(s) skipped (use --strict to fail)", err=True)


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".json": "application/json",
                      ".js": "text/javascript"}

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A missing page answers 404 with the site's own 404 page (MkDocs writes `404.html`), as
        a bucket or web server configured for the site would, instead of Python's default page."""
        page = os.path.join(self.directory, "404.html")
        if code != 404 or not os.path.isfile(page):
            super().send_error(code, message, explain)
            return
        with open(page, "rb") as fh:
            body = fh.read()
        self.send_response(404, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if os.environ.get("SITE_SERVE_QUIET"):
            return
        super().log_message(format, *args)


def make_server(directory: str, host: str = "127.0.0.1", port: int = 8000) -> http.server.ThreadingHTTPServer:
    """A static file server for a built site (also used by the browser tests)."""
    handler = functools.partial(_Handler, directory=directory)
    return http.server.ThreadingHTTPServer((host, port), handler)


@click.command("serve")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=int)
def serve(directory: str, host: str, port: int) -> None:
    """Preview a built site locally (static files; Ctrl-C stops it)."""
    server = make_server(directory, host, port)
    click.echo(f"serving {directory} at http://{host}:{server.server_address[1]}/index.html (Ctrl-C to stop)")
    serve_until_interrupted(server)


def serve_until_interrupted(server: http.server.ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C, then release the port."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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
    from registry import output
    from registry.cli import run

    from .deploy import deploy_site as do_deploy

    def go() -> None:
        report = do_deploy(out_dir, target, delete=not no_delete, dry_run=dry_run, force=force)
        if as_json:
            output.print_json({"target": report.target, "uploaded": report.uploaded, "unchanged": report.unchanged,
                               "deleted": report.deleted, "bytes_uploaded": report.bytes_uploaded,
                               "dry_run": report.dry_run})
        else:
            output.info(report.summary())

    run(go)


@click.group()
def main() -> None:
    """Catalog site commands (also registered on `feature-registry`)."""


main.add_command(build_site)
main.add_command(serve)
main.add_command(deploy_site)

if __name__ == "__main__":
    main()
