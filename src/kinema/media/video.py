"""The one video encoder: H.264 yuv420p MP4 with faststart, fed frame by frame.

Encoding runs on its own thread behind a small bounded queue, so an engine renders
frame k+1 while frame k is encoded (PyAV and OpenCV release the GIL), and memory stays
flat whatever the clip length.
"""

from __future__ import annotations

import importlib
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self, cast

import av
import cv2
import numpy as np

from kinema.job import Job, RenderedVideo

_DONE = object()


def _x264_asm() -> str | None:
    """x264's `asm` setting: AVX2 at most, or None to leave x264's own CPU detection.

    x264's AVX-512 code reads uninitialised heap memory when MB-tree rate control meets
    B-frames (both on at crf + veryfast), so the same frames could encode to different
    bytes depending on what the heap held: run to run within one process, mostly under
    load. Evidence: with AVX-512 enabled the output changes with glibc's MALLOC_PERTURB_
    (PyAV's bundled x264 core 165 and Debian's ffmpeg/x264 core 164 alike); capped at
    AVX2, or with mbtree=0 or bframes=0, it does not. Every CPU x264 runs AVX-512 on has
    AVX2 with FMA3/BMI2 (what x264's "AVX2" name sets), so the cap is safe, and it cost
    no measurable speed here (720p, frame and slice threads).
    """
    features: dict[str, bool] = {}
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            features = dict(getattr(importlib.import_module(module), "__cpu_features__", {}))
            break
        except ImportError:
            continue
    return "asm=AVX2" if features.get("AVX512F") and features.get("AVX2") else None


_ASM = _x264_asm()


def _encoder_options(crf: int, preset: str, options: Mapping[str, str] | None) -> dict[str, str]:
    """libx264 options: crf, preset, the caller's own, and the AVX-512 cap unless the
    caller set `asm` in x264-params."""
    opts = {"crf": str(crf), "preset": preset, **(options or {})}
    params = opts.get("x264-params", "")
    if _ASM is not None and "asm" not in {p.split("=", 1)[0] for p in params.split(":") if p}:
        opts["x264-params"] = f"{params}:{_ASM}" if params else _ASM
    return opts


class VideoWriter:
    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        fps: int,
        crf: int = 18,
        preset: str = "veryfast",
        queue_size: int = 4,
        options: Mapping[str, str] | None = None,
        thread_type: str = "FRAME",
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs even dimensions, got {width}x{height}")
        self.path = Path(path)
        self.width, self.height = width, height
        self._container = av.open(str(self.path), mode="w", options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = cast(dict[str, object], _encoder_options(crf, preset, options))
        # PyAV defaults encoders to slice threads; x264's frame threads (what the ffmpeg CLI
        # uses) are ~20% faster on 2 cores but hold more frames (~+70 MB at 1080p).
        stream.codec_context.thread_type = thread_type
        self._stream = stream
        self._time_base = Fraction(1, fps)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kinema-encoder", daemon=True)
        self._thread.start()
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Queue one uint8 frame of the writer's size: RGB (h, w, 3), or I420 (h * 3 / 2, w)."""
        if self._error is not None:
            raise self._error
        if frame.dtype != np.uint8 or frame.shape not in (
                (self.height, self.width, 3), (self.height * 3 // 2, self.width)):
            raise ValueError(f"frame {frame.shape} {frame.dtype} is not {self.height}x{self.width} "
                             "RGB or I420 uint8")
        self._queue.put(frame)
        self.frames += 1

    def close(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _run(self) -> None:
        index = 0
        try:
            while (item := self._queue.get()) is not _DONE:
                # OpenCV's BT.601 limited-range I420 matches swscale's default within
                # rounding and is ~15x faster than PyAV's per-frame reformat.
                frame = cast(np.ndarray, item)
                yuv = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
                vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")  # type: ignore[arg-type]
                # Explicit timestamps: without them x264's rate control sees whatever the
                # wrapper guesses, and the same frames could encode to different bytes.
                vf.pts, vf.time_base = index, self._time_base
                index += 1
                for packet in self._stream.encode(vf):
                    self._container.mux(packet)
            for packet in self._stream.encode():
                self._container.mux(packet)
        except BaseException as exc:  # noqa: BLE001 - surfaced to the producer on its next write/close
            self._error = exc
            while self._queue.get() is not _DONE:  # drain so the producer never blocks
                pass
        finally:
            self._container.close()


def encode_job_video(
    job: Job,
    frames: Iterable[np.ndarray],
    *,
    index: int = 0,
    watermark: Callable[[np.ndarray], np.ndarray] | None = None,
    on_frame: Callable[[int], None] | None = None,
    encoder_options: Mapping[str, str] | None = None,
) -> RenderedVideo:
    """Encode one video of `job` (and its watermarked twin when asked for).

    `encoder_options` go to libx264 as-is (e.g. {"tune": "stillimage"}).
    """
    job.out_dir.mkdir(parents=True, exist_ok=True)
    clean = job.out_dir / f"video-{index}.mp4"
    marked = job.out_dir / f"video-{index}-wm.mp4" if job.watermark and watermark else None
    def writer(path: Path) -> VideoWriter:
        # Two encoders already run side by side; slice threads keep their memory down.
        return VideoWriter(
            path, width=job.width, height=job.height, fps=job.fps, options=encoder_options,
            thread_type="SLICE" if marked is not None else "FRAME",
        )

    writers = [writer(clean)]
    if marked is not None:
        writers.append(writer(marked))
    try:
        for i, frame in enumerate(frames):
            writers[0].write(frame)
            if marked is not None and watermark is not None:
                writers[1].write(watermark(frame))
            if on_frame is not None:
                on_frame(i + 1)
    except BaseException:
        for w in writers:
            w.abort()
        raise
    for w in writers:
        w.close()
    return RenderedVideo(path=clean, watermarked=marked)
