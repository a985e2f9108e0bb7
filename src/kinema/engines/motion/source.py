"""The image a camera move samples from, prepared once per job.

It is the cover-fitted input at up to `supersample` x the output size (so a zoom in keeps
detail from a large input). A move that widens past the image (zoom out) gets a margin of
mirrored, progressively blurred image around it instead of black.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from kinema.engines.motion.fit import cover_fit

_AFFINE_EPS = 1e-12


class WarpSource:
    def __init__(
        self, image: np.ndarray, width: int, height: int, *, supersample: float = 1.0,
        margin: float = 0.0,
    ) -> None:
        self.width, self.height = width, height
        self.fitted = cover_fit(image, width, height)
        src_h, src_w = image.shape[:2]
        # Never upsample past the input's own resolution; tiny gains are not worth a second copy.
        k = min(supersample, max(src_w / width, src_h / height, 1.0))
        if k < 1.1:
            k = 1.0
        base = self.fitted if k == 1.0 else cover_fit(image, round(width * k), round(height * k))
        self.kx = base.shape[1] / width
        self.ky = base.shape[0] / height
        pad = math.ceil(margin * max(self.kx, self.ky)) + 2 if margin > 0 else 0
        self.pad = pad
        self.canvas = _mirror_margin(base, pad) if pad else base
        # Fitted pixel index -> canvas pixel index.
        self.to_canvas = np.array([
            [self.kx, 0, 0.5 * self.kx - 0.5 + pad],
            [0, self.ky, 0.5 * self.ky - 0.5 + pad],
            [0, 0, 1.0],
        ])

    def render(self, view: np.ndarray) -> np.ndarray:
        """The output frame for a 3x3 map from output pixel to fitted pixel."""
        if np.allclose(view, np.eye(3), atol=1e-10):
            return self.fitted
        m = self.to_canvas @ view
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        size = (self.width, self.height)
        if abs(m[2, 0]) < _AFFINE_EPS and abs(m[2, 1]) < _AFFINE_EPS:
            a = (m[:2] / m[2, 2]).astype(np.float32)
            return cv2.warpAffine(self.canvas, a, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return cv2.warpPerspective(
            self.canvas, m.astype(np.float32), size, flags=flags, borderMode=cv2.BORDER_REPLICATE
        )


def _mirror_margin(image: np.ndarray, pad: int) -> np.ndarray:
    """Mirror the image into a `pad` px margin, blurring more the further out it reaches."""
    h, w = image.shape[:2]
    big = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    sigma = max(2.0, pad / 6)
    small = cv2.resize(big, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    blurred = cv2.resize(
        cv2.GaussianBlur(small, (0, 0), sigma / 4), (big.shape[1], big.shape[0]),
        interpolation=cv2.INTER_LINEAR,
    )
    inside = np.zeros(big.shape[:2], np.uint8)
    inside[pad : pad + h, pad : pad + w] = 255
    dist = cv2.distanceTransform(255 - inside, cv2.DIST_L2, 3)
    alpha = np.clip(dist / max(pad / 3, 1.0), 0.0, 1.0)[..., None]
    out = big * (1 - alpha) + blurred * alpha
    out = out.astype(np.uint8)
    out[pad : pad + h, pad : pad + w] = image
    return out
