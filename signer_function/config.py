"""Configuration from the environment, read once per process (cold start).

Everything a deployment changes is an environment variable, so the same code runs as a Cloud
Function, a Lambda and locally. Unsafe choices (the `dev` authenticator, no allowed locations) are
refused or fail closed rather than silently granting.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from registry.env import DEFAULT_AWS_REGION, aws_endpoint, aws_region, truthy

SEVEN_DAYS = 7 * 24 * 3600
"""The longest a SigV4 or GCS V4 signature may live; MAX_EXPIRES is clamped to it."""


def _split(value: Optional[str]) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


@dataclass(frozen=True)
class Config:
    registry_uri: str = ""
    auth_url: str = ""
    auth_mode: str = "middle_auth"  # or "dev" (refused unless allow_dev_auth)
    allow_dev_auth: bool = False
    dev_tokens_file: str = ""
    auth_service_token: str = ""  # the signer's own CAVE token, for the datastack->dataset lookup
    auth_timeout: float = 5.0  # a total deadline per auth call, retries included (not per read)
    auth_cache_ttl: float = 300.0  # CAVE's own client caches users 300 s
    auth_invalid_cache_ttl: float = 60.0
    auth_cache_size: int = 1024
    registry_cache_ttl: float = 60.0
    allowed_locations: tuple[str, ...] = ()
    # LOCATION_PERMISSIONS: location prefix -> the CAVE dataset/permission required to read it,
    # checked in addition to the document's own `access` (a JSON object, its text, or "" = none).
    location_permissions: Any = ""
    location_permissions_file: str = ""
    outbound_deadline: float = 10.0  # total deadline for each IAM signBlob / token / STS call
    max_answer_bytes: int = 5_500_000  # Lambda and API Gateway cap a synchronous answer at 6 MB
    max_manifest_bytes: int = 64 << 20
    max_expires: int = 3600 * 12
    default_expires: int = 3600
    max_body_bytes: int = 16 * 1024
    max_url_files: int = 10_000  # above this, `auto` mode answers with credentials
    cors_origins: tuple[str, ...] = ()
    # GCS
    gcs_signing: str = "auto"  # "key" | "iam" | "auto" (key when the credentials hold one)
    gcs_key_file: str = ""
    gcs_service_account: str = ""  # signer email for keyless (IAM signBlob) signing
    iam_credentials_url: str = "https://iamcredentials.googleapis.com"
    iam_concurrency: int = 16
    gcs_sts_url: str = "https://sts.googleapis.com/v1/token"
    gcs_api_endpoint: str = "https://storage.googleapis.com"
    # AWS
    aws_region: str = "us-east-1"
    aws_endpoint_url: str = ""
    role_arn: str = ""
    credentials_min_seconds: int = 900  # STS refuses shorter sessions
    # SIGNER_PRELOAD: import the SDKs and build the clients at cold start (init) instead of on the
    # first request; for Lambda SnapStart / provisioned concurrency, where init is not on a request.
    preload: bool = False
    extra: dict = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # environment values that could not be read (fail closed)

    @property
    def effective_max_expires(self) -> int:
        return max(1, min(self.max_expires, SEVEN_DAYS))

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Config":
        e = os.environ if env is None else env
        problems: list[str] = []

        def num(key: str, kind: type, default: Any) -> Any:
            """A positive number from the environment; a bad one is a configuration problem
            (the signer then signs nothing and /health says why), not a crash at cold start."""
            raw = e.get(key)
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value) or value <= 0:
                problems.append(f"{key}={raw!r} is not a positive {kind.__name__}")
                return default
            return value

        max_expires = num("MAX_EXPIRES", int, 12 * 3600)
        return cls(
            registry_uri=e.get("REGISTRY_URI") or e.get("FEATURE_REGISTRY_URI") or "",
            auth_url=(e.get("AUTH_URL") or "").rstrip("/"),
            auth_mode=(e.get("SIGNER_AUTH") or "middle_auth").strip().lower(),
            allow_dev_auth=truthy(e.get("SIGNER_ALLOW_DEV_AUTH")),
            dev_tokens_file=e.get("SIGNER_DEV_TOKENS") or "",
            auth_service_token=e.get("AUTH_SERVICE_TOKEN") or "",
            auth_timeout=num("AUTH_TIMEOUT", float, 5),
            auth_cache_ttl=num("AUTH_CACHE_TTL", float, 300),
            auth_invalid_cache_ttl=num("AUTH_INVALID_CACHE_TTL", float, 60),
            registry_cache_ttl=num("REGISTRY_CACHE_TTL", float, 60),
            allowed_locations=_split(e.get("ALLOWED_LOCATIONS")),
            location_permissions=e.get("LOCATION_PERMISSIONS") or "",
            location_permissions_file=e.get("LOCATION_PERMISSIONS_FILE") or "",
            outbound_deadline=num("SIGNER_OUTBOUND_DEADLINE", float, 10),
            max_answer_bytes=num("SIGNER_MAX_ANSWER_BYTES", int, 5_500_000),
            max_manifest_bytes=num("SIGNER_MAX_MANIFEST_BYTES", int, (64 << 20)),
            max_expires=max_expires,
            default_expires=min(3600, max_expires),
            max_body_bytes=num("MAX_BODY_BYTES", int, 16 * 1024),
            max_url_files=num("SIGNER_MAX_URL_FILES", int, 10_000),
            cors_origins=_split(e.get("CORS_ORIGINS")),
            gcs_signing=(e.get("SIGNER_GCS_SIGNING") or "auto").strip().lower(),
            gcs_key_file=e.get("SIGNER_GCS_KEY_FILE") or e.get("GOOGLE_APPLICATION_CREDENTIALS") or "",
            gcs_service_account=e.get("SIGNER_SERVICE_ACCOUNT") or "",
            iam_credentials_url=(e.get("SIGNER_IAM_URL") or "https://iamcredentials.googleapis.com").rstrip("/"),
            iam_concurrency=num("SIGNER_IAM_CONCURRENCY", int, 16),
            gcs_sts_url=e.get("SIGNER_GCS_STS_URL") or "https://sts.googleapis.com/v1/token",
            gcs_api_endpoint=(e.get("SIGNER_GCS_ENDPOINT") or "https://storage.googleapis.com").rstrip("/"),
            aws_region=aws_region(e) or DEFAULT_AWS_REGION,
            aws_endpoint_url=aws_endpoint(e) or "",
            role_arn=e.get("SIGNER_ROLE_ARN") or "",
            preload=truthy(e.get("SIGNER_PRELOAD")),
            problems=tuple(problems),
        )
