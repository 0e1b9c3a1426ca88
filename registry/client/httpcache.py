"""HTTP GETs of a catalog site's JSON with a small on-disk cache that revalidates (ETag / Last-Modified).

Why: `index.json` of a large catalog is megabytes, and notebooks open a `Catalog` again and again.
A revalidation is one small request answered 304 by any static host (GCS, S3, nginx, `http.server`),
so reopening costs a round trip and a local read. When the site cannot be reached at all, a cached
copy is used with a warning instead of failing (documents are immutable but for deprecation).

Cache location: `$FEATURE_REGISTRY_CACHE`, else `$XDG_CACHE_HOME/feature-registry`, else
`~/.cache/feature-registry`. One body file plus one small metadata file per URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import requests

from .errors import CatalogUnavailable, DatasetNotFound

TIMEOUT = (5, 60)
_MEMO: dict[str, tuple[str, Any]] = {}
_LOCK = threading.Lock()


def cache_dir() -> Path:
    explicit = os.environ.get("FEATURE_REGISTRY_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "feature-registry"


@dataclass
class Fetched:
    body: bytes
    from_cache: bool
    etag: Optional[str] = None

    def json(self) -> Any:
        return json.loads(self.body)


class HttpCache:
    """GET with conditional revalidation. `cache=False` turns the disk cache off (always a full GET)."""

    def __init__(self, directory: Optional[Path] = None, cache: bool = True, session: Optional[requests.Session] = None):
        self.directory = directory or cache_dir()
        self.enabled = cache
        self.session = session or requests.Session()

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        return self.directory / f"{key}.body", self.directory / f"{key}.meta.json"

    def get(self, url: str) -> Fetched:
        body_path, meta_path = self._paths(url)
        meta: dict[str, Any] = {}
        headers = {"Accept": "application/json"}
        if self.enabled:
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                meta = {}
            if meta and body_path.exists():
                if meta.get("etag"):
                    headers["If-None-Match"] = meta["etag"]
                if meta.get("last_modified"):
                    headers["If-Modified-Since"] = meta["last_modified"]
        try:
            resp = self.session.get(url, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            if self.enabled and meta and body_path.exists():
                warnings.warn(f"cannot reach {url} ({type(exc).__name__}); using the cached copy", stacklevel=3)
                return Fetched(body_path.read_bytes(), True, meta.get("etag"))
            raise CatalogUnavailable(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 304 and body_path.exists():
            return Fetched(body_path.read_bytes(), True, meta.get("etag"))
        if resp.status_code == 404:
            raise DatasetNotFound(f"{url} does not exist (404)", status=404)
        if resp.status_code >= 400:
            raise CatalogUnavailable(f"{url} answered {resp.status_code}", status=resp.status_code)
        body = resp.content
        if self.enabled and (resp.headers.get("ETag") or resp.headers.get("Last-Modified")):
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                tmp = body_path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(body)
                os.replace(tmp, body_path)
                meta_path.write_text(json.dumps({"url": url, "etag": resp.headers.get("ETag"),
                                                 "last_modified": resp.headers.get("Last-Modified")}))
            except OSError:
                pass  # a read-only home must not stop reading
        return Fetched(body, False, resp.headers.get("ETag"))

    def get_json(self, url: str) -> Any:
        """Parsed JSON; parsed once per process per validator (the 10k-version index is megabytes)."""
        got = self.get(url)
        key = got.etag or hashlib.sha256(got.body).hexdigest()
        with _LOCK:
            memo = _MEMO.get(url)
            if memo and memo[0] == key:
                return memo[1]
        value = got.json()
        with _LOCK:
            _MEMO[url] = (key, value)
        return value
