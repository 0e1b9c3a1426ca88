"""moto's S3 API server on loopback, as the tests and benchmarks run it.

This is moto's own server (its WSGI application, request handler and werkzeug's threaded server,
exactly what `moto.server.ThreadedMotoServer` assembles) with one difference: the host -> service
routing is memoized. moto 5.2 routes every request by listing its own package directory and
`stat`-ing ~180 entries (`moto.backends.list_of_moto_modules`), then trying every service's URL
regex: about 1 ms of server CPU per request, 30-40% of what a range GET costs it. Routing depends
on the host alone, so memoizing it changes no response; it only stops the test server, a single
GIL-bound process, from being the slowest part of every S3 test and benchmark.

`stock=True` serves moto's application unchanged (bench/inspect_tables.py reports both).

    python -m tests.s3_server --port 9000 [--stock]     # in its own process (benchmarks)
"""

from __future__ import annotations

import argparse
import functools
import logging
import threading
from typing import Any, Optional

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class MemoizedRoutingApplication(DomainDispatcherApplication):
    """moto's dispatcher, with `get_backend_for_host` (a pure function of the host) memoized."""

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one instance per server, lives as long as it
    def get_backend_for_host(self, host: Optional[str]) -> Any:
        return super().get_backend_for_host(host)


class S3Server:
    """moto in server mode on 127.0.0.1, in a daemon thread of this process."""

    def __init__(self, port: int = 0, *, stock: bool = False):
        app_class = DomainDispatcherApplication if stock else MemoizedRoutingApplication
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(
            "127.0.0.1", port, app_class(create_backend_app), threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="moto-s3")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "S3Server":
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the `python -m tests.s3_server` process)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stock", action="store_true", help="moto's application unchanged")
    args = parser.parse_args()
    server = S3Server(args.port, stock=args.stock)
    server.serve_forever()


if __name__ == "__main__":
    main()
