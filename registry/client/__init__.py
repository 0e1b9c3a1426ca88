"""The Python client: `from registry import Catalog` (see docs/client.md)."""

from .catalog import Catalog
from .errors import (
    AuthenticationError,
    CatalogUnavailable,
    ClientError,
    DatasetNotFound,
    PermissionDenied,
    ReadError,
    SignerNotConfigured,
    TermsOfServiceRequired,
)
from .pinned import DeprecatedVersionWarning, JoinNotDeclared, MaterializationMismatch, PinnedCatalog
from .search import SearchResult, SearchResults
from .signer import SignedFile, SignedTable
from .version import DatasetVersion, Join, RootIdJoinWarning, VersionDiff

__all__ = [
    "Catalog", "DatasetVersion", "SearchResult", "SearchResults", "SignedFile", "SignedTable", "Join",
    "VersionDiff", "RootIdJoinWarning", "ClientError", "CatalogUnavailable", "AuthenticationError",
    "PermissionDenied", "TermsOfServiceRequired", "DatasetNotFound", "SignerNotConfigured", "ReadError",
    "PinnedCatalog", "MaterializationMismatch", "JoinNotDeclared", "DeprecatedVersionWarning",
]
