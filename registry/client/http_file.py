"""Read one signed Parquet file with ranged GETs, from any process: a Spark or Ray worker.

Workers get only a URL, its size and its partition values. This module is shipped to them by value
(`cloudpickle.register_pickle_by_value`), so it imports nothing but the standard library and
pyarrow: a cluster's executors need not have the registry installed. Only GETs with a `Range`
header are sent (a URL signed for GET is not valid for HEAD on S3, and the size is already known),
so pyarrow reads the footer and then only the column chunks asked for: projection reaches the wire.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from typing import Any, Iterator, Optional, Sequence

RETRIES = 3
TIMEOUT = 120


class RangeFile(io.RawIOBase):
    """A seekable read-only file over an HTTP(S) URL of known size."""

    def __init__(self, url: str, size: int):
        super().__init__()
        self.url, self.size, self.pos = url, int(size), 0
        self.requests = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _get(self, start: int, end: int) -> bytes:
        req = urllib.request.Request(self.url, headers={"Range": f"bytes={start}-{end - 1}"})
        for attempt in range(RETRIES):
            try:
                with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 (signed https URL)
                    data = resp.read()
                    if resp.status == 200 and len(data) == self.size:  # server ignored Range
                        data = data[start:end]
                    self.requests += 1
                    self.bytes_read += len(data)
                    return data
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or attempt == RETRIES - 1:
                    raise OSError(f"GET of a signed file answered {exc.code} (expired URL? re-sign and retry)") from None
            except (urllib.error.URLError, TimeoutError):
                if attempt == RETRIES - 1:
                    raise
            time.sleep(0.2 * 2**attempt)
        raise OSError("unreachable")

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.pos)
        if n <= 0:
            return 0
        data = self._get(self.pos, self.pos + n)
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.pos
        n = min(n, self.size - self.pos)
        if n <= 0:
            return b""
        data = self._get(self.pos, self.pos + n)
        self.pos += len(data)
        return data


def arrow_type(type_str: Optional[str]) -> Any:
    """A partition column's pyarrow type from the registry's type string (string when unknown)."""
    import pyarrow as pa

    try:
        return pa.type_for_alias(type_str) if type_str else pa.string()
    except (ValueError, KeyError):
        return pa.string()


def read_batches(url: str, size: int, partition: dict[str, Any], schema: Any,
                 columns: Optional[Sequence[str]], batch_size: int = 65_536) -> Iterator[Any]:
    """RecordBatches of one file in `schema` (partition values added as constant columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Unbuffered on purpose: pyarrow asks for the footer, then for exactly the column chunks it
    # needs; a buffer in between would turn each of those into a larger GET.
    with RangeFile(url, size) as raw:
        pf = pq.ParquetFile(raw)
        in_file = set(pf.schema_arrow.names)
        data_cols = [n for n in schema.names if n in in_file and (columns is None or n in columns)]
        for batch in pf.iter_batches(batch_size=batch_size, columns=data_cols):
            arrays = []
            for f in schema:
                if f.name in in_file:
                    arrays.append(batch.column(batch.schema.get_field_index(f.name)).cast(f.type))
                else:
                    arrays.append(pa.array([partition.get(f.name)] * batch.num_rows).cast(f.type))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def read_rows_of(rows: Iterator[Any], schema: Any, columns: Optional[Sequence[str]]) -> Iterator[Any]:
    """For `mapInArrow` / `map_batches`: each input row names a file (url, size, partition JSON)."""
    for batch in rows:
        d = batch.to_pydict() if hasattr(batch, "to_pydict") else batch
        for url, size, part in zip(d["url"], d["size"], d["partition"]):
            yield from read_batches(url, size, json.loads(part) if isinstance(part, str) else part, schema, columns)
