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
# Chroma pixel c sits at luma pixel 2c + 0.5 (I420 siting as OpenCV converts it).
_CHROMA_TO_LUMA = np.array([[2.0, 0, 0.5], [0, 2.0, 0.5], [0, 0, 1.0]])
_LUMA_TO_CHROMA = np.linalg.inv(_CHROMA_TO_LUMA)


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
        self._planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._fitted_i420: np.ndarray = np.empty(0, np.uint8)
        # Fitted pixel index -> canvas pixel index.
        self.to_canvas = np.array([
            [self.kx, 0, 0.5 * self.kx - 0.5 + pad],
            [0, self.ky, 0.5 * self.ky - 0.5 + pad],
            [0, 0, 1.0],
        ])

    def render_i420(self, view: np.ndarray) -> np.ndarray:
        """The output frame as I420 (what the encoder takes), warping the planes directly:
        half the pixels of an RGB warp, and no colour conversion per frame."""
        if self._planes is None:
            y8, u8, v8 = _i420_planes(self.canvas)
            self._planes = (y8.astype(np.uint16) << 8, u8, v8)
            self._fitted_i420 = cv2.cvtColor(self.fitted, cv2.COLOR_RGB2YUV_I420)
        if np.allclose(view, np.eye(3), atol=1e-10):
            return self._fitted_i420
        y, u, v = self._planes
        w, h = self.width, self.height
        m = self.to_canvas @ view
        mc = _LUMA_TO_CHROMA @ m @ _CHROMA_TO_LUMA
        out = np.empty((h * 3 // 2, w), np.uint8)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        border = cv2.BORDER_REPLICATE
        # Luma is warped in 16 bits: OpenCV's 8-bit bilinear path blends with coarse weights,
        # which showed up as pan jitter (0.055 px against 0.042 px).
        luma = cv2.warpPerspective(y, m.astype(np.float32), (w, h), flags=flags, borderMode=border)
        cv2.convertScaleAbs(luma, dst=out[:h], alpha=1 / 256)
        # U then V follow Y as contiguous (h/2 x w/2) planes; h/2 may be odd, so index flat.
        flat, quarter = out.reshape(-1), (h // 2) * (w // 2)
        for i, plane in enumerate((u, v)):
            start = h * w + i * quarter
            warped = cv2.warpPerspective(plane, mc.astype(np.float32), (w // 2, h // 2), flags=flags,
                                         borderMode=border)
            flat[start : start + quarter] = warped.reshape(-1)
        return out

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


def _i420_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    even = rgb[: h - h % 2, : w - w % 2]  # I420 needs even sides; one edge pixel is spare
    h, w = even.shape[:2]
    yuv = cv2.cvtColor(np.ascontiguousarray(even), cv2.COLOR_RGB2YUV_I420)
    quarter = h * w // 4
    chroma = yuv[h:].reshape(-1)
    return yuv[:h], chroma[:quarter].reshape(h // 2, w // 2), chroma[quarter:].reshape(h // 2, w // 2)


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
