"""Test inputs and decoding of real outputs."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image


def textured(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture with structure, good for measuring motion."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 16), max(2, width // 16), 3))
    img = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize(
        (width, height), Image.BICUBIC)).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    img[..., 0] = 0.6 * img[..., 0] + 0.4 * (xx / width * 255)
    img[..., 1] = 0.6 * img[..., 1] + 0.4 * (yy / height * 255)
    return img.clip(0, 255).astype(np.uint8)


def detailed(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A texture with many sharp shapes, so feature matchers find corners everywhere."""
    import cv2

    rng = np.random.default_rng(seed)
    img = textured(width, height, seed).copy()
    for _ in range(width * height // 900):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(4, 18))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + size, y + size // 2 + 2), color, -1)
        else:
            cv2.circle(img, (x, y), size // 2, color, -1)
    return img


def encode(img: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt)
    return buf.getvalue()


def b64(img: np.ndarray | bytes, fmt: str = "PNG") -> str:
    data = img if isinstance(img, bytes) else encode(img, fmt)
    return base64.b64encode(data).decode()


def png_b64(width: int = 640, height: int = 360, seed: int = 0) -> str:
    return b64(textured(width, height, seed))


@dataclass
class Decoded:
    width: int
    height: int
    fps: float
    frames: list[np.ndarray]
    pix_fmt: str
    codec: str

    @property
    def count(self) -> int:
        return len(self.frames)


def decode(source: bytes | str | Path, keep: slice | None = None) -> Decoded:
    """Decode an MP4 (bytes or path) to RGB frames with PyAV."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return Decoded(width=stream.width, height=stream.height, fps=float(stream.average_rate),
                       frames=frames[keep] if keep else frames, pix_fmt=stream.codec_context.pix_fmt,
                       codec=stream.codec_context.name)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def cover_fit(img: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = max(width / w, height / h)
    resized = np.asarray(Image.fromarray(img).resize(
        (round(w * scale), round(h * scale)), Image.BICUBIC))
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return resized[y0:y0 + height, x0:x0 + width]
