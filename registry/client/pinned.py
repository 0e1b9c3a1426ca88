"""`Catalog.at(N)`: the catalog as seen from one materialization version.

    at = Catalog(URL).at(1078)
    syn = at.get("synapse_embeddings")                 # the version valid at 1078
    df = at.join("synapse_embeddings", "cell_types", engine="polars").collect()

`get` returns the newest published version valid at N (a deprecated one only when nothing else is,
with a warning); `search` is filtered to N; `join` runs the plan of `registry.joinplan` (the same
plan `feature-registry join-plan` prints) through the signer, as a DuckDB relation (the plan's SQL
over views named `NAME@VERSION`) or a Polars LazyFrame. A join that would cross materialization
versions on root ids raises `MaterializationMismatch` naming the versions and the remedy, unless
`allow_mismatch=True` (then `RootIdJoinWarning`).
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

from ..joinplan import NO_DECLARED_JOIN, NO_SHARED_VERSION, TARGET_DEPRECATED, JoinPlan, ident, plan_join
from ..joins import pick_at, valid_at_version
from .errors import ClientError, DatasetNotFound
from .version import DatasetVersion, RootIdJoinWarning


class MaterializationMismatch(ClientError):
    """A join on root ids between tables of different materialization versions (rows of every
    cell proofread in between would silently drop out). `.plan` holds the plan and its remedy."""

    def __init__(self, message: str, plan: JoinPlan):
        super().__init__(message)
        self.plan = plan


class JoinNotDeclared(ClientError):
    """No declared join (reference or shared stable annotation key) between the two datasets."""


class DeprecatedVersionWarning(UserWarning):
    """The only version valid at the materialization version asked for is deprecated."""


class PinnedCatalog:
    """A `Catalog` pinned to materialization version `mat_version` (see module docstring)."""

    def __init__(self, catalog: Any, mat_version: int):
        self.catalog = catalog
        self.mat_version = int(mat_version)

    def __repr__(self) -> str:
        return f"{self.catalog!r}.at({self.mat_version})"

    def _documents(self, name: str) -> list:
        return self.catalog._source.documents_of(name)

    def get(self, name: str, version: Optional[str] = None) -> DatasetVersion:
        """The version of `name` valid at this materialization version (newest published; a
        deprecated one only if nothing else, with `DeprecatedVersionWarning`). `NAME@VERSION` or
        `version=` pins one explicitly (returned even when it is not valid here)."""
        if "@" in name or version:
            return self.catalog.get(name, version or "latest")
        docs = self._documents(name)
        if not docs:
            raise DatasetNotFound(f"no dataset {name!r} in {self.catalog.uri}")
        doc = pick_at(docs, self.mat_version)
        if doc is None:
            have = sorted({m for d in docs for m in d.materialization.all_versions})
            raise DatasetNotFound(f"{name} has no version valid at materialization {self.mat_version} "
                                  f"(its versions cover {have})")
        if doc.status.value == "deprecated":
            warnings.warn(f"{doc.ref} is deprecated, but it is the only version of {name} valid at "
                          f"materialization {self.mat_version}", DeprecatedVersionWarning, stacklevel=2)
        return self.catalog.get(doc.name, doc.version)

    def versions(self, name: str) -> list[str]:
        """Every `NAME@VERSION` of `name` valid here, newest published first."""
        return [d.ref for d in valid_at_version(self._documents(name), self.mat_version)]

    def search(self, text: str = "", **filters: Any):
        """`Catalog.search` restricted to versions valid at this materialization version."""
        filters.pop("mat_version", None)
        return self.catalog.search(text, mat_version=self.mat_version, **filters)

    def plan(self, left: str, right: str, how: str = "inner") -> JoinPlan:
        """The join plan (`feature-registry join-plan LEFT RIGHT --mat-version N`)."""
        names = {left.partition("@")[0], right.partition("@")[0]}
        return plan_join(left, right, self.mat_version, {n: self._documents(n) for n in names}, how=how)

    def join(self, left: str, right: str, *, engine: str = "duckdb", how: str = "inner",
             allow_mismatch: bool = False, connection: Any = None):
        """`left` joined with `right` as declared, both read through the signer: a DuckDB relation
        (`engine="duckdb"`) or a Polars LazyFrame (`engine="polars"`). Names pick the versions valid
        at this materialization version; `NAME@VERSION` pins a side."""
        if engine not in ("duckdb", "polars"):
            raise ValueError("engine must be 'duckdb' or 'polars'")
        if how not in ("inner", "left"):
            raise ValueError("how must be 'inner' or 'left'")
        plan = self.plan(left, right, how)
        if plan.left is None or plan.right is None:
            raise DatasetNotFound("; ".join(plan.warnings) or f"cannot plan {left} with {right}")
        if plan.verdict == NO_DECLARED_JOIN:
            raise JoinNotDeclared("; ".join(plan.warnings))
        if plan.verdict == NO_SHARED_VERSION:
            msg = (f"{plan.left} and {plan.right} would be joined on root ids ({plan.keys[0].left} = "
                   f"{plan.keys[0].right}) across materialization versions: {'; '.join(plan.warnings)}")
            if not allow_mismatch:
                raise MaterializationMismatch(
                    msg + f". Pass allow_mismatch=True to join anyway, or re-resolve root ids:\n{plan.remedy}", plan)
            warnings.warn(msg, RootIdJoinWarning, stacklevel=2)
        elif plan.verdict == TARGET_DEPRECATED:
            warnings.warn("; ".join(w for w in plan.warnings if "deprecated" in w) or
                          f"{plan.left} or {plan.right} is deprecated", DeprecatedVersionWarning, stacklevel=2)
        lv, rv = self.catalog.get(plan.left), self.catalog.get(plan.right)
        with warnings.catch_warnings():
            if plan.verdict == TARGET_DEPRECATED:  # said above, once; the signer says it again per read
                warnings.filterwarnings("ignore", message=r".*\bis deprecated\b", category=UserWarning)
            return self._run(plan, lv, rv, engine, how, connection)

    def _run(self, plan: JoinPlan, lv: DatasetVersion, rv: DatasetVersion, engine: str, how: str, connection: Any):
        key = plan.keys[0]
        if engine == "duckdb":
            from . import engines

            con = engines.duckdb_connection(connection)
            ctes = ", ".join(f"{ident(v.ref)} AS ({_duckdb_source(con, v)})" for v in (lv, rv))
            return con.sql(f"WITH {ctes}\n{plan.sql}")
        right_lf = rv.to_polars().select([key.right, *plan.right_columns]).rename(plan.right_columns)
        return lv.to_polars().join(right_lf, left_on=key.left, right_on=key.right, how=how)


def _duckdb_source(con: Any, version: DatasetVersion) -> str:
    """SQL reading one version through the signer, for a CTE named after it. Signed URLs become a
    `read_parquet` subquery (one statement: DuckDB binds it without holding Python's lock, which an
    in-process S3 stand-in needs); credentials-mode tables are read by their library and registered."""
    from . import engines

    signed = version._signed(None)
    if signed.mode == "credentials":
        name = f"__fr_{version.name}_{abs(hash(version.ref)) % 10**8}"
        con.register(name, engines.arrow_with_credentials(version, signed, None, None))
        return f"SELECT * FROM {ident(name)}"
    return engines.urls_sql(signed.files, version._partition_types(), version._restore_partitions(), None, None)
