"""Partition values: one JSON shape for every format, in the manifest and in what the signer returns.

The same fact must look the same whichever format holds it: a date partition is `"2024-01-31"`
whether Delta wrote it as a string in its log, Iceberg as days since the epoch in an Avro manifest,
or Hive as a directory name. The rules:

* integers stay integers, booleans booleans, floats floats, strings strings;
* dates, times and timestamps are ISO 8601 strings (`2024-01-31`, `2024-01-31T10:00:00`, with
  `+00:00` when the column is zone-adjusted); Iceberg's coarser transforms are ISO strings of their
  own precision (`month` -> `2024-01`, `year` -> `2024`, `hour` -> `2024-01-31T10:00:00`);
* decimals are exact strings (`"12.50"`), UUIDs their canonical string, binary lower-case hex;
* null is `null`, including Hive's `__HIVE_DEFAULT_PARTITION__` directory name for a null value.

Format modules convert their own encodings to Python values (`datetime.date`, ...) and call
`normalise`; nothing else shapes partition values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from typing import Any, Optional

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
"""The directory name Hive, Spark and DuckDB write for a null partition value."""

EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1)


def normalise(value: Any) -> Any:
    """A partition value as a JSON scalar, by the rules above."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return None if value == HIVE_NULL else value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if hasattr(value, "isoformat"):  # pandas / numpy temporal scalars
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return normalise(value.item())
    return str(value)


# ---- Hive directory names ------------------------------------------------------------------------


def hive_is_integer(values: list[str]) -> bool:
    """True when every non-null value is an integer: pyarrow's hive discovery then types it int32.

    `__HIVE_DEFAULT_PARTITION__` is a null, not a string, so it does not turn the column into one.
    """
    seen = False
    for v in values:
        if v == HIVE_NULL:
            continue
        try:
            int(v)
        except ValueError:
            return False
        seen = True
    return seen


def hive_value(raw: str, integer: bool) -> Any:
    if raw == HIVE_NULL:
        return None
    return int(raw) if integer else raw


# ---- Iceberg's internal representations --------------------------------------------------------


def iceberg_value(value: Any, result_type: Any, transform: Optional[str] = None) -> Any:
    """An Iceberg partition value (as a manifest holds it) as a normalised JSON scalar.

    Manifests hold a date as days since 1970-01-01, a time as microseconds since midnight, a
    timestamp as microseconds since the epoch; `year`/`month`/`hour` transforms hold years, months
    or hours since the epoch as integers.
    """
    if value is None:
        return None
    t = (transform or "").lower()
    if isinstance(value, int) and not isinstance(value, bool):
        if t == "year":
            return f"{1970 + value:04d}"
        if t == "month":
            y, m = divmod(value, 12)
            return f"{1970 + y:04d}-{m + 1:02d}"
        if t == "hour":
            return (EPOCH + dt.timedelta(hours=value)).isoformat()
        kind = _type_name(result_type)
        if kind == "date":
            return (EPOCH_DATE + dt.timedelta(days=value)).isoformat()
        if kind == "time":
            return (dt.datetime.min + dt.timedelta(microseconds=value)).time().isoformat()
        if kind in ("timestamp", "timestamp_ns"):
            return _from_epoch(value, kind, tz=False)
        if kind in ("timestamptz", "timestamptz_ns"):
            return _from_epoch(value, kind, tz=True)
    return normalise(value)


def _type_name(t: Any) -> str:
    if t is None:
        return ""
    name = str(t).lower()
    return name.split("(")[0].strip()


def _from_epoch(value: int, kind: str, tz: bool) -> str:
    micros = value // 1000 if kind.endswith("_ns") else value
    out = EPOCH + dt.timedelta(microseconds=micros)
    if tz:
        out = out.replace(tzinfo=dt.timezone.utc)
    return out.isoformat()
