"""Frame-count, size and option rules of the diffusion engine (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from kinema.engines.diffusion.config import guidance_for, parse_options
from kinema.engines.diffusion.frames import cover_fit, run_size, to_uint8, valid_frame_count
from kinema.errors import ConfigError


@pytest.mark.parametrize(
    ("target", "factor", "expected"),
    [
        (120, 4, 121),  # 24 fps x 5 s on Wan
        (121, 4, 121),
        (80, 4, 81),  # 16 fps x 5 s: Wan2.1's native 81
        (240, 4, 241),
        (119, 4, 121),  # 118/4 = 29.5: ties round up
        (118, 4, 117),
        (150, 4, 149),  # 30 fps x 5 s
        (120, 8, 121),  # LTX: 8k+1
        (125, 8, 129),  # 124/8 = 15.5: up
        (124, 8, 121),
        (1, 4, 1),
        (0, 8, 1),
        (3, 4, 5),
    ],
)
def test_frame_count_is_nearest_k_times_factor_plus_one(target: int, factor: int, expected: int) -> None:
    got = valid_frame_count(target, factor)
    assert got == expected
    assert (got - 1) % factor == 0


def test_max_frames_caps_at_largest_valid_count() -> None:
    assert valid_frame_count(241, 4, max_frames=121) == 121
    assert valid_frame_count(241, 4, max_frames=124) == 121
    assert valid_frame_count(241, 8, max_frames=100) == 97
    assert valid_frame_count(50, 4, max_frames=200) == 49


@pytest.mark.parametrize(
    ("size", "multiple", "max_area", "expected"),
    [
        ((1280, 720), 16, None, (1280, 720)),
        ((1280, 720), 32, None, (1280, 704)),  # Wan2.2 / LTX: 720 is not a multiple of 32
        ((1920, 1080), 16, 832 * 480, (832, 480)),
        ((1280, 720), 16, 1280 * 720, (1280, 720)),
        ((720, 1280), 32, None, (704, 1280)),
        ((10, 10), 16, None, (16, 16)),
    ],
)
def test_run_size_snaps_to_model_multiple(
    size: tuple[int, int], multiple: int, max_area: int | None, expected: tuple[int, int]
) -> None:
    w, h = run_size(*size, multiple, max_area=max_area)
    assert (w, h) == expected
    assert w % multiple == 0 and h % multiple == 0
    if max_area is not None:
        assert w * h <= max_area


def test_cover_fit_fills_and_crops_centre() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, 50:150] = 255  # a white centre band
    out = cover_fit(frame, 50, 50)
    assert out.shape == (50, 50, 3)
    assert out.min() > 200  # only the centre survived the crop
    assert cover_fit(frame, 200, 100) is frame


def test_to_uint8_clips_and_rounds() -> None:
    frame = np.array([[[-0.1, 0.5, 1.2]]], np.float32)
    assert to_uint8(frame).tolist() == [[[0, 128, 255]]]


def test_guidance_maps_cfg_scale_linearly() -> None:
    assert guidance_for(0.5, default=5.0, lo=None, hi=None) == pytest.approx(5.0)
    assert guidance_for(0.0, default=5.0, lo=None, hi=None) == pytest.approx(1.0)
    assert guidance_for(1.0, default=5.0, lo=None, hi=None) == pytest.approx(9.0)
    assert guidance_for(0.25, default=5.0, lo=2.0, hi=6.0) == pytest.approx(3.0)
    assert guidance_for(7.0, default=5.0, lo=2.0, hi=6.0) == pytest.approx(6.0)


def test_options_parse_and_reject() -> None:
    opts = parse_options(
        {
            "weights": "/models/wan",
            "steps": 30,
            "guidance": 5,
            "cache": {"type": "first_block", "threshold": 0.08},
            "attention_backend": "flash",
            "compile": True,
        }
    )
    assert opts.steps == 30 and opts.compile and opts.cache is not None
    assert opts.cache.kind == "first_block" and opts.cache.params == {"threshold": 0.08}
    assert parse_options({"weights": "/m", "cache": "first_block"}).cache.kind == "first_block"  # type: ignore[union-attr]
    bad: list[dict[str, object]] = [
        {},
        {"weights": ""},
        {"weights": "/m", "steps": 0},
        {"weights": "/m", "steps": 2.5},
        {"weights": "/m", "dtype": "int8"},
        {"weights": "/m", "memory": "tiny"},
        {"weights": "/m", "compile": "yes"},
        {"weights": "/m", "guidance_min": 5, "guidance_max": 2},
        {"weights": "/m", "cache": 3},
        {"weights": "/m", "stepz": 3},
    ]
    for options in bad:
        with pytest.raises(ConfigError):
            parse_options(options)
