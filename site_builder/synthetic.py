"""Synthetic registries for tests and benchmarks: realistic documents built through the model.

Every document is constructed as a :class:`DatasetDocument` (so it validates exactly like a
published one) and written in the registry layout with its file manifest. Writing is plain file IO
(no exclusive-create dance): these registries are scratch data, written once by one process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from typing import Any, Iterable, Optional

from registry.documents import document_path, dumps, manifest_path
from registry.model import DatasetDocument, FileManifest

DATASTACKS = [
    ("minnie65_phase3_v1", "minnie65_phase3", [943, 1078, 1181, 1300, 1412]),
    ("flywire_fafb_public", "fafb_seg", [630, 783]),
    ("h01_c3_flat", "h01_c3", [34, 51]),
]
ANNOTATION_TABLES = ["synapses_pni_2", "nucleus_detection_v0", "aibs_metamodel_celltypes_v661"]
FORMATS = ["parquet", "delta", "iceberg", "lance"]
TAGS = ["synapses", "embeddings", "cell-types", "morphology", "proofreading", "qc", "ml", "nuclei"]
DOMAIN_WORDS = (
    "synapse embedding cell type morphology axon dendrite spine bouton soma nucleus proofread "
    "excitatory inhibitory layer cortex visual feature vector predicted probability cluster"
).split()


def _vocabulary(n: int = 4000, seed: int = 11) -> list[str]:
    """Domain words plus pseudo-words, so index sizes are not flattered by a tiny vocabulary."""
    rng = random.Random(seed)
    syllables = ["ka", "to", "ri", "ne", "mo", "sa", "lu", "pe", "di", "ga", "vo", "xi", "ber", "tan", "qua", "zel"]
    words = set(DOMAIN_WORDS)
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


WORDS = _vocabulary()


def base_document(name: str, version: str, **overrides: Any) -> dict[str, Any]:
    """A minimal valid published document as a dict; `overrides` replace top-level fields."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    doc: dict[str, Any] = {
        "name": name,
        "version": version,
        "title": f"{name} {version}",
        "description": "",
        "datastack": "minnie65_phase3_v1",
        "aligned_volume": "minnie65_phase3",
        "materialization": {"version": 1078},
        "location": f"gs://lab-features/{name}/{version}",
        "format": "delta",
        "table_version": 3,
        "columns": [{"name": "id", "semantic": "annotation_id", "description": "annotation id"}],
        "inspected": {
            "columns": [{"name": "id", "type": "int64", "nullable": False}],
            "row_count": 10,
            "file_count": 1,
            "bytes": 1000,
            "fingerprint": "delta:3",
        },
        "published_at": now.isoformat(),
        "published_by": "tester@example.org",
        "history": [{"action": "published", "at": now.isoformat(), "by": "tester@example.org"}],
    }
    doc.update(overrides)
    return doc


def write_document(root: str, doc: DatasetDocument | dict[str, Any], manifest: Optional[dict] = None) -> DatasetDocument:
    """Validate `doc` through the model and write it (and a manifest) under the registry `root`."""
    model = doc if isinstance(doc, DatasetDocument) else DatasetDocument.from_dict(doc)
    files = manifest or {"files": [{"path": "part-0.parquet", "size": 1000, "rows": 10, "partition": {}}]}
    FileManifest.from_dict(files)
    for rel, payload in (
        (document_path(model.name, model.version), dumps(model.to_dict())),
        (manifest_path(model.name, model.version), dumps(files)),
    ):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(payload)
    return model


def write_raw(root: str, name: str, version: str, data: bytes) -> None:
    """Write bytes as a document without validating (for tests of invalid documents)."""
    path = os.path.join(root, document_path(name, version))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def synthetic_documents(n_versions: int, seed: int = 7, versions_per_dataset: int = 3) -> Iterable[dict[str, Any]]:
    """`n_versions` realistic documents: 30-column schemas, references, 3 versions per dataset."""
    rng = random.Random(seed)
    n_datasets = max(1, -(-n_versions // versions_per_dataset))
    made = 0
    base_time = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for d in range(n_datasets):
        name = f"{rng.choice(DOMAIN_WORDS)}_{rng.choice(WORDS)}_{d:05d}"
        datastack, volume, mats = DATASTACKS[d % len(DATASTACKS)]
        fmt = FORMATS[d % len(FORMATS)]
        tags = sorted(set(rng.sample(TAGS, 2)))
        n_cols = 30
        col_names = ["id", "pt_root_id", "pt_supervoxel_id", "pt_position_x", "pt_position_y", "pt_position_z"]
        col_names += [f"feat_{rng.choice(WORDS)}_{i}" for i in range(n_cols - len(col_names))]
        for v in range(versions_per_dataset):
            if made >= n_versions:
                return
            made += 1
            version = f"v{v + 1}"
            mat = mats[min(v, len(mats) - 1)]
            cols, inspected_cols = [], []
            for i, c in enumerate(col_names):
                if c == "id":
                    sem, typ = "annotation_id", "int64"
                elif c == "pt_root_id":
                    sem, typ = "root_id", "int64"
                elif c == "pt_supervoxel_id":
                    sem, typ = "supervoxel_id", "int64"
                elif c.startswith("pt_position_"):
                    sem, typ = "position_axis", "int32"
                else:
                    sem, typ = "feature", "float32" if (i + v) % 7 else "float64"
                col: dict[str, Any] = {"name": c, "semantic": sem, "description": _sentence(rng, 6)}
                if sem == "position_axis":
                    col.update(unit="voxel", resolution=[4, 4, 40])
                cols.append(col)
                inspected_cols.append({"name": c, "type": typ, "nullable": sem == "feature"})
            refs = [
                {"column": "id", "annotation_table": ANNOTATION_TABLES[0], "target_column": "id",
                 "cardinality": "one_to_one", "stability": "stable"},
                {"column": "pt_root_id", "annotation_table": ANNOTATION_TABLES[1 + d % 2],
                 "target_column": "pt_root_id", "cardinality": "many_to_one",
                 "stability": "changes_with_proofreading"},
            ]
            published = base_time + dt.timedelta(days=d % 300, hours=v * 24 * 7)
            status = "deprecated" if (v == 0 and versions_per_dataset > 1 and d % 2 == 0) else "published"
            lineage: dict[str, Any] = {}
            if v > 0:
                lineage["supersedes"] = [f"{name}@v{v}"]
            if status == "deprecated":
                lineage["superseded_by"] = f"{name}@v{v + 2}"
            yield base_document(
                name,
                version,
                title=f"{name.replace('_', ' ').title()} ({version})",
                description=_sentence(rng, 25) + "\n\n" + _sentence(rng, 20),
                datastack=datastack,
                aligned_volume=volume,
                materialization={"version": mat},
                location=f"s3://lab-features/{datastack}/{name}/{version}",
                format=fmt,
                table_version=v + 1,
                columns=cols,
                references=refs,
                owners=[{"name": f"Owner {d % 17}", "email": f"owner{d % 17}@lab.example", "team": "features"}],
                license="CC-BY-4.0",
                tags=tags,
                status=status,
                lineage=lineage,
                inspected={
                    "columns": inspected_cols,
                    "row_count": rng.randint(10_000, 50_000_000),
                    "file_count": rng.randint(1, 200),
                    "bytes": rng.randint(10**6, 10**11),
                    "fingerprint": f"{fmt}:{v + 1}",
                },
                published_at=published.isoformat(),
                history=[{"action": "published", "at": published.isoformat(), "by": "bench@lab.example"}]
                + ([{"action": "deprecated", "at": (published + dt.timedelta(days=30)).isoformat(),
                     "by": "bench@lab.example", "reason": "superseded",
                     "superseded_by": lineage["superseded_by"]}] if status == "deprecated" else []),
            )


def write_synthetic_registry(root: str, n_versions: int, seed: int = 7, validate_every: int = 1) -> int:
    """Write `n_versions` synthetic documents under `root`; returns how many were written.

    `validate_every=k` builds only every k-th document through the model and writes the others'
    dicts as they are (they have the same shape; readers validate them anyway): the benchmarks'
    100,000-version registries are written several times faster, the documents read the same."""
    count = 0
    files = {"files": [{"path": "part-0.parquet", "size": 1000, "rows": 10, "partition": {}}]}
    for doc in synthetic_documents(n_versions, seed=seed):
        if count % validate_every == 0:
            write_document(root, doc)
        else:
            for rel, payload in ((document_path(doc["name"], doc["version"]), dumps(doc)),
                                 (manifest_path(doc["name"], doc["version"]), dumps(files))):
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(payload)
        count += 1
    return count


def dump(obj: Any) -> bytes:
    return json.dumps(obj, indent=2).encode()
