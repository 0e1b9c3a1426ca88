"""Read-only object-store filesystems on the cloud SDKs, for deployables without s3fs/gcsfs (the signer).

s3fs brings aiobotocore, aiohttp and its own exactly pinned botocore (a second copy of the SDK
the Lambda runtime already provides: ~10 MB zipped and a slower cold start); gcsfs brings aiohttp
and google-auth-oauthlib beside google-cloud-storage, which the signer already has. The signer only
reads small JSON objects and lists a prefix, which boto3 / google-cloud-storage do in a few calls.
`storage.filesystem` uses these classes when s3fs / gcsfs is not installed; writes are refused
(publishing needs the `[s3]` / `[gcs]` extra).
"""

from __future__ import annotations

from typing import Any, Optional

import fsspec


class _ReadOnlyBucketFileSystem(fsspec.AbstractFileSystem):
    """What both read-only stores share: `bucket/key` paths under their own protocols, no cache,
    and `open` for reading only (writes name the extra that can do them)."""

    protocol: tuple[str, ...] = ()
    root_marker = ""
    store, extra, writer = "", "", ""  # e.g. "S3", the pip extra "s3", its writing filesystem "s3fs"

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        for p in cls.protocol:
            if path.startswith(f"{p}://"):
                path = path[len(p) + 3:]
        return path.rstrip("/")

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    def invalidate_cache(self, path: Optional[str] = None) -> None:
        pass  # nothing is cached

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "r" not in mode:
            raise PermissionError(f"{path}: this {self.store} filesystem is read-only; install the "
                                  f"[{self.extra}] extra ({self.writer}) to write")
        import io

        return io.BytesIO(self.cat_file(path))


class Boto3ReadOnlyFileSystem(_ReadOnlyBucketFileSystem):
    protocol = ("s3", "s3a")
    store, extra, writer = "S3", "s3", "s3fs"

    def __init__(self, endpoint_url: Optional[str] = None, client_kwargs: Optional[dict[str, Any]] = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        import boto3
        from botocore.config import Config

        # The SDK's own retries ("standard": exponential backoff, 3 attempts) bounded by timeouts.
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)
        self.client = boto3.client("s3", endpoint_url=endpoint_url, config=config, **(client_kwargs or {}))

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        bucket, key = self._split(self._strip_protocol(path))
        extra = {}
        if start is not None or end is not None:
            extra["Range"] = f"bytes={start or 0}-{'' if end is None else end - 1}"
        try:
            return self.client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
        except self.client.exceptions.ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(path) from None
            raise

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        if key:
            try:
                head = self.client.head_object(Bucket=bucket, Key=key)
                return {"name": path, "size": head["ContentLength"], "type": "file", "ETag": head.get("ETag")}
            except self.client.exceptions.ClientError as exc:
                if not self._missing(exc):
                    raise
        got = self.client.list_objects_v2(Bucket=bucket, Prefix=(key + "/") if key else "", MaxKeys=1)
        if got.get("KeyCount", 0) or not key:
            return {"name": path, "size": 0, "type": "directory"}
        raise FileNotFoundError(path)

    def find(self, path: str, maxdepth: Optional[int] = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        prefix = (key + "/") if key else ""
        out: dict[str, dict[str, Any]] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                name = f"{bucket}/{obj['Key']}"
                out[name] = {"name": name, "size": obj["Size"], "type": "file", "ETag": obj.get("ETag")}
        return out if detail else sorted(out)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        prefix = (key + "/") if key else ""
        entries = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            entries += [{"name": f"{bucket}/{p['Prefix'].rstrip('/')}", "size": 0, "type": "directory"}
                        for p in page.get("CommonPrefixes", [])]
            entries += [{"name": f"{bucket}/{o['Key']}", "size": o["Size"], "type": "file"}
                        for o in page.get("Contents", [])]
        if not entries:
            self.info(path)  # FileNotFoundError for a missing path, [] for an empty bucket
        return entries if detail else [e["name"] for e in entries]


class GcsReadOnlyFileSystem(_ReadOnlyBucketFileSystem):
    protocol = ("gs", "gcs")
    store, extra, writer = "GCS", "gcs", "gcsfs"

    def __init__(self, endpoint_url: Optional[str] = None, token: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        from google.cloud import storage

        if endpoint_url or token == "anon":  # the emulator (STORAGE_EMULATOR_HOST): no credentials
            from google.auth.credentials import AnonymousCredentials

            self.client = storage.Client(project="emulator", credentials=AnonymousCredentials(),
                                         client_options={"api_endpoint": endpoint_url} if endpoint_url else None)
        else:
            self.client = storage.Client()

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        from google.api_core.exceptions import NotFound

        bucket, key = self._split(self._strip_protocol(path))
        try:
            return self.client.bucket(bucket).blob(key).download_as_bytes(
                start=start, end=None if end is None else end - 1, retry=_gcs_retry())
        except NotFound:
            raise FileNotFoundError(path) from None

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        if key:
            blob = self.client.bucket(bucket).get_blob(key, retry=_gcs_retry())
            if blob is not None:
                return {"name": path, "size": blob.size, "type": "file", "generation": blob.generation}
        blobs = self.client.list_blobs(bucket, prefix=(key + "/") if key else None, max_results=1)
        if any(True for _ in blobs) or not key:
            return {"name": path, "size": 0, "type": "directory"}
        raise FileNotFoundError(path)

    def find(self, path: str, maxdepth: Optional[int] = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        out = {f"{bucket}/{b.name}": {"name": f"{bucket}/{b.name}", "size": b.size, "type": "file"}
               for b in self.client.list_blobs(bucket, prefix=(key + "/") if key else None, retry=_gcs_retry())}
        return out if detail else sorted(out)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        pages = self.client.list_blobs(bucket, prefix=(key + "/") if key else None, delimiter="/", retry=_gcs_retry())
        entries = [{"name": f"{bucket}/{b.name}", "size": b.size, "type": "file"} for b in pages]
        entries += [{"name": f"{bucket}/{p.rstrip('/')}", "size": 0, "type": "directory"} for p in pages.prefixes]
        if not entries:
            self.info(path)
        return entries if detail else [e["name"] for e in entries]


def _gcs_retry() -> Any:
    """google-cloud-storage's default retry (exponential backoff on 429/5xx/connection errors),
    with a 30 s total deadline per call."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_deadline(30.0)
