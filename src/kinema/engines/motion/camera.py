"""Camera moves as per-frame homographies over the cover-fitted image.

Scale of the Kling axes (linear in the value; the seed's variant multiplies it by 0.85-1.15):

- horizontal ±10: the view centre travels 12% of the frame width (+ = camera right, content left)
- vertical ±10: 12% of the frame height (+ = camera up, content moves down)
- pan ±10: 8° of rotation about the y axis, with a 60° horizontal field of view (+ = right)
- tilt ±10: 6° of rotation about the x axis (+ = up, content moves down)
- roll ±10: 10° about the optical axis (+ = camera clockwise, so content turns counter-clockwise)
- zoom ±10: focal length x1.5 for -10 (zoom in), field of view x1.5 for +10 (zoom out)

Every view is `centre . move(e) . safety(s)`: the move starts at identity, so frame 0 is the
input image, and `s` is an extra zoom that keeps the view inside the image. Per frame, the
least such zoom is bisected on the four view corners; `s` eases up to the largest of these
over the first 20% of the move and then holds (never below the per-frame least), so the
rest of the move has a constant zoom and a pan is a pure, jitter-free translation. Only a
zoom out must see past the image; it shows the image's edges mirrored and blurred (see `source.py`).

The move's progress is `e = ease(t)` (smoothstep by default; "linear" gives a constant
speed once the safety zoom has settled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kinema.engines.motion.timing import ease

AXIS_SCALE = {
    "horizontal": 0.12,  # fraction of the width
    "vertical": 0.12,  # fraction of the height
    "pan": math.radians(8.0),
    "tilt": math.radians(6.0),
    "roll": math.radians(10.0),
    "zoom": 0.05,  # zoom factor change per unit
}
HFOV = math.radians(60.0)
SAFETY_RAMP = 0.2  # share of the move over which the safety zoom reaches its peak
_PEAK_GRID = np.linspace(0.0, 1.0, 121)


@dataclass(frozen=True)
class Track:
    """One axis of a move, in Kling units, run over [start, end] of the move's progress."""

    axis: str
    value: float
    start: float = 0.0
    end: float = 1.0


@dataclass(frozen=True)
class Move:
    name: str
    tracks: tuple[Track, ...]

    def scaled(self, factor: float) -> Move:
        return Move(self.name, tuple(
            Track(t.axis, t.value * factor, t.start, t.end) for t in self.tracks
        ))

    @property
    def widens(self) -> bool:
        """True when the move must show past the image edges (a zoom out)."""
        return any(t.axis == "zoom" and t.value > 0 for t in self.tracks)


def _progress(track: Track, e: np.ndarray) -> np.ndarray:
    if track.start <= 0.0 and track.end >= 1.0:
        return e
    return ease((e - track.start) / max(track.end - track.start, 1e-9))


def move_matrices(move: Move, e: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 3, 3) maps from centred output coords to centred source coords (no safety zoom)."""
    n = len(e)
    amount = {axis: np.zeros(n) for axis in AXIS_SCALE}
    for track in move.tracks:
        amount[track.axis] = amount[track.axis] + track.value / 10.0 * _progress(track, e)
    f = width / (2 * math.tan(HFOV / 2))
    dx = amount["horizontal"] * AXIS_SCALE["horizontal"] * width
    dy = -amount["vertical"] * AXIS_SCALE["vertical"] * height
    yaw = amount["pan"] * AXIS_SCALE["pan"]
    pitch = amount["tilt"] * AXIS_SCALE["tilt"]
    roll = amount["roll"] * AXIS_SCALE["roll"]
    z = amount["zoom"]
    zoom = np.where(z < 0, 1 - z * 10 * AXIS_SCALE["zoom"], 1 / (1 + z * 10 * AXIS_SCALE["zoom"]))

    out = np.zeros((n, 3, 3))
    k = np.diag([f, f, 1.0])
    k_inv = np.diag([1 / f, 1 / f, 1.0])
    for i in range(n):
        cy, sy, cp, sp = math.cos(yaw[i]), math.sin(yaw[i]), math.cos(pitch[i]), math.sin(pitch[i])
        r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        cr, sr = math.cos(roll[i]), math.sin(roll[i])
        r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        scale = np.diag([1 / zoom[i], 1 / zoom[i], 1.0])
        shift = np.array([[1, 0, dx[i]], [0, 1, dy[i]], [0, 0, 1]])
        out[i] = shift @ k @ r_yaw @ r_pitch @ k_inv @ r_roll @ scale
    return out


def _corners(width: int, height: int) -> np.ndarray:
    hw, hh = (width - 1) / 2, (height - 1) / 2
    return np.array([[-hw, -hh, 1], [hw, -hh, 1], [-hw, hh, 1], [hw, hh, 1]], dtype=np.float64).T


def safety_zoom(mats: np.ndarray, width: int, height: int, iters: int = 40) -> np.ndarray:
    """Per matrix, the least zoom s >= 1 whose view corners all map inside the image."""
    hw, hh = (width - 1) / 2 + 1e-6, (height - 1) / 2 + 1e-6
    corners = _corners(width, height)

    def inside(s: np.ndarray) -> np.ndarray:
        pts = corners[None, :, :].repeat(len(s), 0)
        pts[:, :2, :] /= s[:, None, None]
        mapped = mats @ pts
        w = mapped[:, 2, :]
        ok = w > 1e-9
        x = mapped[:, 0, :] / np.where(ok, w, 1)
        y = mapped[:, 1, :] / np.where(ok, w, 1)
        return np.all(ok & (np.abs(x) <= hw) & (np.abs(y) <= hh), axis=1)

    lo = np.ones(len(mats))
    hi = np.full(len(mats), 8.0)
    done = inside(lo)
    for _ in range(iters):
        mid = (lo + hi) / 2
        good = inside(mid)
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid)
    return np.where(done, 1.0, hi)


def _views(move: Move, e: np.ndarray, width: int, height: int) -> np.ndarray:
    mats = move_matrices(move, e, width, height)
    if not move.widens:
        s = safety_zoom(mats, width, height)
        # Reach the path's largest safety zoom early and hold it: after the ramp the zoom
        # is constant, so a pan is a pure translation (no breathing) for most of the clip.
        peak = float(safety_zoom(move_matrices(move, _PEAK_GRID, width, height), width, height).max())
        s = np.maximum(s, 1 + (peak - 1) * ease(e / SAFETY_RAMP))
        mats = mats @ np.array([np.diag([1 / v, 1 / v, 1.0]) for v in s])
    return mats


def plan_views(
    move: Move, width: int, height: int, times: np.ndarray, *, easing: str = "smoothstep",
    reverse: bool = False,
) -> np.ndarray:
    """(N, 3, 3) maps from output pixel to fitted-source pixel, one per frame time."""
    e = ease(1.0 - times if reverse else times, easing)
    views = _views(move, e, width, height)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    centre = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1.0]])
    uncentre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1.0]])
    return centre @ views @ uncentre


def view_extent(views: np.ndarray, width: int, height: int) -> float:
    """How far (px) any view corner reaches outside the image; 0 when all stay inside."""
    corners = _corners(width, height)
    corners[0] += (width - 1) / 2
    corners[1] += (height - 1) / 2
    mapped = views @ corners
    x = mapped[:, 0] / mapped[:, 2]
    y = mapped[:, 1] / mapped[:, 2]
    over = max(-x.min(), x.max() - (width - 1), -y.min(), y.max() - (height - 1), 0.0)
    return float(over)


def max_zoom(views: np.ndarray) -> float:
    """The largest magnification (source px per output px, inverted) along the path."""
    det = np.abs(np.linalg.det(views[:, :2, :2]))
    return float(1 / np.sqrt(det.min())) if len(det) else 1.0
