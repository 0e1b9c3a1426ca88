"""Connectomics feature registry: publish, find and read feature tables computed from CAVE data.

    from registry import Catalog, publish
    publish("spec.yaml", registry="gs://lab-registry")
    Catalog("https://catalog.lab.org").search("synapse", mat_version=1078)

Imports are lazy so that light users (the signer imports `registry.model`) never pay for pyarrow.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "DatasetDocument",
    "DatasetSpec",
    "Registry",
    "publish",
    "deprecate",
    "BadInput",
    "SpecInvalid",
    "AlreadyPublished",
    "NotFound",
    "TableUnreadable",
    "RegistryError",
]

_LAZY = {
    "Catalog": "registry.client",
    "DatasetDocument": "registry.model",
    "DatasetSpec": "registry.model",
    "Registry": "registry.documents",
    "publish": "registry.publish",
    "deprecate": "registry.publish",
    "BadInput": "registry.errors",
    "SpecInvalid": "registry.errors",
    "AlreadyPublished": "registry.errors",
    "NotFound": "registry.errors",
    "TableUnreadable": "registry.errors",
    "RegistryError": "registry.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from .client import Catalog
    from .documents import Registry
    from .errors import AlreadyPublished, BadInput, NotFound, RegistryError, SpecInvalid, TableUnreadable
    from .model import DatasetDocument, DatasetSpec
    from .publish import deprecate, publish


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'registry' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cached: later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps the public functions bound to their names.

    Importing a submodule sets it as an attribute of its package, so the first
    `import registry.publish` (by the CLI, a test, or `__getattr__` itself) would turn
    `registry.publish` from the function into the module, and a pipeline's second
    `registry.publish(...)` call would fail with "'module' object is not callable". The import
    system's assignment of a submodule over a public name is ignored; the submodule stays
    reachable through `sys.modules` / `importlib.import_module("registry.publish")`.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
