"""Easing curves and the per-seed motion variant.

A seed picks a slightly different take of the same move (amplitude, lateral wobble,
transition timing), so `n > 1` videos differ visibly while each stays deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EASINGS = ("smoothstep", "smootherstep", "linear")


def ease(t: np.ndarray | float, kind: str = "smoothstep") -> np.ndarray:
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if kind == "linear":
        return t
    if kind == "smootherstep":
        return t * t * t * (t * (6 * t - 15) + 10)
    return t * t * (3 - 2 * t)


def frame_times(num_frames: int) -> np.ndarray:
    """Clip time of each frame in [0, 1]; the first frame is t=0 and the last t=1."""
    if num_frames <= 1:
        return np.zeros(max(num_frames, 0))
    return np.linspace(0.0, 1.0, num_frames)


@dataclass(frozen=True)
class Variant:
    amplitude: float  # multiplies the camera move's strength
    wobble: float  # px of sideways sway on brush trajectories (zero at both ends)
    midpoint: float  # where an end-frame transition is half done, in clip time

    @classmethod
    def for_seed(cls, seed: int) -> Variant:
        rng = np.random.default_rng(seed & 0xFFFFFFFF)
        a, w, m = rng.uniform(-1.0, 1.0, size=3)
        return cls(amplitude=1.0 + 0.15 * a, wobble=2.0 * w, midpoint=0.5 + 0.08 * m)


def shifted_ease(t: np.ndarray | float, midpoint: float, kind: str = "smoothstep") -> np.ndarray:
    """`ease` with its halfway point moved to `midpoint` (a monotone time warp)."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    gamma = np.log(0.5) / np.log(midpoint)
    return ease(t**gamma, kind)
