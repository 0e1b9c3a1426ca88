"""Build the catalog site: documents -> HTML (jinja2 templates, MkDocs Material's theme) + JSON + search.

    build_site("gs://lab-registry/", "site/")

Phases, each timed in the report: read every document concurrently and validate it (invalid ones
are skipped and listed; `strict=True` fails instead); render the pages that summarise the catalog
as Markdown into a scratch docs dir; run `mkdocs build` in-process on a config derived from the
repository's `mkdocs.yml` (those pages plus the theme shells); render every dataset and version page
straight into the shell (`site_builder.shell`). A forked child writes the JSON API and the search
index meanwhile.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from registry import output
from registry.documents import gc_paused
from registry.errors import RegistryError

from .catalog import RegistrySnapshot, Skipped
from .jsonout import write_json
from .pages import dataset_pages, page_writer, summary_pages, templates_dir
from .search_index import SearchIndexSize, write_search_index
from .shell import EXCLUDE as SHELL_EXCLUDE, fix_sitemap, load_shells, remove_shells, write_shell_sources
from .vendor import check_vendor, copy_vendor


class BuildFailed(RegistryError):
    """The site was not built (strict mode with invalid documents, unsafe output dir, ...)."""

    exit_code = 1


@dataclass
class BuildReport:
    """What a build did; `skipped` lists every document that was not built, with the reason."""

    out_dir: str
    datasets: int = 0
    versions: int = 0
    pages: int = 0
    json_files: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    search: Optional[SearchIndexSize] = None
    mkdocs_warnings: list[str] = field(default_factory=list)
    reused: int = 0
    """Incremental builds: datasets whose pages were reused from the cache (0 for a full build)."""
    parsed: int = 0
    """Datasets whose documents were read and validated (all of them in a full build; in a
    rebuild, the changed ones and those whose pages were rendered again)."""

    @property
    def ok(self) -> bool:
        return not self.skipped

    @property
    def seconds(self) -> float:
        """Wall time of the phases (the parallel side job overlaps render + mkdocs: not added)."""
        return sum(v for k, v in self.timings.items() if "parallel" not in k)

    def summary(self) -> str:
        lines = [
            f"built {self.versions} versions of {self.datasets} datasets: {self.pages} pages, "
            f"{self.json_files} JSON files in {self.seconds:.1f} s -> {self.out_dir}"
        ]
        if self.search:
            lines.append(
                f"search index {self.search.index_bytes / 1e6:.2f} MB "
                f"({self.search.total_gzip_bytes / 1e6:.2f} MB gzipped with facets)"
            )
        for s in self.skipped:
            lines.append(f"skipped {s.path}: {s.message}")
        return "\n".join(lines)


def base_config_path() -> Path:
    env = os.environ.get("SITE_MKDOCS_YML")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent / "mkdocs.yml"
    if beside.is_file():
        return beside
    from .pages import installed_data_dir

    return installed_data_dir() / "mkdocs.yml"


def _want_progress(progress: Optional[bool]) -> bool:
    if progress is not None:
        return progress
    return output.interactive()


def _check_out_dir(out: Path) -> None:
    """MkDocs empties its site_dir: refuse a non-empty directory that is not a previous site."""
    if out.exists() and any(out.iterdir()) and not (out / "index.json").is_file():
        raise BuildFailed(
            f"{out} is not empty and does not look like a catalog site (no index.json); "
            "refusing to empty it. Choose a new or empty --out directory."
        )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet_mkdocs() -> Iterator[_Collect]:
    """MkDocs logs INFO per build to the root handlers; collect its warnings into the report."""
    log = logging.getLogger("mkdocs")
    handler = _Collect()
    old_level, old_prop = log.level, log.propagate
    log.setLevel(logging.WARNING)
    log.propagate = False
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_prop


def mkdocs_config(build_dir: Path, docs_dir: Path, out: Path, site_url: Optional[str],
                  fragments_dir: Optional[Path] = None, jinja_cache: Optional[Path] = None) -> Path:
    """The repository's mkdocs.yml with this build's paths and the (small) navigation."""
    with open(base_config_path(), encoding="utf-8") as fh:
        cfg: dict[str, Any] = yaml.safe_load(fh)
    theme = dict(cfg.get("theme") or {"name": "material"})
    theme["custom_dir"] = str(templates_dir() / "theme")
    theme["font"] = False
    cfg.update(
        docs_dir=str(docs_dir),
        site_dir=str(out),
        use_directory_urls=False,
        theme=theme,
        nav=[
            {"Home": "index.md"},
            {"Search": "search.md"},
            {"Datasets": "datasets/index.md"},
            {"Datastacks": "datastacks/index.md"},
            {"Materialization": "materialization/index.md"},
            {"Tags": "tags/index.md"},
            {"Owners": "owners/index.md"},
        ],
        # Thousands of dataset pages stay out of the navigation: with them in it, every page
        # renders the whole nav and the build goes quadratic (FIELD-NOTES).
        not_in_nav="/datasets/\n/datastacks/\n/materialization/\n/tags/\n/owners/\n",
        # dataset and version pages are made from Material's shell after MkDocs (site_builder.shell)
        exclude_docs=SHELL_EXCLUDE,
    )
    extra = dict(cfg.get("extra") or {})
    extra["fr_fragments"] = str(fragments_dir or build_dir / "fragments")
    if jinja_cache is not None:  # compiled theme templates, kept by incremental builds (mkdocs_hooks.on_env)
        extra["fr_jinja_cache"] = str(jinja_cache)
    cfg["extra"] = extra
    cfg["hooks"] = [*(cfg.get("hooks") or []), str(Path(__file__).resolve().parent / "mkdocs_hooks.py")]
    if site_url:
        cfg["site_url"] = site_url
    else:
        cfg.pop("site_url", None)
    path = build_dir / "mkdocs.yml"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(cfg, fh, sort_keys=False)
    return path


def build_site(
    registry_uri: str,
    out_dir: str,
    *,
    site_url: Optional[str] = None,
    strict: bool = False,
    progress: Optional[bool] = None,
    signer_url: Optional[str] = None,
    cache_dir: Optional[str] = None,
) -> BuildReport:
    """Compile every document of `registry_uri` into a static site in `out_dir`.

    `cache_dir` makes rebuilds incremental (:mod:`site_builder.incremental`): pages of datasets
    whose inputs are unchanged since the last build with the same cache are reused. The output is
    the same as a full build's."""
    out = Path(out_dir).resolve()
    report = BuildReport(out_dir=str(out))
    show = _want_progress(progress)
    check_vendor()  # fail before any work when the scripts are not there
    _check_out_dir(out)
    generated_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    t = time.perf_counter()
    cache = None
    if cache_dir is not None:  # opened first: a rebuild reads only the documents that changed
        from .incremental import Cache

        cache = Cache.open(cache_dir, registry_uri, templates_dir())
    with _frozen_catalog(registry_uri, cache) as catalog:
        report.timings["read"] = time.perf_counter() - t
        _compile(catalog, report, out, registry_uri=registry_uri, site_url=site_url, signer_url=signer_url,
                 strict=strict, show=show, cache=cache, generated_at=generated_at)
    return report


def _compile(catalog: RegistrySnapshot, report: BuildReport, out: Path, *, registry_uri: str, site_url: Optional[str],
             signer_url: Optional[str], strict: bool, show: bool, cache,
             generated_at: dt.datetime) -> None:
    """Everything after reading: pages, MkDocs, the JSON API and the search index, into `out`."""
    report.skipped = list(catalog.skipped)
    report.datasets, report.versions = len(catalog.datasets), sum(ds.count for ds in catalog.datasets.values())
    if strict and report.skipped:
        raise BuildFailed(
            f"--strict: {len(report.skipped)} document(s) failed validation; nothing built.\n"
            + "\n".join(f"  {s.path}: {s.message}" for s in report.skipped)
        )

    build_dir = Path(tempfile.mkdtemp(prefix="site-build-"))
    if cache is not None:
        from .incremental import dataset_keys

        cache.current = dataset_keys(
            catalog, {"site_url": site_url, "signer_url": signer_url, "registry_uri": registry_uri}, cache.code)
        report.reused = cache.reused_count()
    try:
        # JSON + search index (CPU-bound lunr.py) run in a forked child while this process renders
        # pages and runs MkDocs: two cores, two halves of the work. The child writes into a staging
        # dir because MkDocs empties the output directory when it starts.
        staging = build_dir / "staging"
        side = _start_side_outputs(catalog, staging, site_url, generated_at, cache)
        docs_dir = cache.docs if cache else build_dir / "docs"
        fragments_dir = cache.fragments if cache else build_dir / "fragments"
        site_dir = cache.site if cache else out
        t = time.perf_counter()  # the pages MkDocs renders: home, lists, browse pages, workbenches
        if cache:
            cache.clear_summary_pages()
        shutil.copytree(templates_dir() / "assets", docs_dir / "assets", dirs_exist_ok=True)
        writer = page_writer(str(docs_dir), str(fragments_dir), site_url=site_url, signer_url=signer_url,
                             registry_uri=registry_uri, generated_at=generated_at,
                             reuse_page=cache.reuse_page if cache else None,
                             bytecode_dir=str(cache.root / "jinja") if cache else None)
        if show:  # ~40 s at 100,000 versions: say what runs before the first bar
            print("rendering the home, list and browse pages…", file=sys.stderr)
        summary_pages(writer, catalog)
        if cache:
            cache.prune(catalog)
        write_shell_sources(str(docs_dir), writer.front)  # after prune, which removes pages it does not know
        report.timings["render"] = time.perf_counter() - t

        t = time.perf_counter()
        config_path = mkdocs_config(build_dir, docs_dir, site_dir, site_url, fragments_dir,
                                    cache.root / "jinja-theme" if cache else None)
        if show:
            print(f"mkdocs: building {writer.count} pages…", file=sys.stderr)
        from mkdocs.commands.build import build as mkdocs_build
        from mkdocs.config import load_config

        with _quiet_mkdocs() as collected:
            mkdocs_build(load_config(str(config_path)), dirty=bool(cache and not cache.full))
        # dirty mode warns that navigation may be stale; ours is fixed and every page that
        # summarises others is rebuilt, so that warning says nothing here
        report.mkdocs_warnings = [m for m in collected.messages if "'dirty' build" not in m]
        report.timings["mkdocs"] = time.perf_counter() - t

        t = time.perf_counter()  # dataset and version pages: rendered straight into Material's shell
        writer.shells, writer.site_dir = load_shells(str(site_dir), str(docs_dir)), str(site_dir)
        with _progress(show, "rendering dataset pages", report.versions) as tick:
            dataset_pages(writer, catalog, tick=tick, reuse=cache.reuse if cache else None)
        remove_shells(str(site_dir))
        report.pages = writer.count
        # the pages' own paths (`paths`): a dataset or version named `index` has an encoded one
        fix_sitemap(str(site_dir), site_url, catalog.bulk_pages())
        report.timings["dataset pages"] = time.perf_counter() - t

        t = time.perf_counter()
        result = _finish_side_outputs(side, staging)
        report.timings["wait"] = time.perf_counter() - t  # for the child, when it is still running
        t = time.perf_counter()
        report.json_files = result["json_files"]
        report.search = SearchIndexSize(**result["search"])
        report.timings["json+search (parallel)"] = result["seconds"]
        report.parsed = len({n for n, ds in catalog.datasets.items() if ds.loaded} | set(result["loaded"]))
        if cache:  # the output becomes hard links to the cached site, the cached JSON and the staged search
            from .incremental import sync_tree

            sync_tree([cache.site, cache.json, staging], out, cache.unchanged_outputs(out))
            cache.synced_to(out)
        else:
            for item in staging.iterdir():
                shutil.move(str(item), str(out / item.name))
        copy_vendor(str(out))
        report.timings["move+copy"] = time.perf_counter() - t
        if cache:
            cache.finish()
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


@contextmanager
def _frozen_catalog(registry_uri: str, cache=None) -> Iterator[RegistrySnapshot]:
    """The catalog, with the cyclic garbage collector told to leave it alone until the build ends.

    It lives for the whole build, ~200 objects per version. Frozen (before the collector is back
    on after reading), full collections during rendering and MkDocs stop walking it: at 10,000
    versions those walks cost more than validating the documents. The forked child then does not
    touch its pages either (the fork recipe in the `gc` docs).
    """
    with gc_paused():
        catalog = cache.read() if cache is not None else RegistrySnapshot.read(registry_uri)
        gc.freeze()
    try:
        yield catalog
    finally:
        gc.unfreeze()


def _side_outputs(catalog: RegistrySnapshot, staging: Path, site_url: Optional[str], generated_at: dt.datetime,
                  cache=None) -> None:
    """JSON API + search index into `staging`. With a cache, the JSON lives in `cache.json` (only
    changed datasets' files are written; the output is synced from there) and the search index
    keeps its ids and unchanged shards in `cache.search`."""
    import dataclasses
    import json

    t = time.perf_counter()
    loaded_before = {n for n, ds in catalog.datasets.items() if ds.loaded}
    if cache is not None:  # the output is synced from cache.json itself (no per-build links of every file)
        if catalog.parts is not None:  # this process writes the parts it uses; the parent its own
            catalog.parts.forget_used()
        n = write_json(catalog, str(cache.json), site_url, generated_at, reuse=cache.reuse)
        if catalog.parts is not None:  # written and let go: at 100k `index.json`'s parts are ~150 MB
            catalog.parts.save(drop=True)
        size = write_search_index(catalog, str(staging), cache_dir=str(cache.search))
        if catalog.parts is not None:
            catalog.parts.save()
    else:
        n = write_json(catalog, str(staging), site_url, generated_at)
        size = write_search_index(catalog, str(staging))
    (staging / ".result.json").write_text(json.dumps(
        {"json_files": n, "search": dataclasses.asdict(size), "seconds": time.perf_counter() - t,
         "loaded": sorted(n for n, ds in catalog.datasets.items() if ds.loaded and n not in loaded_before)}))


# Libraries that run threads of their own (tokio runtimes) once imported. A process forked while
# they run can deadlock on a lock one of those threads held; lance says so with a warning. Such a
# process is one that also published or read tables (the demo, a notebook, the test suite); the
# `build-site` command and the rebuild function never import them.
FORK_UNSAFE_MODULES = ("lance", "obstore", "deltalake")


def can_fork() -> bool:
    """Fork the JSON + search child only when this process holds no fork-unsafe runtimes."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not any(
        m in sys.modules for m in FORK_UNSAFE_MODULES
    )


def _start_side_outputs(catalog: RegistrySnapshot, staging: Path, site_url: Optional[str], generated_at: dt.datetime,
                        cache=None):
    import multiprocessing

    staging.mkdir(parents=True)
    if not can_fork():  # the same work inline: slower on 2 cores, same output
        _side_outputs(catalog, staging, site_url, generated_at, cache)
        return None
    proc = multiprocessing.get_context("fork").Process(
        target=_side_outputs, args=(catalog, staging, site_url, generated_at, cache), daemon=True
    )
    proc.start()
    return proc


def _finish_side_outputs(proc, staging: Path) -> dict[str, Any]:
    import json

    if proc is not None:
        proc.join()
        if proc.exitcode != 0:
            raise BuildFailed(f"writing the JSON API and search index failed (exit code {proc.exitcode})")
    result_file = staging / ".result.json"
    result = json.loads(result_file.read_text())
    result_file.unlink()
    return result


@contextmanager
def _progress(show: bool, what: str, total: int) -> Iterator[Any]:
    """A `tick(n)` callback over the core's one progress bar (`registry.output.progress`)."""
    with output.progress(what, show=show) as update:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if update is not None:
                update(done, total)

        yield tick
