"""MotionEngine: picks what a job asks for and streams its frames into the encoder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kinema.engines.base import StopRequested
from kinema.engines.motion.brush import BrushScene
from kinema.engines.motion.camera import Move, max_zoom, plan_views, view_extent
from kinema.engines.motion.cues import move_for_prompt
from kinema.engines.motion.endframe import Transition
from kinema.engines.motion.moves import move_from_camera
from kinema.engines.motion.source import WarpSource
from kinema.engines.motion.timing import EASINGS, Variant, frame_times, shifted_ease
from kinema.errors import TaskFailure
from kinema.job import Job, RenderedVideo
from kinema.media.video import encode_job_video
from kinema.media.watermark import make_watermarker

DEFAULTS: dict[str, Any] = {
    "easing": "smoothstep",  # camera speed profile: smoothstep | smootherstep | linear
    "supersample": 1.5,  # keep up to this much extra input resolution for zooms
    "flow_side": 480,  # long side of the optical-flow pair for end frames
    "variants": True,  # per-seed motion variants (amplitude, sway, timing)
}

Frames = Iterator[np.ndarray]


class MotionEngine:
    def __init__(
        self, options: Mapping[str, Any] | None = None, *, watermark_text: str = "kinema",
        watermark_image: Path | None = None,
    ) -> None:
        self.options = {**DEFAULTS, **(options or {})}
        self.watermark_text = watermark_text
        self.watermark_image = watermark_image

    def generate(
        self, job: Job, *, on_progress: Callable[[float], None], should_stop: Callable[[], bool]
    ) -> list[RenderedVideo]:
        opts = {**self.options, **(job.engine_options or {})}
        _validate(job, opts)
        marker = None
        if job.watermark:
            marker = make_watermarker(
                job.width, job.height, text=self.watermark_text, image=self.watermark_image
            )
        total = job.n * job.num_frames
        videos = []
        for i in range(job.n):
            if should_stop():
                raise StopRequested()
            seed = job.seed + i
            variant = Variant.for_seed(seed) if opts["variants"] else Variant(1.0, 0.0, 0.5)
            frames = _checked(self.frames(job, variant, opts), should_stop)
            done = i * job.num_frames

            def progress(k: int, done: int = done) -> None:
                on_progress((done + k) / total)

            videos.append(encode_job_video(
                job, frames, index=i, watermark=marker, on_frame=progress,
                encoder_options=_encoder_options(job),
            ))
        return videos

    def frames(self, job: Job, variant: Variant, opts: Mapping[str, Any]) -> Frames:
        """The frames of one video, generated lazily (one in memory at a time)."""
        times = frame_times(job.num_frames)
        if job.image is not None and job.image_tail is not None:
            return _transition(job, times, variant, opts)
        if job.dynamic_masks or job.static_mask is not None:
            assert job.image is not None
            scene = BrushScene(
                job.image, job.dynamic_masks, job.static_mask, job.width, job.height, times,
                wobble=variant.wobble,
            )
            return (scene.frame(k) for k in range(job.num_frames))
        if job.camera is not None:
            move = move_from_camera(job.camera)
        else:
            move = move_for_prompt(job.prompt)
        image = job.image if job.image is not None else job.image_tail
        assert image is not None
        return _camera(image, move.scaled(variant.amplitude), job, times, opts,
                       reverse=job.image is None)


def _camera(
    image: np.ndarray, move: Move, job: Job, times: np.ndarray, opts: Mapping[str, Any], *,
    reverse: bool,
) -> Frames:
    views = plan_views(move, job.width, job.height, times, easing=opts["easing"], reverse=reverse)
    margin = view_extent(views, job.width, job.height)
    source = WarpSource(
        image, job.width, job.height, supersample=min(float(opts["supersample"]), max_zoom(views)),
        margin=margin,
    )
    # Without a watermark (which draws in RGB) frames go out as I420: cheaper to warp.
    render = source.render if job.watermark else source.render_i420
    for view in views:
        yield render(view)


def _transition(job: Job, times: np.ndarray, variant: Variant, opts: Mapping[str, Any]) -> Frames:
    assert job.image is not None and job.image_tail is not None
    tr = Transition(job.image, job.image_tail, job.width, job.height,
                    flow_side=int(opts["flow_side"]))
    for t in shifted_ease(times, variant.midpoint):
        yield tr.frame(float(t))


def _encoder_options(job: Job) -> dict[str, str]:
    opts: dict[str, str] = {}
    if job.static_mask is not None:
        # x264's default deblocking re-touches unchanged blocks next to moving ones, so a
        # static brush area would flicker by a few levels; still-image tuning keeps it still.
        opts["tune"] = "stillimage"
    if job.watermark:
        # Adaptive quantisation and mb-tree spread the watermark's bits over the whole frame;
        # without them the twin differs from the clean file only around the mark.
        opts["x264opts"] = "aq-mode=0:mbtree=0"
    return opts


def _checked(frames: Frames, should_stop: Callable[[], bool]) -> Frames:
    for frame in frames:
        yield frame
        if should_stop():
            raise StopRequested()


def _validate(job: Job, opts: Mapping[str, Any]) -> None:
    if job.image is None and job.image_tail is None:
        raise TaskFailure("an image or an image_tail is required")
    if job.width % 2 or job.height % 2 or job.width < 16 or job.height < 16:
        raise TaskFailure(f"the output size {job.width}x{job.height} must be even and at least 16")
    if job.num_frames < 1 or job.fps < 1:
        raise TaskFailure("the clip needs at least one frame and a positive fps")
    if job.n < 1:
        raise TaskFailure("n must be at least 1")
    if opts["easing"] not in EASINGS:
        raise TaskFailure(f"engine option easing must be one of {', '.join(EASINGS)}")
    brush = bool(job.dynamic_masks) or job.static_mask is not None
    tail = job.image is not None and job.image_tail is not None
    if sum([brush, tail, job.camera is not None]) > 1:
        raise TaskFailure(
            "image_tail, the motion brush (dynamic_masks/static_mask) and camera_control "
            "cannot be combined; use one of them per task"
        )
    if brush and job.image is None:
        raise TaskFailure("the motion brush needs an input image")
    if len(job.dynamic_masks) > 6:
        raise TaskFailure("at most 6 dynamic_masks are supported")
    for img in (job.image, job.image_tail):
        if img is not None and (img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8):
            raise TaskFailure("images must be decoded to RGB")
