"""End frame: the clip ends on image_tail through a motion-compensated transition."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kinema.engines.motion import MotionEngine
from tests.unit.motion_helpers import H, W, decode, make_job, psnr, render, shift, textured


def _pair(dx: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    big = textured(9, W + dx, H)
    a, b = big[:, dx : dx + W], big[:, :W]  # in b the content sits dx px further right
    half = big[:, dx // 2 : dx // 2 + W]
    return np.ascontiguousarray(a), np.ascontiguousarray(b), np.ascontiguousarray(half)


def test_ends_on_tail_through_motion(tmp_path: Path) -> None:
    a, b, half = _pair()
    job = make_job(tmp_path, image=a, image_tail=b, num_frames=25)
    frames = decode(render(job, MotionEngine({"variants": False}))[0].path)
    assert len(frames) == 25
    assert psnr(frames[0], a) > 30
    assert psnr(frames[-1], b) > 30
    mid = frames[12]
    dx, _ = shift(a, mid)
    assert 9 < dx < 15, dx  # content slid half way, not faded
    crossfade = ((a.astype(np.float32) + b) / 2).astype(np.uint8)
    assert psnr(mid[:, 30:-30], half[:, 30:-30]) > psnr(mid[:, 30:-30], crossfade[:, 30:-30]) + 3
    assert mid.astype(np.float32).std() > 0.9 * a.astype(np.float32).std()  # sharp, not blended


def test_last_frame_matches_tail_with_variants(tmp_path: Path) -> None:
    a, _, _ = _pair()
    tail = textured(11, 640, 400)  # different size: cover-fitted
    from kinema.engines.motion.fit import cover_fit

    job = make_job(tmp_path, image=a, image_tail=tail, num_frames=20, seed=7)
    frames = decode(render(job)[0].path)
    assert psnr(frames[-1], cover_fit(tail, W, H)) > 30


def test_tail_only_moves_into_tail(tmp_path: Path) -> None:
    tail = textured(4)
    job = make_job(tmp_path, image=None, image_tail=tail, num_frames=24)
    frames = decode(render(job)[0].path)
    assert psnr(frames[-1], tail) > 30
    assert psnr(frames[0], tail) < 25  # it starts elsewhere and moves in
