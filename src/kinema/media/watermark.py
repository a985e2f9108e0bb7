"""A visible corner watermark: text (or a PNG) blended into the bottom-right corner.

The overlay is rendered once per size; applying it touches only its own rectangle, so the
watermarked video differs from the clean one only there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_OPACITY = 0.85


def _text_overlay(text: str, height: int) -> np.ndarray:
    """RGBA uint8 patch with white text and a soft dark outline."""
    size = max(12, round(height * 0.045))
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        font = ImageFont.load_default()
    stroke = max(1, size // 12)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font, stroke_width=stroke)
    pad = stroke + 2
    box = (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad)
    patch = Image.new("RGBA", box, (0, 0, 0, 0))
    ImageDraw.Draw(patch).text(
        (pad - left, pad - top), text, font=font, fill=(255, 255, 255, 255),
        stroke_width=stroke, stroke_fill=(0, 0, 0, 160),
    )
    return np.asarray(patch)


def _image_overlay(path: Path, width: int, height: int) -> np.ndarray:
    logo = Image.open(path).convert("RGBA")
    target_h = max(12, round(height * 0.08))
    scale = min(target_h / logo.height, width * 0.25 / logo.width)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    return np.asarray(logo.resize(size, Image.Resampling.LANCZOS))


def make_watermarker(
    width: int, height: int, text: str = "kinema", image: Path | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A function that returns a watermarked copy of an RGB (height, width, 3) frame."""
    overlay = _image_overlay(image, width, height) if image else _text_overlay(text, height)
    margin = max(4, round(min(width, height) * 0.025))
    oh = min(overlay.shape[0], height - 2 * margin)
    ow = min(overlay.shape[1], width - 2 * margin)
    overlay = overlay[:oh, :ow]
    y0, x0 = height - margin - oh, width - margin - ow
    alpha = overlay[..., 3:4].astype(np.float32) / 255 * _OPACITY
    colour = overlay[..., :3].astype(np.float32) * alpha
    keep = 1.0 - alpha

    def apply(frame: np.ndarray) -> np.ndarray:
        out = frame.copy()
        roi = out[y0 : y0 + oh, x0 : x0 + ow]
        roi[:] = np.rint(roi * keep + colour).astype(np.uint8)
        return out

    apply.box = (x0, y0, ow, oh)  # type: ignore[attr-defined]
    return apply
