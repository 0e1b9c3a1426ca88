"""Read registry objects the light way: a local path, one S3 GET, or one GCS GET.

The signer reads two small JSON objects per cold lookup. Going through fsspec meant importing
fsspec plus s3fs/aiobotocore or gcsfs at cold start (0.5-1 s here) only to fetch them, while the
SDK that signs (boto3, google-cloud-storage) is loaded anyway. So `s3://` and `gs://` registries
are read with that SDK, local paths with `open`, and anything else (`memory://`, ...) falls back
to `registry.storage.Store`. Every read is bounded (`limit` bytes, as a ranged GET), so a huge
object in the registry cannot exhaust the signer's memory.

Environment, as everywhere in the project: `AWS_*` (including `AWS_ENDPOINT_URL`) for S3,
Application Default Credentials or `STORAGE_EMULATOR_HOST` for GCS.
"""

from __future__ import annotations

import os
from typing import Optional, Protocol
from urllib.parse import urlparse


class RegistryUnreadable(Exception):
    """The registry could not be read (not a missing object): the signer fails closed."""


class Reader(Protocol):
    def read(self, rel: str, limit: int) -> Optional[bytes]:
        """At most `limit` + 1 bytes of the object (so the caller can tell it is too large),
        or None when it does not exist. Other failures raise RegistryUnreadable."""

    def list(self, prefix: str, suffix: str) -> list[str]:
        """Relative paths directly under `prefix` (one level) ending in `suffix`."""


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
            raise RegistryUnreadable(type(exc).__name__) from None

    def list(self, prefix: str, suffix: str) -> list[str]:
        try:
            with os.scandir(os.path.join(self.root, prefix)) as it:
                return sorted(prefix + e.name for e in it if e.name.endswith(suffix) and e.is_file())
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise RegistryUnreadable(type(exc).__name__) from None


class S3Reader:
    def __init__(self, bucket: str, root: str):
        import boto3
        from botocore.config import Config as BotoConfig

        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=region,
            config=BotoConfig(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"},
                              s3={"addressing_style": "path"} if endpoint else {}),
        )
        self.bucket, self.root = bucket, root

    def _key(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.root else rel

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        import botocore.exceptions

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self._key(rel), Range=f"bytes=0-{limit}")
            return got["Body"].read(limit + 1)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            if code == "InvalidRange":  # an empty object
                return b""
            raise RegistryUnreadable(code or "ClientError") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise RegistryUnreadable(type(exc).__name__) from None

    def list(self, prefix: str, suffix: str) -> list[str]:
        import botocore.exceptions

        base = self._key(prefix)
        out = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base, Delimiter="/")
            for page in pages:
                for obj in page.get("Contents") or []:
                    if obj["Key"].endswith(suffix):
                        out.append(prefix + obj["Key"][len(base) :])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise RegistryUnreadable(type(exc).__name__) from None
        return sorted(out)


class GcsReader:
    def __init__(self, bucket: str, root: str):
        from google.cloud import storage

        if os.environ.get("STORAGE_EMULATOR_HOST"):
            client = storage.Client.create_anonymous_client()
        else:
            client = storage.Client()
        self.bucket = client.bucket(bucket)
        self.root = root

    def _key(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.root else rel

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        from google.api_core import exceptions as gexc

        try:
            return self.bucket.blob(self._key(rel)).download_as_bytes(start=0, end=limit, timeout=10)
        except gexc.NotFound:
            return None
        except gexc.RequestRangeNotSatisfiable:
            return b""
        except (gexc.GoogleAPIError, OSError) as exc:
            raise RegistryUnreadable(type(exc).__name__) from None

    def list(self, prefix: str, suffix: str) -> list[str]:
        from google.api_core import exceptions as gexc

        base = self._key(prefix)
        try:
            blobs = list(self.bucket.client.list_blobs(self.bucket, prefix=base, delimiter="/", timeout=10))
        except (gexc.GoogleAPIError, OSError) as exc:
            raise RegistryUnreadable(type(exc).__name__) from None
        return sorted(prefix + b.name[len(base) :] for b in blobs if b.name.endswith(suffix))


class StoreReader:
    """Any other fsspec URL, through the registry's own Store (the heavy, general path)."""

    def __init__(self, uri: str):
        from registry.storage import Store

        self.store = Store(uri)

    def read(self, rel: str, limit: int) -> Optional[bytes]:
        try:
            data = self.store.read_bytes(rel)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RegistryUnreadable(type(exc).__name__) from None
        return data[: limit + 1]

    def list(self, prefix: str, suffix: str) -> list[str]:
        try:
            return [p for p in self.store.list(prefix, suffix) if "/" not in p[len(prefix) :]]
        except OSError as exc:
            raise RegistryUnreadable(type(exc).__name__) from None


def reader_for(uri: str) -> Reader:
    parsed = urlparse(uri)
    scheme = {"gcs": "gs", "s3a": "s3"}.get(parsed.scheme, parsed.scheme)
    if not scheme or len(scheme) == 1:
        return LocalReader(uri)
    if scheme == "file":
        return LocalReader(parsed.path)
    root = parsed.path.strip("/")
    if scheme == "s3":
        return S3Reader(parsed.netloc, root)
    if scheme == "gs":
        return GcsReader(parsed.netloc, root)
    return StoreReader(uri)
