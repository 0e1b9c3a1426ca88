"""Human-readable sizes, shared by the command line and the catalog site (light: no imports)."""

from __future__ import annotations

from typing import Optional


def human_bytes(n: Optional[int], missing: str = "?") -> str:
    """1536 -> '1.5 KB'; `missing` when the size is unknown."""
    if n is None:
        return missing
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PB"
