"""HTTP sessions with a total deadline per call, not a per-read timeout.

`requests`' `timeout=` (and urllib3's `Timeout(total=...)`) bound each socket read, so a server
that trickles one byte a second holds the caller for as long as it likes (docs/security.md). Here
every call gets a watchdog: when the deadline passes, the connection's socket is shut down, the
blocked read returns at once, and the call raises `DeadlineExceeded` (a `requests.Timeout`, so
existing `except requests.RequestException` handlers keep working). Retries (urllib3 `Retry`,
mounted on the session) happen inside the same deadline: a retry that would start after it is
refused before it connects.

Used for every outbound call the signer makes over `requests`: CAVE auth, IAM signBlob, Google
token refresh and STS token exchange.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

_local = threading.local()


class DeadlineExceeded(requests.exceptions.Timeout):
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


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class DeadlineSession(requests.Session):
    """A `requests.Session` whose every call ends within `deadline` seconds (or raises)."""

    def __init__(self, deadline: float, retries: Optional[Retry] = None, pool_maxsize: int = 10):
        super().__init__()
        self.deadline = float(deadline)
        adapter = _Adapter(max_retries=retries or Retry(0, read=False), pool_connections=4, pool_maxsize=pool_maxsize)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str, url: str, *args: Any, deadline: Optional[float] = None, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        budget = self.deadline if deadline is None else float(deadline)
        timeout = kwargs.get("timeout")
        kwargs["timeout"] = budget if not isinstance(timeout, (int, float)) else min(float(timeout), budget)
        watch = _Watch()
        previous = getattr(_local, "watch", None)
        _local.watch = watch
        timer = threading.Timer(budget, watch.fire)
        timer.daemon = True
        timer.start()
        try:
            resp = super().request(method, url, *args, **kwargs)
        except (_Expired, requests.RequestException, OSError) as exc:
            if watch.fired or isinstance(exc, _Expired):
                raise DeadlineExceeded(f"no complete answer within {budget:g} s") from None
            raise
        finally:
            timer.cancel()
            _local.watch = previous
        if watch.fired:
            resp.close()
            raise DeadlineExceeded(f"no complete answer within {budget:g} s")
        return resp


def auth_retries() -> Retry:
    """Retry GETs to the auth service on connection errors and 502/503/504, briefly: the
    deadline, not the retry count, bounds the time."""
    return Retry(
        total=2, connect=2, read=1, status=2, backoff_factor=0.1,
        status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}),
        raise_on_status=False, respect_retry_after_header=False,
    )


def google_retries() -> Retry:
    """signBlob and token exchanges are idempotent: retry connection errors, 429 and 5xx."""
    return Retry(
        total=2, connect=2, read=1, status=2, backoff_factor=0.1,
        status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"GET", "POST"}),
        raise_on_status=False, respect_retry_after_header=False,
    )
