"""Exceptions a reader of the catalog can act on: each message says what happened and what to do.

They subclass the registry's own errors, so the command line maps them to exit codes unchanged
(unknown name: 2; refused or unreachable: 1), and `except registry.NotFound` keeps working.
"""

from __future__ import annotations

from typing import Any, Optional

from ..errors import NotFound, RegistryError


class ClientError(RegistryError):
    """Base of the client's errors. `status` and `code` are the HTTP status / signer error code."""

    status: Optional[int] = None
    code: Optional[str] = None

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 body: Optional[dict[str, Any]] = None):
        super().__init__(message)
        self.status = status if status is not None else self.status
        self.code = code if code is not None else self.code
        self.body = body or {}


class CatalogUnavailable(ClientError):
    """The catalog site or the signer could not be reached (network error, timeout, 5xx)."""


class AuthenticationError(ClientError):
    """401: no CAVE token was found, or CAVE does not know it."""

    status = 401


class PermissionDenied(ClientError):
    """403: the token is valid but may not read this dataset (or the table is outside the signer's reach)."""

    status = 403


class TermsOfServiceRequired(PermissionDenied):
    """403 `missing_tos`: accept the listed terms of service, then try again. `.terms` lists them."""

    code = "missing_tos"

    def __init__(self, message: str, *, terms: list[dict[str, Any]], **kw: Any):
        super().__init__(message, **kw)
        self.terms = terms


class DatasetNotFound(NotFound, ClientError):
    """404 / not in the catalog: unknown dataset or version (or a draft the signer will not sign)."""

    status = 404


class SignerNotConfigured(ClientError):
    """Reading needs the signer's URL: pass `signer_url=`, set FEATURE_REGISTRY_SIGNER_URL, or use a
    site that advertises one."""


class ReadError(ClientError):
    """An engine could not read what the signer handed out."""
