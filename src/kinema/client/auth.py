"""Credentials: a bearer API key, or Kling's access key + secret (a self-minted, refreshed JWT)."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Generator

import httpx
import jwt

TOKEN_TTL = 1800  # seconds a minted token lives
REFRESH_MARGIN = 300  # mint a new one this long before the old one expires


class ApiKeyAuth(httpx.Auth):
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.api_key}"
        yield request


class AccessKeyAuth(httpx.Auth):
    """HS256 JWT with iss = access key, exp = now + 30 min, nbf = now - 5 s (clock skew)."""

    def __init__(self, access_key: str, secret_key: str, *, ttl: int = TOKEN_TTL) -> None:
        self.access_key, self.secret_key, self.ttl = access_key, secret_key, ttl
        self._token, self._expires = "", 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            now = time.time()
            if not self._token or now > self._expires - min(REFRESH_MARGIN, self.ttl / 2):
                self._expires = now + self.ttl
                with warnings.catch_warnings():
                    # PyJWT warns on secrets under 32 bytes; the secret is the server's choice.
                    warnings.simplefilter("ignore")
                    self._token = jwt.encode(
                        {"iss": self.access_key, "exp": int(self._expires), "nbf": int(now) - 5},
                        self.secret_key, algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"})
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request


def make_auth(api_key: str | None, access_key: str | None, secret_key: str | None) -> httpx.Auth | None:
    if api_key and (access_key or secret_key):
        raise ValueError("give either api_key or access_key + secret_key, not both")
    if bool(access_key) != bool(secret_key):
        raise ValueError("access_key and secret_key go together")
    if api_key:
        return ApiKeyAuth(api_key)
    if access_key and secret_key:
        return AccessKeyAuth(access_key, secret_key)
    return None
