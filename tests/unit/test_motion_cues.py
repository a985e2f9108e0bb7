"""Prompt camera cues pick the move when the request has no camera control."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinema.engines.motion.cues import cue_name
from tests.unit.motion_helpers import decode, make_job, render, similarity


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("slow zoom in on the lighthouse", "zoom_in"),
        ("The camera pushes in towards her face", "zoom_in"),
        ("pull back to reveal the city", "zoom_out"),
        ("camera pans left across the valley", "pan_left"),
        ("pan right over the sea", "pan_right"),
        ("tilt up to the sky", "tilt_up"),
        ("tilting down to the street", "tilt_down"),
        ("orbit around the statue", "orbit"),
        ("the drone rises above the forest", "rise"),
        ("camera descends slowly", "descend"),
        ("zoom in, then pan left", "zoom_in"),  # the earliest cue wins
        ("镜头缓缓推进", "zoom_in"),
        ("镜头拉远，展示全景", "zoom_out"),
        ("镜头左移", "truck_left"),
        ("镜头向右移", "truck_right"),
        ("镜头上升", "rise"),
        ("镜头下降", "descend"),
        ("环绕拍摄雕像", "orbit"),
        ("摇镜展示山脉", "pan_right"),
        ("镜头向左摇", "pan_left"),
        ("a cat sleeping on a sofa", None),
        ("a panorama of the mountains", None),
    ],
)
def test_cue_names(prompt: str, name: str | None) -> None:
    assert cue_name(prompt) == name


@pytest.mark.parametrize(
    ("prompt", "check"),
    [
        ("a cat on a sofa", lambda dx, dy, s: s > 1.05),  # default: gentle push-in
        ("camera pans left", lambda dx, dy, s: dx > 5),
        ("镜头右移", lambda dx, dy, s: dx < -5),
        ("拉远", lambda dx, dy, s: s < 0.95),
        ("tilt up", lambda dx, dy, s: dy > 5),
        ("镜头下降", lambda dx, dy, s: dy < -5),
    ],
)
def test_prompt_drives_the_camera(tmp_path: Path, prompt: str, check) -> None:  # type: ignore[no-untyped-def]
    frames = decode(render(make_job(tmp_path, prompt=prompt))[0].path)
    dx, dy, s, _ = similarity(frames[0], frames[-1])
    assert check(dx, dy, s), (prompt, dx, dy, s)
