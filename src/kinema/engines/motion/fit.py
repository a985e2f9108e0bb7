"""Cover-fitting: scale an image to cover the output size, then centre-crop.

Masks and trajectories go through the same mapping as the image, so a brush drawn on
the input lands on the same content in the video.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CoverFit:
    """Maps source pixel coordinates to output pixel coordinates: out = src * scale - offset."""

    scale: float
    offset_x: float
    offset_y: float
    width: int
    height: int

    @classmethod
    def between(cls, src_w: int, src_h: int, width: int, height: int) -> CoverFit:
        scale = max(width / src_w, height / src_h)
        return cls(
            scale=scale,
            offset_x=(src_w * scale - width) / 2,
            offset_y=(src_h * scale - height) / 2,
            width=width,
            height=height,
        )

    def point(self, x: float, y: float) -> tuple[float, float]:
        # Pixel-edge coordinates (0 = left edge of the first pixel), as trajectories use.
        return x * self.scale - self.offset_x, y * self.scale - self.offset_y


def cover_fit(image: np.ndarray, width: int, height: int, *, nearest: bool = False) -> np.ndarray:
    """Scale `image` to cover width x height and centre-crop it (INTER_AREA when shrinking)."""
    src_h, src_w = image.shape[:2]
    fit = CoverFit.between(src_w, src_h, width, height)
    new_w = max(width, round(src_w * fit.scale))
    new_h = max(height, round(src_h * fit.scale))
    if nearest:
        interp = cv2.INTER_NEAREST
    elif fit.scale < 1:
        interp = cv2.INTER_AREA
    else:
        interp = cv2.INTER_CUBIC
    resized = image if (new_w, new_h) == (src_w, src_h) else cv2.resize(
        image, (new_w, new_h), interpolation=interp
    )
    x0 = (new_w - width) // 2
    y0 = (new_h - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
