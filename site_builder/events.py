"""Rebuild and deploy the site when documents change, debounced across function instances.

Storage events arrive once per object, and a burst of publishes (a pipeline registering 40
exports) must cause one rebuild, not 40. Function instances share nothing but storage, so the
debounce state lives in the registry under `_ops/` (outside `datasets/`, so writing it triggers
no event):

1. every relevant event writes a fresh token to `_ops/rebuild-request.json`, then waits
   `debounce` seconds;
2. if the token is no longer its own, a later event has taken over: done (trailing-edge debounce);
3. otherwise it takes `_ops/rebuild.lock` (exclusive create; a lock older than `lock_ttl` is taken
   over) and builds + deploys, looping while new requests arrived during the build. If the lock is
   held, the holder's loop picks the request up.

A build that fails deploys nothing - the live site stays as it was - and the reason is logged as
one JSON line and written to `_ops/last-rebuild.json`. A scheduled rebuild (deploy/ examples) is
the safety net for any event that was lost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional
from urllib.parse import unquote_plus, urlparse

from registry.storage import AlreadyExists, PreconditionFailed, Store
from registry.env import flag
from registry.uris import protocol_of

REQUEST = "_ops/rebuild-request.json"
LOCK = "_ops/rebuild.lock"
STATUS = "_ops/last-rebuild.json"
FINALIZED = "google.cloud.storage.object.v1.finalized"
CLOCK_SKEW = 120.0
"""Seconds a lock's time may lie ahead of ours before the lock counts as forged."""


@dataclass
class RebuildConfig:
    """Everything a rebuild needs, from the environment of the function."""

    registry: str
    target: str
    site_url: Optional[str] = None
    signer_url: Optional[str] = None
    strict: bool = False
    debounce: float = 30.0
    lock_ttl: float = 900.0
    work_dir: str = field(default_factory=lambda: os.path.join(tempfile.gettempdir(), "feature-registry-site"))

    @classmethod
    def from_env(cls, env: Optional[dict[str, str]] = None) -> "RebuildConfig":
        env = dict(os.environ if env is None else env)
        registry = env.get("FEATURE_REGISTRY_URI") or env.get("REGISTRY_URI")
        target = env.get("SITE_TARGET")
        if not registry or not target:
            raise RuntimeError("set FEATURE_REGISTRY_URI (the registry) and SITE_TARGET (gs://|s3:// site bucket)")
        cfg = cls(registry=registry, target=target, site_url=env.get("SITE_URL") or None,
                  signer_url=env.get("FEATURE_REGISTRY_SIGNER_URL") or env.get("SIGNER_URL") or None,
                  strict=flag("SITE_STRICT", env))
        if env.get("REBUILD_DEBOUNCE_SECONDS"):
            cfg.debounce = float(env["REBUILD_DEBOUNCE_SECONDS"])
        if env.get("SITE_WORK_DIR"):
            cfg.work_dir = env["SITE_WORK_DIR"]
        return cfg


@dataclass
class Outcome:
    """What one invocation did: ignored | debounced | deferred | rebuilt | failed."""

    action: str
    detail: str = ""
    builds: int = 0
    deploy: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "detail": self.detail, "builds": self.builds, "deploy": self.deploy}


# ---- event shapes -------------------------------------------------------------------------------


def object_keys_from_cloudevent(event: Any) -> list[tuple[str, str]]:
    """(bucket, object name) of a GCS CloudEvent (`cloudevents.http.CloudEvent` or a dict)."""
    attrs = event.get_attributes() if hasattr(event, "get_attributes") else event
    etype = attrs.get("type") if hasattr(attrs, "get") else None
    if etype and etype != FINALIZED:
        return []
    data = event.get_data() if hasattr(event, "get_data") else event.get("data", {})
    if isinstance(data, (bytes, str)):
        data = json.loads(data)
    if not data or "name" not in data:
        return []
    return [(data.get("bucket", ""), data["name"])]


def object_keys_from_s3_event(event: dict) -> list[tuple[str, str]]:
    """(bucket, key) of every ObjectCreated record of an S3 event notification (keys arrive
    URL-encoded, spaces as '+')."""
    out = []
    for rec in event.get("Records", []):
        if rec.get("eventSource") != "aws:s3" or not str(rec.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = rec.get("s3", {})
        out.append((s3.get("bucket", {}).get("name", ""), unquote_plus(s3.get("object", {}).get("key", ""))))
    return out


def relevant(keys: Iterable[tuple[str, str]], registry: str) -> list[str]:
    """Document keys (not manifests, not `_ops/`) under the registry's `datasets/` prefix."""
    parsed = urlparse(registry)
    bucket = parsed.netloc if protocol_of(registry) in ("gs", "s3") else None
    prefix = (parsed.path.strip("/") + "/") if bucket and parsed.path.strip("/") else ""
    out = []
    for b, key in keys:
        if bucket and b and b != bucket:
            continue
        if not key.startswith(prefix + "datasets/"):
            continue
        if key.endswith(".json") and not key.endswith(".files.json"):
            out.append(key)
    return out


# ---- the debounced rebuild ------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _log(**fields: Any) -> None:
    """One JSON line per decision (Cloud Logging / CloudWatch parse it)."""
    print(json.dumps({"component": "site-rebuild", "at": _now().isoformat(), **fields}, default=str),
          file=sys.stderr, flush=True)


class Debouncer:
    """The shared state under `_ops/` of the registry store."""

    def __init__(self, store: Store, lock_ttl: float):
        self.store = store
        self.lock_ttl = lock_ttl

    def _write(self, rel: str, data: bytes) -> None:
        if self.store.protocol == "file":  # object stores have no directories to make
            os.makedirs(os.path.dirname(self.store.path(rel)), exist_ok=True)
        self.store.write(rel, data)

    def request(self) -> str:
        token = uuid.uuid4().hex
        self._write(REQUEST, json.dumps({"token": token, "at": _now().isoformat()}).encode())
        return token

    def current(self) -> Optional[str]:
        try:
            self.store.fs.invalidate_cache(self.store.path(REQUEST))
            return json.loads(self.store.read_bytes(REQUEST))["token"]
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def acquire(self, owner: str) -> bool:
        body = json.dumps({"owner": owner, "at": _now().isoformat()}).encode()
        if self.store.protocol == "file":
            os.makedirs(os.path.dirname(self.store.path(LOCK)), exist_ok=True)
        try:
            self.store.create(LOCK, body)
            return True
        except AlreadyExists:
            pass
        try:  # a lock left by a crashed build (or forged) is taken over once stale
            held = self.store.read_versioned(LOCK)
            if not self.is_stale(held.data):
                return False
            self.store.replace(LOCK, body, held.token)
            return True
        except (FileNotFoundError, PreconditionFailed):
            return False

    def is_stale(self, data: bytes) -> bool:
        """Whether a held lock may be taken over. Anyone who can write the registry can write
        this object, so its body is not believed beyond what bounds it: a body that does not
        parse, or says it was written in the future, is stale at once (no build of ours writes
        such a body); otherwise the lock lives `lock_ttl` seconds from when it was written, by
        the store's own clock (S3 LastModified, GCS updated, file mtime) where the store tells,
        else by the body. A forged lock stops rebuilds for at most `lock_ttl`."""
        try:
            at = dt.datetime.fromisoformat(json.loads(data)["at"])
            if at.tzinfo is None:
                raise ValueError("naive time")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
            return True
        now = _now()
        if (at - now).total_seconds() > CLOCK_SKEW:
            return True
        written = self._written_at() or at
        return not (-CLOCK_SKEW <= (now - written).total_seconds() < self.lock_ttl)

    def _written_at(self) -> Optional[dt.datetime]:
        """The lock object's modification time as the store records it, if it does."""
        try:
            path = self.store.path(LOCK)
            self.store.fs.invalidate_cache(path)
            info = self.store.fs.info(path)
        except (OSError, ValueError):
            return None
        for key in ("LastModified", "updated", "mtime", "created"):
            value = info.get(key)
            if isinstance(value, dt.datetime):
                return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
            if isinstance(value, (int, float)):
                return dt.datetime.fromtimestamp(value, dt.timezone.utc)
            if isinstance(value, str):
                try:
                    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    continue
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        return None

    def release(self) -> None:
        try:
            self.store.fs.rm(self.store.path(LOCK))
        except FileNotFoundError:
            pass
        self.store.fs.invalidate_cache(self.store.path(LOCK))

    def status(self, **fields: Any) -> None:
        self._write(STATUS, json.dumps({"at": _now().isoformat(), **fields}, default=str).encode())


BuildAndDeploy = Callable[[RebuildConfig], str]


def build_and_deploy(cfg: RebuildConfig) -> str:
    """Build the whole site into the work dir (incremental cache kept there) and deploy it.
    Raises on a failed build before anything is uploaded."""
    from site_builder.deploy import deploy_site
    from site_builder.build import build_site

    work = Path(cfg.work_dir)
    out = work / "out"
    work.mkdir(parents=True, exist_ok=True)
    report = build_site(cfg.registry, str(out), site_url=cfg.site_url, strict=cfg.strict, progress=False,
                        signer_url=cfg.signer_url, **_cache_kwargs(work))
    if report.skipped and cfg.strict:  # build_site raises in strict mode; belt and braces
        raise RuntimeError("invalid documents in strict mode")
    deployed = deploy_site(str(out), cfg.target)
    return report.summary().splitlines()[0] + "; " + deployed.summary()


def _cache_kwargs(work: Path) -> dict[str, Any]:
    """Pass the incremental build cache when this site_builder supports it."""
    import inspect as _inspect

    from site_builder.build import build_site

    if "cache_dir" in _inspect.signature(build_site).parameters:
        return {"cache_dir": str(work / "cache")}
    return {}


def handle_keys(
    keys: list[tuple[str, str]],
    cfg: RebuildConfig,
    *,
    build: BuildAndDeploy = build_and_deploy,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """The whole debounced protocol for one invocation's object keys."""
    docs = relevant(keys, cfg.registry)
    if not docs:
        _log(action="ignored", keys=[k for _, k in keys])
        return Outcome("ignored", "no document under datasets/ changed")
    deb = Debouncer(Store(cfg.registry), cfg.lock_ttl)
    token = deb.request()
    sleep(cfg.debounce)
    if deb.current() != token:
        _log(action="debounced", keys=docs)
        return Outcome("debounced", "a later event took over")
    if not deb.acquire(token):
        _log(action="deferred", keys=docs)
        return Outcome("deferred", "a build is running; it picks this change up when it finishes")
    builds = 0
    try:
        while True:
            seen = deb.current()
            builds += 1
            try:
                detail = build(cfg)
            except Exception as exc:  # noqa: BLE001 - report why; the deployed site is untouched
                reason = f"{type(exc).__name__}: {exc}"
                _log(action="failed", reason=reason, trace=traceback.format_exc(limit=5))
                deb.status(ok=False, reason=reason, trigger=docs)
                return Outcome("failed", reason, builds)
            deb.status(ok=True, detail=detail, trigger=docs)
            if deb.current() == seen:
                break
    finally:
        deb.release()
    _log(action="rebuilt", builds=builds, detail=detail)
    return Outcome("rebuilt", detail, builds, deploy=cfg.target)


def cleanup(cfg: RebuildConfig) -> None:
    shutil.rmtree(cfg.work_dir, ignore_errors=True)
