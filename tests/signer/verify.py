"""Independent signature verifiers: emulators accept anything, so these are the proof.

Written from the published specifications (AWS SigV4 query-string auth; GCS V4 signing with
GOOG4-RSA-SHA256), not from the libraries the signer uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


@dataclass
class Verdict:
    valid: bool  # the signature matches
    expired: bool
    expires_at: dt.datetime
    credential: str


def _canonical_query(pairs: list[tuple[str, str]], drop: str) -> str:
    enc = lambda s: quote(s, safe="-_.~")  # noqa: E731  RFC 3986 unreserved only
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted((k, v) for k, v in pairs if k != drop))


def _expiry(stamp: str, seconds: str, now: dt.datetime | None) -> tuple[dt.datetime, bool]:
    start = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(seconds=int(seconds))
    return end, (now or dt.datetime.now(dt.timezone.utc)) > end


def verify_sigv4(url: str, secret_key: str, now: dt.datetime | None = None) -> Verdict:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    q = dict(pairs)
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-SignedHeaders"] == "host"
    access_key, date, region, service, term = q["X-Amz-Credential"].split("/")
    canonical = "\n".join(
        [
            "GET",
            parts.path,  # S3 does not normalise or double-encode the path
            _canonical_query(pairs, "X-Amz-Signature"),
            f"host:{parts.netloc}\n",
            "host",
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = f"{date}/{region}/{service}/{term}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", q["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, term):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    end, expired = _expiry(q["X-Amz-Date"], q["X-Amz-Expires"], now)
    return Verdict(hmac.compare_digest(expected, q["X-Amz-Signature"]), expired, end, access_key)


def verify_gcs_v4(url: str, public_key, now: dt.datetime | None = None) -> Verdict:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    q = dict(pairs)
    assert q["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert q["X-Goog-SignedHeaders"] == "host"
    canonical = "\n".join(
        ["GET", parts.path, _canonical_query(pairs, "X-Goog-Signature"), f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    email, scope = q["X-Goog-Credential"].split("/", 1)
    to_sign = "\n".join(["GOOG4-RSA-SHA256", q["X-Goog-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    try:
        public_key.verify(bytes.fromhex(q["X-Goog-Signature"]), to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
        valid = True
    except (InvalidSignature, ValueError):
        valid = False
    end, expired = _expiry(q["X-Goog-Date"], q["X-Goog-Expires"], now)
    return Verdict(valid, expired, end, email)


def tamper(url: str, old: str, new: str) -> str:
    assert old in url, (old, url)
    return url.replace(old, new, 1)
