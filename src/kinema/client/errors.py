"""Kling's error codes as typed exceptions, so callers catch what they mean."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinema.client.models import Task

# The codes worth a retry (rate, concurrency, transient server trouble).
RETRYABLE = frozenset({1302, 1303, 5000, 5001, 5002})


class KlingError(Exception):
    """An error reply from a Kling-compatible API; `code` is Kling's numeric code."""

    def __init__(self, message: str, *, code: int = 0, http_status: int = 0,
                 request_id: str = "") -> None:
        super().__init__(f"[{code}] {message}" if code else message)
        self.message, self.code, self.http_status, self.request_id = (
            message, code, http_status, request_id)

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE


class AuthenticationError(KlingError):
    """1000-1004: missing, invalid, not-yet-valid or expired credentials."""


class AccountError(KlingError):
    """1100-1103: the account is blocked, in arrears, out of resources, or lacks access."""


class InvalidRequestError(KlingError):
    """1200-1201: the request or one of its fields is invalid (the message names it)."""


class NotFoundError(KlingError):
    """1202-1203: no such method, task or model."""


class PolicyError(KlingError):
    """1300, 1301, 1304: platform, content or IP policy refused the request."""


class RateLimitError(KlingError):
    """1302-1303: too many requests or too many tasks at once (retryable)."""


class ServerError(KlingError):
    """5000-5002: an internal error, maintenance, or a backlog timeout (retryable)."""


class ConnectionFailed(KlingError):
    """The server could not be reached or did not answer in time (no Kling code)."""


class TaskFailedError(KlingError):
    """The task ended with status `failed`; `task.status_msg` says why."""

    def __init__(self, task: Task) -> None:
        super().__init__(f"task {task.id} failed: {task.status_msg or 'no reason given'}")
        self.task = task


class WaitTimeout(KlingError, TimeoutError):
    """wait() gave up before the task finished; the task itself carries on."""

    def __init__(self, task: Task, timeout: float) -> None:
        super().__init__(f"task {task.id} still {task.status} after {timeout:g} s")
        self.task = task


def _family(code: int) -> type[KlingError]:
    if 1000 <= code <= 1099:
        return AuthenticationError
    if 1100 <= code <= 1199:
        return AccountError
    if code in (1202, 1203):
        return NotFoundError
    if 1200 <= code <= 1299:
        return InvalidRequestError
    if code in (1302, 1303):
        return RateLimitError
    if 1300 <= code <= 1399:
        return PolicyError
    if 5000 <= code <= 5999:
        return ServerError
    return KlingError


def error_for(code: int, message: str, *, http_status: int = 0, request_id: str = "") -> KlingError:
    """The typed exception for a Kling error code."""
    return _family(code)(message, code=code, http_status=http_status, request_id=request_id)


_HTTP_CODES = {400: 1200, 401: 1000, 403: 1103, 404: 1203, 429: 1302, 500: 5000, 502: 5000,
               503: 5001, 504: 5002}


def error_from_reply(http_status: int, body: object) -> KlingError:
    """Read an error from any reply: Kling's envelope, or a bare HTTP status (proxies, gateways)."""
    if isinstance(body, dict):
        code, message = body.get("code"), body.get("message")
        if isinstance(body.get("error"), dict):  # a reseller's {"error": {...}} shape
            code, message = body["error"].get("code"), body["error"].get("message")
        if isinstance(code, int) and code:
            return error_for(code, str(message or "error"), http_status=http_status,
                             request_id=str(body.get("request_id") or ""))
    code = _HTTP_CODES.get(http_status, 5000 if http_status >= 500 else 1200)
    return error_for(code, f"HTTP {http_status} with no Kling error body", http_status=http_status)
