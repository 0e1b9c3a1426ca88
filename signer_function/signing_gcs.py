"""GCS V4 signed GET URLs, with a service-account key or keyless through IAM signBlob.

* With a key (`SIGNER_GCS_KEY_FILE` / `GOOGLE_APPLICATION_CREDENTIALS` holding a service-account
  key) signing is local RSA: ~0.2 ms per URL.
* Keyless (the Cloud Functions / Cloud Run default identity has no key): every URL's string-to-sign
  goes to `iamcredentials.googleapis.com/.../serviceAccounts/EMAIL:signBlob`. google-cloud-storage
  would open a new HTTP session per URL; here one `requests.Session` is reused and at most
  `SIGNER_IAM_CONCURRENCY` blobs are signed at once.

The canonical request is built by google-cloud-storage (`Blob.generate_signed_url`, version v4);
only the signing step is ours, through a `google.auth.credentials.Signing` object.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional
from urllib.parse import quote

import requests

from .config import Config
from .deadline import DeadlineSession, google_retries
from .errors import SigningFailed
from .lookup import ObjectRef

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


class GoogleIdentity:
    """The signer's own Google identity: Application Default Credentials (or the key file), with
    the access token refreshed only when it expires. Shared by keyless signing and downscoping."""

    def __init__(self, config: Config, session: Optional[requests.Session] = None):
        self.config = config
        # Token refreshes and STS exchanges go through this session: each call has a deadline.
        self.session = session or DeadlineSession(config.outbound_deadline, retries=google_retries())
        self._creds: Any = None
        self._lock = threading.Lock()

    def credentials(self) -> Any:
        with self._lock:
            if self._creds is None:
                if self.config.gcs_key_file:
                    from google.oauth2 import service_account

                    self._creds = service_account.Credentials.from_service_account_file(
                        self.config.gcs_key_file, scopes=[CLOUD_PLATFORM]
                    )
                else:
                    import google.auth

                    self._creds, _ = google.auth.default(scopes=[CLOUD_PLATFORM])
            return self._creds

    def has_key(self) -> bool:
        """True only for a service-account key. Compute Engine / Cloud Functions credentials are
        also `Signing`, but they sign through IAM one fresh request per URL: we batch instead."""
        from google.oauth2 import service_account

        try:
            creds = self.credentials()
        except Exception:  # no ADC at all: neither mode can work; reported when signing
            return False
        return isinstance(creds, service_account.Credentials)

    def email(self) -> str:
        if self.config.gcs_service_account:
            return self.config.gcs_service_account
        creds = self.credentials()
        email = getattr(creds, "service_account_email", None) or getattr(creds, "signer_email", None)
        if not email or email == "default":
            # On GCE-like hosts the email is only known after a refresh.
            self.access_token()
            email = getattr(creds, "service_account_email", None)
        if not email or email == "default":
            raise SigningFailed("cannot tell the signer's service-account email; set SIGNER_SERVICE_ACCOUNT")
        return email

    def access_token(self) -> tuple[str, Optional[dt.datetime]]:
        import google.auth.transport.requests

        creds = self.credentials()
        with self._lock:
            if not creds.valid:
                try:
                    creds.refresh(google.auth.transport.requests.Request(self.session))
                except Exception as exc:
                    raise SigningFailed(f"could not get the signer's Google access token ({type(exc).__name__})") from None
            return creds.token, creds.expiry


class IamSigner:
    """`signBlob` over one reused session with bounded concurrency."""

    def __init__(self, config: Config, identity: GoogleIdentity):
        self.config = config
        self.identity = identity
        self.session = DeadlineSession(
            config.outbound_deadline, retries=google_retries(), pool_maxsize=max(4, config.iam_concurrency)
        )
        self.pool = ThreadPoolExecutor(max_workers=max(1, config.iam_concurrency), thread_name_prefix="signblob")

    def sign_blob(self, message: bytes) -> bytes:
        email = self.identity.email()
        token, _ = self.identity.access_token()
        url = f"{self.config.iam_credentials_url}/v1/projects/-/serviceAccounts/{quote(email, safe='@')}:signBlob"
        try:
            resp = self.session.post(
                url,
                json={"payload": base64.b64encode(message).decode("ascii")},
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.config.outbound_deadline,
            )
        except requests.RequestException as exc:
            raise SigningFailed(f"IAM signBlob is unreachable ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise SigningFailed(f"IAM signBlob answered {resp.status_code}")
        try:
            return base64.b64decode(resp.json()["signedBlob"], validate=True)
        except (ValueError, KeyError, TypeError):
            raise SigningFailed("IAM signBlob answered something that is not a signature") from None


def _signing_credentials(email: str, sign: Any) -> Any:
    """A `google.auth.credentials.Signing` whose signing is `sign(bytes) -> bytes`."""
    import google.auth.credentials

    class _Delegated(google.auth.credentials.Signing):
        @property
        def signer_email(self) -> str:
            return email

        @property
        def signer(self) -> Any:
            return None

        def sign_bytes(self, message: bytes) -> bytes:
            return sign(message)

    return _Delegated()


class GcsSigner:
    """V4 signed GET URLs for GCS objects; chooses key or IAM per `SIGNER_GCS_SIGNING`."""

    def __init__(self, config: Config, identity: Optional[GoogleIdentity] = None):
        self.config = config
        self.identity = identity or GoogleIdentity(config)
        self._iam: Optional[IamSigner] = None
        self._client: Any = None
        self._lock = threading.Lock()

    def _storage_client(self) -> Any:
        """An anonymous client: `generate_signed_url` wants one for its universe domain; it makes
        no request (signing is offline or goes through our own signBlob session)."""
        with self._lock:
            if self._client is None:
                from google.cloud.storage import Client

                self._client = Client.create_anonymous_client()
            return self._client

    def mode(self) -> str:
        if self.config.gcs_signing in ("key", "iam"):
            return self.config.gcs_signing
        return "key" if self.identity.has_key() else "iam"

    def _iam_signer(self) -> IamSigner:
        with self._lock:
            if self._iam is None:
                self._iam = IamSigner(self.config, self.identity)
            return self._iam

    def sign(self, objects: list[ObjectRef], expires_in: int) -> tuple[list[str], str]:
        """(urls, signing mode) for `objects`, valid `expires_in` seconds."""
        from google.cloud.storage import Blob, Bucket

        mode = self.mode()
        expiration = dt.timedelta(seconds=int(expires_in))
        if mode == "key":
            creds = self.identity.credentials()
        else:
            iam = self._iam_signer()
            creds = _signing_credentials(self.identity.email(), iam.sign_blob)
        client = self._storage_client()
        buckets: dict[str, Any] = {}

        def one(o: ObjectRef) -> str:
            bucket = buckets.get(o.bucket) or buckets.setdefault(o.bucket, Bucket(client=client, name=o.bucket))
            return Blob(o.key, bucket).generate_signed_url(
                version="v4",
                expiration=expiration,
                method="GET",
                credentials=creds,
                api_access_endpoint=self.config.gcs_api_endpoint,
            )

        if mode == "key" or len(objects) <= 1:
            return [one(o) for o in objects], mode
        return list(self._iam_signer().pool.map(one, objects)), mode
