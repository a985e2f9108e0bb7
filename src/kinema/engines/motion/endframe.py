"""End frame: a motion-compensated transition from the first image to `image_tail`.

Dense optical flow (DIS) is computed both ways on a downscaled pair and upsampled. Frame t
samples the first image a fraction t along the forward flow and the tail (1 - t) back
along the backward flow, and blends the two with weight t, so content slides into place
instead of cross-fading. At t = 0 and t = 1 the maps are the identity, so the clip starts
on the input and ends exactly on the tail.
"""

from __future__ import annotations

import cv2
import numpy as np

from kinema.engines.motion.fit import cover_fit


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    return np.asarray(dis.calc(a, b, None), dtype=np.float32)


class Transition:
    def __init__(
        self, image: np.ndarray, tail: np.ndarray, width: int, height: int, *, flow_side: int = 480
    ) -> None:
        self.a = cover_fit(image, width, height)
        self.b = cover_fit(tail, width, height)
        k = min(1.0, flow_side / max(width, height))
        size = (max(8, round(width * k)), max(8, round(height * k)))
        ga = cv2.cvtColor(cv2.resize(self.a, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        gb = cv2.cvtColor(cv2.resize(self.b, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        sx, sy = width / size[0], height / size[1]
        self.fwd = self._upsample(_flow(ga, gb), (width, height), sx, sy)
        self.bwd = self._upsample(_flow(gb, ga), (width, height), sx, sy)
        gx, gy = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        self.grid: np.ndarray = np.stack([gx, gy], axis=-1)

    @staticmethod
    def _upsample(flow: np.ndarray, size: tuple[int, int], sx: float, sy: float) -> np.ndarray:
        up = np.asarray(cv2.resize(flow, size, interpolation=cv2.INTER_LINEAR), dtype=np.float32)
        up[..., 0] *= sx
        up[..., 1] *= sy
        return up

    def _map(self, flow: np.ndarray, amount: float) -> np.ndarray:
        return (self.grid - np.float32(amount) * flow).astype(np.float32, copy=False)

    def frame(self, t: float) -> np.ndarray:
        if t <= 0.0:
            return self.a
        if t >= 1.0:
            return self.b
        flags = cv2.INTER_LINEAR
        from_a = cv2.remap(  # type: ignore[call-overload]
            self.a, self._map(self.fwd, t), None, flags, borderMode=cv2.BORDER_REPLICATE
        )
        from_b = cv2.remap(  # type: ignore[call-overload]
            self.b, self._map(self.bwd, 1 - t), None, flags, borderMode=cv2.BORDER_REPLICATE
        )
        return cv2.addWeighted(from_a, 1 - t, from_b, t, 0.0)
