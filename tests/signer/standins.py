"""Local HTTP stand-ins for the two services we cannot run: CAVE middle_auth and Google's IAM /
OAuth / STS endpoints. They speak the real protocols (paths, headers, bodies, status codes) and
count what they are asked, so tests can prove caching, session reuse and bounded concurrency.
Both bind 127.0.0.1 only and stop when their fixture ends.
"""

from __future__ import annotations

import base64
import collections
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, unquote, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

Route = Callable[["Handler", str, dict[str, list[str]], bytes], tuple[int, Any]]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable
    server: "StandIn"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.record(method, url.path, self.client_address)
        fault = self.server.next_fault(url.path)
        if fault == "drop":  # read the request, then hang up without a byte of answer
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if isinstance(fault, float):  # a hang (bounded: the handler thread ends after it)
            time.sleep(fault)
        if isinstance(fault, int):
            status, payload = fault, {"error": {"code": fault, "message": "scripted fault"}}
        else:
            status, payload = self.server.route(self, method, url.path, parse_qs(url.query), body)
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            if not isinstance(fault, float):
                raise
            self.close_connection = True  # the caller gave up on a scripted hang: expected

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls: collections.Counter = collections.Counter()
        self.clients: dict[str, set] = collections.defaultdict(set)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        # Scripted faults for the next requests whose path contains a key: "drop" (hang up after
        # reading the request), an int (answer that status), a float (sleep that long, then answer).
        self.faults: dict[str, collections.deque] = {}

    def script(self, path_part: str, *faults: Any) -> None:
        with self._lock:
            self.faults[path_part] = collections.deque(faults)

    def next_fault(self, path: str) -> Any:
        with self._lock:
            for part, queue in self.faults.items():
                if part in unquote(path) and queue:
                    return queue.popleft()
        return None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "StandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def record(self, method: str, path: str, client: tuple) -> None:
        with self._lock:
            self.calls[f"{method} {path}"] += 1
            self.clients[path].add(client)

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.clients.clear()

    def route(self, h: Handler, method: str, path: str, query: dict, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError


class CaveAuth(StandIn):
    """middle_auth: `GET /auth/api/v1/user/cache` and the datastack -> dataset lookup."""

    PREFIX = "/auth"

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, dict[str, Any]] = {}
        self.datastacks: dict[str, str] = {}
        self.failing = False  # answer 500 to everything (auth "down" but reachable)
        self.unavailable_next = 0  # answer 503 to this many next requests (a blip a retry rides out)

    @property
    def auth_url(self) -> str:
        return self.url + self.PREFIX

    def add_user(self, token: str, uid: int, permissions: dict[str, list[str]], missing_tos: Optional[list] = None, admin: bool = False) -> None:
        self.users[token] = {
            "id": uid,
            "name": f"user{uid}",
            "email": f"user{uid}@example.org",
            "admin": admin,
            "groups": ["default"],
            "permissions_v2": permissions,
            "missing_tos": missing_tos or [],
            "service_account": False,
            "parent_id": None,
            "datasets_admin": [],
        }

    def _token(self, h: Handler) -> Optional[str]:
        header = h.headers.get("Authorization") or ""
        return header[len("Bearer ") :] if header.startswith("Bearer ") else None

    def route(self, h: Handler, method: str, path: str, query: dict, body: bytes) -> tuple[int, Any]:
        if self.failing:
            return 500, {"error": "internal"}
        with self._lock:
            blip = self.unavailable_next > 0
            self.unavailable_next -= 1 if blip else 0
        if blip:
            return 503, {"error": "unavailable"}
        token = self._token(h)
        if path == f"{self.PREFIX}/api/v1/user/cache" and method == "GET":
            if token is None or token not in self.users:
                return 401, {"error": "invalid token"}
            return 200, self.users[token]
        prefix = f"{self.PREFIX}/api/v1/service/datastack/table/"
        if path.startswith(prefix) and path.endswith("/dataset") and method == "GET":
            if token is None or token not in self.users:
                return 401, {"error": "invalid token"}
            ds = unquote(path[len(prefix) : -len("/dataset")])
            if ds not in self.datastacks:
                return 404, {"error": f"datastack {ds} not found"}
            return 200, self.datastacks[ds]
        return 404, {"error": "not found"}


def new_service_account(email: str = "signer@test-project.iam.gserviceaccount.com") -> tuple[Any, dict[str, Any]]:
    """A throwaway RSA key and the service-account JSON that holds it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": email,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return key, info


class GoogleApis(StandIn):
    """OAuth token endpoint (JWT bearer grant, signature checked), IAM credentials `signBlob`
    (signs with the service account's key, as Google does) and STS token exchange (records the
    Credential Access Boundary it was asked for)."""

    def __init__(self, key: Any, email: str, signblob_delay: float = 0.0) -> None:
        super().__init__()
        self.key = key
        self.email = email
        self.tokens: set[str] = set()
        self.downscoped: dict[str, Any] = {}
        self.boundaries: list[dict[str, Any]] = []
        self.signblob_delay = signblob_delay
        self.in_flight = 0
        self.max_in_flight = 0

    def _bearer(self, h: Handler) -> Optional[str]:
        header = h.headers.get("Authorization") or ""
        return header[7:] if header.startswith("Bearer ") else None

    def _issue(self) -> str:
        token = f"ya29.standin-{len(self.tokens)}-{time.monotonic_ns()}"
        self.tokens.add(token)
        return token

    def route(self, h: Handler, method: str, path: str, query: dict, body: bytes) -> tuple[int, Any]:
        if path == "/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return 400, {"error": "unsupported_grant_type"}
            header_b64, claims_b64, sig_b64 = form["assertion"].split(".")
            pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
            try:
                self.key.public_key().verify(
                    base64.urlsafe_b64decode(pad(sig_b64)),
                    f"{header_b64}.{claims_b64}".encode(),
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
            except Exception:
                return 400, {"error": "invalid_grant"}
            return 200, {"access_token": self._issue(), "expires_in": 3599, "token_type": "Bearer"}
        sign_path = f"/v1/projects/-/serviceAccounts/{self.email}:signBlob"
        if unquote(path) == sign_path and method == "POST":
            if self._bearer(h) not in self.tokens:
                return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                if self.signblob_delay:
                    time.sleep(self.signblob_delay)
                payload = base64.b64decode(json.loads(body)["payload"])
                sig = self.key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
                return 200, {"keyId": "0123456789abcdef", "signedBlob": base64.b64encode(sig).decode()}
            finally:
                with self._lock:
                    self.in_flight -= 1
        if path == "/v1/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
                return 400, {"error": "invalid_request"}
            if form.get("subject_token") not in self.tokens:
                return 400, {"error": "invalid_grant"}
            raw_options = form.get("options") or "{}"
            # google-auth percent-encodes the JSON once more inside the form body, as STS expects.
            options = json.loads(raw_options if raw_options.startswith("{") else unquote(raw_options))
            boundary = options.get("accessBoundary")
            if not boundary:
                return 400, {"error": "invalid_request", "error_description": "no access boundary"}
            self.boundaries.append(boundary)
            token = f"downscoped-{len(self.boundaries)}"
            self.downscoped[token] = boundary
            return 200, {
                "access_token": token,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer",
                "expires_in": 3599,
            }
        return 404, {"error": "not found"}


class Trickle:
    """An HTTP server that answers every request one byte at a time, `interval` seconds apart, for
    at most `limit` bytes (a slow-loris *server*): per-read timeouts never fire against it. Binds
    127.0.0.1; each connection is bounded by `limit`, and `stop()` ends the listener."""

    def __init__(self, interval: float = 0.1, limit: int = 80) -> None:
        import socket

        self.interval, self.limit = interval, limit
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def start(self) -> "Trickle":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        import socket

        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: Any) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * self.limit
        try:
            conn.settimeout(2)
            conn.recv(65536)
            for i in range(min(self.limit, len(answer))):
                if self._stop.is_set():
                    break
                conn.sendall(answer[i : i + 1])
                time.sleep(self.interval)
        except OSError:
            pass
        finally:
            conn.close()
