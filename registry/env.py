"""Reading the environment the same way everywhere: on/off flags and the standard AWS settings.
Stdlib only (the signer reads its configuration with it).

Before this module the project spelled "true" three ways (`1/true/yes`, `1/true/yes/on`, `true/1`)
and read the S3 endpoint and region in four places, so `AWS_ENDPOINT_URL_S3` or
`AWS_DEFAULT_REGION` worked for some readers and not others.
"""

from __future__ import annotations

import os
from typing import Mapping, Optional

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
DEFAULT_AWS_REGION = "us-east-1"


def truthy(value: Optional[str]) -> bool:
    """`1`, `true`, `yes`, `on` (any case, surrounding blanks ignored) are true; anything else is false."""
    return (value or "").strip().lower() in TRUE_WORDS


def flag(name: str, env: Optional[Mapping[str, str]] = None) -> bool:
    """An on/off setting from the environment (`env`, default `os.environ`)."""
    return truthy((os.environ if env is None else env).get(name))


def aws_endpoint(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The S3 endpoint override (MinIO, a test server): `AWS_ENDPOINT_URL_S3`, else
    `AWS_ENDPOINT_URL`, as the AWS SDKs read them; None means AWS itself."""
    e = os.environ if env is None else env
    return e.get("AWS_ENDPOINT_URL_S3") or e.get("AWS_ENDPOINT_URL") or None


def aws_region(env: Optional[Mapping[str, str]] = None, default: Optional[str] = DEFAULT_AWS_REGION) -> Optional[str]:
    """`AWS_REGION`, else `AWS_DEFAULT_REGION`, else `default` (SigV4 and the Rust object stores
    need one; pass `default=None` to leave the choice to the SDK)."""
    e = os.environ if env is None else env
    return e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or default


def aws_allow_http(env: Optional[Mapping[str, str]] = None) -> bool:
    """Plain-HTTP S3 (a local server): the endpoint is `http://`, or `AWS_ALLOW_HTTP` says so."""
    endpoint = aws_endpoint(env) or ""
    return endpoint.startswith("http://") or flag("AWS_ALLOW_HTTP", env)
