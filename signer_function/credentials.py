"""`mode: "credentials"`: short-lived, read-only credentials limited to one table's prefix.

This is the answer when signed URLs cannot work: Lance (needs object-store credentials, never plain
URLs), Delta with deletion vectors, Iceberg with delete files, or very many files.

* S3: STS. `AssumeRole` of `SIGNER_ROLE_ARN` with a session policy when set (the normal setup on
  Lambda), else `GetFederationToken` with the same policy (needs an IAM user's long-term keys).
  The session policy intersects with the role's own: read objects under `prefix/`, list only that
  prefix.
* GCS: a downscoped access token: the signer's own token exchanged at STS with a Credential
  Access Boundary (objectViewer on the bucket, condition: object names under `prefix/` — a `/`
  boundary, so `synapses` does not open `synapses_v2/` — or a listing of that prefix). One
  exchange per request, not per file. Its lifetime is the source token's (at most 1 h).

Both policy languages are code: CEL string literals end at `'` and escape with `\\`; IAM reads
`*`, `?` and `${...}` as wildcards and variables. Locations reach these builders only through
`locations.canonical_location`, whose grammar has none of those characters, and the builders check
every literal again (`_literal`) so that no caller can hand them an unchecked prefix.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from typing import Any, Optional

from .config import Config
from .errors import LocationNotAllowed, SigningFailed
from .locations import BUCKET, TableLocation, check_key

_STS_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
_ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def _iso(t: Optional[dt.datetime]) -> Optional[str]:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _literal(loc: TableLocation) -> TableLocation:
    """`loc` again, after proving its bucket and prefix are inside the location grammar (no quote,
    backslash, wildcard, `$`, `..` or empty segment can reach a policy)."""
    if loc.scheme not in ("s3", "gs") or not BUCKET.fullmatch(loc.bucket) or ".." in loc.bucket:
        raise LocationNotAllowed("the dataset's location cannot be put into a storage policy")
    check_key(loc.prefix, "the location's key")
    return loc


# ---- S3 ----------------------------------------------------------------------------------------


def s3_session_policy(loc: TableLocation, single_file: bool) -> dict[str, Any]:
    """Read-only policy for the table: objects under `prefix/` (or exactly the one file).
    The only `*` in it is the one written here, at the end of a checked literal."""
    loc = _literal(loc)
    if single_file:
        objects = [f"arn:aws:s3:::{loc.bucket}/{loc.prefix}"]
        list_prefixes = [loc.prefix]
    elif loc.prefix:
        objects = [f"arn:aws:s3:::{loc.bucket}/{loc.prefix}/*"]
        list_prefixes = [f"{loc.prefix}/", f"{loc.prefix}/*"]
    else:
        objects = [f"arn:aws:s3:::{loc.bucket}/*"]
        list_prefixes = ["", "*"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadTable", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": objects},
            {
                "Sid": "ListTable",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{loc.bucket}",
                "Condition": {"StringLike": {"s3:prefix": list_prefixes}},
            },
        ],
    }


def _session_name(user_id: Any, limit: int) -> str:
    name = re.sub(r"[^\w+=,.@-]", "-", f"cave-{user_id}", flags=re.ASCII)  # STS takes ASCII only
    return name[:limit]


_STS_POOL: Any = None
_STS_POOL_LOCK = threading.Lock()


def _sts_pool() -> Any:
    """A small bounded pool for STS calls: botocore has per-read timeouts only, so the call runs
    here and the request waits at most the deadline. A stuck call occupies one of few threads
    (then ends by botocore's own read timeout); it never holds the request."""
    global _STS_POOL
    with _STS_POOL_LOCK:
        if _STS_POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _STS_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sts")
        return _STS_POOL


def aws_credentials(config: Config, loc: TableLocation, single_file: bool, expires_in: int, user_id: Any) -> dict[str, Any]:
    import concurrent.futures

    import botocore.exceptions
    import botocore.session
    from botocore.config import Config as BotoConfig

    policy = json.dumps(s3_session_policy(loc, single_file), separators=(",", ":"))
    deadline = config.outbound_deadline
    sts = botocore.session.Session().create_client(
        "sts",
        region_name=config.aws_region,
        config=BotoConfig(connect_timeout=deadline, read_timeout=deadline, retries={"max_attempts": 2, "mode": "standard"}),
    )

    def call() -> tuple[Any, str]:
        if config.role_arn:
            duration = max(config.credentials_min_seconds, min(int(expires_in), 3600))
            return sts.assume_role(
                RoleArn=config.role_arn,
                RoleSessionName=_session_name(user_id, 64),
                Policy=policy,
                DurationSeconds=duration,
            ), "AssumeRole"
        duration = max(config.credentials_min_seconds, min(int(expires_in), 129600))
        return sts.get_federation_token(Name=_session_name(user_id, 32), Policy=policy, DurationSeconds=duration), "GetFederationToken"

    try:
        got, method = _sts_pool().submit(call).result(timeout=deadline)
    except concurrent.futures.TimeoutError:
        raise SigningFailed(f"STS did not answer within {deadline:g} s") from None
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise SigningFailed(f"STS refused to issue credentials ({type(exc).__name__})") from None
    c = got["Credentials"]
    out: dict[str, Any] = {
        "provider": "aws",
        "method": method,
        "access_key_id": c["AccessKeyId"],
        "secret_access_key": c["SecretAccessKey"],
        "session_token": c["SessionToken"],
        "expires_at": _iso(c["Expiration"]),
        "region": config.aws_region,
        "prefix": f"s3://{loc.bucket}/{loc.prefix}" + ("" if single_file or not loc.prefix else "/"),
    }
    # Ready-made options for deltalake / lance (object_store vocabulary).
    opts = {
        "aws_access_key_id": c["AccessKeyId"],
        "aws_secret_access_key": c["SecretAccessKey"],
        "aws_session_token": c["SessionToken"],
        "aws_region": config.aws_region,
    }
    if config.aws_endpoint_url:
        out["endpoint_url"] = config.aws_endpoint_url
        opts["aws_endpoint"] = config.aws_endpoint_url
        if config.aws_endpoint_url.startswith("http://"):
            opts["allow_http"] = "true"
    out["storage_options"] = opts
    return out


# ---- GCS ---------------------------------------------------------------------------------------


def gcs_access_boundary(loc: TableLocation, single_file: bool) -> Any:
    """The Credential Access Boundary for one table (read-only, prefix with a `/` boundary).
    Every CEL string literal is a checked location literal: it cannot hold `'` or `\\`."""
    from google.auth import downscoped

    loc = _literal(loc)
    objects = f"projects/_/buckets/{loc.bucket}/objects/"
    if single_file:
        expression = f"resource.name == '{objects}{loc.prefix}'"
    elif loc.prefix:
        expression = (
            f"resource.name.startsWith('{objects}{loc.prefix}/') || "
            f"api.getAttribute('storage.googleapis.com/objectListPrefix', '').startsWith('{loc.prefix}/')"
        )
    else:
        expression = f"resource.name.startsWith('{objects}')"
    rule = downscoped.AccessBoundaryRule(
        available_resource=f"//storage.googleapis.com/projects/_/buckets/{loc.bucket}",
        available_permissions=["inRole:roles/storage.objectViewer"],
        availability_condition=downscoped.AvailabilityCondition(
            expression=expression, title="one table", description=f"read gs://{loc.bucket}/{loc.prefix}"
        ),
    )
    return downscoped.CredentialAccessBoundary(rules=[rule])


def gcs_credentials(config: Config, identity: Any, loc: TableLocation, single_file: bool) -> dict[str, Any]:
    import google.auth.exceptions
    from google.oauth2 import sts

    boundary = gcs_access_boundary(loc, single_file)
    source_token, source_expiry = identity.access_token()
    client = sts.Client(config.gcs_sts_url)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        got = client.exchange_token(
            request=identity.transport(),
            grant_type=_STS_GRANT_TYPE,
            subject_token=source_token,
            subject_token_type=_ACCESS_TOKEN_TYPE,
            requested_token_type=_ACCESS_TOKEN_TYPE,
            additional_options=boundary.to_json(),
        )
    except (google.auth.exceptions.GoogleAuthError, OSError) as exc:
        raise SigningFailed(f"the Google STS token exchange failed ({type(exc).__name__})") from None
    expires = now + dt.timedelta(seconds=int(got["expires_in"])) if got.get("expires_in") else source_expiry
    token = got["access_token"]
    return {
        "provider": "gcp",
        "method": "downscoped_token",
        "access_token": token,
        "expires_at": _iso(expires),
        "prefix": f"gs://{loc.bucket}/{loc.prefix}" + ("" if single_file or not loc.prefix else "/"),
        "access_boundary": boundary.to_json(),
        "storage_options": {"google_storage_token": token},
    }
