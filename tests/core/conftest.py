"""Fixtures for the publish core: small real Parquet tables and specs that point at them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml


def synapse_table(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype="int64")),
            "pre_pt_root_id": pa.array(rng.integers(10**17, 10**18, n, dtype="int64")),
            "post_pt_root_id": pa.array(rng.integers(10**17, 10**18, n, dtype="int64")),
            "ctr_pt_position_x": pa.array(rng.integers(0, 400_000, n, dtype="int32")),
            "ctr_pt_position_y": pa.array(rng.integers(0, 300_000, n, dtype="int32")),
            "ctr_pt_position_z": pa.array(rng.integers(0, 30_000, n, dtype="int32")),
            "score": pa.array(rng.random(n)),
            "cell_type": pa.array(rng.choice(["23P", "4P", "BC"], n)),
        }
    )


def write_hive_parquet(root: str, filesystem: Any = None, splits: int = 2, files_per_split: int = 2, rows: int = 500) -> int:
    """Write split=K/part-I.parquet files under root (local path or, with filesystem, any fsspec path)."""
    total = 0
    for s in range(splits):
        for i in range(files_per_split):
            t = synapse_table(rows, seed=s * 100 + i)
            path = f"{root}/split={s}/part-{i}.parquet"
            if filesystem is None:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(t, path)
            else:
                with filesystem.open(path, "wb") as fh:
                    pq.write_table(t, fh)
            total += rows
    return total


def base_spec(location: str, **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "synapse_features",
        "version": "1",
        "title": "Synapse features",
        "description": "Per-synapse features for **minnie65**.",
        "datastack": "minnie65_phase3_v1",
        "aligned_volume": "minnie65_phase3",
        "materialization": {"version": 1078},
        "location": location,
        "format": "parquet",
        "columns": [
            {"name": "id", "semantic": "annotation_id", "description": "synapse id"},
            {"name": "pre_pt_root_id", "semantic": "root_id"},
            {"name": "post_pt_root_id", "semantic": "root_id"},
            {"name": "ctr_pt_position_x", "semantic": "position_axis", "resolution": [4, 4, 40], "unit": "voxel"},
            {"name": "ctr_pt_position_y", "semantic": "position_axis", "resolution": [4, 4, 40], "unit": "voxel"},
            {"name": "ctr_pt_position_z", "semantic": "position_axis", "resolution": [4, 4, 40], "unit": "voxel"},
            {"name": "score", "semantic": "feature"},
        ],
        "references": [
            {"column": "id", "annotation_table": "synapses_pni_2", "target_column": "id", "cardinality": "one_to_one"},
            {"column": "pre_pt_root_id", "annotation_table": "nucleus_detection_v0", "target_column": "pt_root_id",
             "stability": "changes_with_proofreading"},
        ],
        "owners": [{"name": "Ada", "email": "ada@lab.org", "team": "synapses"}],
        "tags": ["synapse", "features"],
    }
    spec.update(over)
    return spec


@pytest.fixture
def hive_table(tmp_path: Path) -> tuple[str, int]:
    root = tmp_path / "tables" / "synapse_features"
    rows = write_hive_parquet(str(root))
    return str(root), rows


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    counter = {"n": 0}

    def write(spec: dict[str, Any] | str) -> Path:
        counter["n"] += 1
        path = tmp_path / f"spec{counter['n']}.yaml"
        path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
        return path

    return write
