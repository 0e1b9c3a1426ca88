"""The signer's error answers: each carries the HTTP status and the contract's error code.

Messages are written for the person holding the token and never include the token itself.
"""

from __future__ import annotations

from typing import Any, Optional


class SignerError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, extra: Optional[dict[str, Any]] = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class BadRequest(SignerError):
    status, code = 400, "bad_request"


class PayloadTooLarge(SignerError):
    status, code = 413, "payload_too_large"


class NoToken(SignerError):
    status, code = 401, "no_token"


class InvalidToken(SignerError):
    status, code = 401, "invalid_token"


class NoPermission(SignerError):
    status, code = 403, "no_permission"


class MissingTos(SignerError):
    status, code = 403, "missing_tos"


class NotFound(SignerError):
    status, code = 404, "not_found"


class LocationNotAllowed(SignerError):
    status, code = 403, "location_not_allowed"


class AuthUnavailable(SignerError):
    status, code = 503, "auth_unavailable"


class SigningFailed(SignerError):
    """The storage side (IAM signBlob, STS) failed: a 502, never a partial answer."""

    status, code = 502, "signing_failed"


class MethodNotAllowed(SignerError):
    status, code = 405, "method_not_allowed"
