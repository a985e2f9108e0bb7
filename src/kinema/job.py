"""What an engine receives: one fully resolved, dialect-free render job.

Images are already decoded and checked; sizes, fps and frame counts are already
decided from the model profile, so an engine only renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")


@dataclass(frozen=True, kw_only=True)
class CameraMove:
    type: str
    horizontal: float = 0.0
    vertical: float = 0.0
    pan: float = 0.0
    tilt: float = 0.0
    roll: float = 0.0
    zoom: float = 0.0

    def axis(self) -> tuple[str, float] | None:
        """The one non-zero axis of a `simple` move."""
        for name in CAMERA_AXES:
            value = getattr(self, name)
            if value:
                return name, float(value)
        return None


@dataclass(frozen=True, kw_only=True)
class BrushStroke:
    """One motion-brush region: a mask and its trajectory.

    `mask` is HxW uint8 (255 = inside) at the mask's own resolution; `trajectory`
    points are in that mask's pixels with the origin at the bottom-left, as Kling sends them.
    """

    mask: np.ndarray
    trajectory: tuple[tuple[float, float], ...]


@dataclass(frozen=True, kw_only=True)
class Job:
    task_id: str
    model: str
    engine_options: dict = field(default_factory=dict)
    # RGB uint8 arrays (H, W, 3); at least one of the two is set.
    image: np.ndarray | None
    image_tail: np.ndarray | None = None
    prompt: str = ""
    negative_prompt: str = ""
    cfg_scale: float = 0.5
    mode: str = "std"
    duration: float = 5.0
    width: int
    height: int
    fps: int
    num_frames: int
    camera: CameraMove | None = None
    static_mask: np.ndarray | None = None
    dynamic_masks: tuple[BrushStroke, ...] = ()
    seed: int = 0
    n: int = 1
    watermark: bool = False
    out_dir: Path
    # What a router needs to forward the request unchanged (engines that render ignore these).
    sound: str = "off"
    voices: tuple[str, ...] = ()
    sources: dict[str, bytes] = field(default_factory=dict)  # original input bytes by slot
    # Called with another system's id for this task, so an operator can trace it there.
    on_upstream_id: Callable[[str], None] | None = None


@dataclass(frozen=True, kw_only=True)
class RenderedVideo:
    path: Path
    watermarked: Path | None = None


@dataclass(frozen=True, kw_only=True)
class RemoteVideo:
    """A video left where another service put it (router pass-through): a URL, not a file."""

    url: str
    watermark_url: str | None = None
    duration: float
    width: int
    height: int
    fps: int
    frames: int
