"""The async v3 dialect (seeds 003 and 004) end to end against a running server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.media import b64, cover_fit, decode, png_b64, psnr, textured
from tests.support.server import Receiver, Server, start_server

DONE = ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")


def create(server: Server, slug: str, **body: object) -> str:
    with server.client() as c:
        resp = c.post(f"/v3/async/{slug}", json=body)
    assert resp.status_code == 200, resp.text
    assert list(resp.json()) == ["task_id"]
    return str(resp.json()["task_id"])


def result(server: Server, task_id: str) -> dict:
    return server.wait_task(f"/v3/async/task-result?task_id={task_id}")


def video_of(body: dict) -> bytes:
    assert body["task"]["status"] == "TASK_STATUS_SUCCEED", body
    (video,) = body["videos"]
    assert video["video_type"] == "mp4"
    assert video["video_url_ttl"].isdigit() and 60 <= int(video["video_url_ttl"]) <= 86400
    resp = httpx.get(video["video_url"], timeout=30)
    assert resp.status_code == 200
    return resp.content


@pytest.mark.parametrize(("ratio", "size"), [("9:16", (720, 1280)), ("1:1", (720, 720))])
def test_o1_aspect_ratio_cover_fits_the_output(server: Server, ratio: str, size: tuple[int, int]) -> None:
    image = textured(640, 360, seed=21)
    task_id = create(server, "kling-o1-i2v", image=b64(image), prompt="", duration=5,
                     aspect_ratio=ratio)
    body = result(server, task_id)
    assert body["task"]["task_type"] == "KLING_O1_I2V" and body["task"]["reason"] == ""
    assert body["task"]["progress_percent"] == 100 and body["task"]["eta"] == 0
    assert body["images"] == [] and body["audios"] == [] and body["extra"]["seed"].isdigit()
    video = decode(video_of(body))
    assert (video.width, video.height, video.fps, video.count) == (*size, 24, 120)
    assert psnr(video.frames[0], cover_fit(image, *size)) > 28


def test_o1_default_ratio_is_16_9_and_last_image_is_the_end_frame(server: Server) -> None:
    start, last = textured(400, 400, seed=22), textured(400, 400, seed=23)
    body = result(server, create(server, "kling-o1-i2v", image=b64(start), prompt="",
                                 last_image=b64(last)))
    video = decode(video_of(body))
    assert (video.width, video.height, video.count) == (1280, 720, 120)
    assert psnr(video.frames[0], cover_fit(start, 1280, 720)) > 28
    assert psnr(video.frames[-1], cover_fit(last, 1280, 720)) > 28


@pytest.mark.heavy
def test_v21_professional_is_the_1080p_class_with_live_progress(server: Server) -> None:
    task_id = create(server, "kling-v2.1-i2v", image=png_b64(640, 360, seed=24), prompt="drift",
                     mode="Professional", duration="5", guidance_scale=0.35, negative_prompt="blur")
    seen: list[tuple[str, int, int]] = []
    deadline = time.monotonic() + 180
    with server.client() as c:
        while time.monotonic() < deadline:
            body = c.get("/v3/async/task-result", params={"task_id": task_id}).json()
            task = body["task"]
            seen.append((task["status"], task["progress_percent"], task["eta"]))
            if task["status"] in DONE:
                break
            time.sleep(0.1)
    running = [s for s in seen if s[0] == "TASK_STATUS_PROCESSING"]
    assert any(0 < p < 100 for _, p, _ in running), seen
    assert any(eta > 0 for _, _, eta in running), seen
    progress = [p for _, p, _ in seen]
    assert progress == sorted(progress)
    assert body["task"]["task_type"] == "KLING_V2_1_I2V"
    video = decode(video_of(body))
    assert (video.width, video.height, video.fps, video.count) == (1920, 1080, 24, 120)


def test_v21_standard_is_the_720p_class(server: Server) -> None:
    body = result(server, create(server, "kling-v2.1-i2v", image=png_b64(640, 360, seed=25),
                                 prompt="", mode="Standard"))
    video = decode(video_of(body))
    assert (video.width, video.height, video.fps, video.count) == (1280, 720, 24, 120)


@pytest.mark.heavy
def test_v16_takes_image_url_and_its_end_image_in_professional_mode(server: Server) -> None:
    start, tail = textured(300, 300, seed=26), textured(300, 300, seed=27)
    body = result(server, create(server, "kling-v1.6-i2v", image_url=b64(start), prompt="x",
                                 end_image_url=b64(tail), mode="Professional", guidance_scale=0.7))
    video = decode(video_of(body))
    assert (video.width, video.height, video.fps, video.count) == (1080, 1080, 30, 150)
    assert psnr(video.frames[-1], cover_fit(tail, 1080, 1080)) > 28


@pytest.mark.heavy
def test_master_and_turbo_render_their_fixed_classes(server: Server) -> None:
    image = png_b64(640, 360, seed=28)
    master = create(server, "kling-v2.1-i2v-master", image=image, prompt="", duration="5",
                    guidance_scale=0.5, negative_prompt="")
    turbo = create(server, "kling-2.5-turbo-i2v", image=image, prompt="", cfg_scale=0.4, mode="pro")
    for task_id, task_type in ((master, "KLING_V2_1_I2V_MASTER"), (turbo, "KLING_2_5_TURBO_I2V")):
        body = result(server, task_id)
        assert body["task"]["task_type"] == task_type
        video = decode(video_of(body))
        assert (video.width, video.height, video.fps, video.count) == (1920, 1080, 24, 120)


def test_webhook_reaches_a_real_receiver(server: Server, receiver: Receiver) -> None:
    task_id = create(server, "kling-o1-i2v", image=png_b64(640, 360, seed=29), prompt="",
                     aspect_ratio="1:1", extra={"webhook": {"url": receiver.url}})
    body = result(server, task_id)
    (hook,) = receiver.wait(1)
    assert hook.path == "/hook" and hook.headers["content-type"] == "application/json"
    event = hook.json()
    assert set(event) == {"event_type", "payload"} and event["event_type"] == "ASYNC_TASK_RESULT"
    payload = event["payload"]
    assert payload["task"] == {**body["task"], "eta": payload["task"]["eta"]}
    assert payload["task"]["status"] == "TASK_STATUS_SUCCEED"
    assert decode(httpx.get(payload["videos"][0]["video_url"], timeout=30).content).count == 120
    time.sleep(1)
    assert len(receiver.received) == 1  # one event, when the task ends


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose kling-v2.1-i2v engine is misconfigured: every task on it fails."""
    tmp = tmp_path_factory.mktemp("broken")
    models = Path(tmp / "models.toml")
    models.write_text('[models."kling-v2.1-i2v"]\nengine_options = { easing = "bouncy" }\n')
    srv = start_server(tmp, {"KINEMA_MODELS_FILE": str(models), "KINEMA_WORKERS": "1"})
    yield srv
    srv.kill()


def test_a_failed_task_sets_reason_and_sends_the_webhook(broken: Server, receiver: Receiver) -> None:
    task_id = create(broken, "kling-v2.1-i2v", image=png_b64(640, 360), prompt="",
                     extra={"webhook": {"url": receiver.url}})
    body = result(broken, task_id)
    task = body["task"]
    assert task["status"] == "TASK_STATUS_FAILED" and body["videos"] == []
    assert "engine option easing must be one of" in task["reason"]
    (hook,) = receiver.wait(1)
    assert hook.json()["payload"]["task"]["reason"] == task["reason"]
    # The same failure, asked for through the gateway, carries its error object.
    with broken.client() as c:
        gw = c.post("/kling/v1/videos/image2video",
                    json={"model": "kling-v2.1-i2v", "prompt": "", "image": png_b64(640, 360)})
    done = broken.wait_task(f"/kling/v1/videos/image2video/{gw.json()['task_id']}")
    assert done["status"] == "failed" and done["url"] == ""
    assert done["error"]["code"] == 5000 and "easing" in done["error"]["message"]
