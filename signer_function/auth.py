"""Who is asking, and may they read this CAVE dataset? Done the way CAVE services do it.

* The token comes from `Authorization: Bearer`, else the `middle_auth_token` cookie, else the
  `middle_auth_token` query parameter. A non-Bearer Authorization header is a 400, as in CAVE.
* `GET {AUTH_URL}/api/v1/user/cache` with the token returns the user (401 for an unknown token).
* Permissions are keyed by CAVE *dataset*: a datastack is mapped with
  `GET {AUTH_URL}/api/v1/service/datastack/table/{datastack}/dataset` (a JSON string).
* Valid and invalid answers are cached in bounded TTL caches keyed by the token's sha256 (the raw
  token is never kept or logged). The auth service being down is a 503 and never grants.
* `DevAuthenticator` reads users from a local JSON file, for the demo; `build_authenticator` refuses
  it unless `SIGNER_ALLOW_DEV_AUTH` is set.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Protocol
from urllib.parse import quote

from cachetools import TTLCache

from .config import Config
from .errors import AuthUnavailable, BadRequest, InvalidToken, MissingTos, NoPermission, NoToken

TOKEN_NAME = "middle_auth_token"
TOKEN_GRAMMAR = re.compile(r"[A-Za-z0-9._~+/=-]{1,4096}")
"""RFC 6750's b64token characters: what a CAVE token is made of. Anything else (a non-latin-1
character, a space, a control character) is refused before it reaches a header or a cache key."""


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # "header" | "cookie" | "query": logged, the value never is

    def __repr__(self) -> str:  # keep the secret out of tracebacks and debug output
        return f"Token(source={self.source!r}, value=<redacted>)"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value.encode()).hexdigest()


def extract_token(headers: Mapping[str, str], cookies: Mapping[str, str], query: Mapping[str, str]) -> Token:
    """The caller's token; `headers` must be keyed lower-case."""
    header = headers.get("authorization")
    found: Optional[Token] = None
    if header:
        if not header.startswith("Bearer "):
            raise BadRequest("the Authorization header must be 'Bearer <token>'")
        value = header[len("Bearer ") :].strip()
        if value:
            found = Token(value, "header")
    if found is None and cookies.get(TOKEN_NAME):
        found = Token(cookies[TOKEN_NAME], "cookie")
    if found is None and query.get(TOKEN_NAME):
        found = Token(query[TOKEN_NAME], "query")
    if found is not None:
        if not isinstance(found.value, str) or not TOKEN_GRAMMAR.fullmatch(found.value):
            raise InvalidToken("the token is not valid (it has characters a CAVE token never has)")
        return found
    raise NoToken("a CAVE token is required: 'Authorization: Bearer <token>' (or the middle_auth_token cookie)")


@dataclass
class User:
    id: Any
    name: str = ""
    email: str = ""
    admin: bool = False
    permissions: dict[str, list[str]] = field(default_factory=dict)
    missing_tos: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_cave(cls, data: Mapping[str, Any]) -> "User":
        return cls(
            id=data.get("id"),
            name=str(data.get("name") or ""),
            email=str(data.get("email") or ""),
            admin=bool(data.get("admin")),
            permissions={k: list(v or []) for k, v in (data.get("permissions_v2") or {}).items()},
            missing_tos=list(data.get("missing_tos") or []),
        )

    def require(self, dataset: str, permission: str) -> None:
        """Raise unless this user holds `permission` on CAVE dataset `dataset`."""
        if self.admin or permission in self.permissions.get(dataset, []):
            return
        tos = [t for t in self.missing_tos if t.get("dataset_name") == dataset]
        if tos:
            raise MissingTos(
                f"accept the terms of service for dataset {dataset!r} first",
                extra={"tos": [{k: t.get(k) for k in ("tos_id", "tos_name", "dataset_id", "dataset_name")} for t in tos]},
            )
        raise NoPermission(f"you need {permission!r} permission on CAVE dataset {dataset!r}")


class Authenticator(Protocol):
    def user(self, token: Token) -> User: ...

    def dataset_for(self, datastack: str, token: Token) -> str: ...

    def health(self) -> dict[str, Any]: ...


class MiddleAuth:
    """CAVE's middle_auth over HTTP, with TTL caches. One session (connection reuse) whose every
    call, retries included, ends within `AUTH_TIMEOUT` seconds: a deadline, not a per-read timeout."""

    def __init__(self, config: Config, session: Any = None):
        if not config.auth_url:
            raise ValueError("AUTH_URL is not set")
        self.base = config.auth_url
        self.timeout = config.auth_timeout
        self.service_token = config.auth_service_token
        self._session = session  # a deadline.DeadlinePool, made on first use (urllib3 is imported then)
        self._valid: TTLCache = TTLCache(config.auth_cache_size, config.auth_cache_ttl)
        self._invalid: TTLCache = TTLCache(config.auth_cache_size, config.auth_invalid_cache_ttl)
        self._datasets: TTLCache = TTLCache(1024, config.auth_cache_ttl)
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                from .deadline import DeadlinePool, auth_retries

                self._session = DeadlinePool(self.timeout, retries=auth_retries())
            return self._session

    def _get(self, path: str, token: str) -> Any:
        from .deadline import DeadlineExceeded, OutboundError

        try:
            return self.session.get(self.base + path, headers={"Authorization": f"Bearer {token}"})
        except DeadlineExceeded:
            raise AuthUnavailable(f"the CAVE auth service gave no complete answer within {self.timeout:g} s") from None
        except OutboundError as exc:
            raise AuthUnavailable(f"the CAVE auth service is unreachable ({exc})") from None

    def user(self, token: Token) -> User:
        key = token.digest
        with self._lock:
            if key in self._invalid:
                raise InvalidToken("the token is not valid (unknown or expired)")
            cached = self._valid.get(key)
        if cached is not None:
            return cached
        resp = self._get("/api/v1/user/cache", token.value)
        if resp.status_code in (401, 403):
            with self._lock:
                self._invalid[key] = True
            raise InvalidToken("the token is not valid (unknown or expired)")
        if resp.status_code != 200:
            raise AuthUnavailable(f"the CAVE auth service answered {resp.status_code}")
        try:
            user = User.from_cave(resp.json())
        except (ValueError, AttributeError):
            raise AuthUnavailable("the CAVE auth service answered something that is not a user") from None
        with self._lock:
            self._valid[key] = user
        return user

    def dataset_for(self, datastack: str, token: Token) -> str:
        with self._lock:
            cached = self._datasets.get(datastack)
        if cached is not None:
            return cached
        resp = self._get(
            f"/api/v1/service/datastack/table/{quote(datastack, safe='')}/dataset",
            self.service_token or token.value,
        )
        if resp.status_code == 404:
            raise NoPermission(f"datastack {datastack!r} is not known to CAVE auth")
        if resp.status_code != 200:
            raise AuthUnavailable(f"the CAVE auth service answered {resp.status_code} for datastack {datastack!r}")
        try:
            dataset = resp.json()
        except ValueError:
            dataset = None
        if not isinstance(dataset, str) or not dataset:
            raise AuthUnavailable(f"CAVE auth gave no dataset for datastack {datastack!r}")
        with self._lock:
            self._datasets[datastack] = dataset
        return dataset

    def health(self) -> dict[str, Any]:
        return {"mode": "middle_auth", "auth_url": self.base, "cached_users": len(self._valid)}


class DevAuthenticator:
    """Tokens from a local JSON file `{token: user}` (users as middle_auth returns them, plus an
    optional `datastacks: {datastack: dataset}` map). For `make demo` only."""

    def __init__(self, path: str):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        self._datastacks: dict[str, str] = dict(data.pop("datastacks", {}) or {})
        self._users = {hashlib.sha256(k.encode()).hexdigest(): User.from_cave(v) for k, v in data.items()}

    def user(self, token: Token) -> User:
        user = self._users.get(token.digest)
        if user is None:
            raise InvalidToken("the token is not valid (dev authenticator)")
        return user

    def dataset_for(self, datastack: str, token: Token) -> str:
        return self._datastacks.get(datastack, datastack)

    def health(self) -> dict[str, Any]:
        return {"mode": "dev", "warning": "dev authenticator: tokens from a local file, not CAVE"}


class Refused:
    """Stands in when the configuration is unsafe or incomplete: every request fails closed."""

    def __init__(self, reason: str):
        self.reason = reason

    def user(self, token: Token) -> User:
        raise AuthUnavailable(self.reason)

    def dataset_for(self, datastack: str, token: Token) -> str:
        raise AuthUnavailable(self.reason)

    def health(self) -> dict[str, Any]:
        return {"mode": "refused", "error": self.reason}


def build_authenticator(config: Config) -> Authenticator:
    if config.auth_mode == "dev":
        if not config.allow_dev_auth:
            return Refused("the dev authenticator is refused unless SIGNER_ALLOW_DEV_AUTH=1 is set")
        if not config.dev_tokens_file:
            return Refused("SIGNER_DEV_TOKENS (the dev token file) is not set")
        return DevAuthenticator(config.dev_tokens_file)
    if config.auth_mode != "middle_auth":
        return Refused(f"unknown SIGNER_AUTH {config.auth_mode!r}")
    if not config.auth_url:
        return Refused("AUTH_URL is not set")
    return MiddleAuth(config)
