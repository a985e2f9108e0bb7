"""Shared helpers for the motion-engine tests: synthetic images, jobs, decoding, geometry."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from kinema.engines.motion import MotionEngine
from kinema.job import Job, RenderedVideo

W, H, FPS = 480, 320, 24


def textured(seed: int = 0, width: int = W, height: int = H, *, grey: bool = False) -> np.ndarray:
    """A seeded RGB test picture: smoothed noise at two scales, gradients and shapes."""
    rng = np.random.default_rng(seed)
    fine = cv2.GaussianBlur(rng.uniform(0, 255, (height, width, 3)).astype(np.float32), (0, 0), 1.5)
    coarse = cv2.resize(rng.uniform(0, 255, (height // 16 + 1, width // 16 + 1, 3)).astype(
        np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    gx = np.linspace(0, 60, width, dtype=np.float32)[None, :, None]
    gy = np.linspace(0, 40, height, dtype=np.float32)[:, None, None]
    img = 0.45 * fine + 0.45 * coarse + gx + gy - 30
    for _ in range(12):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cv2.circle(img, (x, y), int(rng.integers(6, 30)), colour, -1, cv2.LINE_AA)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if grey:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    return img


def make_job(tmp: Path, **kw: Any) -> Job:
    base: dict[str, Any] = {
        "task_id": "t", "model": "kinema-motion", "image": textured(), "width": W, "height": H,
        "fps": FPS, "num_frames": 24, "out_dir": tmp,
    }
    base.update(kw)
    return Job(**base)


def render(job: Job, engine: MotionEngine | None = None, **kw: Any) -> list[RenderedVideo]:
    engine = engine or MotionEngine()
    return engine.generate(job, on_progress=lambda f: None, should_stop=lambda: False, **kw)


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def probe(path: Path) -> tuple[int, int, float, int]:
    """(width, height, fps, frame count) of a video file."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(video=0))
        return s.codec_context.width, s.codec_context.height, float(s.average_rate), n


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float]:
    """How content moved from a to b: (dx, dy of the image centre, scale, angle in degrees).

    Angle is positive for a clockwise turn on screen (image y points down).
    """
    sift = cv2.SIFT_create()
    ka, da = sift.detectAndCompute(grey(a), None)
    kb, db = sift.detectAndCompute(grey(b), None)
    matches = cv2.BFMatcher().knnMatch(da, db, k=2)
    good = [m for m, n in matches if m.distance < 0.75 * n.distance]
    src = np.float32([ka[m.queryIdx].pt for m in good])
    dst = np.float32([kb[m.trainIdx].pt for m in good])
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    h, w = a.shape[:2]
    c = np.array([(w - 1) / 2, (h - 1) / 2, 1.0])
    moved = m @ c
    scale = math.hypot(m[0, 0], m[1, 0])
    angle = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    return float(moved[0] - c[0]), float(moved[1] - c[1]), scale, angle


def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Sub-pixel translation of content from a to b by phase correlation."""
    ga, gb = grey(a).astype(np.float32), grey(b).astype(np.float32)
    win = cv2.createHanningWindow(ga.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb, win)
    return float(dx), float(dy)


def with_(job: Job, **kw: Any) -> Job:
    return replace(job, **kw)
