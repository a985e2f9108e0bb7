"""Who is calling: a bearer API key, or Kling's JWT signed with an access key's secret.
Each key is its own tenant; with no keys configured, one anonymous tenant."""

from __future__ import annotations

import hashlib

import jwt
from fastapi import Request

from kinema.errors import AuthInvalid, AuthMissing, TokenExpired, TokenNotYetValid
from kinema.settings import Settings

ANONYMOUS = "anonymous"


def tenant_for_key(key: str) -> str:
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def authenticate(header: str | None, settings: Settings) -> str:
    if settings.open_access:
        return ANONYMOUS
    if not header or not header.strip():
        raise AuthMissing("Authorization header is empty")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthInvalid("Authorization must be 'Bearer <token>'")
    if token in settings.bearer_keys:
        return tenant_for_key(token)
    if token.count(".") == 2 and settings.access_pairs:
        return _jwt_tenant(token, settings.access_pairs)
    raise AuthInvalid("Authorization is invalid: unknown API key or token")


def _jwt_tenant(token: str, pairs: dict[str, str]) -> str:
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise AuthInvalid("Authorization is invalid: malformed token") from None
    secret = pairs.get(issuer) if isinstance(issuer, str) else None
    if secret is None:
        raise AuthInvalid("Authorization is invalid: unknown access key")
    try:
        jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]}, leeway=0)
    except jwt.ExpiredSignatureError:
        raise TokenExpired("token has expired (exp)") from None
    except jwt.ImmatureSignatureError:
        raise TokenNotYetValid("token is not valid yet (nbf)") from None
    except jwt.PyJWTError as exc:
        raise AuthInvalid(f"Authorization is invalid: {exc}") from None
    return f"ak:{issuer}"


def current_tenant(request: Request) -> str:
    return authenticate(request.headers.get("authorization"), request.app.state.settings)
