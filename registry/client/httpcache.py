"""HTTP GETs of a catalog site's JSON with a small on-disk cache that revalidates (ETag / Last-Modified).

Why: `index.json` of a large catalog is megabytes, and notebooks open a `Catalog` again and again.
A revalidation is one small request answered 304 by any static host (GCS, S3, nginx, `http.server`),
so reopening costs a round trip and a local read. When the site cannot be reached at all, a cached
copy is used with a warning instead of failing (documents are immutable but for deprecation).

Parsing is the other cost (a 10,000-version index is ~9 MB of JSON, ~80 ms to parse). So what a
caller derives from a body (`get_derived`: e.g. adapted summaries plus a word index for search) is
kept beside the cached body as a pickle and reused by the next process after a 304. The pickle is
keyed by the body's validators *and* the cached body file's size and mtime, plus a format version:
a sidecar that does not match exactly, or cannot be read, is ignored and rebuilt from the body,
never trusted. It may hold only plain builtin values (no classes are unpickled).

Cache location: `$FEATURE_REGISTRY_CACHE`, else `$XDG_CACHE_HOME/feature-registry`, else
`~/.cache/feature-registry`. One body file, one small metadata file and any derived sidecars per URL.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import pickle
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import requests

from .errors import CatalogUnavailable, DatasetNotFound
from .retry import retrying_session

TIMEOUT = (5, 60)
SIDECAR_FORMAT = 1  # bump when the sidecar layout changes
_MEMO: dict[tuple[str, str], tuple[Any, Any]] = {}  # (url, derivation) -> (validator, value)
_LOCK = threading.Lock()


def cache_dir() -> Path:
    explicit = os.environ.get("FEATURE_REGISTRY_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "feature-registry"


class Fetched:
    """One GET's outcome. A cached body is read from disk only when asked for (`body`)."""

    def __init__(self, body: Optional[bytes], from_cache: bool, etag: Optional[str] = None,
                 path: Optional[Path] = None, validator: Optional[tuple] = None):
        self._body = body
        self.from_cache = from_cache
        self.etag = etag
        self.path = path
        # Identifies these exact cached bytes: (etag, last_modified, size, mtime_ns); None when not on disk.
        self.validator = validator

    @property
    def body(self) -> bytes:
        if self._body is None:
            assert self.path is not None
            self._body = self.path.read_bytes()
        return self._body

    def json(self) -> Any:
        return json.loads(self.body)


class _PlainUnpickler(pickle.Unpickler):
    """Sidecars hold builtin containers and scalars only: refuse any class or function."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"sidecar refers to {module}.{name}; only plain values are allowed")


class HttpCache:
    """GET with conditional revalidation. `cache=False` turns the disk cache off (always a full GET)."""

    def __init__(self, directory: Optional[Path] = None, cache: bool = True, session: Optional[requests.Session] = None):
        self.directory = directory or cache_dir()
        self.enabled = cache
        self.session = session or retrying_session()

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
                return self._cached(body_path, meta)
            raise CatalogUnavailable(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 304 and body_path.exists():
            return self._cached(body_path, meta)
        if resp.status_code == 404:
            raise DatasetNotFound(f"{url} does not exist (404)", status=404)
        if resp.status_code >= 400:
            raise CatalogUnavailable(f"{url} answered {resp.status_code}", status=resp.status_code)
        body = resp.content
        validator = None
        if self.enabled and (resp.headers.get("ETag") or resp.headers.get("Last-Modified")):
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                tmp = body_path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(body)
                os.replace(tmp, body_path)
                meta = {"url": url, "etag": resp.headers.get("ETag"), "last_modified": resp.headers.get("Last-Modified")}
                meta_path.write_text(json.dumps(meta))
                validator = _validator(meta, body_path)
            except OSError:
                pass  # a read-only home must not stop reading
        return Fetched(body, False, resp.headers.get("ETag"), body_path if validator else None, validator)

    def _cached(self, body_path: Path, meta: dict[str, Any]) -> Fetched:
        try:
            validator = _validator(meta, body_path)
        except OSError:
            validator = None
        return Fetched(None, True, meta.get("etag"), body_path, validator)

    def get_json(self, url: str) -> Any:
        """Parsed JSON; parsed once per process per cached body (the 10k-version index is megabytes)."""
        return self.get_derived(url, "json", _identity, persist=False)

    def get_derived(self, url: str, name: str, build: Callable[[Any], Any], *, persist: bool = True) -> Any:
        """`build(parsed JSON)` for the current body of `url`, computed once per body: kept in memory
        for this process and, with `persist`, in a sidecar beside the cached body for the next one.
        `name` identifies the derivation *and its version* (change it when `build` changes). The value
        must be plain builtin data (dicts, lists, tuples, str, bytes, numbers, None)."""
        got = self.get(url)
        key = got.validator or ("sha256", hashlib.sha256(got.body).hexdigest())
        with _LOCK:
            memo = _MEMO.get((url, name))
            if memo and memo[0] == key:
                return memo[1]
        value = _MISSING
        sidecar = None
        if persist and got.validator is not None and got.path is not None:
            sidecar = got.path.with_name(f"{got.path.stem}.{name}.pickle")
            value = _load_sidecar(sidecar, (SIDECAR_FORMAT, name, got.validator))
        if value is _MISSING:
            enabled = gc.isenabled()
            gc.disable()  # building 10,000 summaries otherwise triggers many pointless collections
            try:
                value = build(got.json())
            finally:
                if enabled:
                    gc.enable()
            if sidecar is not None:
                _write_sidecar(sidecar, (SIDECAR_FORMAT, name, got.validator), value)
        with _LOCK:
            _MEMO[(url, name)] = (key, value)
        return value


_MISSING = object()


def _identity(value: Any) -> Any:
    return value


def _validator(meta: dict[str, Any], body_path: Path) -> tuple:
    st = body_path.stat()
    return (meta.get("etag"), meta.get("last_modified"), st.st_size, st.st_mtime_ns)


def _load_sidecar(path: Path, header: tuple) -> Any:
    """The sidecar's value when its header is exactly `header`; `_MISSING` when absent, stale or unreadable."""
    try:
        with open(path, "rb") as fh:
            if tuple(_PlainUnpickler(fh).load()) != header:
                return _MISSING
            enabled = gc.isenabled()
            gc.disable()  # unpickling 10,000 dicts otherwise triggers many pointless collections
            try:
                return _PlainUnpickler(io.BytesIO(fh.read())).load()
            finally:
                if enabled:
                    gc.enable()
    except FileNotFoundError:
        return _MISSING
    except Exception:  # corrupt, truncated, or from another layout: rebuild from the body
        return _MISSING


def _write_sidecar(path: Path, header: tuple, value: Any) -> None:
    try:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(header, fh, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError):
        pass  # a read-only cache, or a value that cannot be pickled: the memo still serves this process
