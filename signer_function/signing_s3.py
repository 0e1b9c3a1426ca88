"""S3 SigV4 presigned GET URLs.

boto3 presigns with SigV2 in places unless told otherwise, so the client is always built with
`signature_version="s3v4"` and an explicit region. An `AWS_ENDPOINT_URL` (MinIO, a test server)
gets path-style addressing. The caller (`core.Signer`) builds the client once and reuses it, for
presigning (pure computation: no request leaves the function) and for reading the registry's
documents (`registry.object_reads`): one client creation per process (~100-170 ms CPU each).
Reads use botocore's "standard" retry mode (3 attempts, exponential backoff) within short
connect/read timeouts.
"""

from __future__ import annotations

from typing import Any, Optional

from .config import Config
from .errors import SigningFailed
from .lookup import ObjectRef

def s3_client(config: Config) -> Any:
    """The S3 client, made with botocore itself: boto3 adds nothing the signer uses and ~50 ms of
    import to the first request (a boto3 client is this same botocore client)."""
    import botocore.session
    from botocore.config import Config as BotoConfig

    s3_opts = {"addressing_style": "path"} if config.aws_endpoint_url else {}
    return botocore.session.Session().create_client(
        "s3",
        region_name=config.aws_region,
        endpoint_url=config.aws_endpoint_url or None,
        config=BotoConfig(signature_version="s3v4", region_name=config.aws_region, s3=s3_opts, connect_timeout=5,
                          read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}),
    )


def sign_s3(config: Config, objects: list[ObjectRef], expires_in: int, client: Optional[Any] = None) -> list[str]:
    """One presigned GET URL per object, valid for `expires_in` seconds (<= 7 days, checked by caller)."""
    from botocore.exceptions import NoCredentialsError

    client = client or s3_client(config)
    try:
        return [
            client.generate_presigned_url(
                "get_object", Params={"Bucket": o.bucket, "Key": o.key}, ExpiresIn=int(expires_in)
            )
            for o in objects
        ]
    except NoCredentialsError:
        raise SigningFailed("the signer has no AWS credentials to sign with") from None
