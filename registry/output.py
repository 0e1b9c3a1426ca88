"""Terminal output: tables and progress for people, plain JSON for scripts, quiet in CI."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Callable, Iterator, Optional

import click

from .env import flag
from .units import human_bytes


def interactive() -> bool:
    """Progress bars only on a terminal, never in CI or when quieted."""
    if flag("CI") or flag("FEATURE_REGISTRY_QUIET"):
        return False
    return sys.stderr.isatty()


def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output gets a wide table rather than a folded 80-column one.
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=None if stream.isatty() else 200)


def info(msg: str, err: bool = False) -> None:
    click.echo(msg, err=err)


def warn(msg: str) -> None:
    click.echo(f"warning: {msg}", err=True)


def error(msg: str) -> None:
    click.echo(f"error: {msg}", err=True)


def print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


@contextlib.contextmanager
def progress(label: str, show: Optional[bool] = None) -> Iterator[Optional[Callable[[int, int], None]]]:
    """Yields a `progress(done, total)` callback drawing a bar on a terminal, or None.
    `show` overrides the terminal check (a caller that was told to show or hide progress)."""
    if not (interactive() if show is None else show):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update




def summary_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        info("no dataset versions match")
        return
    table = Table(show_lines=False, header_style="bold")
    for col in ("dataset", "status", "datastack", "mat", "format", "rows", "size", "published", "title"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["ref"], r["status"], r["datastack"], ",".join(map(str, r["materialization_versions"])),
            r["format"], "?" if r["row_count"] is None else f"{r['row_count']:,}", human_bytes(r["bytes"]),
            r["published_at"][:10], r["title"],
        )
    _console().print(table)


def join_plan(plan: Any) -> None:
    """A join plan (`feature-registry join-plan`) for people."""
    click.echo(f"join plan at materialization {plan.mat_version}: {plan.verdict}")
    click.echo(f"  left:  {plan.left or '-'}")
    click.echo(f"  right: {plan.right or '-'}")
    for i, k in enumerate(plan.keys):
        click.echo(f"  {'key' if i == 0 else 'also'}: {k.left} = {k.right} ({k.stability.replace('_', ' ')}): {k.why}")
    for w in plan.warnings:
        warn(w)
    if plan.sql:
        click.echo("\nDuckDB SQL (the views are the two versions, e.g. created by Catalog.at(N).join or the "
                   "materialization page's script):\n" + plan.sql)
    if plan.remedy:
        click.echo("\nRemedy (re-resolve root ids from supervoxels):\n" + plan.remedy)


def document(doc: Any, joins: Optional[list] = None) -> None:
    """A readable view of one document; `joins`: the join facts of its references (registry.joins)."""
    from rich.table import Table

    c = _console()
    c.print(f"[bold]{doc.ref}[/bold]  {doc.title}  [{doc.status.value}]")
    if doc.lineage.superseded_by:
        c.print(f"[yellow]deprecated: use {doc.lineage.superseded_by} instead[/yellow]")
    c.print(f"datastack {doc.datastack}  materialization {', '.join(map(str, doc.materialization.all_versions))}")
    c.print(f"{doc.format.value} at {doc.location}  (pinned: {doc.table_version}, {doc.inspected.fingerprint})")
    c.print(f"{doc.inspected.row_count} rows in {doc.inspected.file_count} files, {human_bytes(doc.inspected.bytes)}")
    if doc.description:
        c.print(doc.description.strip(), markup=False)
    declared = {col.name: col for col in doc.columns}
    table = Table(title="columns", header_style="bold")
    for col in ("name", "type", "semantic", "unit", "description"):
        table.add_column(col, overflow="fold")
    for col in doc.inspected.columns:
        d = declared.get(col.name)
        table.add_row(
            col.name + (" (partition)" if col.name in doc.inspected.partition_columns else ""),
            col.type,
            d.semantic.value if d else "",
            (d.unit or "") if d else "",
            (d.description or "") if d else "",
        )
    c.print(table)
    for i, ref in enumerate(doc.references):
        facts = (joins or [])[i] if i < len(joins or []) else {}
        line = f"join {ref.column} -> {ref.target}.{ref.target_column} ({ref.cardinality.value}, {ref.stability.value})"
        if facts:
            line += f" [{facts.get('verdict')}]"
            if facts.get("target") and facts.get("target") != ref.target:
                line += f" resolved to {facts['target']}"
            line += f" valid at {facts.get('valid_at') or 'no materialization version'}"
            if facts.get("verdict") != "ok" and facts.get("joinable_target_versions"):
                line += f"; joinable target versions: {', '.join(facts['joinable_target_versions'])}"
        c.print(line, markup=False)
        for note in (facts or {}).get("notes") or []:
            c.print(f"  note: {note}", markup=False)
    for check in doc.checks:
        mark = {True: "ok", False: "FAILED", None: "not checked"}[check.ok]
        c.print(f"check {check.check} {check.subject or ''}: {mark} {check.detail}", markup=False)
    for h in doc.history:
        c.print(f"{h.at.isoformat()} {h.action} by {h.by}" + (f": {h.reason}" if h.reason else ""), markup=False)
