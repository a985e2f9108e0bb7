"""Camera moves: output format, first frame, direction of every axis, smoothness, bounds."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from kinema.engines.motion.camera import plan_views, view_extent
from kinema.engines.motion.fit import cover_fit
from kinema.engines.motion.moves import PRESETS, move_from_camera
from kinema.engines.motion.timing import frame_times
from kinema.job import CAMERA_AXES, CameraMove
from tests.unit.motion_helpers import FPS, H, W, decode, make_job, probe, psnr, render, shift, similarity


def _first_last(tmp_path: Path, **camera: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    job = make_job(tmp_path, camera=CameraMove(type="simple", **camera))
    frames = decode(render(job)[0].path)
    return job.image, frames[0], frames[-1]  # type: ignore[return-value]


def test_output_format_and_first_frame(tmp_path: Path) -> None:
    job = make_job(tmp_path, num_frames=30, camera=CameraMove(type="simple", pan=5))
    video = render(job)[0]
    assert probe(video.path) == (W, H, float(FPS), 30)
    assert psnr(decode(video.path)[0], job.image) > 30  # type: ignore[arg-type]


@pytest.mark.parametrize(("width", "height"), [(480, 270), (362, 202)])
def test_sizes_whose_chroma_rows_are_odd(tmp_path: Path, width: int, height: int) -> None:
    """I420 planes of h/2 x w/2 with h/2 or w/2 odd are laid out flat, not in whole rows."""
    job = make_job(tmp_path, width=width, height=height, num_frames=6,
                   camera=CameraMove(type="simple", horizontal=6))
    frames = decode(render(job)[0].path)
    assert frames[0].shape == (height, width, 3) and len(frames) == 6
    assert psnr(frames[0], cover_fit(job.image, width, height)) > 30  # type: ignore[arg-type]
    # Colour survives the warp: the last frame's hue matches a shifted view of the input.
    assert abs(float(frames[-1][..., 0].mean()) - float(frames[0][..., 0].mean())) < 12


def test_first_frame_is_cover_fitted_input(tmp_path: Path) -> None:
    from tests.unit.motion_helpers import textured

    tall = textured(3, 400, 500)  # different aspect: the engine must scale and centre-crop
    job = make_job(tmp_path, image=tall, camera=CameraMove(type="simple", zoom=-5))
    first = decode(render(job)[0].path)[0]
    assert psnr(first, cover_fit(tall, W, H)) > 30


@pytest.mark.parametrize(
    ("axis", "value", "expect"),
    [
        ("horizontal", 8, "left"), ("horizontal", -8, "right"),
        ("vertical", 8, "down"), ("vertical", -8, "up"),
        ("pan", 8, "left"), ("pan", -8, "right"),
        ("tilt", 8, "down"), ("tilt", -8, "up"),
        ("roll", 8, "ccw"), ("roll", -8, "cw"),
        ("zoom", -8, "bigger"), ("zoom", 8, "smaller"),
    ],
)
def test_axis_direction(tmp_path: Path, axis: str, value: float, expect: str) -> None:
    _, first, last = _first_last(tmp_path, **{axis: value})
    dx, dy, scale, angle = similarity(first, last)
    checks = {
        "left": dx < -5, "right": dx > 5, "down": dy > 5, "up": dy < -5,
        "ccw": angle < -2, "cw": angle > 2, "bigger": scale > 1.15, "smaller": scale < 0.87,
    }
    assert checks[expect], (axis, value, dx, dy, scale, angle)


def test_pan_is_a_perspective_warp() -> None:
    views = plan_views(move_from_camera(CameraMove(type="simple", pan=10)), W, H, frame_times(24))
    assert abs(views[-1][2, 0]) > 1e-6  # projective row: a homography, not a shift
    tilt = plan_views(move_from_camera(CameraMove(type="simple", tilt=10)), W, H, frame_times(24))
    assert abs(tilt[-1][2, 1]) > 1e-6


@pytest.mark.parametrize("axis", [a for a in CAMERA_AXES if a != "zoom"])
@pytest.mark.parametrize("value", [10, -10, 3])
def test_view_never_leaves_the_image(axis: str, value: float) -> None:
    move = move_from_camera(CameraMove(type="simple", **{axis: value}))
    views = plan_views(move, W, H, frame_times(48))
    assert np.allclose(views[0], np.eye(3))
    assert view_extent(views, W, H) < 1e-3


@pytest.mark.parametrize("name", ["forward_up", "right_turn_forward", "left_turn_forward"])
def test_presets_stay_inside(name: str) -> None:
    views = plan_views(PRESETS[name], W, H, frame_times(48))
    assert np.allclose(views[0], np.eye(3))
    assert view_extent(views, W, H) < 1e-3


@pytest.mark.parametrize(
    ("preset", "check"),
    [
        ("forward_up", lambda dx, dy, s: s > 1.1 and dy > 3),
        ("down_back", lambda dx, dy, s: s < 0.9 and dy < -3),
        ("right_turn_forward", lambda dx, dy, s: s > 1.1 and dx < -3),
        ("left_turn_forward", lambda dx, dy, s: s > 1.1 and dx > 3),
    ],
)
def test_presets_direction(tmp_path: Path, preset: str, check) -> None:  # type: ignore[no-untyped-def]
    frames = decode(render(make_job(tmp_path, camera=CameraMove(type=preset)))[0].path)
    dx, dy, s, _ = similarity(frames[0], frames[-1])
    assert check(dx, dy, s), (preset, dx, dy, s)


def test_constant_speed_pan_is_smooth(tmp_path: Path) -> None:
    job = make_job(
        tmp_path, num_frames=48, camera=CameraMove(type="simple", horizontal=6),
        engine_options={"easing": "linear"},
    )
    frames = decode(render(job)[0].path)
    steps = np.array([shift(a, b)[0] for a, b in pairwise(frames[12:45])])
    assert steps.mean() < -0.5  # after the safety-zoom ramp, content moves left at a steady pace
    assert steps.std() < 0.1, steps


def test_eased_motion_starts_and_ends_slowly(tmp_path: Path) -> None:
    job = make_job(tmp_path, num_frames=48, camera=CameraMove(type="simple", horizontal=-8))
    frames = decode(render(job)[0].path)
    first = abs(shift(frames[0], frames[1])[0])
    middle = abs(shift(frames[23], frames[24])[0])
    last = abs(shift(frames[-2], frames[-1])[0])
    assert first < middle / 4 and last < middle / 4
