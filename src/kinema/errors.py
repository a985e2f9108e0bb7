"""One error tree. Each error carries its Kling code and HTTP status; the API turns
it into each dialect's error shape in one place (kinema.api.errors)."""

from __future__ import annotations


class KinemaError(Exception):
    code = 5000
    http_status = 500
    reason = "INTERNAL_ERROR"  # the v3 dialect's `reason`

    def __init__(self, message: str = "internal error", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AuthError(KinemaError):
    code, http_status, reason = 1000, 401, "AUTHENTICATION_FAILED"


class AuthMissing(AuthError):
    code = 1001


class AuthInvalid(AuthError):
    code = 1002


class TokenNotYetValid(AuthError):
    code = 1003


class TokenExpired(AuthError):
    code = 1004


class InvalidRequest(KinemaError):
    code, http_status, reason = 1200, 400, "INVALID_REQUEST_BODY"


class InvalidParameter(InvalidRequest):
    code = 1201

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field)


class NotFound(KinemaError):
    code, http_status, reason = 1203, 404, "NOT_FOUND"


class RateLimited(KinemaError):
    code, http_status, reason = 1302, 429, "RATE_LIMITED"


class TooManyTasks(KinemaError):
    code, http_status, reason = 1303, 429, "TOO_MANY_TASKS"


class Unavailable(KinemaError):
    code, http_status, reason = 5001, 503, "SERVICE_UNAVAILABLE"


class UpstreamTimeout(KinemaError):
    code, http_status, reason = 5002, 504, "TIMEOUT"


class ConfigError(Exception):
    """Bad settings or model file: raised at start-up, never per request."""


class TaskFailure(Exception):
    """An engine failure whose message is safe and useful to show the user; `code` is the
    Kling code a dialect reports for it (a 1201 when the request itself was the problem)."""

    def __init__(self, message: str, *, code: int = 5000) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


RETRYABLE_CODES = frozenset({1302, 1303, 5000, 5001, 5002})
