"""DiffusionEngine: a diffusers image-to-video pipeline behind kinema's Engine interface."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from kinema.engines.base import ProgressFn, StopFn, StopRequested
from kinema.engines.diffusion.config import guidance_for, parse_options
from kinema.engines.diffusion.frames import cover_fit, run_size, to_uint8, valid_frame_count
from kinema.engines.diffusion.loader import load_pipeline
from kinema.engines.diffusion.mapping import check_call_kwargs, family_of
from kinema.engines.diffusion.speedups import apply_speedups, pick_device, pick_dtype, reset_caches
from kinema.errors import ConfigError, InvalidParameter, TaskFailure
from kinema.job import Job, RenderedVideo
from kinema.media.video import encode_job_video

# share of each video's progress that denoising covers; decode + encode get the rest
DENOISE_SHARE = 0.9


class DiffusionEngine:
    def __init__(
        self,
        options: Mapping[str, Any],
        *,
        watermark_text: str = "kinema",
        watermark_image: Path | None = None,
    ) -> None:
        self.watermark_text, self.watermark_image = watermark_text, watermark_image
        self.options = opts = parse_options(options)
        self.device = pick_device(opts.device)
        self.dtype = pick_dtype(opts.dtype, self.device)
        self.pipe = pipe = load_pipeline(
            opts.weights, class_override=opts.pipeline_class, torch_dtype=self.dtype
        )
        self.family = family = family_of(pipe)
        self.steps = opts.steps or family.default_steps
        self.guidance = opts.guidance if opts.guidance is not None else family.default_guidance
        if opts.last_frame and pipe.config.get("expand_timesteps"):
            raise ConfigError(
                f"{opts.weights}: last_frame = true, but this TI2V pipeline conditions on the first frame only"
            )
        check_call_kwargs(pipe, opts.call_kwargs)
        if opts.flow_shift is not None:
            self._set_flow_shift(opts.flow_shift)
        apply_speedups(pipe, opts, device=self.device, dtype=self.dtype, steps=self.steps)
        pipe.set_progress_bar_config(disable=True)
        self.temporal_factor = family.temporal_factor(pipe)
        self.size_multiple = family.spatial_multiple(pipe)
        self._lock = threading.Lock()

    def _set_flow_shift(self, shift: float) -> None:
        scheduler = self.pipe.scheduler
        key = next((k for k in ("flow_shift", "shift") if k in scheduler.config), None)
        if key is None:
            raise ConfigError(f"engine_options.flow_shift: {type(scheduler).__name__} has no shift setting")
        self.pipe.scheduler = type(scheduler).from_config(scheduler.config, **{key: shift})

    # -- request-time questions ------------------------------------------------------

    def check(self, *, has_image_tail: bool) -> None:
        if has_image_tail:
            reason = self.family.last_frame_refusal(self.pipe, self.options)
            if reason is not None:
                raise InvalidParameter("image_tail", reason)

    def frame_count(self, target: int) -> int:
        return valid_frame_count(target, self.temporal_factor, max_frames=self.options.max_frames)

    def run_size(self, width: int, height: int) -> tuple[int, int]:
        return run_size(width, height, self.size_multiple, max_area=self.options.max_area)

    # -- rendering ---------------------------------------------------------------------

    def generate(self, job: Job, *, on_progress: ProgressFn, should_stop: StopFn) -> list[RenderedVideo]:
        with self._lock:  # one pipeline, one run at a time
            try:
                return self._generate(job, on_progress, should_stop)
            finally:
                reset_caches(self.pipe)

    def _generate(self, job: Job, on_progress: ProgressFn, should_stop: StopFn) -> list[RenderedVideo]:
        import torch

        if job.image_tail is not None:
            reason = self.family.last_frame_refusal(self.pipe, self.options)
            if reason is not None:
                raise TaskFailure(reason)
        num_frames = self.frame_count(job.num_frames)
        width, height = self.run_size(job.width, job.height)
        first = _as_pil(job.image, width, height)
        last = _as_pil(job.image_tail, width, height)
        guidance = guidance_for(
            job.cfg_scale, default=self.guidance, lo=self.options.guidance_min, hi=self.options.guidance_max
        )
        kwargs: dict[str, Any] = dict(
            prompt=job.prompt,
            negative_prompt=job.negative_prompt or self.options.negative_prompt,
            height=height,
            width=width,
            num_frames=num_frames,
            num_inference_steps=self.steps,
            guidance_scale=guidance,
            max_sequence_length=self.options.max_sequence_length or self.family.default_max_sequence_length,
            output_type="np",
            **self.family.frame_kwargs(self.pipe, first, last, num_frames),
            **self.family.extra_kwargs(self.pipe, fps=job.fps, guidance=guidance, opts=self.options),
        )
        kwargs.update(self.options.call_kwargs)
        marker = self._watermarker(job)
        progress = _Progress(on_progress, job.n)
        videos: list[RenderedVideo] = []
        for index in range(job.n):
            if should_stop():
                raise StopRequested()
            generator = torch.Generator(device=self.device).manual_seed(job.seed + index)
            output = self.pipe(
                **kwargs,
                generator=generator,
                callback_on_step_end=self._step_callback(index, progress, should_stop),
            )
            frames = output.frames[0]  # (F, H, W, 3) floats in [0, 1]
            del output

            def on_frame(done: int, index: int = index, total: int = len(frames)) -> None:
                progress.at(index, DENOISE_SHARE + (1 - DENOISE_SHARE) * done / total)

            videos.append(
                encode_job_video(
                    job,
                    _fitted(frames, job.width, job.height),
                    index=index,
                    watermark=marker,
                    on_frame=on_frame,
                )
            )
            del frames
        progress.at(job.n - 1, 1.0)
        return videos

    def _watermarker(self, job: Job) -> Callable[[np.ndarray], np.ndarray] | None:
        if not job.watermark:
            return None
        from kinema.media.watermark import make_watermarker  # the shared one, as motion uses

        return make_watermarker(job.width, job.height, text=self.watermark_text, image=self.watermark_image)

    def _step_callback(
        self, index: int, progress: _Progress, should_stop: StopFn
    ) -> Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]:
        def callback(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            if should_stop():
                # raising (not pipe._interrupt) skips the remaining steps AND the VAE decode
                raise StopRequested()
            progress.at(index, DENOISE_SHARE * (step + 1) / max(1, pipe.num_timesteps))
            return tensors

        return callback


class _Progress:
    """Turns (video index, fraction of that video) into one monotonic job fraction."""

    def __init__(self, report: ProgressFn, n: int) -> None:
        self._report, self._n, self._last = report, max(1, n), -1.0

    def at(self, index: int, fraction: float) -> None:
        value = min(1.0, (index + min(1.0, fraction)) / self._n)
        if value > self._last:
            self._last = value
            self._report(value)


def _as_pil(image: np.ndarray | None, width: int, height: int) -> Image.Image | None:
    if image is None:
        return None
    return Image.fromarray(cover_fit(np.asarray(image, dtype=np.uint8), width, height))


def _fitted(frames: np.ndarray, width: int, height: int) -> Iterator[np.ndarray]:
    # one frame at a time: the encoder's queue, not a second copy of the clip
    for frame in frames:
        yield cover_fit(to_uint8(frame), width, height)
