"""A task's life through the real server: the video, callbacks, signed URLs, restarts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import cv2
import httpx
import numpy as np

from tests.support.media import b64, cover_fit, decode, detailed, png_b64, psnr, textured
from tests.support.server import Receiver

IMG_ARRAY = textured(640, 360, seed=7)
IMG = png_b64(640, 360, seed=7)


def create(srv, **kw: object) -> str:
    with srv.client() as c:
        r = c.post("/v1/videos/image2video", json={"model_name": "kinema-motion", "image": IMG,
                                                    "prompt": "", **kw})
    assert r.status_code == 200, r.text
    return r.json()["data"]["task_id"]


def finished(srv, task_id: str, timeout: float = 120) -> dict:
    body = srv.wait_task(f"/v1/videos/image2video/{task_id}", timeout=timeout)
    assert body["code"] == 0
    return body["data"]


def video_of(data: dict) -> bytes:
    assert data["task_status"] == "succeed", data
    r = httpx.get(data["task_result"]["videos"][0]["url"], timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    return r.content


def test_kling_v1_video_has_promised_size_fps_and_frames(server) -> None:
    data = finished(server, create(server, model_name="kling-v1", duration="5", mode="std"))
    assert data["task_result"]["videos"][0]["duration"] == "5.0"
    assert data["task_result"]["videos"][0]["id"].isdigit()
    mp4 = video_of(data)
    assert mp4[4:8] == b"ftyp" and mp4.index(b"moov") < mp4.index(b"mdat"), "faststart"
    video = decode(mp4)
    assert (video.width, video.height) == (1280, 720)  # std = 720p class, input's 16:9
    assert video.fps == 30 and video.count == 150 and video.codec == "h264" and video.pix_fmt == "yuv420p"
    assert psnr(video.frames[0], cover_fit(IMG_ARRAY, 1280, 720)) > 30


def test_pro_mode_is_1080p_class_and_ten_seconds(server) -> None:
    portrait = png_b64(360, 640, seed=2)
    data = finished(server, create(server, model_name="kling-v2-1", mode="pro", duration=10, image=portrait))
    video = decode(video_of(data), keep=slice(0, 1))
    assert (video.width, video.height) == (1080, 1920)
    assert data["task_result"]["videos"][0]["duration"] == "10.0"
    assert video.fps == 24


def _shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    window = cv2.createHanningWindow(ga.shape[::-1], cv2.CV_64F)
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb, window)
    return dx, dy


def _scale(a: np.ndarray, b: np.ndarray) -> float:
    """How much larger content is in b than in a, from matched ORB features."""
    orb = cv2.ORB_create(2000)
    ka, da = orb.detectAndCompute(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), None)
    kb, db = orb.detectAndCompute(cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
    src = np.float32([ka[m.queryIdx].pt for m in matches])
    dst = np.float32([kb[m.trainIdx].pt for m in matches])
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC)
    return float(np.hypot(matrix[0, 0], matrix[1, 0]))


def test_zoom_in_grows_content_and_positive_horizontal_moves_content_left(server) -> None:
    img = b64(detailed(640, 360, seed=11))
    zoom = create(server, image=img, camera_control={"type": "simple", "config": {"zoom": -8}})
    pan = create(server, image=img, camera_control={"type": "simple", "config": {"horizontal": 8}})
    zv = decode(video_of(finished(server, zoom)))
    assert _scale(zv.frames[0], zv.frames[-1]) > 1.2  # negative zoom = narrower FOV = zoom in
    scales = [_scale(zv.frames[0], f) for f in zv.frames[:: len(zv.frames) // 6]]
    assert all(b >= a - 0.01 for a, b in zip(scales, scales[1:], strict=False)), scales
    pv = decode(video_of(finished(server, pan)))
    mid = len(pv.frames) // 2
    dx, dy = _shift(pv.frames[mid], pv.frames[mid + 4])
    assert dx < -1.0 and abs(dy) < 0.3 * abs(dx), (dx, dy)  # camera right -> content left


def test_constant_speed_pan_is_smooth(start, tmp_path) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[models."steady-pan"]\nbase = "kinema-motion"\n'
                      '[models."steady-pan".engine_options]\neasing = "linear"\n')
    srv = start({"KINEMA_MODELS_FILE": str(models)})
    task = create(srv, model_name="steady-pan", image=b64(detailed(640, 360, seed=5)),
                  camera_control={"type": "simple", "config": {"horizontal": 6}})
    video = decode(video_of(finished(srv, task)))
    n = len(video.frames)
    steps = [_shift(video.frames[i], video.frames[i + 1])[0] for i in range(n // 3, n - 2)]
    assert np.mean(steps) < -0.3
    assert np.std(steps) < 0.1, np.std(steps)


def test_callbacks_on_every_status_change_with_retries_and_signature(start) -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    srv = start({"KINEMA_WEBHOOK_SECRET": secret})
    receiver = Receiver(fail_first=2)
    try:
        task = create(srv, callback_url=receiver.url, external_task_id="cb-1")
        finished(srv, task)
        got = receiver.wait(3)
        statuses = [r.json()["task_status"] for r in got]
        assert statuses == ["submitted", "processing", "succeed"], statuses
        assert receiver.attempts == 5  # two refused, then three delivered
        last = got[-1].json()
        assert "code" not in last and last["task_id"] == task  # the bare task object
        assert last["task_info"]["external_task_id"] == "cb-1"
        assert last["task_result"]["videos"][0]["url"].startswith("http")
        for r in got:
            msg_id, ts = r.headers["webhook-id"], r.headers["webhook-timestamp"]
            assert abs(int(ts) - time.time()) < 300
            key = base64.b64decode(secret.removeprefix("whsec_"))
            expect = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + r.body,
                                               hashlib.sha256).digest()).decode()
            assert r.headers["webhook-signature"] == f"v1,{expect}"
    finally:
        receiver.close()


def test_pending_callbacks_survive_a_restart(start, tmp_path) -> None:
    receiver = Receiver(fail_first=10_000)  # refuses everything while the first server runs
    try:
        srv = start({"KINEMA_CALLBACK_BACKOFF": "1"})
        task = create(srv, callback_url=receiver.url)
        finished(srv, task)
        srv.kill()
        receiver.fail_first = 0
        srv2 = start({"KINEMA_CALLBACK_BACKOFF": "1"}, data_dir=srv.data_dir)
        got = receiver.wait(3, timeout=60)
        assert sorted(r.json()["task_status"] for r in got) == ["processing", "submitted", "succeed"]
        srv2.kill()
    finally:
        receiver.close()


def test_signed_urls_refuse_tampering_and_expiry_and_serve_ranges(start) -> None:
    srv = start({"KINEMA_URL_TTL": "60"})
    data = finished(srv, create(srv))
    url = data["task_result"]["videos"][0]["url"]
    full = httpx.get(url).content
    part = httpx.get(url, headers={"range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == full[100:200]
    assert part.headers["content-range"].startswith("bytes 100-199/")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{parts.scheme}://{parts.netloc}"
    bad_sig = httpx.get(f"{base}{parts.path}?" + urlencode({**query, "sig": "0" * 64}))
    other_file = httpx.get(f"{base}{parts.path.replace('0.mp4', '1.mp4')}?{parts.query}")
    longer = httpx.get(f"{base}{parts.path}?" + urlencode({**query, "expires": int(query["expires"]) + 999}))
    for r in (bad_sig, other_file, longer):
        assert r.status_code == 401 and r.json()["code"] == 1002
    # An expired but correctly signed URL: sign with the server's own key for a past time.
    key = (srv.data_dir / "signing.key").read_text().strip().encode()
    path = parts.path.removeprefix("/files/")
    past = int(time.time()) - 5
    sig = hmac.new(key, f"{path}\n{past}".encode(), hashlib.sha256).hexdigest()
    expired = httpx.get(f"{base}{parts.path}?" + urlencode({"expires": past, "sig": sig}))
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


def test_kill_during_a_task_and_restart_finishes_it(start) -> None:
    env = {"KINEMA_LEASE_SECONDS": "2", "KINEMA_WORKERS": "1"}
    srv = start(env)
    slow = create(srv, model_name="kinema-motion", mode="pro", duration=10)
    queued = [create(srv) for _ in range(2)]
    db = srv.data_dir / "kinema.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as con:
            status, progress = con.execute("SELECT status, progress FROM tasks WHERE id=?", (slow,)).fetchone()
        if status == "processing" and progress > 0.05:
            break
        time.sleep(0.1)
    assert status == "processing"
    srv.kill()  # SIGKILL mid-task
    srv2 = start(env, data_dir=srv.data_dir)
    for task in (slow, *queued):
        data = finished(srv2, task, timeout=180)
        assert data["task_status"] == "succeed", data
    with sqlite3.connect(db) as con:
        attempts = con.execute("SELECT attempts FROM tasks WHERE id=?", (slow,)).fetchone()[0]
    assert attempts == 2
    assert decode(video_of(finished(srv2, slow)), keep=slice(0, 1)).height == 1080


def test_a_task_that_keeps_dying_fails_after_three_attempts(start) -> None:
    env = {"KINEMA_LEASE_SECONDS": "1", "KINEMA_WORKERS": "1"}
    srv = start(env)
    task = create(srv, mode="pro", duration=10)
    data_dir = srv.data_dir
    for _ in range(3):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sqlite3.connect(data_dir / "kinema.db") as con:
                status = con.execute("SELECT status FROM tasks WHERE id=?", (task,)).fetchone()[0]
            if status == "processing":
                break
            time.sleep(0.05)
        srv.kill()
        time.sleep(1.2)  # let the lease run out
        srv = start(env, data_dir=data_dir)
    data = finished(srv, task, timeout=60)
    assert data["task_status"] == "failed"
    assert "3 times" in data["task_status_msg"] and "Traceback" not in data["task_status_msg"]


def test_health_and_request_ids_in_logs(server) -> None:
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        r = c.post("/v1/videos/image2video", json={"model_name": "kinema-motion", "image": IMG},
                   headers={"x-request-id": "req-test-123"})
        assert r.json()["request_id"] == "req-test-123" and r.headers["x-request-id"] == "req-test-123"
        bad = c.post("/v1/videos/image2video", json={"image": "nope"})
        assert bad.json()["request_id"] == bad.headers["x-request-id"]
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "req-test-123" for line in lines)


def test_watermark_info_adds_a_watermarked_twin(server) -> None:
    data = finished(server, create(server, watermark_info={"enabled": True}))
    video = data["task_result"]["videos"][0]
    assert data["watermark_info"] == {"enabled": True}
    clean = decode(httpx.get(video["url"]).content, keep=slice(0, 1)).frames[0].astype(int)
    marked = decode(httpx.get(video["watermark_url"]).content, keep=slice(0, 1)).frames[0].astype(int)
    diff = np.abs(clean - marked).max(axis=2) > 24
    assert diff.any(), "the watermark is visible"
    ys, xs = np.nonzero(diff)
    # Confined to one small area (a corner mark), not spread over the frame.
    assert (np.ptp(ys) + 1) * (np.ptp(xs) + 1) < 0.1 * diff.size
    plain = finished(server, create(server))
    assert "watermark_url" not in plain["task_result"]["videos"][0]
