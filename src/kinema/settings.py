"""Typed settings from KINEMA_* environment variables, read once per process."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KINEMA_", extra="ignore")

    data_dir: Path = Path(".kinema")
    database_url: str | None = None
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    api_keys: str = ""
    access_keys: str = ""

    allow_private_urls: bool = False
    models_file: Path | None = None
    workers: int = Field(1, ge=0)
    webhook_secret: str | None = None
    broker_url: str | None = None
    storage_url: str | None = None
    s3_endpoint_url: str | None = None

    url_ttl: int = Field(86400, ge=60)
    lease_seconds: float = Field(30.0, gt=0)
    progress_seconds: float = Field(0.5, gt=0)
    max_attempts: int = Field(3, ge=1)
    max_active_tasks: int = Field(0, ge=0)
    max_body_bytes: int = 160 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    fetch_timeout: float = 15.0
    callback_timeout: float = 10.0
    callback_attempts: int = Field(8, ge=1)
    callback_backoff: float = Field(2.0, gt=0)
    sweep_seconds: float = Field(30.0, gt=0)
    # Scale-out: a submitted task unclaimed this long is published again (lost broker message).
    republish_seconds: float = Field(120.0, gt=0)
    # Redis re-delivers an unacknowledged message after this; keep it above the longest task.
    broker_visibility_timeout: int = Field(7200, ge=60)
    watermark_text: str = "kinema"
    watermark_image: Path | None = None
    log_level: str = "INFO"

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kinema.db'}"

    @cached_property
    def files_url(self) -> str:
        return self.storage_url or f"file://{self.data_dir / 'files'}"

    @cached_property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @cached_property
    def bearer_keys(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())

    @cached_property
    def access_pairs(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for item in self.access_keys.split(","):
            if item.strip():
                access, sep, secret = item.strip().partition(":")
                if not sep or not access or not secret:
                    raise ValueError("KINEMA_ACCESS_KEYS entries must be ACCESS:SECRET")
                pairs[access] = secret
        return pairs

    @property
    def open_access(self) -> bool:
        return not self.bearer_keys and not self.access_pairs
