"""GCS V4 signed GET URLs, with a service-account key or keyless through IAM signBlob.

* With a key (`SIGNER_GCS_KEY_FILE` / `GOOGLE_APPLICATION_CREDENTIALS` holding a service-account
  key) signing is local RSA: ~0.2 ms per URL.
* Keyless (the Cloud Functions / Cloud Run default identity has no key): every URL's string-to-sign
  goes to `iamcredentials.googleapis.com/.../serviceAccounts/EMAIL:signBlob` through google-auth's
  own `google.auth.iam.Signer` (its protocol and its exponential-backoff retries of 5xx answers).
  google-cloud-storage would open a new HTTP session per URL; here one urllib3 pool is reused
  (`GoogleTransport`: connection drops and 429 retried, one total deadline per signature, retries
  and backoff included) and at most `SIGNER_IAM_CONCURRENCY` blobs are signed at once.

The canonical request is built by google-cloud-storage (`Blob.generate_signed_url`, version v4);
only the signing step is ours, through a `google.auth.credentials.Signing` object.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from .config import Config
from .errors import SigningFailed
from .lookup import ObjectRef

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM_CREDENTIALS = "https://iamcredentials.googleapis.com"


def google_transport(pool: Any, deadline: float, endpoints: Optional[dict[str, str]] = None) -> Any:
    """A `google.auth.transport.Request` over a `deadline.DeadlinePool`: everything google-auth
    sends (token refresh, STS exchange, IAM signBlob with its own retry loop) ends within
    `deadline` seconds from this call, retries and backoff sleeps included. `endpoints` maps a
    Google base URL to the configured one (SIGNER_IAM_URL, for a stand-in or a private endpoint)."""
    import time

    import google.auth.exceptions
    import google.auth.transport

    from .deadline import OutboundError

    end = time.monotonic() + deadline

    class GoogleTransport(google.auth.transport.Request):
        def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                     timeout: Optional[float] = None, **kwargs: Any) -> Any:
            for base, to in (endpoints or {}).items():
                if url.startswith(base + "/") and to != base:
                    url = to + url[len(base):]
            left = end - time.monotonic()
            if timeout is not None:
                left = min(left, float(timeout))
            if left <= 0:
                raise google.auth.exceptions.TransportError(f"no answer within the {deadline:g} s deadline")
            if isinstance(body, str):
                body = body.encode("utf-8")
            try:
                return pool.request(method, url, body=body, headers=headers, deadline=left)
            except OutboundError as exc:
                raise google.auth.exceptions.TransportError(f"{type(exc).__name__}: {exc}") from None

    return GoogleTransport()


class GoogleIdentity:
    """The signer's own Google identity: Application Default Credentials (or the key file), with
    the access token refreshed only when it expires. Shared by keyless signing and downscoping."""

    def __init__(self, config: Config, session: Any = None):
        from .deadline import DeadlinePool, google_retries

        self.config = config
        # Token refreshes and STS exchanges go through this pool: each call has a deadline.
        self.session = session or DeadlinePool(config.outbound_deadline, retries=google_retries())
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

    def transport(self) -> Any:
        """A google-auth transport over this identity's pool, with a fresh deadline."""
        return google_transport(self.session, self.config.outbound_deadline,
                                {IAM_CREDENTIALS: self.config.iam_credentials_url})

    def access_token(self) -> tuple[str, Optional[dt.datetime]]:
        creds = self.credentials()
        with self._lock:
            if not creds.valid:
                try:
                    creds.refresh(self.transport())
                except Exception as exc:
                    raise SigningFailed(f"could not get the signer's Google access token ({type(exc).__name__})") from None
            return creds.token, creds.expiry


class IamSigner:
    """`signBlob` through `google.auth.iam.Signer` over one reused pool, bounded concurrency."""

    def __init__(self, config: Config, identity: GoogleIdentity):
        from .deadline import DeadlinePool, google_retries

        self.config = config
        self.identity = identity
        self.pool_http = DeadlinePool(config.outbound_deadline, retries=google_retries((429,)),
                                      maxsize=max(4, config.iam_concurrency))
        self.pool = ThreadPoolExecutor(max_workers=max(1, config.iam_concurrency), thread_name_prefix="signblob")

    def sign_blob(self, message: bytes) -> bytes:
        import google.auth.exceptions
        from google.auth import iam

        email = self.identity.email()
        self.identity.access_token()  # refreshed under the identity's lock, not by each thread
        transport = google_transport(self.pool_http, self.config.outbound_deadline,
                                     {IAM_CREDENTIALS: self.config.iam_credentials_url})
        try:
            signature = iam.Signer(transport, self.identity.credentials(), email).sign(message)
        except google.auth.exceptions.TransportError as exc:
            text = str(exc)
            if "deadline" in text or "DeadlineExceeded" in text:
                raise SigningFailed(f"IAM signBlob gave no answer within {self.config.outbound_deadline:g} s") from None
            if "OutboundError" in text:
                raise SigningFailed("IAM signBlob is unreachable") from None
            raise SigningFailed("IAM signBlob refused to sign (or kept failing)") from None
        except (ValueError, KeyError, TypeError):
            raise SigningFailed("IAM signBlob answered something that is not a signature") from None
        if not signature:
            raise SigningFailed("IAM signBlob answered something that is not a signature")
        return signature


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
