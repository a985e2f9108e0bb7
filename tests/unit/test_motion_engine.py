"""Engine contract: seeds, n, progress, stopping, watermark, failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kinema.engines.base import StopRequested
from kinema.engines.motion import MotionEngine
from kinema.engines.motion.timing import Variant
from kinema.errors import TaskFailure
from kinema.job import BrushStroke, CameraMove, Job
from kinema.media.watermark import make_watermarker
from tests.unit.motion_helpers import H, W, decode, make_job, render, textured


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    job = make_job(tmp_path / "a", seed=42, prompt="orbit")
    again = make_job(tmp_path / "b", seed=42, prompt="orbit")
    engine = MotionEngine()

    def rendered(j: Job) -> list[bytes]:
        return [f.tobytes() for f in engine.frames(j, Variant.for_seed(j.seed), engine.options)]

    # Frames and files are identical (x264 is kept off its AVX-512 path, which read
    # uninitialised memory: see media/video.py).
    assert rendered(job) == rendered(again)
    first, second = render(job)[0].path, render(again)[0].path
    assert first.read_bytes() == second.read_bytes()


def test_n_videos_differ(tmp_path: Path) -> None:
    job = make_job(tmp_path, n=2, seed=1, num_frames=12, camera=CameraMove(type="simple", pan=6))
    videos = render(job)
    assert [v.path.name for v in videos] == ["video-0.mp4", "video-1.mp4"]
    a, b = (decode(v.path) for v in videos)
    assert np.abs(a[0].astype(int) - b[0]).mean() < 2  # both start on the input
    assert np.abs(a[-1].astype(int) - b[-1]).mean() > 3  # and move differently


def test_progress_and_stop(tmp_path: Path) -> None:
    seen: list[float] = []
    job = make_job(tmp_path, n=2, num_frames=10)
    MotionEngine().generate(job, on_progress=seen.append, should_stop=lambda: False)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) >= 20

    calls = iter(range(100))
    stop_job = make_job(tmp_path / "stop", num_frames=48)
    with pytest.raises(StopRequested):
        MotionEngine().generate(stop_job, on_progress=lambda f: None,
                                should_stop=lambda: next(calls) >= 5)
    assert not (tmp_path / "stop" / "video-0.mp4").exists()


def test_watermark_only_in_its_corner(tmp_path: Path) -> None:
    job = make_job(tmp_path, watermark=True, num_frames=12, camera=CameraMove(type="simple", zoom=-4))
    video = render(job)[0]
    assert video.watermarked is not None
    clean, marked = decode(video.path), decode(video.watermarked)
    x0, y0, w, h = make_watermarker(W, H).box  # type: ignore[attr-defined]
    box = np.zeros((H, W), bool)
    box[y0 : y0 + h, x0 : x0 + w] = True
    near = np.zeros((H, W), bool)  # the codec may smear a few px past the box's macroblocks
    near[max(0, y0 - 16) : y0 + h + 16, max(0, x0 - 16) : x0 + w + 16] = True
    for c, m in zip(clean, marked, strict=True):
        diff = np.abs(c.astype(int) - m).max(axis=2)
        assert diff[box].mean() > 20
        outside = diff[~near]
        assert outside.mean() < 0.05 and (outside > 3).mean() < 0.002


def test_watermark_function_touches_only_the_box() -> None:
    frame = textured(2)
    mark = make_watermarker(W, H, text="kinema")
    out = mark(frame)
    x0, y0, w, h = mark.box  # type: ignore[attr-defined]
    assert x0 + w <= W and y0 + h <= H and x0 > W // 2 and y0 > H // 2  # bottom-right corner
    changed = np.any(out != frame, axis=2)
    assert changed[y0 : y0 + h, x0 : x0 + w].any()
    changed[y0 : y0 + h, x0 : x0 + w] = False
    assert not changed.any()
    assert np.array_equal(frame, textured(2))  # the input frame is left alone


def test_watermark_png(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGBA", (60, 20), (255, 0, 0, 255)).save(logo)
    out = make_watermarker(W, H, image=logo)(textured(2))
    assert (out[..., 0].astype(int) - out[..., 1] > 200).sum() > 100


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"camera": CameraMove(type="simple", pan=3, zoom=2)}, "one axis"),
        ({"camera": CameraMove(type="spin")}, "not supported"),
        ({"camera": CameraMove(type="simple", zoom=12)}, r"\[-10, 10\]"),
        ({"image_tail": textured(1), "camera": CameraMove(type="forward_up")}, "combined"),
        ({"image": None, "image_tail": None}, "required"),
        ({"dynamic_masks": (BrushStroke(mask=np.zeros((H, W), np.uint8), trajectory=((0, 0), (9, 9))),)},
         "empty"),
        ({"dynamic_masks": (BrushStroke(mask=np.full((H, W), 255, np.uint8), trajectory=((0, 0),)),)},
         "2 points"),
        ({"engine_options": {"easing": "bounce"}}, "easing"),
    ],
)
def test_unrenderable_jobs_fail_clearly(tmp_path: Path, kw: dict, match: str) -> None:
    with pytest.raises(TaskFailure, match=match):
        render(make_job(tmp_path, **kw))
