"""Compile the registry's documents into a static, self-contained catalog site.

Public entry: :func:`site_builder.build.build_site`. The generator depends on the model and the
storage seam only (never on the signer): documents in, Markdown + JSON + a search index out, then
MkDocs (Material theme) turns the Markdown into HTML.
"""

from __future__ import annotations

__all__ = ["build_site", "BuildReport"]


def __getattr__(name: str):  # lazy: importing the package must not pull in mkdocs
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(name)
