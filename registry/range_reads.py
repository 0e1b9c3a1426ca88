"""Many small range reads on S3 (Parquet footers) through obstore, Rust's `object_store`.

Inspecting a 1,000-file Parquet dataset costs one range GET per footer. Through s3fs each GET
spends ~2 ms of Python CPU in aiobotocore (request building, signing, event hooks, response
parsing): 1,000 footers were ~2 s of client CPU on a 2-core machine, more than the requests
themselves. obstore issues the same GETs from Rust (~0.4 ms each, most of it off the GIL), which
is what brings a 1,000-file inspection on a local S3 server under 3 s (bench/inspect_tables.py).

`FastRangeReads` wraps the s3fs filesystem: `cat_file` and `cat_ranges` go through obstore, every
other call goes to s3fs. It is a fast path only: when obstore cannot be configured or a request
fails for a reason other than a missing object (a bucket in another region than `AWS_REGION`,
credentials only s3fs knows how to find), the wrapper switches to s3fs for the rest of its life,
so results never depend on which client read them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Optional, Sequence, cast

if TYPE_CHECKING:  # obstore's TypedDicts (stubs only)
    from obstore.store import ClientConfig, RetryConfig, S3Config

log = logging.getLogger(__name__)

CONCURRENCY = 64  # requests in flight: latency-bound on real stores; a local test server queues
# object_store retries connection errors 10 times within 3 minutes by default. A fast path should
# give up sooner and let s3fs (which may know a proxy or CA bundle obstore does not) take over.
RETRY: "RetryConfig" = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}


def obstore_available() -> bool:
    try:
        import obstore  # noqa: F401
    except ImportError:
        return False
    return True


def _store_config(options: dict[str, str]) -> tuple["S3Config", "ClientConfig"]:
    """Split `object_store_options` into obstore's S3 config and its HTTP client options (the
    keys are object_store's own, which obstore's TypedDicts spell out)."""
    config = cast("S3Config", {k: v for k, v in options.items() if k not in ("allow_http", "conditional_put")})
    client: "ClientConfig" = {"allow_http": True} if options.get("allow_http") == "true" else {}
    return config, client


def _make_store(bucket: str, options: dict[str, str]) -> Any:
    from obstore.store import S3Store

    config, client = _store_config(options)
    if "aws_access_key_id" in config:  # from the environment, as s3fs would take them
        return S3Store(bucket, config=config, client_options=client, retry_config=RETRY)
    # Profiles, SSO, instance roles: the chain s3fs (botocore) would walk.
    return S3Store(
        bucket, config=config, client_options=client, retry_config=RETRY, credential_provider=_BotocoreCredentials()
    )


class _BotocoreCredentials:
    """obstore credential provider over botocore's chain (what `obstore.auth.boto3` does, minus
    boto3: botocore comes with s3fs already, and a second AWS SDK pin in the `[s3]` extra is what
    made pip backtrack through boto3 releases for minutes)."""

    def __init__(self, ttl: float = 1800.0):
        import botocore.session

        self.credentials = botocore.session.get_session().get_credentials()
        if self.credentials is None:
            raise ValueError("no AWS credentials found (environment, profile or instance role)")
        self.ttl = ttl

    def __call__(self) -> Any:  # obstore's S3Credential mapping
        import datetime as dt

        frozen = self.credentials.get_frozen_credentials()
        return {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key, "token": frozen.token,
                "expires_at": dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.ttl)}


def _split(path: str) -> tuple[str, str]:
    """'s3://bucket/key' or 'bucket/key' -> ('bucket', 'key')."""
    path = path.split("://", 1)[-1]
    bucket, _, key = path.partition("/")
    return bucket, key


def _run(coro: Any) -> Any:
    """Run a coroutine to completion, also when the caller is inside an event loop (notebooks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class FastRangeReads:
    """An s3fs filesystem whose range reads go through obstore; everything else is s3fs."""

    def __init__(self, fs: Any, options: dict[str, str], concurrency: int = CONCURRENCY):
        self._fs = fs
        self._options = options
        self._stores: dict[str, Any] = {}
        self._concurrency = concurrency
        self.fallback_reason: Optional[str] = None  # set once s3fs has taken over

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)

    def __repr__(self) -> str:
        return f"FastRangeReads({self._fs!r})"

    def _store(self, bucket: str) -> Any:
        if bucket not in self._stores:
            self._stores[bucket] = _make_store(bucket, self._options)
        return self._stores[bucket]

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kw: Any) -> bytes:
        out = self.cat_ranges([path], [start], [end], on_error="return")[0]
        if isinstance(out, Exception):
            raise out
        return out

    def cat_ranges(
        self,
        paths: Sequence[str],
        starts: Sequence[Optional[int]],
        ends: Sequence[Optional[int]],
        on_error: str = "return",
        **kw: Any,
    ) -> list[Any]:
        """fsspec's `cat_ranges`: one result per (path, start, end); errors returned or raised."""
        bounds = [(s, e) for s, e in zip(starts, ends) if s is not None and e is not None and 0 <= s <= e]
        simple = len(bounds) == len(paths) == len(starts) == len(ends)
        if self.fallback_reason is None and simple:
            try:
                out = _run(self._read_all(list(paths), [s for s, _ in bounds], [e for _, e in bounds]))
            except Exception as exc:  # noqa: BLE001 - configuration problems: let s3fs try
                self._fall_back(exc)
            else:
                failed = next((r for r in out if isinstance(r, Exception) and not isinstance(r, FileNotFoundError)), None)
                if failed is None:
                    if on_error != "return":
                        missing = next((r for r in out if isinstance(r, Exception)), None)
                        if missing is not None:
                            raise missing
                    return out
                self._fall_back(failed)
        return self._fs.cat_ranges(list(paths), list(starts), list(ends), on_error=on_error, **kw)

    def _fall_back(self, exc: BaseException) -> None:
        self.fallback_reason = f"{type(exc).__name__}: {exc}"
        log.info("obstore range reads failed (%s); reading through s3fs instead", self.fallback_reason)

    async def _read_all(self, paths: list[str], starts: list[int], ends: list[int]) -> list[Any]:
        import obstore
        from obstore.exceptions import NotFoundError

        gate = asyncio.Semaphore(self._concurrency)

        async def one(path: str, start: int, end: int) -> Any:
            bucket, key = _split(path)
            if start == end:
                return b""
            async with gate:
                try:
                    data = await obstore.get_range_async(self._store(bucket), key, start=start, end=end)
                except NotFoundError:
                    return FileNotFoundError(path)
                except Exception as exc:  # noqa: BLE001 - returned, then decided on by the caller
                    return exc
            return bytes(data)

        return await asyncio.gather(*(one(p, s, e) for p, s, e in zip(paths, starts, ends)))
