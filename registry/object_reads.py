"""Object reads on the cloud SDKs themselves: one GET (ranged), one listing. Standard library at
import; boto3 / google-cloud-storage are the caller's clients.

Two kinds of reader sit on this seam: the signer's registry reader (two small JSON objects per
cold lookup, where importing fsspec + s3fs/gcsfs cost 0.5-1 s of cold start) and the read-only
fsspec filesystems (`registry/readonly_stores.py`) that deployables without s3fs/gcsfs use. Both
read objects here, so "missing", "empty", ranges, retries and deadlines mean the same everywhere:

* missing is `None` (never an exception), an empty object read with a range is `b""`;
* S3: the client's own retry settings (botocore "standard" mode, set where the client is made)
  and its connect/read timeouts;
* GCS: google-cloud-storage's default retry (exponential backoff on 429/5xx/connection errors)
  with a total deadline (`GCS_DEADLINE`), and a per-request timeout.
Any other failure raises `ObjectUnreadable` naming the cause (never the object's URI: callers
that answer untrusted readers must not reveal it).
"""

from __future__ import annotations

import builtins
import functools
import os
from typing import Any, Optional, Protocol
from urllib.parse import urlparse

from registry.uris import local_path, protocol_of

GCS_DEADLINE = 30.0
"""Seconds for one GCS call, retries included."""
GCS_TIMEOUT = 10.0
"""Seconds for one GCS HTTP request (connect and each read)."""


class ObjectUnreadable(OSError):
    """The store could not be read (not a missing object): callers fail closed. An OSError, so
    fsspec users of the read-only filesystems see the kind of error they expect."""


def gcs_retry(deadline: float = GCS_DEADLINE) -> Any:
    """google-cloud-storage's default retry with a total deadline per call."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_deadline(deadline)


def _s3_missing(exc: Any) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


def s3_get(client: Any, bucket: str, key: str, start: Optional[int] = None, end: Optional[int] = None) -> Optional[bytes]:
    """Bytes [start, end) of s3://bucket/key (the whole object without a range); None if missing."""
    import botocore.exceptions

    extra = {}
    if start is not None or end is not None:
        extra["Range"] = f"bytes={start or 0}-{'' if end is None else end - 1}"
    try:
        return client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
    except botocore.exceptions.ClientError as exc:
        if _s3_missing(exc):
            return None
        if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # a range of an empty object
            return b""
        raise ObjectUnreadable(exc.response.get("Error", {}).get("Code") or "ClientError") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ObjectUnreadable(type(exc).__name__) from None


def s3_list(client: Any, bucket: str, prefix: str, delimiter: Optional[str] = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(objects `{Key, Size, ETag}`, common prefixes) under `prefix`, every page."""
    import botocore.exceptions

    objects: list[dict[str, Any]] = []
    prefixes: list[str] = []
    kwargs = {"Bucket": bucket, "Prefix": prefix, **({"Delimiter": delimiter} if delimiter else {})}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
            objects += page.get("Contents") or []
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes") or []]
    except botocore.exceptions.ClientError as exc:
        if _s3_missing(exc):
            return [], []
        raise ObjectUnreadable(exc.response.get("Error", {}).get("Code") or "ClientError") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ObjectUnreadable(type(exc).__name__) from None
    return objects, prefixes


def gcs_get(client: Any, bucket: str, key: str, start: Optional[int] = None, end: Optional[int] = None) -> Optional[bytes]:
    """Bytes [start, end) of gs://bucket/key (the whole object without a range); None if missing."""
    from google.api_core import exceptions as gexc

    try:
        return client.bucket(bucket).blob(key).download_as_bytes(
            start=start, end=None if end is None else end - 1, timeout=GCS_TIMEOUT, retry=gcs_retry())
    except gexc.NotFound:
        return None
    except gexc.RequestRangeNotSatisfiable:
        return b""
    except (gexc.GoogleAPIError, OSError) as exc:
        raise ObjectUnreadable(type(exc).__name__) from None


def gcs_list(client: Any, bucket: str, prefix: Optional[str], delimiter: Optional[str] = None) -> tuple[list[Any], list[str]]:
    """(blobs, prefixes) under `prefix`, every page."""
    from google.api_core import exceptions as gexc

    try:
        pages = client.list_blobs(bucket, prefix=prefix or None, delimiter=delimiter, timeout=GCS_TIMEOUT, retry=gcs_retry())
        blobs = list(pages)
        return blobs, sorted(pages.prefixes) if delimiter else []
    except gexc.NotFound:
        return [], []
    except (gexc.GoogleAPIError, OSError) as exc:
        raise ObjectUnreadable(type(exc).__name__) from None


def gcs_client(endpoint: Optional[str] = None, anonymous: bool = False) -> Any:
    """The project's one google-cloud-storage client: Application Default Credentials, or
    anonymous against an emulator (`endpoint`, else `STORAGE_EMULATOR_HOST`) or when asked
    (fsspec's `token="anon"`). One per setting and process."""
    emulator = endpoint or os.environ.get("STORAGE_EMULATOR_HOST") or None
    return _gcs_client(emulator, anonymous or emulator is not None)


@functools.lru_cache(maxsize=4)
def _gcs_client(endpoint: Optional[str], anonymous: bool) -> Any:
    from google.cloud import storage

    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project="emulator", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": endpoint} if endpoint else None)
    return storage.Client()


# ---- a registry's objects under one root, for light readers (the signer) ----------------------


class Reader(Protocol):
    def read(self, rel: str, limit: int) -> Optional[bytes]:
        """At most `limit` + 1 bytes of the object (so the caller can tell it is too large),
        or None when it does not exist. Other failures raise ObjectUnreadable."""

    def list(self, prefix: str, suffix: str) -> list[str]:
        """Relative paths directly under `prefix` (one level) ending in `suffix`."""

    def folders(self, prefix: str) -> builtins.list[str]:
        """Names of the folders (common prefixes) directly under `prefix`."""


class LocalReader:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        try:
            with open(os.path.join(self.root, rel), "rb") as fh:
                return fh.read(limit + 1)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise ObjectUnreadable(type(exc).__name__) from None

    def list(self, prefix: str, suffix: str) -> list[str]:
        try:
            with os.scandir(os.path.join(self.root, prefix)) as it:
                return sorted(prefix + e.name for e in it if e.name.endswith(suffix) and e.is_file())
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise ObjectUnreadable(type(exc).__name__) from None

    def folders(self, prefix: str) -> builtins.list[str]:
        try:
            with os.scandir(os.path.join(self.root, prefix)) as it:
                return sorted(e.name for e in it if e.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise ObjectUnreadable(type(exc).__name__) from None


class _RootedReader:
    def __init__(self, bucket: str, root: str, client: Any):
        self.bucket, self.root, self.client = bucket, root, client

    def _key(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.root else rel


class S3Reader(_RootedReader):
    """`client`: a botocore (or boto3) S3 client (the signer passes the one it signs with)."""

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        data = s3_get(self.client, self.bucket, self._key(rel), 0, limit + 1)
        return None if data is None else data[: limit + 1]

    def list(self, prefix: str, suffix: str) -> list[str]:
        base = self._key(prefix)
        objects, _ = s3_list(self.client, self.bucket, base, "/")
        return sorted(prefix + o["Key"][len(base):] for o in objects if o["Key"].endswith(suffix))

    def folders(self, prefix: str) -> builtins.list[str]:
        base = self._key(prefix)
        _, prefixes = s3_list(self.client, self.bucket, base, "/")
        return sorted(p[len(base):].rstrip("/") for p in prefixes if p.startswith(base))


class GcsReader(_RootedReader):
    """`client`: a google-cloud-storage client."""

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        data = gcs_get(self.client, self.bucket, self._key(rel), 0, limit + 1)
        return None if data is None else data[: limit + 1]

    def list(self, prefix: str, suffix: str) -> list[str]:
        base = self._key(prefix)
        blobs, _ = gcs_list(self.client, self.bucket, base, "/")
        return sorted(prefix + b.name[len(base):] for b in blobs if b.name.endswith(suffix))

    def folders(self, prefix: str) -> builtins.list[str]:
        base = self._key(prefix)
        _, prefixes = gcs_list(self.client, self.bucket, base, "/")
        return sorted(p[len(base):].rstrip("/") for p in prefixes if p.startswith(base))


class StoreReader:
    """Any other fsspec URL, through the registry's own Store (the heavy, general path)."""

    def __init__(self, uri: str):
        from .storage import Store

        self.store = Store(uri)

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        try:
            data = self.store.read_bytes(rel)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ObjectUnreadable(type(exc).__name__) from None
        return data[: limit + 1]

    def list(self, prefix: str, suffix: str) -> list[str]:
        try:
            return [p for p in self.store.list(prefix, suffix) if "/" not in p[len(prefix):]]
        except OSError as exc:
            raise ObjectUnreadable(type(exc).__name__) from None

    def folders(self, prefix: str) -> builtins.list[str]:
        try:
            rest = [p[len(prefix):] for p in self.store.list(prefix, "") if p.startswith(prefix)]
        except OSError as exc:
            raise ObjectUnreadable(type(exc).__name__) from None
        return sorted({r.split("/", 1)[0] for r in rest if "/" in r})


def reader_for(uri: str, s3_client: Any = None, gcs: Any = None) -> Reader:
    """The light reader for a registry URI. `s3_client` / `gcs`: a client, or a callable making
    one (called only for that scheme); without one, the SDK default from the environment."""
    parsed = urlparse(uri)
    scheme = protocol_of(uri)
    if scheme == "file":
        return LocalReader(local_path(uri))
    root = parsed.path.strip("/")
    if scheme == "s3":
        if s3_client is None:
            import botocore.session

            s3_client = botocore.session.Session().create_client("s3")
        return S3Reader(parsed.netloc, root, s3_client() if callable(s3_client) else s3_client)
    if scheme == "gs":
        client = gcs if gcs is not None else gcs_client
        return GcsReader(parsed.netloc, root, client() if callable(client) else client)
    return StoreReader(uri)
