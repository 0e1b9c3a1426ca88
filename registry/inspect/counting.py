"""A filesystem wrapper that counts the bytes a piece of code reads.

Used to prove (in tests) and measure (in bench/inspect_tables.py) that inspection reads metadata only.
It wraps any fsspec filesystem and counts every byte returned by `cat_file`, `cat_ranges`, `cat`
and reads through `open`.
"""

from __future__ import annotations

import threading
from typing import Any


class CountingFile:
    def __init__(self, inner: Any, counter: "CountingFileSystem"):
        self._inner = inner
        self._counter = counter

    def read(self, *args: Any) -> bytes:
        data = self._inner.read(*args)
        self._counter.add(len(data))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> "CountingFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.close()


class CountingFileSystem:
    """Delegates to `fs`; `bytes_read` and `requests` say what was read."""

    def __init__(self, fs: Any):
        self._fs = fs
        self._lock = threading.Lock()
        self.bytes_read = 0
        self.requests = 0

    def add(self, n: int, requests: int = 1) -> None:
        with self._lock:
            self.bytes_read += n
            self.requests += requests

    def cat_file(self, path: str, start: Any = None, end: Any = None, **kw: Any) -> bytes:
        data = self._fs.cat_file(path, start=start, end=end, **kw)
        self.add(len(data))
        return data

    def cat_ranges(self, paths: list, starts: Any, ends: Any, **kw: Any) -> list:
        out = self._fs.cat_ranges(paths, starts, ends, **kw)
        self.add(sum(len(x) for x in out if isinstance(x, (bytes, bytearray))), requests=len(paths))
        return out

    def cat(self, path: Any, **kw: Any) -> Any:
        out = self._fs.cat(path, **kw)
        values = out.values() if isinstance(out, dict) else [out]
        self.add(sum(len(x) for x in values if isinstance(x, (bytes, bytearray))), requests=len(values))
        return out

    def open(self, path: str, mode: str = "rb", **kw: Any) -> Any:
        f = self._fs.open(path, mode, **kw)
        return CountingFile(f, self) if "r" in mode else f

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)
