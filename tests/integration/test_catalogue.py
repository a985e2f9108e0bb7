"""The capability map through a running server, in both directions, and the models file
changing the answer (GET /v1/models and `kinema models` show the result)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.media import b64, cover_fit, decode, png_b64, psnr, textured
from tests.support.server import ROOT, Server, start_server

GATEWAY = "/kling/v1/videos/image2video"
KLING = "/v1/videos/image2video"
IMAGE = png_b64(640, 360, seed=31)
ZOOM = {"type": "simple", "config": {"zoom": 6}}


def kling_create(server: Server, **body: Any) -> httpx.Response:
    with server.client() as c:
        return c.post(KLING, json={"image": IMAGE, "prompt": "", **body})


# (model, the rest of a Kling body, field named, words) that the map forbids
FORBIDDEN = [
    ("kling-v1", {"camera_control": ZOOM}, "camera_control",
     "model kling-v1 in mode std at 5 s does not support camera control"),
    ("kling-v1", {"image_tail": IMAGE, "duration": "10"}, "image_tail",
     "model kling-v1 in mode std at 10 s does not support an end frame"),
    ("kling-v1-5", {"camera_control": ZOOM, "mode": "std"}, "camera_control",
     "model kling-v1-5 in mode std at 5 s does not support camera control"),
    ("kling-v1-5", {"camera_control": ZOOM, "mode": "pro", "duration": 10}, "camera_control",
     "model kling-v1-5 in mode pro at 10 s does not support camera control"),
    ("kling-v1-5", {"camera_control": {"type": "down_back"}, "mode": "pro"}, "camera_control.type",
     "model kling-v1-5 supports camera types simple, not 'down_back'"),
    ("kling-v2-1", {"image_tail": IMAGE, "mode": "std"}, "image_tail",
     "model kling-v2-1 in mode std at 5 s does not support an end frame"),
    ("kling-v2-1-master", {"image_tail": IMAGE}, "image_tail",
     "model kling-v2-1-master in mode pro at 5 s does not support an end frame"),
    ("kling-v2-6", {"sound": "on", "mode": "std"}, "sound",
     "model kling-v2-6 in mode std at 5 s does not support sound"),
    ("kling-v2-6", {"image_tail": IMAGE, "sound": "on", "mode": "pro"}, "image_tail",
     "model kling-v2-6 supports an end frame only with sound 'off'"),
    ("kling-v1-6", {"image": None, "image_tail": IMAGE, "mode": "std"}, "image_tail",
     "model kling-v1-6 in mode std at 5 s does not support an end frame without a start image"),
]


@pytest.mark.parametrize(("model", "extra", "field", "words"), FORBIDDEN,
                         ids=[f"{f[0]}:{f[2]}:{i}" for i, f in enumerate(FORBIDDEN)])
def test_a_forbidden_control_is_refused_naming_model_mode_and_control(
        server: Server, model: str, extra: dict[str, Any], field: str, words: str) -> None:
    body = {"model_name": model, "image": IMAGE, **extra}
    with server.client() as c:
        resp = c.post(KLING, json={k: v for k, v in body.items() if v is not None})
    assert resp.status_code == 400, resp.text
    data = resp.json()
    assert data["code"] == 1201 and data["message"] == f"{field}: {words}", data


def test_a_tuning_knob_the_model_lacks_is_ignored(server: Server) -> None:
    # v2.x has no cfg_scale: it is accepted and has no effect, rather than refused.
    with server.client() as c:
        resp = c.post("/v3/async/kling-2.5-turbo-i2v", json={"image": IMAGE, "prompt": "",
                                                             "cfg_scale": 0.9})
        assert resp.status_code == 200, resp.text
        resp = c.post(KLING, json={"model_name": "kling-v2-master", "image": IMAGE,
                                   "cfg_scale": 0.2, "mode": "pro"})
        assert resp.status_code == 200, resp.text  # one-mode models ignore mode as well


def gateway_render(server: Server, model: str, **meta: Any) -> Any:
    """Render through the gateway at a small size, so allowed controls are cheap to prove."""
    image = meta.pop("source")
    with server.client() as c:
        resp = c.post(GATEWAY, json={"model": model, "prompt": "", "image": b64(image),
                                     "width": 480, "height": 270, "fps": 10, "metadata": meta})
    assert resp.status_code == 200, resp.text
    body = server.wait_task(f"{GATEWAY}/{resp.json()['task_id']}")
    assert body["status"] == "succeeded", body
    return decode(httpx.get(body["url"], timeout=30).content)


def test_allowed_controls_work(server: Server) -> None:
    start, tail = textured(640, 360, seed=32), textured(640, 360, seed=33)
    # kling-v1-5 pro: a simple camera move at 5 s.
    zoom = gateway_render(server, "kling-v1-5", source=start, mode="pro", camera_control=ZOOM)
    assert psnr(zoom.frames[0], cover_fit(start, 480, 270)) > 28
    assert psnr(zoom.frames[0], zoom.frames[-1]) < 25
    # kling-v1 std and kling-v2-1 pro: an end frame.
    for model, mode in (("kling-v1", "std"), ("kling-v2-1", "pro")):
        video = gateway_render(server, model, source=start, mode=mode, image_tail=b64(tail))
        assert video.count == 50
        assert psnr(video.frames[-1], cover_fit(tail, 480, 270)) > 28, model


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("models")
    models = tmp / "models.toml"
    models.write_text("""
[models."kling-v2-1"]
controls = { std = { camera = [5] }, pro = { end_frame = [5, 10] } }

[models."kling-v1"]
resolution = { std = 360, pro = 360 }
fps = 10

[models."house-style"]
base = "kinema-motion"
fps = 8
resolution = { std = 288 }
modes = ["std"]
""")
    srv = start_server(tmp, {"KINEMA_MODELS_FILE": str(models)})
    yield srv
    srv.kill()


def test_an_override_file_changes_the_answer(server: Server, overridden: Server) -> None:
    body = {"model_name": "kling-v2-1", "camera_control": ZOOM}
    before, after = kling_create(server, **body), kling_create(overridden, **body)
    assert before.status_code == 400 and "does not support camera control" in before.json()["message"]
    assert after.status_code == 200, after.text
    # The v3 slug follows its overridden model.
    with overridden.client() as c:
        resp = c.post(KLING, json={"model_name": "kling-v2.1-i2v", "image": IMAGE,
                                   "camera_control": ZOOM})
        assert resp.status_code == 200, resp.text
        # An added name that allows only std.
        resp = c.post(KLING, json={"model_name": "house-style", "image": IMAGE, "mode": "pro"})
        assert resp.status_code == 400
        assert resp.json()["message"] == "mode: model house-style supports modes std, not 'pro'"


def test_overridden_resolution_fps_and_added_model_render(overridden: Server) -> None:
    for model, size, fps in (("kling-v1", (640, 360), 10), ("house-style", (512, 288), 8)):
        resp = kling_create(overridden, model_name=model)
        assert resp.status_code == 200, resp.text
        done = overridden.wait_task(f"{KLING}/{resp.json()['data']['task_id']}")
        assert done["data"]["task_status"] == "succeed", done
        video = decode(httpx.get(done["data"]["task_result"]["videos"][0]["url"], timeout=30).content)
        assert ((video.width, video.height), video.fps, video.count) == (size, fps, 5 * fps), model


def test_models_endpoint_and_cli_show_the_catalogue_after_overrides(
        server: Server, overridden: Server) -> None:
    plain = {m["model"]: m for m in httpx.get(f"{server.url}/v1/models").json()["data"]}
    data = httpx.get(f"{overridden.url}/v1/models").json()
    assert data["code"] == 0
    models = {m["model"]: m for m in data["data"]}
    assert "house-style" not in plain and models["house-style"]["fps"] == 8
    assert models["house-style"]["modes"] == ["std"]
    assert plain["kling-v2-1"]["controls"] == {"pro": {"end_frame": [5, 10]}}
    assert models["kling-v2-1"]["controls"]["std"] == {"camera": [5]}
    assert models["kling-v2.1-i2v"]["controls"] == models["kling-v2-1"]["controls"]
    assert models["kling-v1"]["resolution"] == {"std": 360, "pro": 360}
    assert set(plain) >= {"kinema-motion", "kling-o1-i2v", "kling-v2-6", "kling-2.5-turbo-i2v"}
    for entry in models.values():
        assert "engine_options" not in entry  # options may hold upstream secrets
    env = {**overridden.env}
    out = subprocess.run([sys.executable, "-m", "kinema", "models", "--json"], env=env,
                         capture_output=True, text=True, cwd=ROOT, check=True)
    assert {m["model"]: m for m in json.loads(out.stdout)} == models
    table = subprocess.run([sys.executable, "-m", "kinema", "models"], capture_output=True,
                           text=True, cwd=ROOT, check=True, env={**env, "COLUMNS": "250"})
    assert "house-style" in table.stdout and "std 288p" in table.stdout


def test_a_broken_models_file_stops_the_cli_with_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "models.toml"
    bad.write_text('[models."kling-v1"]\nengine = "warp-drive"\n')
    env = {**start_env(), "KINEMA_MODELS_FILE": str(bad), "KINEMA_DATA_DIR": str(tmp_path / "d")}
    for args in (["models"], ["serve", "--port", "1"]):
        out = subprocess.run([sys.executable, "-m", "kinema", *args], env=env, capture_output=True,
                             text=True, cwd=tmp_path, timeout=60)
        assert out.returncode == 2, out
        assert "unknown engine 'warp-drive'" in out.stderr and "Traceback" not in out.stderr


def start_env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "250"}
