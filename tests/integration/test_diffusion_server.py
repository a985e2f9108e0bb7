"""The diffusion engine behind the running server: tiny saved pipelines, real MP4s.

One server serves every test here: its models file points four model names at three
tiny random pipelines (Wan I2V, Wan FLF2V, LTX-Video) saved with save_pretrained, at
64 px and 1-2 fps so each video is 5 or 9 frames. The clips are noise (the weights
are random); what is checked is the wiring: frame count by the engine's 4k+1 / 8k+1
rule, the job's size, progress, the create-time refusal and start-up errors.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from tests.support import diffusion as builders  # noqa: E402
from tests.support.media import decode, png_b64  # noqa: E402
from tests.support.server import ROOT, Server, free_port, start_server  # noqa: E402

pytestmark = pytest.mark.heavy

FIRST = png_b64(640, 360, seed=1)  # 16:9 -> 114x64 at a 64 px short side
LAST = png_b64(640, 360, seed=2)
WIDTH, HEIGHT = 114, 64
TIMEOUT = 600  # a loaded 2-core CI box runs even tiny pipelines slowly


def models_toml(weights: dict[str, Path]) -> str:
    def model(name: str, folder: Path, *, fps: int, steps: int = 2, extra: str = "") -> str:
        return (
            f'[models."{name}"]\n{extra}engine = "diffusion"\nfps = {fps}\n'
            "resolution = { std = 64, pro = 64 }\n"
            f'[models."{name}".engine_options]\nweights = "{folder.as_posix()}"\nsteps = {steps}\n\n'
        )

    end_frame_std = 'base = "kling-v2-1"\ncontrols = { std = { end_frame = [5, 10] } }\n'
    return (
        # fps 2 x 5 s = 10 frames asked -> 9 (nearest 4k+1 for Wan, 8k+1 for LTX)
        model("kling-v2-1", weights["wan"], fps=2)
        # fps 1 x 5 s = 5 frames asked -> 5 (already 4k+1)
        + model("wan-flf2v", weights["flf"], fps=1, extra=end_frame_std)
        + model("ltx-video", weights["ltx"], fps=2, extra='base = "kinema-motion"\n')
        # 64 steps: even an idle CPU denoises for a few progress writes (one per 0.5 s)
        + model("wan-progress", weights["wan"], fps=1, steps=200, extra='base = "kling-v2-1"\n')
    )


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipelines")
    return {
        "wan": builders.build_wan_i2v(root / "wan-i2v"),
        "flf": builders.build_wan_i2v(root / "wan-flf2v", flf=True),
        "ltx": builders.build_ltx_condition(root / "ltx"),
    }


@pytest.fixture(scope="module")
def diffusion_server(tmp_path_factory: pytest.TempPathFactory, weights: dict[str, Path]) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("diffusion-server")
    models_file = tmp / "models.toml"
    models_file.write_text(models_toml(weights))
    srv = start_server(tmp, {"KINEMA_MODELS_FILE": str(models_file), "KINEMA_WORKERS": "1",
                                "KINEMA_PROGRESS_SECONDS": "0.05"},
                       start_timeout=TIMEOUT)
    yield srv
    srv.kill()


def render(srv: Server, body: dict[str, Any]) -> Any:
    """POST a Kling request, wait for it, download and decode its one video."""
    with srv.client() as c:
        created = c.post("/v1/videos/image2video", json=body)
        assert created.status_code == 200, created.text
        task_id = created.json()["data"]["task_id"]
        done = srv.wait_task(f"/v1/videos/image2video/{task_id}", timeout=TIMEOUT)["data"]
        assert done["task_status"] == "succeed", (done, srv.log()[-3000:])
        videos = done["task_result"]["videos"]
        assert len(videos) == 1
        got = c.get(videos[0]["url"])
        assert got.status_code == 200
        return decode(got.content)


def test_wan_i2v_model_renders_4k_plus_1_frames_at_the_configured_size(diffusion_server: Server) -> None:
    video = render(diffusion_server, {"model_name": "kling-v2-1", "image": FIRST, "prompt": "a cat runs",
                                      "duration": "5"})
    assert (video.width, video.height) == (WIDTH, HEIGHT)
    assert video.count == 9
    assert video.fps == pytest.approx(2)


def test_wan_flf2v_model_takes_image_tail(diffusion_server: Server) -> None:
    video = render(diffusion_server, {"model_name": "wan-flf2v", "image": FIRST, "image_tail": LAST,
                                      "prompt": "a dog walks", "mode": "std", "duration": "5"})
    assert (video.width, video.height) == (WIDTH, HEIGHT)
    assert video.count == 5
    assert video.fps == pytest.approx(1)


def test_ltx_model_takes_first_and_last_frame_and_renders_8k_plus_1(diffusion_server: Server) -> None:
    video = render(diffusion_server, {"model_name": "ltx-video", "image": FIRST, "image_tail": LAST,
                                      "prompt": "the camera zoom", "duration": "5"})
    assert (video.width, video.height) == (WIDTH, HEIGHT)
    assert video.count == 9
    assert video.fps == pytest.approx(2)


def test_image_tail_on_plain_wan_i2v_is_refused_at_create_time(diffusion_server: Server) -> None:
    # kling-v2-1 allows end_frame in pro, so the catalogue passes it; the loaded engine refuses
    with diffusion_server.client() as c:
        before = len(c.get("/v1/videos/image2video").json()["data"])
        r = c.post("/v1/videos/image2video", json={
            "model_name": "kling-v2-1", "image": FIRST, "image_tail": LAST, "prompt": "a cat", "mode": "pro"})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["code"] == 1201
        assert "image_tail" in body["message"]
        assert "last frame" in body["message"]
        after = len(c.get("/v1/videos/image2video").json()["data"])
    assert after == before  # nothing was queued for it


def test_progress_rises_while_the_pipeline_denoises(diffusion_server: Server) -> None:
    with diffusion_server.client() as c:
        created = c.post("/v3/async/wan-progress", json={"image": FIRST, "prompt": "a cat runs in the park"})
        assert created.status_code == 200, created.text
        task_id = created.json()["task_id"]
        seen: list[int] = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            task = c.get("/v3/async/task-result", params={"task_id": task_id}).json()["task"]
            seen.append(task["progress_percent"])
            if task["status"] in ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED"):
                break
            time.sleep(0.05)
    assert task["status"] == "TASK_STATUS_SUCCEED", (task, diffusion_server.log()[-3000:])
    assert seen == sorted(seen), seen
    assert seen[-1] == 100
    assert any(0 < p < 100 for p in seen), seen


def test_broken_weights_folder_stops_serve_at_start_up(weights: dict[str, Path], tmp_path: Path) -> None:
    broken = shutil.copytree(weights["wan"], tmp_path / "broken-wan")
    for file in (broken / "transformer").glob("*.safetensors"):
        file.write_bytes(b"not a safetensors file")
    models_file = tmp_path / "models.toml"
    models_file.write_text(
        f'[models."kling-v2-1"]\nengine = "diffusion"\n'
        f'[models."kling-v2-1".engine_options]\nweights = "{broken.as_posix()}"\n')
    env = {"KINEMA_MODELS_FILE": str(models_file), "KINEMA_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-m", "kinema", "serve", "--port", str(free_port())],
        env={**_base_env(), **env}, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert str(broken) in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert "error" in lines[-1].lower() and str(broken) in lines[-1], output
    assert "Traceback" not in output, output


def _base_env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}
