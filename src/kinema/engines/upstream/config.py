"""Router settings for one model, read from its `engine_options` in KINEMA_MODELS_FILE.

    [models."kling-v2-1"]
    engine = "upstream"
    [models."kling-v2-1".engine_options]
    model = "kling-v2-1"          # the name sent upstream (default: the model's own name)
    dialect = "kling"             # or "v3"
    rehost = true                 # download into kinema's storage (false: pass the URL through)
    upstreams = [{ url = "https://api-singapore.klingai.com",
                   access_key_env = "KLING_ACCESS_KEY", secret_key_env = "KLING_SECRET_KEY" }]

Every mistake is a ConfigError at start-up, naming the option.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from kinema.errors import ConfigError

DIALECTS = ("kling", "v3")
_ENDPOINT_KEYS = {"url", "access_key", "secret_key", "api_key",
                  "access_key_env", "secret_key_env", "api_key_env"}
_KEYS = {"model", "dialect", "rehost", "upstreams", "poll_interval", "poll_max_interval",
         "timeout", "request_timeout", "retries", "retry_backoff", "max_video_bytes",
         "token_ttl", "unreachable_grace"}


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    url: str  # base URL, without the /v1 or /v3 path
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)  # never in logs or tracebacks
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class UpstreamConfig:
    upstreams: tuple[Endpoint, ...]
    model: str | None = None  # None: send the model's own name
    dialect: str = "kling"
    rehost: bool = True
    poll_interval: float = 2.0  # first wait between polls; grows while nothing changes
    poll_max_interval: float = 30.0
    timeout: float = 1800.0  # the whole task, submit to result
    request_timeout: float = 30.0  # one HTTP call
    retries: int = 4  # per call, for 1302/1303/5000-5002
    retry_backoff: float = 1.0  # first retry wait; doubles
    max_video_bytes: int = 2 * 1024**3
    token_ttl: int = 1800  # lifetime of a minted Kling JWT
    unreachable_grace: float = 120.0  # polling an unreachable upstream this long fails over

    @classmethod
    def parse(cls, options: dict[str, Any]) -> UpstreamConfig:
        unknown = set(options) - _KEYS
        if unknown:
            raise ConfigError(f"upstream engine: unknown engine_options {sorted(unknown)}; "
                              f"known: {', '.join(sorted(_KEYS))}")
        raw = options.get("upstreams")
        if not isinstance(raw, list) or not raw:
            raise ConfigError("upstream engine: engine_options.upstreams must be a non-empty list "
                              "of { url = ..., access_key/secret_key or api_key }")
        endpoints = tuple(_endpoint(i, item) for i, item in enumerate(raw))
        dialect = options.get("dialect", "kling")
        if dialect not in DIALECTS:
            raise ConfigError(f"upstream engine: dialect must be one of {DIALECTS}, not {dialect!r}")
        fields: dict[str, Any] = {"upstreams": endpoints, "dialect": dialect}
        if "model" in options:
            if not isinstance(options["model"], str) or not options["model"]:
                raise ConfigError("upstream engine: engine_options.model must be a model name")
            fields["model"] = options["model"]
        if "rehost" in options:
            if not isinstance(options["rehost"], bool):
                raise ConfigError("upstream engine: engine_options.rehost must be true or false")
            fields["rehost"] = options["rehost"]
        for key in ("poll_interval", "poll_max_interval", "timeout", "request_timeout",
                    "retry_backoff", "unreachable_grace"):
            if key in options:
                fields[key] = _positive(key, options[key], float)
        for key in ("retries", "max_video_bytes", "token_ttl"):
            if key in options:
                fields[key] = _positive(key, options[key], int)
        return cls(**fields)


def _positive(key: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"upstream engine: engine_options.{key} must be a positive number")
    return kind(value)


def _endpoint(index: int, item: Any) -> Endpoint:
    where = f"upstream engine: engine_options.upstreams[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table {{ url = ..., ... }}")
    unknown = set(item) - _ENDPOINT_KEYS
    if unknown:
        raise ConfigError(f"{where} has unknown keys {sorted(unknown)}")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url must be an http(s) URL")
    creds = {k: _secret(where, item, k) for k in ("access_key", "secret_key", "api_key")}
    if (creds["access_key"] is None) != (creds["secret_key"] is None):
        raise ConfigError(f"{where} needs both access_key and secret_key (or api_key)")
    if creds["api_key"] is not None and creds["access_key"] is not None:
        raise ConfigError(f"{where} has both api_key and access_key/secret_key; pick one")
    return Endpoint(url=url.rstrip("/"), **creds)


def _secret(where: str, item: dict[str, Any], key: str) -> str | None:
    """A credential given inline, or read from the environment variable `<key>_env` names."""
    if key in item and f"{key}_env" in item:
        raise ConfigError(f"{where} has both {key} and {key}_env; pick one")
    env = item.get(f"{key}_env")
    if env is not None:
        value = os.environ.get(str(env))
        if not value:
            raise ConfigError(f"{where}.{key}_env names {env}, which is not set")
        return value
    value = item.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(f"{where}.{key} must be a non-empty string")
    return value
