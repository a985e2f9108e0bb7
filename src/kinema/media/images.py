"""Turning a base64 string or URL into checked image bytes, and bytes into pixels.

Everything here is judged by the bytes, never by a name, and decoding has a pixel cap so
that a decompression bomb is a parameter error rather than a crash."""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kinema.errors import InvalidParameter
from kinema.media.fetch import FetchError, UnsafeURL, fetch_bytes

_DATA_PREFIX = re.compile(r"^data:[\w/+.-]*;base64,", re.IGNORECASE)
MIN_SIDE = 300
MAX_RATIO = 2.5


@dataclass(frozen=True, kw_only=True)
class ImageInput:
    data: bytes
    format: str  # "png" | "jpeg"
    width: int
    height: int

    @property
    def ratio(self) -> float:
        return self.width / self.height


@dataclass(frozen=True, kw_only=True)
class ImageLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 50_000_000
    allow_private_urls: bool = False
    fetch_timeout: float = 15.0


def sniff_format(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def load_image(value: object, field: str, limits: ImageLimits, *, min_side: int = MIN_SIDE,
               check_ratio: bool = True) -> ImageInput:
    """Validate one image field (raw base64, a data: URI, or an http(s) URL)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameter(field, "must be a non-empty base64 string or an http(s) URL")
    value = value.strip()
    if "://" in value[:16]:
        try:
            data = fetch_bytes(value, allow_private=limits.allow_private_urls,
                               max_bytes=limits.max_bytes, timeout=limits.fetch_timeout)
        except (UnsafeURL, FetchError) as exc:
            raise InvalidParameter(field, f"URL refused: {exc}") from None
    else:
        data = _decode_base64(value, field, limits.max_bytes)
    return inspect_image(data, field, limits, min_side=min_side, check_ratio=check_ratio)


def _decode_base64(value: str, field: str, max_bytes: int) -> bytes:
    value = _DATA_PREFIX.sub("", value, count=1)
    if len(value) > max_bytes * 4 // 3 + 8:
        raise InvalidParameter(field, f"image must be at most {max_bytes // (1024 * 1024)} MB")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter(field, "is neither valid base64 nor an http(s) URL") from None


def inspect_image(data: bytes, field: str, limits: ImageLimits, *, min_side: int = MIN_SIDE,
                  check_ratio: bool = True) -> ImageInput:
    if len(data) > limits.max_bytes:
        raise InvalidParameter(field, f"image must be at most {limits.max_bytes // (1024 * 1024)} MB")
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidParameter(field, "image must be JPEG or PNG (judged by its content)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width * height > limits.max_pixels:
                raise InvalidParameter(
                    field, f"image has {width * height} pixels, more than the cap of {limits.max_pixels}")
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im.load()
    except InvalidParameter:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidParameter(field, "image is too large to decode (pixel cap)") from None
    except Exception:  # Pillow raises many types for corrupt data
        raise InvalidParameter(field, "image could not be decoded (corrupt or truncated)") from None
    if min(width, height) < min_side:
        raise InvalidParameter(field, f"image sides must be at least {min_side} px, got {width}x{height}")
    if check_ratio and not (1 / MAX_RATIO <= width / height <= MAX_RATIO):
        raise InvalidParameter(
            field, f"aspect ratio must be between 1:2.5 and 2.5:1, got {width}x{height}")
    return ImageInput(data=data, format=fmt, width=width, height=height)


def to_rgb(data: bytes, max_pixels: int = 50_000_000) -> np.ndarray:
    """Decode checked image bytes to an RGB uint8 array (EXIF rotation applied)."""
    from PIL import ImageOps

    Image.MAX_IMAGE_PIXELS = max_pixels
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def to_mask(data: bytes, max_pixels: int = 50_000_000) -> np.ndarray:
    """Decode a brush mask to HxW uint8 (255 = painted). Alpha wins over luminance."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    with Image.open(io.BytesIO(data)) as im:
        if im.mode in ("RGBA", "LA") or "transparency" in im.info:
            alpha = np.asarray(im.convert("RGBA"))[..., 3]
            if alpha.min() < 255:
                return np.where(alpha > 127, 255, 0).astype(np.uint8)
        gray = np.asarray(im.convert("L"))
    return np.where(gray > 127, 255, 0).astype(np.uint8)
