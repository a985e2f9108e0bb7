"""The gateway dialect (seed 000) end to end against a running server: create, poll,
download, decode, and check what the body asked for."""

from __future__ import annotations

import base64

import httpx
import numpy as np

from tests.support.media import b64, cover_fit, decode, png_b64, psnr, textured
from tests.support.server import Server

PATH = "/kling/v1/videos/image2video"


def create(server: Server, **body: object) -> str:
    with server.client() as c:
        resp = c.post(PATH, json=body)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["status"] == "queued" and set(data) == {"task_id", "status"}, data
    return str(data["task_id"])


def finish(server: Server, task_id: str) -> dict:
    body = server.wait_task(f"{PATH}/{task_id}")
    assert body["status"] == "succeeded", body
    return body


def fetch(server: Server, url: str) -> bytes:
    resp = httpx.get(url, timeout=30)
    assert resp.status_code == 200
    return resp.content


def test_width_height_fps_duration_decide_the_output(server: Server) -> None:
    image = textured(640, 360, seed=3)
    task_id = create(server, model="kling-v1", prompt="", image=b64(image), duration=5.0,
                     width=480, height=480, fps=12, seed=5)
    body = finish(server, task_id)
    assert body["task_id"] == task_id and body["progress"] == 100 and body["format"] == "mp4"
    assert body["metadata"] == {"duration": 5, "fps": 12, "width": 480, "height": 480, "seed": 5}
    assert body["error"] is None and "videos" not in body
    video = decode(fetch(server, body["url"]))
    assert (video.width, video.height, video.fps, video.count) == (480, 480, 12, 60)
    assert video.codec == "h264" and video.pix_fmt == "yuv420p"
    # The square output is a cover-fit of the 16:9 input: the first frame is that crop.
    assert psnr(video.frames[0], cover_fit(image, 480, 480)) > 28


def test_n_two_gives_two_different_videos_and_seed_reproduces(server: Server) -> None:
    image = png_b64(640, 360, seed=4)
    common = dict(model="kinema-motion", prompt="the camera pans right", image=image,
                  width=320, height=256, fps=8)
    first = finish(server, create(server, n=2, seed=41, **common))
    assert first["metadata"]["seed"] == 41
    urls = [v["url"] for v in first["videos"]]
    assert len(urls) == 2 and urls[0] == first["url"] and urls[0] != urls[1]
    a, b = (decode(fetch(server, u)) for u in urls)
    assert a.count == b.count == 40 and (a.width, a.height) == (320, 256)
    # Each video is its own motion variant: they part ways after the shared first frame
    # (about 27 dB apart at the end), while the same seed renders the same motion again
    # (over 40 dB on every frame; not bit-exact across processes).
    assert psnr(a.frames[0], b.frames[0]) > 40
    assert psnr(a.frames[-1], b.frames[-1]) < 33
    again = finish(server, create(server, n=1, seed=41, **common))
    c = decode(fetch(server, again["url"]))
    assert min(psnr(x, y) for x, y in zip(a.frames, c.frames, strict=True)) > 38


def test_b64_json_returns_playable_bytes(server: Server) -> None:
    image = png_b64(640, 360, seed=5)
    common = dict(model="kinema-motion", prompt="", image=image, width=256, height=256, fps=8,
                  response_format="b64_json")
    single = finish(server, create(server, **common))
    video = decode(base64.b64decode(single["b64_json"]))
    assert (video.width, video.height, video.count) == (256, 256, 40)
    double = finish(server, create(server, n=2, **common))
    assert [set(v) for v in double["videos"]] == [{"b64_json"}, {"b64_json"}]
    decoded = [decode(base64.b64decode(v["b64_json"])) for v in double["videos"]]
    assert [d.count for d in decoded] == [40, 40]
    assert not np.array_equal(decoded[0].frames[-1], decoded[1].frames[-1])


def test_kling_fields_in_metadata_are_honoured(server: Server) -> None:
    start, tail = textured(640, 360, seed=6), textured(640, 360, seed=7)
    body = finish(server, create(
        server, model="kinema-motion", prompt="", image=b64(start), width=480, height=270,
        metadata={"image_tail": b64(tail), "negative_prompt": "blur", "mode": "std",
                  "cfg_scale": 0.3, "style": "ignored, not a Kling field"}))
    video = decode(fetch(server, body["url"]))
    assert psnr(video.frames[0], cover_fit(start, 480, 270)) > 28
    assert psnr(video.frames[-1], cover_fit(tail, 480, 270)) > 28
    # camera_control in metadata moves the picture (a zoom in keeps the centre).
    image = textured(640, 360, seed=8)
    body = finish(server, create(
        server, model="kinema-motion", prompt="", image=b64(image), width=480, height=270,
        metadata={"camera_control": {"type": "simple", "config": {"zoom": 8}}}))
    video = decode(fetch(server, body["url"]))
    assert psnr(video.frames[0], video.frames[-1]) < 25


def test_kling_body_on_the_same_path_gets_the_kling_envelope(server: Server) -> None:
    image = png_b64(640, 360, seed=9)
    with server.client() as c:
        created = c.post(PATH, json={"model_name": "kling-v1", "image": image, "duration": "5"}).json()
        assert created["code"] == 0 and created["message"] == "SUCCEED"
        task_id = created["data"]["task_id"]
        assert created["data"]["task_status"] == "submitted"
        # A Kling-only field (no model_name) also picks the Kling dialect.
        other = c.post(PATH, json={"model": "kling-v1", "image": image, "cfg_scale": 0.5}).json()
        assert other["code"] == 0 and "task_id" in other["data"]
    done = server.wait_task(f"{PATH}/{task_id}")
    assert done["code"] == 0 and done["data"]["task_status"] == "succeed"
    assert done["data"]["task_result"]["videos"][0]["duration"] == "5.0"


def test_a_task_is_answered_in_the_dialect_it_was_created_in(server: Server) -> None:
    image = png_b64(640, 360, seed=10)
    gateway_id = create(server, model="kling-v1", prompt="", image=image, width=256, height=256)
    with server.client() as c:
        v3_id = c.post("/v3/async/kling-o1-i2v", json={"image": image, "prompt": ""}).json()["task_id"]
        kling_id = c.post(PATH, json={"model_name": "kling-v1", "image": image}).json()["data"]["task_id"]
        for path in (f"{PATH}/{gateway_id}", f"/v3/async/task-result?task_id={gateway_id}"):
            body = c.get(path).json()
            assert body["task_id"] == gateway_id and body["format"] == "mp4", path
        for path in (f"{PATH}/{v3_id}", f"/v3/async/task-result?task_id={v3_id}"):
            body = c.get(path).json()
            assert body["task"]["task_id"] == v3_id and body["images"] == [], path
        for path in (f"{PATH}/{kling_id}", f"/v3/async/task-result?task_id={kling_id}"):
            body = c.get(path).json()
            assert body["code"] == 0 and body["data"]["task_id"] == kling_id, path
    for ident in (gateway_id,):
        finish(server, ident)
