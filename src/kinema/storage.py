"""Where videos and inputs live: local files (served by the API with signed, expiring URLs)
or S3-compatible storage (presigned URLs)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from kinema.errors import ConfigError
from kinema.settings import Settings


class Storage(Protocol):
    def put_file(self, key: str, path: Path, content_type: str = "video/mp4") -> None: ...
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def url(self, key: str, ttl: int) -> str: ...
    def ping(self) -> None: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts) or key.startswith("/"):
        raise ValueError(f"bad storage key {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: Path, base_url: str, secret: bytes) -> None:
        self.root = root
        self.base_url = base_url
        self._secret = secret
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_file(self, key: str, path: Path, content_type: str = "video/mp4") -> None:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)  # readers never see half a file

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, dest)

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def sign(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def verify(self, key: str, expires: str, sig: str) -> bool:
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(self.sign(key, int(expires)), sig)

    def url(self, key: str, ttl: int) -> str:
        expires = int(time.time()) + ttl
        query = urlencode({"expires": expires, "sig": self.sign(key, expires)})
        return f"{self.base_url}/files/{_safe_key(key)}?{query}"

    def ping(self) -> None:
        if not self.root.is_dir():
            raise OSError(f"storage folder {self.root} is missing")


class S3Storage:
    # SigV4 presigned URLs live at most 7 days.
    MAX_TTL = 7 * 24 * 3600

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None) -> None:
        import boto3  # optional extra: kinema[scale]
        from botocore.config import Config

        if not bucket:
            raise ConfigError("KINEMA_STORAGE_URL must name a bucket: s3://bucket/prefix")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        # S3-compatible servers (MinIO, Ceph, moto) want path-style addressing; AWS takes both.
        config = Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"},
                        s3={"addressing_style": "path" if endpoint_url else "auto"})
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_safe_key(key)}" if self.prefix else _safe_key(key)

    def put_file(self, key: str, path: Path, content_type: str = "video/mp4") -> None:
        self.client.upload_file(str(path), self.bucket, self._key(key),
                                ExtraArgs={"ContentType": content_type})

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def url(self, key: str, ttl: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=min(ttl, self.MAX_TTL))

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def url_signer(storage: Storage, ttl: int) -> Callable[[str], tuple[str, int]]:
    """key -> (URL, seconds it stays valid): what every reply and callback body uses."""

    def sign(key: str) -> tuple[str, int]:
        return storage.url(key, ttl), ttl

    return sign


def signing_secret(settings: Settings) -> bytes:
    """One secret per data folder, so every process sharing it signs alike."""
    path = settings.data_dir / "signing.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"signing.key.{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic create-if-absent across processes
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def build_storage(settings: Settings) -> Storage:
    url = settings.files_url
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.path), settings.base_url, signing_secret(settings))
    if parts.scheme == "s3":
        if settings.url_ttl > S3Storage.MAX_TTL:
            raise ConfigError(f"KINEMA_URL_TTL is {settings.url_ttl}s, but S3 presigned URLs last at "
                              f"most {S3Storage.MAX_TTL}s (7 days)")
        return S3Storage(parts.netloc, parts.path, settings.s3_endpoint_url)
    raise ConfigError(f"KINEMA_STORAGE_URL must be file://... or s3://bucket/prefix, not {url!r}")
