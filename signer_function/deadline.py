"""Outbound HTTP on urllib3 with a total deadline per call, not a per-read timeout.

urllib3's `Timeout` bounds each socket operation, so a server that trickles one byte a second
holds the caller for as long as it likes (docs/security.md). Here every call gets a watchdog:
when the deadline passes, the connection's socket is shut down, the blocked read returns at once,
and the call raises `DeadlineExceeded`. Retries (`urllib3.util.Retry`) happen inside the same
deadline: a retry that would start after it is refused before it connects.

urllib3 rather than requests: botocore already carries it (so the Lambda runtime has it) and
importing requests cost the signer's cold start ~120 ms CPU (docs/benchmarks.md). Used for every
outbound call the signer makes itself: CAVE auth, IAM signBlob, Google token refresh and STS
token exchange (the last three through `GoogleTransport` in signing_gcs.py). Only urllib3 API
common to 1.26 and 2.x is used (the Lambda runtime's botocore may bring either).
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any, Mapping, Optional

import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

_local = threading.local()


class OutboundError(Exception):
    """An outbound call got no HTTP answer (connection refused or dropped, retries used up)."""


class DeadlineExceeded(OutboundError):
    """The whole call (connect, retries, headers and body) took longer than its deadline."""


class _Expired(Exception):
    """Raised inside urllib3 to stop a retry after the deadline (not one of the errors it retries)."""


class _Watch:
    def __init__(self) -> None:
        self.fired = False
        self.conn: Any = None
        self._lock = threading.Lock()

    def attach(self, conn: Any) -> None:
        with self._lock:
            if self.fired:
                raise _Expired()
            self.conn = conn

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _watched(base: type) -> type:
    class Pool(base):  # type: ignore[misc, valid-type]
        def _get_conn(self, timeout: Optional[float] = None) -> Any:
            conn = super()._get_conn(timeout=timeout)
            watch = getattr(_local, "watch", None)
            if watch is not None:
                try:
                    watch.attach(conn)
                except _Expired:
                    self._put_conn(conn)
                    raise
            return conn

    Pool.__name__ = f"Watched{base.__name__}"
    return Pool


_POOLS = {"http": _watched(HTTPConnectionPool), "https": _watched(HTTPSConnectionPool)}


class Answer:
    """A complete HTTP answer (status, headers, body bytes), read before the deadline."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes):
        self.status, self.headers, self.data = status, dict(headers), data

    @property
    def status_code(self) -> int:
        return self.status

    def json(self) -> Any:
        return json.loads(self.data.decode("utf-8"))


class DeadlinePool:
    """Connection reuse (one urllib3 PoolManager) and `Retry`, every call ending within
    `deadline` seconds or raising `DeadlineExceeded`; no answer at all raises `OutboundError`."""

    def __init__(self, deadline: float, retries: Optional[Retry] = None, maxsize: int = 10):
        self.deadline = float(deadline)
        self.retries = retries or Retry(0, read=False, redirect=False)
        self.http = urllib3.PoolManager(num_pools=4, maxsize=maxsize, block=False)
        self.http.pool_classes_by_scheme = dict(_POOLS)

    def request(self, method: str, url: str, body: Optional[bytes] = None, headers: Optional[Mapping[str, str]] = None,
                deadline: Optional[float] = None) -> Answer:
        budget = self.deadline if deadline is None else max(0.001, min(float(deadline), self.deadline))
        watch = _Watch()
        previous = getattr(_local, "watch", None)
        _local.watch = watch
        timer = threading.Timer(budget, watch.fire)
        timer.daemon = True
        timer.start()
        try:
            resp = self.http.request(method, url, body=body, headers=dict(headers or {}), retries=self.retries,
                                     timeout=urllib3.Timeout(connect=budget, read=budget), redirect=False,
                                     preload_content=True)
            answer = Answer(resp.status, resp.headers, resp.data or b"")
        except (_Expired, urllib3.exceptions.HTTPError, OSError) as exc:
            if watch.fired or isinstance(exc, _Expired):
                raise DeadlineExceeded(f"no complete answer within {budget:g} s") from None
            reason = getattr(exc, "reason", None)
            raise OutboundError(type(reason or exc).__name__) from None
        finally:
            timer.cancel()
            _local.watch = previous
        if watch.fired:
            raise DeadlineExceeded(f"no complete answer within {budget:g} s")
        return answer

    def get(self, url: str, headers: Optional[Mapping[str, str]] = None, deadline: Optional[float] = None) -> Answer:
        return self.request("GET", url, headers=headers, deadline=deadline)


def auth_retries() -> Retry:
    """Retry GETs to the auth service on connection errors and 502/503/504, briefly: the
    deadline, not the retry count, bounds the time."""
    return Retry(
        total=2, connect=2, read=1, status=2, backoff_factor=0.1, redirect=False,
        status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}),
        raise_on_status=False, respect_retry_after_header=False,
    )


def google_retries(statuses: tuple[int, ...] = (429, 500, 502, 503, 504)) -> Retry:
    """Google calls are idempotent (signBlob, token refresh, STS exchange): retry connection
    errors and `statuses`. signBlob's pool passes (429,) only: `google.auth.iam.Signer` retries
    500/502/503/504 itself with exponential backoff, and retrying them here too would multiply
    the attempts."""
    return Retry(
        total=2, connect=2, read=1, status=2, backoff_factor=0.1, redirect=False,
        status_forcelist=statuses, allowed_methods=frozenset({"GET", "POST"}),
        raise_on_status=False, respect_retry_after_header=False,
    )
