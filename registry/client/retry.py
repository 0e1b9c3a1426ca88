"""`requests` sessions that retry like the cloud SDKs do, within a total deadline per call.

The client talks to a static site and the signer over the internet: a dropped connection, a 502
from a load balancer or a 429 should cost a retry, not a failed notebook cell. urllib3's `Retry`
does the retrying (exponential backoff with jitter, `Retry-After` honoured); what it lacks is a
bound on the whole call, so `DeadlineRetry` stops retrying (and shortens its backoff sleeps) once
the call's deadline has passed. The deadline starts when the session's `request` is entered and
lives in a thread-local, so one session can serve many threads. A call can take at most the
deadline plus one attempt's own timeout.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from typing_extensions import Self

DEFAULT_DEADLINE = 60.0
RETRY_STATUSES = (429, 500, 502, 503, 504)
_CALL = threading.local()


class DeadlineRetry(Retry):
    """A `Retry` that gives up when the current call's deadline has passed."""

    def increment(self, method: Optional[str] = None, url: Optional[str] = None, response: Any = None,
                  error: Optional[Exception] = None, _pool: Any = None, _stacktrace: Optional[TracebackType] = None,
                  ) -> Self:
        deadline: Optional[float] = getattr(_CALL, "deadline", None)
        if deadline is not None and time.monotonic() >= deadline:
            raise MaxRetryError(_pool, url or "", error)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep_for_retry(self, response: Any = None) -> bool:
        """`Retry-After`, but never past the deadline."""
        retry_after = self.get_retry_after(response) if response is not None else None
        if not retry_after:
            return False
        deadline = getattr(_CALL, "deadline", None)
        if deadline is not None:
            retry_after = min(retry_after, max(0.0, deadline - time.monotonic()))
        time.sleep(retry_after)
        return True

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        deadline = getattr(_CALL, "deadline", None)
        if deadline is not None:
            backoff = min(backoff, max(0.0, deadline - time.monotonic()))
        if backoff > 0:
            time.sleep(backoff)


class DeadlineSession(requests.Session):
    """A session whose every call has a total deadline across its retries."""

    def __init__(self, deadline: float = DEFAULT_DEADLINE):
        super().__init__()
        self.deadline = deadline

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        outer = getattr(_CALL, "deadline", None)
        _CALL.deadline = time.monotonic() + self.deadline
        try:
            return super().request(*args, **kwargs)
        finally:
            _CALL.deadline = outer


def retrying_session(*, retries: int = 3, backoff: float = 0.25, deadline: float = DEFAULT_DEADLINE,
                     methods: tuple[str, ...] = ("GET", "HEAD", "POST")) -> requests.Session:
    """A session retrying connection errors, read errors and `RETRY_STATUSES` up to `retries`
    times (POST included: `/sign` has no side effect but an audit line), within `deadline` s."""
    session = DeadlineSession(deadline)
    policy = DeadlineRetry(total=retries, connect=retries, read=retries, status=retries, other=0,
                           backoff_factor=backoff, backoff_max=10, backoff_jitter=0.25,
                           status_forcelist=RETRY_STATUSES, allowed_methods=frozenset(methods),
                           respect_retry_after_header=True, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
