"""The signer's registry reads: the light readers of `registry.object_reads` (a local path, one
S3 GET with the signer's own boto3 client, one GCS GET), named here for the signer's code.

The signer reads two small JSON objects per cold lookup. Going through fsspec meant importing
fsspec plus s3fs/aiobotocore or gcsfs at cold start only to fetch them, while the SDK that signs
is loaded anyway; `memory://` and other fsspec URLs still fall back to `registry.storage.Store`.
Every read is bounded (`limit` bytes, as a ranged GET), so a huge object in the registry cannot
exhaust the signer's memory.
"""

from __future__ import annotations

from registry.object_reads import GcsReader, LocalReader, Reader, S3Reader, StoreReader, reader_for
from registry.object_reads import ObjectUnreadable as RegistryUnreadable

__all__ = ["GcsReader", "LocalReader", "Reader", "RegistryUnreadable", "S3Reader", "StoreReader", "reader_for"]
