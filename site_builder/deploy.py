"""Deploy a built site to a bucket (`gs://` or `s3://`): changed files only, deletions last.

Readers must never see a broken site mid-deploy, so the order is fixed:

1. upload changed leaf files (assets, pages of versions, per-dataset JSON) - nothing links to the
   new ones yet;
2. upload changed entry points (`index.json`, `index.html`, `search.html`, `catalog/*`, list pages,
   `sitemap.xml`) - now the new pages are reachable, and they already exist;
3. delete objects that are no longer in the site - nothing links to them any more.

"Changed" is decided by content hash (MD5, which both S3 ETags of single-part uploads and GCS
`md5Hash` report in a listing, so no per-object HEAD is needed). Cache lifetimes: short for what
changes with every publish (`index.json`, `api/`, `catalog/`, HTML), a year and `immutable` for
assets whose name carries a content hash (`bundle.4f3c2a1b.min.js`), an hour for other assets.

What a search fetches (the index under `catalog/search/`, the page shell's scripts and styles under
`assets/`, `search.html`) is stored gzipped with `Content-Encoding: gzip` (`stored_body`): a bucket
serves an object as it was stored (neither GCS nor S3 compresses on the fly, and a private bucket
has no CDN in front), and at 100,000 versions a query's index files are 0.6-1.2 MB raw against
100-250 kB gzipped. Every browser accepts gzip; GCS also decompresses for a client that does not
ask for it. Pages and the JSON API are stored as built: a change check on 130,000 pages would have
to compress each of them on every deploy (the stores' listings give the MD5 of the stored bytes).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from registry.errors import BadInput, RegistryError
from registry.storage import filesystem, protocol_of

SHORT_CACHE = "public, max-age=60, must-revalidate"
MEDIUM_CACHE = "public, max-age=3600"
LONG_CACHE = "public, max-age=31536000, immutable"
_HASHED = re.compile(r"\.[0-9a-f]{8,}\.(?:min\.)?(?:js|css|woff2?|map|svg|png|json)$")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".gz": "application/gzip",
}
_ENTRY_POINTS = re.compile(
    r"^(index\.json|index\.html|404\.html|search\.html|sitemap(-\d+)?\.xml(\.gz)?|catalog/.*|"
    r"(datasets|datastacks|tags|owners|materialization)/index\.html|search/.*)$"
)


class DeployFailed(RegistryError):
    """The deploy stopped part-way (uploads are idempotent: running it again finishes it)."""


@dataclass
class Step:
    """One operation, reported to `on_step` after it completed (tests list the bucket there)."""

    action: str  # "upload" | "delete"
    path: str
    phase: int  # 1 leaves, 2 entry points, 3 deletions


@dataclass
class DeployReport:
    target: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would upload" if self.dry_run else "uploaded"
        return (f"{verb} {len(self.uploaded)} files ({self.bytes_uploaded / 1e6:.2f} MB), "
                f"{self.unchanged} unchanged, {'would delete' if self.dry_run else 'deleted'} "
                f"{len(self.deleted)} -> {self.target}")


def content_type(rel: str) -> str:
    ext = os.path.splitext(rel)[1].lower()
    return _TYPES.get(ext) or mimetypes.guess_type(rel)[0] or "application/octet-stream"


def cache_control(rel: str) -> str:
    """Short for what a publish changes, long+immutable for content-hashed assets."""
    name = rel.rsplit("/", 1)[-1]
    if _HASHED.search(name):
        return LONG_CACHE
    if rel.endswith((".html", ".json", ".xml", ".xml.gz")) or rel.startswith(("api/", "catalog/")):
        return SHORT_CACHE
    return MEDIUM_CACHE


_GZIPPED_PATHS = re.compile(r"^(catalog/search/.+|assets/.+|search\.html)$")
_GZIPPED_TYPES = (".json", ".js", ".mjs", ".css", ".html", ".svg", ".map", ".txt")
GZIP_MIN_BYTES = 1024
"""Smaller files are stored as they are (gzip's header and the request dominate)."""


def _may_gzip(rel: str, proto: str) -> bool:
    return proto in ("gs", "s3") and bool(_GZIPPED_PATHS.match(rel)) and rel.lower().endswith(_GZIPPED_TYPES)


def stored_body(rel: str, data: bytes, proto: str) -> tuple[bytes, Optional[str]]:
    """The bytes stored for site file `rel` and their `Content-Encoding` (None: as built).

    Deterministic (gzip `mtime=0`), so the MD5 of an unchanged file's stored bytes is the same on
    every deploy and change detection still needs no download. Only in buckets (`gs`, `s3`): a
    local target stays a directory any static server can serve."""
    if _may_gzip(rel, proto) and len(data) >= GZIP_MIN_BYTES:
        packed = gzip.compress(data, compresslevel=6, mtime=0)  # 9: 8x the time for 3.5% less
        if len(packed) < len(data):
            return packed, "gzip"
    return data, None


def phase_of(rel: str) -> int:
    return 2 if _ENTRY_POINTS.match(rel) else 1


def local_files(out_dir: str) -> dict[str, Path]:
    root = Path(out_dir)
    if not (root / "index.json").is_file():
        raise BadInput(f"{out_dir} is not a built site (no index.json); run build-site first")
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def _md5(path: Path) -> str:
    h = hashlib.md5()  # noqa: S324 - a content fingerprint the stores report, not security
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stored_md5(rel: str, path: Path, proto: str) -> str:
    """MD5 of what `stored_body` stores for the file (what the store's listing reports)."""
    if _may_gzip(rel, proto):
        return hashlib.md5(stored_body(rel, path.read_bytes(), proto)[0]).hexdigest()  # noqa: S324
    return _md5(path)


def _remote_md5(info: dict) -> Optional[str]:
    """MD5 hex from a listing entry: GCS `md5Hash` (base64), S3 ETag of a single-part upload."""
    if info.get("md5Hash"):
        return base64.b64decode(info["md5Hash"]).hex()
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    if etag and "-" not in etag and len(etag) == 32:
        return etag
    return None  # multipart upload or unknown store: treated as changed


class _Target:
    """The bucket side, through fsspec (s3fs / gcsfs), with per-object headers."""

    def __init__(self, uri: str):
        self.uri = uri.rstrip("/")
        self.proto = protocol_of(uri)
        if self.proto not in ("s3", "gs", "file", "memory"):
            raise BadInput(f"--to {uri!r}: give gs://bucket/prefix or s3://bucket/prefix")
        self.fs, self.base = filesystem(self.uri)
        self.base = self.base.rstrip("/")

    def listing(self) -> dict[str, dict]:
        try:
            found = self.fs.find(self.base, detail=True)
        except FileNotFoundError:
            return {}
        prefix = self.base + "/"
        return {k[len(prefix):]: v for k, v in found.items() if k.startswith(prefix) and v.get("type") != "directory"}

    def put(self, rel: str, data: bytes) -> None:
        path = f"{self.base}/{rel}"
        ctype, cache = content_type(rel), cache_control(rel)
        body, encoding = stored_body(rel, data, self.proto)
        if self.proto == "s3":
            extra = {"ContentEncoding": encoding} if encoding else {}
            self.fs.pipe_file(path, body, ContentType=ctype, CacheControl=cache, **extra)
        elif self.proto == "gs":
            meta = {"cache_control": cache, **({"content_encoding": encoding} if encoding else {})}
            self.fs.pipe_file(path, body, content_type=ctype, fixed_key_metadata=meta)
        else:
            if self.proto == "file":
                self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(path, body)

    def delete(self, rels: list[str]) -> None:
        if rels:
            self.fs.rm([f"{self.base}/{r}" for r in rels])

    def invalidate(self) -> None:
        self.fs.invalidate_cache()


def deploy_site(
    out_dir: str,
    target: str,
    *,
    delete: bool = True,
    dry_run: bool = False,
    force: bool = False,
    workers: int = 8,
    on_step: Optional[Callable[[Step], None]] = None,
) -> DeployReport:
    """Make `target` hold exactly the site in `out_dir`, uploading only what changed.

    Refuses (BadInput) to delete from a non-empty target that does not look like a site (no
    `index.json`) unless `force`: a wrong `--to` must not empty someone's bucket prefix."""
    files = local_files(out_dir)
    remote = _Target(target)
    listing = remote.listing()
    if listing and "index.json" not in listing and delete and not force:
        raise BadInput(
            f"{target} holds {len(listing)} objects but no index.json: not a catalog site. "
            "Refusing to replace it; check --to, or pass --force."
        )
    report = DeployReport(target=remote.uri, dry_run=dry_run)
    changed: dict[int, list[str]] = {1: [], 2: []}
    listed = [rel for rel in files if rel in listing]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # hashing and gzip release the GIL
        stored = dict(zip(listed, pool.map(lambda rel: _stored_md5(rel, files[rel], remote.proto), listed)))
    for rel in files:
        if rel in stored and _remote_md5(listing[rel]) == stored[rel]:
            report.unchanged += 1
        else:
            changed[phase_of(rel)].append(rel)
    stale = sorted(r for r in listing if r not in files) if delete else []
    report.deleted = stale
    for phase in (1, 2):
        report.uploaded.extend(changed[phase])
        report.bytes_uploaded += sum(files[r].stat().st_size for r in changed[phase])
    if dry_run:
        return report

    def upload(rel: str, phase: int) -> None:
        remote.put(rel, files[rel].read_bytes())
        if on_step:
            on_step(Step("upload", rel, phase))

    try:
        for phase in (1, 2):  # a phase finishes completely before the next starts
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                for fut in [pool.submit(upload, rel, phase) for rel in changed[phase]]:
                    fut.result()
        for i in range(0, len(stale), 500):
            batch = stale[i:i + 500]
            remote.delete(batch)
            if on_step:
                for rel in batch:
                    on_step(Step("delete", rel, 3))
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - report what failed; the live site keeps old objects
        raise DeployFailed(f"deploy to {target} stopped: {exc}. Nothing was deleted before all uploads "
                           "finished; running the deploy again completes it.") from exc
    finally:
        remote.invalidate()
    return report
