"""The one reading of a storage URI's spelling: which protocol it names, the form a table library
is handed, and a comparable form. Stdlib only, so the signer can use it without loading fsspec.

Three readings used to be written out where they were needed (storage, the Delta, Lance and
Iceberg inspectors, the signer's registry reader), each folding a slightly different set of
scheme aliases (`gcs`, `s3a`, `s3n`) and disagreeing about `file://`.

The signer's *policy* canonicalisation (`signer_function.locations.canonical_location`) is a
different concept on purpose: a strict grammar that refuses whatever it could not put into an IAM
policy, not a spelling fold.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

# Other spellings of the same protocol (Hadoop's s3a/s3n, gcsfs's gcs).
SCHEME_ALIASES = {"gcs": "gs", "s3a": "s3", "s3n": "s3"}


def protocol_of(uri: str) -> str:
    """'gs://b/x' -> 'gs'; 's3a://b' -> 's3'; a plain path (or a Windows drive letter) -> 'file'."""
    scheme = urlparse(uri).scheme.lower()
    if not scheme or len(scheme) == 1:
        return "file"
    return SCHEME_ALIASES.get(scheme, scheme)


def local_path(uri: str) -> str:
    """The absolute local path of a `file://` URL (percent-decoded, as a URL is) or plain path."""
    parsed = urlparse(uri)
    return os.path.abspath(unquote(parsed.path) if parsed.scheme.lower() == "file" else uri)


def library_uri(location: str) -> str:
    """What the Rust table libraries (delta-rs, lance) are given: a plain absolute path for local
    tables (they do not all take `file://`), the URL without a trailing slash otherwise."""
    if protocol_of(location) == "file":
        return local_path(location)
    return location.rstrip("/")


def comparable_uri(uri: str) -> str:
    """A form in which two spellings of one place compare equal: `file:///abs/path` for local
    paths, scheme aliases folded (`s3a://b/k` -> `s3://b/k`), no query, no trailing slash.

    Not percent-decoded: table logs (Delta add actions, Iceberg manifests) store object names as
    they are in the store, where an escaped partition value (`tz=2024-01-31T10%3A05%3A00`) is literal.
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if not scheme or len(scheme) == 1 or scheme == "file":
        path = parsed.path if scheme == "file" else uri
        return "file://" + os.path.abspath(path)
    scheme = SCHEME_ALIASES.get(scheme, scheme)
    return f"{scheme}://{parsed.netloc}{parsed.path}".rstrip("/")
