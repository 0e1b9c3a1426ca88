"""Read-only object-store filesystems on the cloud SDKs, for deployables without s3fs/gcsfs (the signer).

s3fs brings aiobotocore, aiohttp and its own exactly pinned botocore (a second copy of the SDK
the Lambda runtime already provides: ~10 MB zipped and a slower cold start); gcsfs brings aiohttp
and google-auth-oauthlib beside google-cloud-storage, which the signer already has. The signer only
reads small JSON objects and lists a prefix, which boto3 / google-cloud-storage do in a few calls.
`storage.filesystem` uses these classes when s3fs / gcsfs is not installed; writes are refused
(publishing needs the `[s3]` / `[gcs]` extra). The object reads themselves (GET, ranges,
listings, missing vs unreadable, the SDKs' retries) are `registry.object_reads`, the seam the
signer's registry reader uses too.
"""

from __future__ import annotations

from typing import Any, Optional

import fsspec

from .object_reads import gcs_client, gcs_get, gcs_list, gcs_retry, s3_get, s3_list


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
        import botocore.session
        from botocore.config import Config

        # The SDK's own retries ("standard": exponential backoff, 3 attempts) bounded by timeouts.
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)
        # botocore itself: a boto3 client is this same client, and boto3 is not needed to make it
        self.client = botocore.session.Session().create_client("s3", endpoint_url=endpoint_url, config=config,
                                                               **(client_kwargs or {}))

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        bucket, key = self._split(self._strip_protocol(path))
        data = s3_get(self.client, bucket, key, start, end)
        if data is None:
            raise FileNotFoundError(path)
        return data

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
        objects, _ = s3_list(self.client, bucket, prefix)
        out = {f"{bucket}/{o['Key']}": {"name": f"{bucket}/{o['Key']}", "size": o["Size"], "type": "file",
                                        "ETag": o.get("ETag")} for o in objects}
        return out if detail else sorted(out)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        prefix = (key + "/") if key else ""
        objects, prefixes = s3_list(self.client, bucket, prefix, "/")
        entries = [{"name": f"{bucket}/{p.rstrip('/')}", "size": 0, "type": "directory"} for p in prefixes]
        entries += [{"name": f"{bucket}/{o['Key']}", "size": o["Size"], "type": "file"} for o in objects]
        if not entries:
            self.info(path)  # FileNotFoundError for a missing path, [] for an empty bucket
        return entries if detail else [e["name"] for e in entries]


class GcsReadOnlyFileSystem(_ReadOnlyBucketFileSystem):
    protocol = ("gs", "gcs")
    store, extra, writer = "GCS", "gcs", "gcsfs"

    def __init__(self, endpoint_url: Optional[str] = None, token: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = gcs_client(endpoint_url, anonymous=token == "anon")

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        bucket, key = self._split(self._strip_protocol(path))
        data = gcs_get(self.client, bucket, key, start, end)
        if data is None:
            raise FileNotFoundError(path)
        return data

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        if key:
            blob = self.client.bucket(bucket).get_blob(key, retry=gcs_retry())
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
        blobs, _ = gcs_list(self.client, bucket, (key + "/") if key else None)
        out = {f"{bucket}/{b.name}": {"name": f"{bucket}/{b.name}", "size": b.size, "type": "file"} for b in blobs}
        return out if detail else sorted(out)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        blobs, prefixes = gcs_list(self.client, bucket, (key + "/") if key else None, "/")
        entries = [{"name": f"{bucket}/{b.name}", "size": b.size, "type": "file"} for b in blobs]
        entries += [{"name": f"{bucket}/{p.rstrip('/')}", "size": 0, "type": "directory"} for p in prefixes]
        if not entries:
            self.info(path)
        return entries if detail else [e["name"] for e in entries]
