"""Outbound calls retry like the SDKs do, within a total deadline: against a loopback server that
drops connections, answers 503 or stalls, as scripted per request."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
import requests

from registry.client.httpcache import HttpCache
from registry.client.retry import retrying_session
from registry.client.signer import SignerClient
from tests.conftest import serving


class Flaky(http.server.ThreadingHTTPServer):
    """Answers each request by the next step of `script`: 'drop', 503, ('stall', seconds) or 200."""

    daemon_threads = True

    def __init__(self, script):
        self.script, self.seen, self.lock = list(script), 0, threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    def next_step(self):
        with self.lock:
            self.seen += 1
            return self.script.pop(0) if self.script else 200


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        step = self.server.next_step()
        if step == "drop":
            self.close_connection = True
            self.connection.shutdown(2)  # no status line: the client sees the connection end
            return
        if isinstance(step, tuple):
            time.sleep(step[1])
            step = 200
        body = json.dumps({"ok": step == 200, "files": [], "dataset": "d", "version": "1"}).encode()
        self.send_response(step)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


def test_dropped_connections_and_503s_are_retried_for_a_get(tmp_path):
    server = Flaky(["drop", 503, "drop"])
    with serving(server) as url:
        got = HttpCache(tmp_path, cache=False).get(url + "/index.json")
    assert json.loads(got.body)["ok"] is True and server.seen == 4


def test_the_signer_post_is_retried(tmp_path):
    server = Flaky([503, "drop"])
    with serving(server) as url:
        client = SignerClient(url, lambda: "tok", "https://global.daf-apis.com")
        answer = client.sign("d", "1")
    assert answer.raw["dataset"] == "d" and server.seen == 3


def test_retries_stop_at_the_deadline(tmp_path):
    server = Flaky([("stall", 1.0)] * 50)
    session = retrying_session(retries=50, backoff=0.05, deadline=1.5)
    with serving(server) as url:
        t = time.monotonic()
        with pytest.raises(requests.RequestException):
            session.get(url + "/x", timeout=(1, 0.3))
        took = time.monotonic() - t
    assert 1.5 <= took < 1.5 + 0.3 + 0.5, took  # the deadline plus at most one attempt's timeout
    assert 3 <= server.seen < 50


def test_a_lasting_503_comes_back_as_the_answer_after_the_retries(tmp_path):
    server = Flaky([503] * 10)
    session = retrying_session(retries=2, backoff=0.01, deadline=10)
    with serving(server) as url:
        resp = session.get(url + "/x", timeout=5)
    assert resp.status_code == 503 and server.seen == 3
