"""`DatasetVersion`: one published document with every field as a typed attribute (it *is* a
`DatasetDocument`), plus navigation (`versions()`, `latest`, `superseded_by`), comparison (`diff`),
intended joins (`joins()`), and signed reads into DuckDB, Polars and pandas."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from pydantic import PrivateAttr

from ..model import DatasetDocument, Format, Semantic, Stability
from . import engines, pruning
from .errors import ReadError
from .signer import SignedFile, SignedTable


class RootIdJoinWarning(UserWarning):
    """A join on root ids: root ids change with proofreading, so the join holds only at the
    materialization version both sides were computed against."""


@dataclass
class Join:
    """One declared reference, resolved against the catalog where possible."""

    column: str
    target: str
    target_kind: str  # "annotation_table" | "dataset"
    target_column: str
    cardinality: str
    stability: str
    description: Optional[str] = None
    dataset: Optional["DatasetVersion"] = None  # the registered target, when it is in the catalog
    warning: Optional[str] = None
    verdict: Optional[str] = None  # join facts (registry.joins): ok | no_shared_version | ...
    valid_at: list[int] = field(default_factory=list)
    joinable_target_versions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def on(self) -> tuple[str, str]:
        """(left column, right column), e.g. for `left.merge(right, left_on=..., right_on=...)`."""
        return self.column, self.target_column

    def __repr__(self) -> str:
        w = " (!root ids)" if self.warning else ""
        v = f" {self.verdict} valid_at={self.valid_at}" if self.verdict else ""
        return f"<Join {self.column} -> {self.target_kind} {self.target}.{self.target_column} {self.cardinality}{w}{v}>"


@dataclass
class VersionDiff:
    """Differences between two versions: schema (`added`, `removed`, `changed` columns) and
    metadata (`fields`: top-level document fields whose values differ)."""

    old: str
    new: str
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.fields)

    def __str__(self) -> str:
        lines = [f"{self.old} -> {self.new}"]
        lines += [f"  + column {n} ({t})" for n, t in self.added]
        lines += [f"  - column {n} ({t})" for n, t in self.removed]
        lines += [f"  ~ column {n}: {w}" for n, w in self.changed]
        lines += [f"  ~ {k}: {a!r} -> {b!r}" for k, (a, b) in self.fields.items()]
        return "\n".join(lines)


_NOT_METADATA = {"version", "published_at", "published_by", "history", "inspected", "checks", "columns", "table_version"}


class DatasetVersion(DatasetDocument):
    """A dataset version from a `Catalog`. Read it with `to_polars()`, `to_duckdb()`, `to_pandas()`."""

    _catalog: Any = PrivateAttr(default=None)
    _summary: Optional[dict[str, Any]] = PrivateAttr(default=None)

    @classmethod
    def wrap(cls, doc: DatasetDocument, catalog: Any, summary: Optional[dict[str, Any]] = None) -> "DatasetVersion":
        obj = cls.model_construct(_fields_set=doc.model_fields_set, **dict(doc))
        obj._catalog = catalog
        obj._summary = summary
        return obj

    def __repr__(self) -> str:
        return (f"<DatasetVersion {self.ref} {self.status.value} {self.datastack} "
                f"mat={self.materialization.primary} {self.format.value} rows={self.inspected.row_count}>")

    # ---- navigation
    def versions(self):
        """Every version of this dataset (light `SearchResult`s, oldest first, all statuses)."""
        return self._catalog.versions(self.name)

    @property
    def latest(self) -> "DatasetVersion":
        """The newest published version of this dataset (may be this one)."""
        return self._catalog.get(self.name, "latest")

    @property
    def is_latest(self) -> bool:
        try:
            return self.latest.version == self.version
        except Exception:
            return False

    @property
    def superseded_by(self) -> Optional[str]:
        """`NAME@VERSION` that replaces this version (set by `deprecate --superseded-by`), else None."""
        if self.lineage.superseded_by:
            return self.lineage.superseded_by
        for h in reversed(self.history):
            if h.superseded_by:
                return h.superseded_by
        return (self._summary or {}).get("superseded_by")

    def successor(self) -> Optional["DatasetVersion"]:
        ref = self.superseded_by
        if not ref:
            return None
        name, _, version = ref.partition("@")
        return self._catalog.get(name, version)

    # ---- comparison
    def diff(self, other: DatasetDocument) -> VersionDiff:
        """What changed from `other` (usually an older version) to this one."""
        old_cols = {c.name: c for c in other.inspected.columns}
        new_cols = {c.name: c for c in self.inspected.columns}
        old_sem = {c.name: c.semantic for c in other.columns}
        new_sem = {c.name: c.semantic for c in self.columns}
        d = VersionDiff(other.ref, self.ref)
        d.added = [(n, c.type) for n, c in new_cols.items() if n not in old_cols]
        d.removed = [(n, c.type) for n, c in old_cols.items() if n not in new_cols]
        for n in new_cols.keys() & old_cols.keys():
            a, b, what = old_cols[n], new_cols[n], []
            if a.type != b.type:
                what.append(f"type {a.type} -> {b.type}")
            if a.nullable != b.nullable:
                what.append("now nullable" if b.nullable else "now not null")
            sa, sb = old_sem.get(n, Semantic.OTHER), new_sem.get(n, Semantic.OTHER)
            if sa != sb:
                what.append(f"semantic {sa.value} -> {sb.value}")
            if what:
                d.changed.append((n, "; ".join(what)))
        d.changed.sort()
        old, new = other.to_dict(), self.to_dict()
        for key in sorted((old.keys() | new.keys()) - _NOT_METADATA):
            if old.get(key) != new.get(key):
                d.fields[key] = (old.get(key), new.get(key))
        for key in ("row_count", "file_count", "partition_columns"):
            va, vb = old["inspected"].get(key), new["inspected"].get(key)
            if va != vb:
                d.fields[f"inspected.{key}"] = (va, vb)
        return d

    # ---- joins
    def joins(self, warn: bool = True) -> list[Join]:
        """The declared references, with registered targets resolved. Joins on root ids warn
        (`RootIdJoinWarning`): they are only valid at one materialization version."""
        out = []
        sem = {c.name: c.semantic for c in self.columns}
        try:
            facts = self._catalog.join_facts(self)
        except Exception:  # facts are a help; a catalog that cannot compute them still lists joins
            facts = []
        for i, r in enumerate(self.references):
            f = facts[i] if i < len(facts) else {}
            j = Join(r.column, r.target, "annotation_table" if r.annotation_table else "dataset",
                     r.target_column, r.cardinality.value, r.stability.value, r.description,
                     verdict=f.get("verdict"), valid_at=list(f.get("valid_at") or []),
                     joinable_target_versions=list(f.get("joinable_target_versions") or []),
                     notes=list(f.get("notes") or []))
            if r.dataset:
                resolved = f.get("target") or r.dataset
                name, _, version = resolved.partition("@")
                try:
                    j.dataset = self._catalog.get(name, version or "latest")
                except Exception:
                    j.dataset = None
            if r.stability == Stability.CHANGES_WITH_PROOFREADING or sem.get(r.column) == Semantic.ROOT_ID:
                mats = self.materialization.all_versions
                other = j.dataset.materialization.all_versions if j.dataset is not None else None
                j.warning = (
                    f"{self.ref}.{r.column} -> {r.target}.{r.target_column} joins on root ids, which change with "
                    f"proofreading: valid only at materialization {mats}"
                    + (f"; the target is at {other}" if other is not None and not set(mats) & set(other) else "")
                    + (" (no shared materialization version!)" if other is not None and not set(mats) & set(other) else "")
                    + "; prefer supervoxel or annotation ids for stable joins"
                )
                if warn:
                    warnings.warn(j.warning, RootIdJoinWarning, stacklevel=2)
            out.append(j)
        return out

    def referenced_by(self) -> list[dict[str, Any]]:
        """References to this version from other registered datasets (`Catalog.referenced_by`)."""
        return [r for r in self._catalog.referenced_by(self.name) if r.get("target_version") == self.version]

    # ---- signed reads
    def sign(self, *, mode: Optional[str] = None, expires_in: Optional[int] = None,
             layout: Optional[str] = None) -> SignedTable:
        """The signer's full answer for this version (cached until shortly before it expires);
        `layout=` one of `self.layouts` (the same rows in another physical copy)."""
        return self._catalog._signer.sign(self.name, self.version, mode=mode,
                                         expires_in=expires_in or self._catalog.expires_in, layout=layout)

    def signed_files(self, *, expires_in: Optional[int] = None) -> list[SignedFile]:
        """Short-lived URLs (with size, rows and partition values) for every data file of this version."""
        return self.sign(mode="urls", expires_in=expires_in).files

    def _partition_types(self) -> dict[str, Optional[str]]:
        types = {c.name: c.type for c in self.inspected.columns}
        return {p: types.get(p) for p in self.inspected.partition_columns}

    def _restore_partitions(self) -> bool:
        # Iceberg data files carry their partition source columns; hive Parquet and Delta do not.
        return self.format != Format.ICEBERG

    def _signed(self, mode: Optional[str], filter: Any = None) -> SignedTable:
        if mode is None and self.format == Format.LANCE:
            mode = "credentials"
        conditions = pruning.parse(filter) if mode != "credentials" else None
        layout = pruning.choose_layout(self, conditions)
        signed = self.sign(mode=mode, layout=layout)
        if conditions and signed.mode == "urls":  # drop files the filter rules out (registry/client/pruning.py)
            raw = signed.raw.get("files") or []
            files = [f for f, sf in zip(raw, signed.files) if pruning.keep(sf, conditions)]
            # none left: keep one file so engines still see the schema (the filter returns no rows)
            signed = SignedTable({**signed.raw, "files": files or raw[:1]})
        if signed.mode == "urls" and (self.inspected.reader_features or {}).get("faithful_file_list") is False:
            # Engines reading the data files from URLs cannot apply deletion vectors, delete files or
            # column mapping: they would silently return deleted rows (or physical column names).
            raise ReadError(
                f"{self.ref}: its data files are not the whole table ({self.format.value} deletion vectors, "
                f"delete files or column mapping), so reading them from plain signed URLs would return wrong "
                f"rows. Read it in credentials mode (leave mode= unset, or pass mode='credentials'); "
                f"signed_files() still lists the raw files."
            )
        return signed

    def to_duckdb(self, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None, *,
                  connection: Any = None, mode: Optional[str] = None):
        """A DuckDB relation over the signed files (lazy: projection and `filter`, a SQL expression,
        reach the Parquet scan). Pass `connection=` to use your own DuckDB connection."""
        con = engines.duckdb_connection(connection)
        signed = self._signed(mode, filter)
        if signed.mode == "credentials":
            table = engines.arrow_with_credentials(self, signed, columns, filter)
            return con.from_arrow(table)
        sql = engines.urls_sql(signed.files, self._partition_types(), self._restore_partitions(), columns, filter)
        return con.sql(sql)

    def to_polars(self, columns: Optional[Sequence[str]] = None, filter: Any = None, *, mode: Optional[str] = None):
        """A Polars LazyFrame (`scan_parquet` over the signed URLs; `collect()` it). `filter` is a
        SQL expression string or a Polars expression; both are pushed into the scan."""
        import polars as pl

        signed = self._signed(mode, filter)
        if signed.mode == "credentials":
            sql = filter if isinstance(filter, str) else None
            lf = pl.DataFrame(engines.arrow_with_credentials(self, signed, columns, sql)).lazy()
            if filter is not None and not isinstance(filter, str):
                lf = lf.filter(filter)
            return lf
        lf = engines.polars_scan(signed.files, self._partition_types(), self._restore_partitions())
        if filter is not None:
            lf = lf.filter(pl.sql_expr(filter) if isinstance(filter, str) else filter)
        if columns:
            lf = lf.select(list(columns))
        return lf

    def to_pandas(self, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None, *,
                  mode: Optional[str] = None):
        """A pandas DataFrame (read through DuckDB, so projection and `filter` are pushed down)."""
        return self.to_duckdb(columns, filter, mode=mode).df()

    def to_arrow(self, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None, *,
                 mode: Optional[str] = None):
        """A pyarrow Table."""
        return self.to_duckdb(columns, filter, mode=mode).to_arrow_table()

    # ---- other engines (registry/client/sharing.py, spark.py, ray_data.py)
    def delta_sharing_url(self, profile: Any, *, latest: bool = False) -> str:
        """`profile#datastack.dataset.version` (or `.latest`) for Delta Sharing clients."""
        from .sharing import table_url

        return table_url(profile, self.datastack, self.name, "latest" if latest else self.version)

    def to_spark(self, spark: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None):
        """A Spark DataFrame whose tasks read the signed files themselves, one task per file
        (`columns=` is pushed into the Parquet reads; partition columns restored; `filter` is Spark SQL)."""
        from .spark import to_spark

        return to_spark(self, spark, columns, filter)

    def to_ray(self, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None):
        """A Ray Dataset reading the signed files in parallel, one read task per file."""
        from .ray_data import to_ray

        return to_ray(self, columns, filter)

    def read_plan(self, filter: Optional[str] = None, *, mode: Optional[str] = None) -> dict[str, Any]:
        """What a read with this `filter` touches: the layout chosen and the files / bytes kept of
        the whole (the pruning of `registry/client/pruning.py`, without reading any data)."""
        signed = self._signed(mode, filter)
        kept = signed.files
        layout = signed.raw.get("layout")
        whole = self.inspected if layout is None else next(x for x in self.layouts if x.name == layout)
        return {"layout": layout, "files": len(kept), "bytes": sum(f.size or 0 for f in kept),
                "table_files": whole.file_count, "table_bytes": whole.bytes}
