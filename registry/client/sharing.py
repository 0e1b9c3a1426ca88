"""Delta Sharing from the reader's side: the profile file that points any Delta Sharing client
(Spark's connector, `delta-sharing` for pandas, Power BI, ...) at the signer's `/delta-sharing`
endpoint, and the `profile#share.schema.table` names of registered versions.

The bearer token in the profile is the reader's CAVE token, so the file is written readable by its
owner only, and replaced atomically (never half-written).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

from .errors import SignerNotConfigured

ENDPOINT_SUFFIX = "/delta-sharing"


def endpoint(signer_url: str) -> str:
    """`https://signer.example.org` -> `https://signer.example.org/delta-sharing`."""
    base = signer_url.rstrip("/")
    if base.endswith(ENDPOINT_SUFFIX):
        return base
    for tail in ("/sign", "/health"):
        if base.endswith(tail):
            base = base[: -len(tail)]
    return base + ENDPOINT_SUFFIX


def table_name(version: str) -> str:
    """The protocol's table name for a version label (it forbids `.`); the signer uses the same rule."""
    return version.replace(".", "_")


def table_url(profile: Union[str, Path], datastack: str, name: str, version: str) -> str:
    """`<profile>#<datastack>.<dataset>.<version>`, what `delta_sharing.load_as_pandas` and Spark's
    `format("deltaSharing").load(...)` take."""
    return f"{profile}#{datastack}.{name}.{table_name(version)}"


def write_profile(path: Union[str, Path], signer_url: Optional[str], token: Optional[str],
                  expiration_time: Optional[str] = None) -> Path:
    """Write a Delta Sharing profile (`shareCredentialsVersion` 1) for this signer and token."""
    if not signer_url:
        raise SignerNotConfigured(
            "no signer URL: pass signer_url= to Catalog, set FEATURE_REGISTRY_SIGNER_URL, or use a site that advertises one")
    if not token:
        raise SignerNotConfigured("no CAVE token: pass token= to Catalog or set CAVE_TOKEN (the profile's bearer token)")
    profile: dict[str, Any] = {"shareCredentialsVersion": 1, "endpoint": endpoint(signer_url), "bearerToken": token}
    if expiration_time:
        profile["expirationTime"] = expiration_time
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".profile-", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(profile, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target
