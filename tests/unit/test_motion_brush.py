"""Motion brush: a region follows its trajectory (bottom-left origin); static areas stay still."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kinema.engines.motion.brush import catmull_rom, path_offsets
from kinema.errors import TaskFailure
from kinema.job import BrushStroke
from tests.unit.motion_helpers import H, W, decode, make_job, psnr, render, textured

# A red square centred at output (120, 160); masks are drawn at half the output size.
SQ = (100, 140, 140, 180)  # x0, y0, x1, y1 in output pixels
# Mask coordinates (240x160, origin bottom-left): start on the square, arc up, land right.
TRAJ = ((60.0, 80.0), (120.0, 110.0), (180.0, 80.0))


def _scene() -> tuple[np.ndarray, np.ndarray]:
    img = textured(5, grey=True)
    x0, y0, x1, y1 = SQ
    img[y0:y1, x0:x1] = (230, 20, 20)
    mask = np.zeros((H // 2, W // 2), np.uint8)
    mask[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 255
    return img, mask


def _red_centroid(frame: np.ndarray) -> tuple[float, float]:
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    ys, xs = np.nonzero((r > 150) & (g < 90) & (b < 90))
    assert len(xs) > 200, "the red square vanished"
    return float(xs.mean()), float(ys.mean())


def test_region_follows_trajectory(tmp_path: Path) -> None:
    img, mask = _scene()
    job = make_job(tmp_path, image=img, num_frames=25,
                   dynamic_masks=(BrushStroke(mask=mask, trajectory=TRAJ),))
    frames = decode(render(job)[0].path)
    assert psnr(frames[0], img) > 30
    # Mask (x, y) -> output (2x, 2 * (160 - y)); the path is symmetric, so its middle is the apex.
    expected = {0: (120.0, 160.0), 12: (240.0, 100.0), 24: (360.0, 160.0)}
    for k, (ex, ey) in expected.items():
        cx, cy = _red_centroid(frames[k])
        assert abs(cx - ex) < 4 and abs(cy - ey) < 4, (k, cx, cy)


def test_hole_is_filled(tmp_path: Path) -> None:
    img, mask = _scene()
    job = make_job(tmp_path, image=img, num_frames=12,
                   dynamic_masks=(BrushStroke(mask=mask, trajectory=TRAJ),))
    last = decode(render(job)[0].path)[-1]
    x0, y0, x1, y1 = SQ
    hole = last[y0:y1, x0:x1].astype(int)
    assert not ((hole[..., 0] > 150) & (hole[..., 1] < 90)).any()  # no red left behind
    assert np.all(np.abs(hole[..., 0] - hole[..., 1]) < 40)  # filled from the grey surroundings


def test_static_area_is_still(tmp_path: Path) -> None:
    img, mask = _scene()
    static = np.zeros((H // 2, W // 2), np.uint8)
    static[55:100, 135:170] = 255  # output x 270-340, y 110-200: the square's path crosses it
    job = make_job(tmp_path, image=img, num_frames=25, static_mask=static,
                   dynamic_masks=(BrushStroke(mask=mask, trajectory=TRAJ),))
    frames = decode(render(job)[0].path)
    inner = (slice(126, 184), slice(286, 324))  # 16 px (a macroblock) inside: codec edge effects
    ref = frames[0][inner].astype(int)
    for f in frames:
        diff = np.abs(f[inner].astype(int) - ref).max(axis=2)
        assert diff.max() <= 3 and (diff > 2).mean() < 0.002  # codec rounding at most
    assert psnr(frames[0][inner], img[inner]) > 30


def test_spline_passes_through_points_at_constant_speed() -> None:
    pts = np.array([[0.0, 0.0], [10.0, 5.0], [30.0, 0.0], [40.0, 20.0]])
    curve = catmull_rom(pts)
    for p in pts:
        assert np.min(np.linalg.norm(curve - p, axis=1)) < 1e-6
    offsets = path_offsets(curve, np.linspace(0, 1, 50))
    speed = np.linalg.norm(np.diff(offsets, axis=0), axis=1)
    assert speed.std() / speed.mean() < 0.05


def test_mask_with_wrong_aspect_fails(tmp_path: Path) -> None:
    img, _ = _scene()
    job = make_job(tmp_path, image=img, dynamic_masks=(
        BrushStroke(mask=np.full((100, 100), 255, np.uint8), trajectory=((1, 1), (5, 5))),))
    with pytest.raises(TaskFailure, match="aspect"):
        render(job)
