"""Motion brush: masked regions travel along their trajectories; static areas stay still.

Each trajectory (Kling: 2-77 points, mask pixels, origin bottom-left) is flipped to image
rows, mapped through the same cover-fit as the image, joined by a centripetal Catmull-Rom
spline and travelled at constant speed (arc-length parametrised). A region is cut out with
a feathered edge (alpha is 1 over the whole mask and fades out just outside it, so frame 0
is the input exactly), and the hole it leaves is inpainted once, on a downscaled copy.
Static-brush pixels are copied from the input last, so they are identical in every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kinema.engines.motion.fit import CoverFit, cover_fit
from kinema.errors import TaskFailure
from kinema.job import BrushStroke

_INPAINT_MAX_SIDE = 640


def catmull_rom(points: np.ndarray, per_segment: int = 32) -> np.ndarray:
    """A dense centripetal Catmull-Rom curve through `points` (M, 2)."""
    keep = np.concatenate([[True], np.any(np.diff(points, axis=0) != 0, axis=1)])
    pts = points[keep]
    if len(pts) < 2:
        return pts
    ext = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
    out = []
    u = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        t1 = np.linalg.norm(p1 - p0) ** 0.5 + 1e-9
        t2 = t1 + np.linalg.norm(p2 - p1) ** 0.5 + 1e-9
        t3 = t2 + np.linalg.norm(p3 - p2) ** 0.5 + 1e-9
        t = t1 + u * (t2 - t1)
        a1 = (t1 - t) / t1 * p0 + t / t1 * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / t2 * a1 + t / t2 * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    out.append(pts[-1:])
    return np.vstack(out)


def path_offsets(curve: np.ndarray, times: np.ndarray, wobble: float = 0.0) -> np.ndarray:
    """(N, 2) offsets from the curve's start at constant speed; `wobble` px sways sideways."""
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    length = np.concatenate([[0.0], np.cumsum(seg)])
    if length[-1] <= 1e-9:
        return np.zeros((len(times), 2))
    s = times * length[-1]
    pos = np.stack([np.interp(s, length, curve[:, 0]), np.interp(s, length, curve[:, 1])], axis=1)
    idx = np.clip(np.searchsorted(length, s, side="right") - 1, 0, len(seg) - 1)
    tangent = (curve[idx + 1] - curve[idx]) / np.maximum(seg[idx], 1e-9)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    sway = wobble * np.sin(math.pi * times)[:, None] * normal
    return pos - curve[0] + sway


@dataclass
class _Region:
    colour: np.ndarray  # (h, w, 3) uint8 patch of the input around the region
    alpha: np.ndarray  # (h, w) float32 feathered alpha
    x0: int
    y0: int
    offsets: np.ndarray  # (N, 2) per-frame displacement


def _fit_mask(mask: np.ndarray, width: int, height: int, image_aspect: float) -> np.ndarray:
    if mask.ndim == 3:
        mask = mask[..., 0]
    mh, mw = mask.shape
    if abs(math.log((mw / mh) / image_aspect)) > 0.03:
        raise TaskFailure("the brush mask's aspect ratio must match the input image")
    fitted = cover_fit(mask.astype(np.uint8), width, height)
    return np.where(fitted > 127, 255, 0).astype(np.uint8)


class BrushScene:
    def __init__(
        self, image: np.ndarray, strokes: tuple[BrushStroke, ...], static_mask: np.ndarray | None,
        width: int, height: int, times: np.ndarray, *, wobble: float = 0.0,
    ) -> None:
        self.fitted = cover_fit(image, width, height)
        aspect = image.shape[1] / image.shape[0]
        feather = max(2, round(0.008 * min(width, height)))
        regions: list[_Region] = []
        holes = np.zeros((height, width), np.uint8)
        for i, stroke in enumerate(strokes):
            mask = _fit_mask(stroke.mask, width, height, aspect)
            if not mask.any():
                raise TaskFailure(f"dynamic_masks[{i}].mask is empty")
            if len(stroke.trajectory) < 2:
                raise TaskFailure(f"dynamic_masks[{i}].trajectories needs at least 2 points")
            mh, mw = stroke.mask.shape[:2]
            fit = CoverFit.between(mw, mh, width, height)
            pts = np.array([fit.point(x, mh - y) for x, y in stroke.trajectory], dtype=np.float64)
            offsets = path_offsets(catmull_rom(pts), times, wobble)
            holes |= mask
            regions.append(self._region(mask, feather, offsets))
        self.regions = regions
        self.background = self._inpaint(holes) if regions else self.fitted
        self.static: np.ndarray | None = None
        if static_mask is not None:
            self.static = _fit_mask(static_mask, width, height, aspect) > 0

    def _region(self, mask: np.ndarray, feather: int, offsets: np.ndarray) -> _Region:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * feather + 1, 2 * feather + 1))
        grown = cv2.dilate(mask, kernel)
        alpha = cv2.GaussianBlur(grown.astype(np.float32) / 255, (0, 0), feather / 2.5)
        alpha = np.maximum(alpha, mask.astype(np.float32) / 255)
        alpha[alpha < 1 / 255] = 0
        ys, xs = np.nonzero(alpha)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        return _Region(
            colour=self.fitted[y0:y1, x0:x1].copy(), alpha=alpha[y0:y1, x0:x1].copy(),
            x0=int(x0), y0=int(y0), offsets=offsets,
        )

    def _inpaint(self, holes: np.ndarray) -> np.ndarray:
        h, w = holes.shape
        k = min(1.0, _INPAINT_MAX_SIDE / max(h, w))
        small = cv2.resize(self.fitted, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(holes, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
        small_mask = cv2.dilate((small_mask > 0).astype(np.uint8) * 255, np.ones((3, 3), np.uint8))
        filled = cv2.inpaint(small, small_mask, 5, cv2.INPAINT_TELEA)
        filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)
        out = self.fitted.copy()
        np.copyto(out, filled, where=holes[..., None] > 0)
        return out

    def frame(self, k: int) -> np.ndarray:
        if not self.regions:
            return self.fitted
        out = self.background.copy()
        h, w = out.shape[:2]
        for r in self.regions:
            dx, dy = r.offsets[k]
            fx, fy = r.x0 + dx, r.y0 + dy
            ix, iy = math.floor(fx), math.floor(fy)
            ph, pw = r.alpha.shape
            m = np.array([[1, 0, fx - ix], [0, 1, fy - iy]], dtype=np.float32)
            size = (int(pw) + 1, int(ph) + 1)
            colour = cv2.warpAffine(r.colour, m, size, flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
            alpha = cv2.warpAffine(r.alpha, m, size, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            xa, ya, xb, yb = max(ix, 0), max(iy, 0), min(ix + pw + 1, w), min(iy + ph + 1, h)
            if xa >= xb or ya >= yb:
                continue
            a = alpha[ya - iy : yb - iy, xa - ix : xb - ix, None]
            c = colour[ya - iy : yb - iy, xa - ix : xb - ix].astype(np.float32)
            roi = out[ya:yb, xa:xb]
            roi[:] = np.rint(roi * (1 - a) + c * a).astype(np.uint8)
        if self.static is not None:
            np.copyto(out, self.fitted, where=self.static[..., None])
        return out
