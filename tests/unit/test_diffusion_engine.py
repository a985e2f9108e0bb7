"""DiffusionEngine end to end on tiny random pipelines, on the CPU.

Each pipeline is built once per session, saved to disk and loaded back through the
engine's own loader; videos are checked by decoding them with PyAV.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import av

from kinema.engines.base import StopRequested
from kinema.engines.diffusion import DiffusionEngine
from kinema.errors import ConfigError, InvalidParameter
from kinema.job import Job
from tests.support import diffusion as fixtures

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="session")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("diffusion-weights")
    return {
        "wan": fixtures.build_wan_i2v(root / "wan-i2v"),
        "flf": fixtures.build_wan_i2v(root / "wan-flf2v", flf=True),
        "ltx": fixtures.build_ltx_condition(root / "ltx"),
        "ti2v": fixtures.build_wan_ti2v(root / "wan-ti2v"),
        "a14b": fixtures.build_wan22_a14b(root / "wan22-a14b"),
    }


@pytest.fixture(scope="session")
def engines(weights: dict[str, Path]) -> dict[str, DiffusionEngine]:
    # the caller caches one engine per model; so do the tests
    return {name: DiffusionEngine({"weights": str(path), "steps": 2}) for name, path in weights.items()}


def image(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def make_job(tmp_path: Path, *, tail: bool = False, **kw: Any) -> Job:
    fields: dict[str, Any] = {
        "task_id": "t1", "model": "kling-v2-1", "image": image(40, 56, 1), "prompt": "a cat runs in the park",
        "width": 48, "height": 32, "fps": 8, "num_frames": 8, "out_dir": tmp_path / "out", "seed": 7,
    }
    if tail:
        fields["image_tail"] = image(40, 56, 2)
    fields.update(kw)
    return Job(**fields)


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def run(engine: DiffusionEngine, job: Job) -> tuple[list[Any], list[float]]:
    progress: list[float] = []
    videos = engine.generate(job, on_progress=progress.append, should_stop=lambda: False)
    return videos, progress


def test_wan_i2v_writes_4k_plus_1_frames_at_job_size(engines: dict[str, DiffusionEngine], tmp_path: Path) -> None:
    engine = engines["wan"]
    videos, progress = run(engine, make_job(tmp_path, num_frames=8))
    assert len(videos) == 1
    frames = decode(videos[0].path)
    assert len(frames) == 9  # 8 asked -> nearest 4k+1
    assert frames[0].shape == (32, 48, 3)
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert len(set(progress)) == len(progress)  # strictly rising


def test_wan_i2v_refuses_image_tail_unless_enabled(
    engines: dict[str, DiffusionEngine], weights: dict[str, Path]
) -> None:
    with pytest.raises(InvalidParameter) as err:
        engines["wan"].check(has_image_tail=True)
    assert err.value.field == "image_tail"
    engines["wan"].check(has_image_tail=False)
    engines["flf"].check(has_image_tail=True)
    engines["ltx"].check(has_image_tail=True)
    forced = DiffusionEngine({"weights": str(weights["wan"]), "steps": 1, "last_frame": True})
    forced.check(has_image_tail=True)


def test_wan_flf2v_with_image_tail(engines: dict[str, DiffusionEngine], tmp_path: Path) -> None:
    videos, progress = run(engines["flf"], make_job(tmp_path, tail=True, num_frames=6, n=2))
    assert [v.path.name for v in videos] == ["video-0.mp4", "video-1.mp4"]
    first, second = (decode(v.path) for v in videos)
    assert len(first) == len(second) == 5
    assert first[0].shape == (32, 48, 3)
    assert not np.array_equal(np.stack(first), np.stack(second))  # seed + i differs per video
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_ltx_first_and_last_frame_8k_plus_1(engines: dict[str, DiffusionEngine], tmp_path: Path) -> None:
    engine = engines["ltx"]
    assert engine.temporal_factor == 8
    videos, progress = run(engine, make_job(tmp_path, tail=True, num_frames=12, width=64, height=32))
    frames = decode(videos[0].path)
    assert len(frames) == 9  # 12 asked -> nearest 8k+1
    assert frames[0].shape == (32, 64, 3)
    assert progress[-1] == 1.0


def test_wan22_ti2v_saved_as_wan_pipeline_runs_image_to_video(
    engines: dict[str, DiffusionEngine], tmp_path: Path
) -> None:
    engine = engines["ti2v"]
    assert type(engine.pipe).__name__ == "WanImageToVideoPipeline"
    assert engine.size_multiple == 32  # 16x VAE, 2x2 patches
    with pytest.raises(InvalidParameter):
        engine.check(has_image_tail=True)  # TI2V conditions the first frame only
    videos, _ = run(engine, make_job(tmp_path, width=64, height=32, num_frames=4))
    frames = decode(videos[0].path)
    assert len(frames) == 5
    assert frames[0].shape == (32, 64, 3)


def test_wan22_two_experts_with_guidance_2_cache_and_forced_last_frame(
    weights: dict[str, Path], tmp_path: Path
) -> None:
    options = {"weights": str(weights["a14b"]), "steps": 2, "guidance_2": 3.0, "cache": "first_block"}
    plain = DiffusionEngine(options)
    with pytest.raises(InvalidParameter):
        plain.check(has_image_tail=True)  # not a first-last-frame checkpoint
    engine = DiffusionEngine({**options, "last_frame": True})
    assert engine.pipe.transformer.is_cache_enabled and engine.pipe.transformer_2.is_cache_enabled
    seen: dict[str, Any] = {}
    call = type(engine.pipe).__call__

    def spy(pipe: Any, *args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return call(pipe, *args, **kwargs)

    engine.pipe.__class__ = type("Spied", (type(engine.pipe),), {"__call__": spy})
    videos, _ = run(engine, make_job(tmp_path, tail=True, cfg_scale=0.5))
    assert len(decode(videos[0].path)) == 9
    assert seen["guidance_scale"] == pytest.approx(5.0)
    assert seen["guidance_scale_2"] == pytest.approx(3.0)
    assert seen["last_image"] is not None


def test_same_seed_same_video(engines: dict[str, DiffusionEngine], tmp_path: Path) -> None:
    a, _ = run(engines["ltx"], make_job(tmp_path / "a"))
    b, _ = run(engines["ltx"], make_job(tmp_path / "b"))
    assert np.array_equal(np.stack(decode(a[0].path)), np.stack(decode(b[0].path)))


def test_stop_mid_way_raises_before_vae_decode(
    engines: dict[str, DiffusionEngine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engines["wan"]
    decodes: list[int] = []
    real_decode = engine.pipe.vae.decode
    monkeypatch.setattr(engine.pipe.vae, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))
    progress: list[float] = []
    job = make_job(tmp_path, n=2)
    with pytest.raises(StopRequested):
        engine.generate(job, on_progress=progress.append, should_stop=lambda: len(progress) >= 1)
    assert len(progress) == 1 and progress[0] < 0.5  # stopped after the first step
    assert decodes == []
    assert not list(job.out_dir.glob("*.mp4")) if job.out_dir.exists() else True
    # the engine is still usable afterwards
    videos, _ = run(engine, make_job(tmp_path / "again"))
    assert len(decode(videos[0].path)) == 9


def test_speed_settings_apply_on_cpu(weights: dict[str, Path], tmp_path: Path) -> None:
    engine = DiffusionEngine(
        {
            "weights": str(weights["wan"]),
            "steps": 2,
            "attention_backend": "native",
            "cache": {"type": "first_block", "threshold": 0.05},
            "flow_shift": 3.0,
            "guidance": 4.0,
        }
    )
    assert engine.pipe.transformer.is_cache_enabled
    assert engine.pipe.scheduler.config.shift == 3.0
    videos, _ = run(engine, make_job(tmp_path))
    assert len(decode(videos[0].path)) == 9


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("breakage", [
    "missing", "empty", "not_json", "no_class", "no_component", "bad_weights", "t2v", "unknown_class",
])
def test_broken_weights_folder_is_a_config_error(weights: dict[str, Path], tmp_path: Path, breakage: str) -> None:
    folder = tmp_path / "broken"
    expect = str(folder)
    if breakage == "missing":
        expect_msg = "does not exist"
    elif breakage == "empty":
        folder.mkdir()
        expect_msg = "no model_index.json"
    else:
        _copy(weights["wan"], folder)
        index_path = folder / "model_index.json"
        index = json.loads(index_path.read_text())
        if breakage == "not_json":
            index_path.write_text('{"_class_name": "WanImage')
            expect_msg = "not valid JSON"
        elif breakage == "no_class":
            index_path.write_text(json.dumps({k: v for k, v in index.items() if k != "_class_name"}))
            expect_msg = "_class_name"
        elif breakage == "no_component":
            shutil.rmtree(folder / "vae")
            expect_msg = "'vae'"
        elif breakage == "bad_weights":
            weights_file = next((folder / "transformer").glob("*.safetensors"))
            weights_file.write_bytes(b"\x00garbage")
            expect_msg = "could not load"
        elif breakage == "t2v":
            index_path.write_text(json.dumps({**index, "_class_name": "WanPipeline"}))
            expect_msg = "text-to-video"
        else:
            index_path.write_text(json.dumps({**index, "_class_name": "NoSuchPipeline"}))
            expect_msg = "NoSuchPipeline"
    with pytest.raises(ConfigError) as err:
        DiffusionEngine({"weights": str(folder)})
    assert expect in str(err.value) and expect_msg in str(err.value)


def test_bad_options_are_config_errors(weights: dict[str, Path]) -> None:
    base = {"weights": str(weights["ltx"])}
    for extra in (
        {"memory": "offload"},  # needs an accelerator
        {"cache": "teacache"},  # not a diffusers hook
        {"cache": {"type": "first_block", "nonsense": 1}},
        {"attention_backend": "no-such-backend"},
        {"call_kwargs": {"no_such_arg": 1}},
        {"device": "cuda"} if not __import__("torch").cuda.is_available() else {"dtype": "int4"},
    ):
        with pytest.raises(ConfigError):
            DiffusionEngine({**base, **extra})
