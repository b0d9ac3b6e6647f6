"""Domain errors. Services raise these; the web layer maps them to status codes once, in app.py."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An error a user can act on. `message` is Simplified Chinese, `code` is stable for clients."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid", details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


class NotAuthenticated(DomainError):
    status_code = 401


class TooManyRequests(DomainError):
    """Refused for now; `retry_after` (seconds) goes out as the Retry-After header."""

    status_code = 429

    def __init__(self, message: str, *, code: str = "too_many_requests", retry_after: int = 60) -> None:
        super().__init__(message, code=code, details={"retry_after": retry_after})
        self.retry_after = retry_after
