"""One HTTP call to one upstream: auth (a minted Kling JWT or a bearer key), the private
address guard, and the split between "unreachable" and "answered with an error"."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from kinema.engines.upstream.config import Endpoint
from kinema.errors import RETRYABLE_CODES
from kinema.media.fetch import UnsafeURL, check_url


class Unreachable(Exception):
    """The upstream did not answer usefully: network error, timeout, or a 5xx without a body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """The upstream answered with an error in its own terms, mapped to a Kling code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or None when the body was not JSON


class Tokens:
    """Kling JWTs minted from an access key and secret, reused until near their expiry."""

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def header(self, endpoint: Endpoint) -> dict[str, str]:
        if endpoint.api_key:
            return {"authorization": f"Bearer {endpoint.api_key}"}
        if not (endpoint.access_key and endpoint.secret_key):
            return {}
        now = time.time()
        with self._lock:
            token, expires = self._cache.get(endpoint.access_key, ("", 0.0))
            if now > expires - min(300, self.ttl / 2):
                token = jwt.encode({"iss": endpoint.access_key, "exp": int(now) + self.ttl,
                                    "nbf": int(now) - 5}, endpoint.secret_key, algorithm="HS256",
                                   headers={"typ": "JWT"})
                self._cache[endpoint.access_key] = token, now + self.ttl
        return {"authorization": f"Bearer {token}"}


class Transport:
    def __init__(self, *, tokens: Tokens, timeout: float, allow_private: bool) -> None:
        self.tokens, self.allow_private = tokens, allow_private
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def call(self, endpoint: Endpoint, method: str, path: str, *,
             json: dict[str, Any] | None = None, params: dict[str, str] | None = None) -> Reply:
        url = endpoint.url + path
        try:
            check_url(url, allow_private=self.allow_private)
        except UnsafeURL as exc:
            raise Unreachable(f"refused by the address guard: {exc}") from None
        headers = {"content-type": "application/json", **self.tokens.header(endpoint)}
        try:
            resp = self.client.request(method, url, json=json, params=params, headers=headers)
        except httpx.TimeoutException:
            raise Unreachable("timed out") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"connection failed ({type(exc).__name__})") from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 500 and not isinstance(body, dict):
            raise Unreachable(f"HTTP {resp.status_code}")
        if resp.is_redirect:
            raise Unreachable(f"HTTP {resp.status_code} redirect to {resp.headers.get('location')}")
        return Reply(resp.status_code, body)

    def close(self) -> None:
        self.client.close()


# HTTP status -> Kling code, for upstreams whose error body carries no Kling code.
HTTP_CODES = {400: 1201, 401: 1000, 403: 1103, 404: 1203, 422: 1201, 429: 1302,
              500: 5000, 502: 5001, 503: 5001, 504: 5002}


def code_for_status(status: int) -> int:
    return HTTP_CODES.get(status, 5000 if status >= 500 else 1200)
