"""Frame counts and sizes the pipelines accept, and fitting frames to the job's size."""

from __future__ import annotations

import cv2
import numpy as np


def valid_frame_count(target: int, temporal_factor: int, *, max_frames: int | None = None) -> int:
    """The count of the form k*temporal_factor + 1 nearest to `target` (ties go up).

    Video VAEs compress time by `temporal_factor` after one leading frame, so only these
    counts decode to exactly that many frames (4k+1 for Wan, 8k+1 for LTX-Video).
    `max_frames` caps the result at the largest valid count not above it.
    """
    if temporal_factor < 1:
        raise ValueError(f"temporal factor must be >= 1, got {temporal_factor}")
    k = (2 * (max(target, 1) - 1) + temporal_factor) // (2 * temporal_factor)
    count = k * temporal_factor + 1
    if max_frames is not None and count > max_frames:
        count = max(1, (max_frames - 1) // temporal_factor * temporal_factor + 1)
    return count


def run_size(
    width: int, height: int, multiple: int, *, max_area: int | None = None
) -> tuple[int, int]:
    """A (width, height) the model accepts, near the asked size and its aspect ratio.

    Both sides snap to the nearest multiple of `multiple`; with `max_area` the size is
    first scaled down (aspect kept) so a model trained at e.g. 832x480 is not asked for
    1080p. The result is resized back to the job's size afterwards.
    """
    w, h = float(width), float(height)
    if max_area is not None and w * h > max_area:
        scale = (max_area / (w * h)) ** 0.5
        w, h = w * scale, h * scale
    snap_w = max(multiple, round(w / multiple) * multiple)
    snap_h = max(multiple, round(h / multiple) * multiple)
    if max_area is not None:
        # rounding up may overshoot the area; step the larger side down until it fits
        while snap_w * snap_h > max_area and max(snap_w, snap_h) > multiple:
            if snap_w >= snap_h:
                snap_w -= multiple
            else:
                snap_h -= multiple
    return int(snap_w), int(snap_h)


def cover_fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale `frame` (H, W, C) to cover width x height, then centre-crop to it."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(frame, (new_w, new_h), interpolation=interp)
    x0, y0 = (new_w - width) // 2, (new_h - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """A float frame in [0, 1] (the pipelines' numpy output) as uint8 RGB."""
    if frame.dtype == np.uint8:
        return frame
    return (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
