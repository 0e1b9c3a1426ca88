"""The one seam that touches fsspec: registry and table storage on any fsspec URL.

A registry is a prefix (`gs://lab-registry/`, `s3://b/reg`, a local folder, `memory://x`) holding
`datasets/<name>/<version>.json` and `<version>.files.json`. Two writes matter and both are
conditional, so concurrent publishers never overwrite each other and no partial file is visible:

* `create`: exclusive create. Local: write a temp file then `os.link` it into place (atomic, fails
  when the name exists). S3: `PutObject` with `If-None-Match: *`. GCS: `ifGenerationMatch=0`.
* `replace`: compare-and-swap against the token read with the content. Local: the content's sha256
  under an exclusive `flock` of the directory. S3: `If-Match: <etag>`. GCS: `ifGenerationMatch=<gen>`.

Table libraries that do not use fsspec (deltalake, lance, pyiceberg) get their storage options from
here too, derived from the standard `AWS_*` / Google environment, so configuration lives in one place.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import fsspec
from fsspec.core import url_to_fs

from .env import DEFAULT_AWS_REGION, aws_allow_http, aws_endpoint, aws_region
from .errors import PreconditionFailed
from .object_reads import gcs_client
from .range_reads import FastRangeReads, obstore_available
from .uris import protocol_of

_MEMORY_LOCK = threading.Lock()


class AlreadyExists(PreconditionFailed):
    """An exclusive create found the object already there."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def s3_client_kwargs() -> dict[str, Any]:
    """fsspec/s3fs options from the standard AWS environment (endpoint for MinIO / test servers)."""
    kwargs: dict[str, Any] = {}
    endpoint = aws_endpoint()
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    region = aws_region(default=None)
    if region:
        kwargs.setdefault("client_kwargs", {})["region_name"] = region
    return kwargs


def filesystem(uri: str, **options: Any) -> tuple[fsspec.AbstractFileSystem, str]:
    """(filesystem, path inside it) for any URI, configured from the environment."""
    proto = protocol_of(uri)
    if proto == "s3":
        options = {**s3_client_kwargs(), **options}
    elif proto == "gs" and os.environ.get("STORAGE_EMULATOR_HOST"):
        # gcsfs otherwise probes each bucket over gRPC (zonal buckets), which an emulator never
        # answers: a 60 s stall per bucket. Only effective before gcsfs is first imported.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        options = {"endpoint_url": os.environ["STORAGE_EMULATOR_HOST"], "token": "anon", **options}
    # The signer's deployables carry the cloud SDK but not s3fs/gcsfs: read with the SDK.
    if proto == "s3" and not _has_module("s3fs") and _has_module("boto3"):
        from .readonly_stores import Boto3ReadOnlyFileSystem

        fs: fsspec.AbstractFileSystem = Boto3ReadOnlyFileSystem(**options)
        return fs, fs._strip_protocol(uri)
    if proto == "gs" and not _has_module("gcsfs") and _has_module("google.cloud.storage"):
        from .readonly_stores import GcsReadOnlyFileSystem

        fs = GcsReadOnlyFileSystem(**options)
        return fs, fs._strip_protocol(uri)
    return url_to_fs(uri, **options)


def _has_module(name: str) -> bool:
    import sys

    top = name.split(".")[0]
    if sys.modules.get(top, ...) is None or sys.modules.get(name, ...) is None:
        return False  # blocked (tests) or failed before
    return name in sys.modules or _findable(name)


@functools.lru_cache(maxsize=None)
def _findable(name: str) -> bool:
    """Installed? Asked once per process: a path search per `filesystem()` call would add up."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def range_read_filesystem(uri: str) -> tuple[Any, str]:
    """`filesystem(uri)` for code that makes many small range reads (Parquet footers).

    On S3 those reads go through obstore (see `registry.range_reads`: s3fs spends more CPU per
    request than a local server does answering it). `FEATURE_REGISTRY_RANGE_READS=fsspec` turns
    the fast path off, for comparison or when a store misbehaves.
    """
    fs, path = filesystem(uri)
    if (
        protocol_of(uri) == "s3"
        and os.environ.get("FEATURE_REGISTRY_RANGE_READS", "obstore") != "fsspec"
        and obstore_available()
    ):
        fs = FastRangeReads(fs, object_store_options(uri))
    return fs, path


def join(root: str, rel: str) -> str:
    """Join a root URI or path with a relative path, without doubling slashes."""
    if not rel:
        return root
    return root.rstrip("/") + "/" + rel.lstrip("/")


@dataclass
class Versioned:
    """Content read together with the token a later `replace` must match."""

    data: bytes
    token: str


class Store:
    """Read and conditionally write small JSON objects under one root URI."""

    def __init__(self, uri: str, **options: Any):
        self.uri = uri.rstrip("/") if uri not in ("/",) else uri
        self.protocol = protocol_of(uri)
        self.fs, self.root = filesystem(self.uri, **options)
        if self.protocol == "file":
            self.root = os.path.abspath(self.root)

    def __repr__(self) -> str:
        return f"Store({self.uri!r})"

    # -- paths
    def path(self, rel: str) -> str:
        return join(self.root, rel)

    def url(self, rel: str) -> str:
        return join(self.uri, rel)

    # -- reads
    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def read_bytes(self, rel: str, limit: Optional[int] = None) -> bytes:
        """The object's bytes; with `limit`, at most that many (a ranged read: a hostile 10 GB
        object costs `limit` bytes, and the caller sees it is too long)."""
        if limit is None:
            return self.fs.cat_file(self.path(rel))
        return self.fs.cat_file(self.path(rel), start=0, end=limit)

    def read_many(self, rels: list[str]) -> dict[str, bytes | Exception]:
        """Read many objects at once: concurrent on async filesystems (S3, GCS, HTTP)."""
        if not rels:
            return {}
        paths = [self.path(r) for r in rels]
        got = self.fs.cat(paths, on_error="return")
        if not isinstance(got, dict):  # a single path comes back bare
            got = {paths[0]: got}
        return {rel: got.get(p, FileNotFoundError(p)) for rel, p in zip(rels, paths)}

    def read_versioned(self, rel: str) -> Versioned:
        """Content plus a token for `replace`. The token is read first: if the object changes
        between the two reads, the later conditional write fails rather than losing an update."""
        path = self.path(rel)
        if self.protocol == "s3":
            self.fs.invalidate_cache(path)
            token = self.fs.info(path)["ETag"]
            return Versioned(self.fs.cat_file(path), token)
        if self.protocol == "gs":
            self.fs.invalidate_cache(path)
            token = str(self.fs.info(path)["generation"])
            return Versioned(self.fs.cat_file(path), token)
        data = self.fs.cat_file(path)
        return Versioned(data, sha256(data))

    def list(self, prefix: str = "", suffix: str = "") -> list[str]:
        """Relative paths of every object under `prefix` ending in `suffix`, sorted."""
        return list(self.list_sizes(prefix, suffix))

    def list_sizes(self, prefix: str = "", suffix: str = "") -> dict[str, Optional[int]]:
        """`list`, with each object's size from the listing (None when the store gives none), so
        readers can refuse an oversized object without reading it. Sorted by path."""
        out: dict[str, Optional[int]] = {}
        for rel, info in self._found(prefix, suffix):
            size = info.get("size")
            out[rel] = size if isinstance(size, int) else None
        return dict(sorted(out.items()))

    def _found(self, prefix: str, suffix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(relative path, fsspec info) of every object under `prefix` ending in `suffix`."""
        base = self.path(prefix)
        if not self.fs.exists(base):
            return
        root = self.root.rstrip("/") + "/"
        for p, info in self.fs.find(base, detail=True).items():
            p = p if not self.protocol == "file" else os.path.abspath(p)
            rel = p[len(root):] if p.startswith(root) else p
            if rel.endswith(suffix):
                yield rel, info if isinstance(info, dict) else {}

    def list_stamps(self, prefix: str = "", suffix: str = "",
                    keep: Optional[Callable[[str], bool]] = None) -> dict[str, tuple[Optional[int], Optional[str]]]:
        """`list_sizes` with a *stamp* per object: a string that changes whenever the object's
        bytes do (GCS generation, S3 ETag + last-modified, local inode + mtime + ctime + size), or
        None when the store gives none (memory). What lets a rebuild skip reading unchanged
        documents: equal stamps mean equal bytes. `keep(rel)`: list only the paths it accepts
        (locally, the others are not even stat'ed: half the files of a registry are manifests)."""
        if self.protocol == "file":  # os.scandir: ~10x faster than fsspec's find on 100,000 files
            return self._local_stamps(prefix, suffix, keep)
        out: dict[str, tuple[Optional[int], Optional[str]]] = {}
        for rel, info in self._found(prefix, suffix):
            if keep is not None and not keep(rel):
                continue
            size = info.get("size")
            out[rel] = (size if isinstance(size, int) else None, _stamp(self.protocol, info))
        return dict(sorted(out.items()))

    def _local_stamps(self, prefix: str, suffix: str,
                      keep: Optional[Callable[[str], bool]]) -> dict[str, tuple[Optional[int], Optional[str]]]:
        base = os.path.join(self.root, prefix)
        out: dict[str, tuple[Optional[int], Optional[str]]] = {}
        if not os.path.isdir(base):
            return out
        root = self.root.rstrip(os.sep) + os.sep
        stack = [base]
        while stack:
            d = stack.pop()
            with os.scandir(d) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif e.name.endswith(suffix):
                        rel = e.path[len(root):].replace(os.sep, "/")
                        if keep is not None and not keep(rel):
                            continue
                        try:
                            st = e.stat()
                        except FileNotFoundError:  # removed while listing
                            continue
                        # ctime too: it moves on every write and cannot be set back (utime sets mtime)
                        out[rel] = (st.st_size, f"{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}")
        return dict(sorted(out.items()))

    # -- writes
    def write(self, rel: str, data: bytes) -> None:
        """Unconditional write, for content no one else may hold a claim on (a draft's manifest)."""
        self.fs.pipe_file(self.path(rel), data)
        self.fs.invalidate_cache(self.path(rel))

    def create(self, rel: str, data: bytes, content_type: str = "application/json") -> None:
        """Write `rel` only if it does not exist; raise AlreadyExists otherwise."""
        path = self.path(rel)
        if self.protocol == "file":
            self._create_local(path, data)
        elif self.protocol == "memory":
            with _MEMORY_LOCK:
                if self.fs.exists(path):
                    raise AlreadyExists(self.url(rel))
                self.fs.pipe_file(path, data)
        elif self.protocol in ("s3", "gs"):
            try:
                kw = {"ContentType": content_type} if self.protocol == "s3" else {"content_type": content_type}
                self.fs.pipe_file(path, data, mode="create", **kw)
            except FileExistsError as exc:
                raise AlreadyExists(self.url(rel)) from exc
            finally:
                self.fs.invalidate_cache(path)
        else:  # no conditional create known for this protocol: best effort, said in the docs
            if self.fs.exists(path):
                raise AlreadyExists(self.url(rel))
            self.fs.pipe_file(path, data)

    def replace(self, rel: str, data: bytes, token: str, content_type: str = "application/json") -> None:
        """Overwrite `rel` only if it still matches `token` from `read_versioned`."""
        path = self.path(rel)
        if self.protocol == "file":
            self._replace_local(path, data, token)
        elif self.protocol == "memory":
            with _MEMORY_LOCK:
                if sha256(self.fs.cat_file(path)) != token:
                    raise PreconditionFailed(self.url(rel))
                self.fs.pipe_file(path, data)
        elif self.protocol == "s3":
            try:
                self.fs.pipe_file(path, data, IfMatch=token, ContentType=content_type)
            except OSError as exc:
                if getattr(exc, "errno", None) == errno.EINVAL or "Precondition" in str(exc):
                    raise PreconditionFailed(self.url(rel)) from exc
                raise
            finally:
                self.fs.invalidate_cache(path)
        elif self.protocol == "gs":
            self._replace_gcs(path, data, token, content_type)
        else:
            with _MEMORY_LOCK:
                if sha256(self.fs.cat_file(path)) != token:
                    raise PreconditionFailed(self.url(rel))
                self.fs.pipe_file(path, data)

    # -- local filesystem details
    @staticmethod
    def _write_temp(directory: str, data: bytes) -> str:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def _create_local(self, path: str, data: bytes) -> None:
        tmp = self._write_temp(os.path.dirname(path), data)
        try:
            os.link(tmp, path)  # atomic; EEXIST when another publisher got there first
        except FileExistsError as exc:
            raise AlreadyExists(path) from exc
        finally:
            os.unlink(tmp)

    @staticmethod
    @contextlib.contextmanager
    def _dir_lock(directory: str) -> Iterator[None]:
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _replace_local(self, path: str, data: bytes, token: str) -> None:
        directory = os.path.dirname(path)
        tmp = self._write_temp(directory, data)
        try:
            with self._dir_lock(directory):
                with open(path, "rb") as fh:
                    if sha256(fh.read()) != token:
                        raise PreconditionFailed(path)
                os.replace(tmp, path)
                tmp = ""
        finally:
            if tmp:
                os.unlink(tmp)

    def _replace_gcs(self, path: str, data: bytes, generation: str, content_type: str) -> None:
        """gcsfs writes only with `ifGenerationMatch=0` (create); a compare-and-swap needs the
        generation read before, so this upload goes through google-cloud-storage's public
        `if_generation_match`, and a concurrent change makes GCS answer 412."""
        from google.api_core.exceptions import PreconditionFailed as GcsPreconditionFailed

        bucket, key, _ = self.fs.split_path(path)
        blob = gcs_client().bucket(bucket).blob(key)
        try:
            blob.upload_from_string(data, content_type=content_type, if_generation_match=int(generation))
        except GcsPreconditionFailed as exc:
            raise PreconditionFailed(self.url(path)) from exc
        finally:
            self.fs.invalidate_cache(path)




# ---- storage options for table libraries that bring their own object-store clients ------------


def object_store_options(uri: str) -> dict[str, str]:
    """Options in the `object_store` crate's vocabulary (deltalake, lance) for `uri`.

    Both libraries read much of the AWS environment themselves, but not consistently (lance needs
    the endpoint and `allow_http` spelled out), so they are passed explicitly.
    """
    proto = protocol_of(uri)
    opts: dict[str, str] = {}
    if proto == "s3":
        endpoint = aws_endpoint()
        if endpoint:
            opts["aws_endpoint"] = endpoint
            if aws_allow_http():
                opts["allow_http"] = "true"
            opts.setdefault("aws_virtual_hosted_style_request", "false")
        for env, key in (
            ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
            ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
            ("AWS_SESSION_TOKEN", "aws_session_token"),
        ):
            if os.environ.get(env):
                opts[key] = os.environ[env]
        opts["aws_region"] = aws_region() or DEFAULT_AWS_REGION
        opts.setdefault("conditional_put", "etag")
    elif proto == "gs":
        if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
            opts["google_service_account"] = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
    return opts


def pyiceberg_properties(uri: str) -> dict[str, str]:
    """FileIO properties for pyiceberg (its own vocabulary: `s3.endpoint`, ...)."""
    proto = protocol_of(uri)
    props: dict[str, str] = {}
    if proto == "s3":
        endpoint = aws_endpoint()
        if endpoint:
            props["s3.endpoint"] = endpoint
        if os.environ.get("AWS_ACCESS_KEY_ID"):
            props["s3.access-key-id"] = os.environ["AWS_ACCESS_KEY_ID"]
        if os.environ.get("AWS_SECRET_ACCESS_KEY"):
            props["s3.secret-access-key"] = os.environ["AWS_SECRET_ACCESS_KEY"]
        if os.environ.get("AWS_SESSION_TOKEN"):
            props["s3.session-token"] = os.environ["AWS_SESSION_TOKEN"]
        props["s3.region"] = aws_region() or DEFAULT_AWS_REGION
    elif proto == "gs" and os.environ.get("STORAGE_EMULATOR_HOST"):
        props["gcs.service.host"] = os.environ["STORAGE_EMULATOR_HOST"]
    # Use the fsspec FileIO so every protocol goes through one client stack.
    props["py-io-impl"] = "pyiceberg.io.fsspec.FsspecFileIO"
    return props


def _stamp(protocol: str, info: dict[str, Any]) -> Optional[str]:
    """The listing's change marker of one object (see `Store.list_stamps`)."""
    if protocol == "gs":
        gen = info.get("generation")
        return f"g{gen}" if gen else None
    if protocol == "s3":
        etag, modified = info.get("ETag"), info.get("LastModified")
        return f"e{etag}:{modified}" if etag else None
    return None
