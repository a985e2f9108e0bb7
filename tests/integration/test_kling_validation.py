"""Every request rule of DESIGN.md section 2, each broken once, against a live server."""

from __future__ import annotations

import base64
import zlib

import numpy as np
import pytest

from tests.support.media import b64, encode, png_b64, textured

IMG = png_b64(640, 360)
MASK_W, MASK_H = 640, 360


def mask_b64(width: int = MASK_W, height: int = MASK_H) -> str:
    m = np.zeros((height, width), np.uint8)
    m[height // 3: height // 2, width // 3: width // 2] = 255
    return b64(np.stack([m] * 3, -1))


def traj(n: int = 2) -> list[dict[str, int]]:
    return [{"x": 100 + i, "y": 100 + i} for i in range(n)]


def body(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"model_name": "kinema-motion", "image": IMG, "prompt": "a scene"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def bomb_png() -> str:
    """A tiny PNG that claims 20000x20000 pixels: a decompression bomb."""
    raw = zlib.compress(b"\x00" * (20000 // 8 + 1) * 64, 9)
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    ihdr = (20000).to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


CAM = {"type": "simple", "config": {"zoom": 5}}

CASES = [
    # (id, body, field named in the message, words in the message)
    ("no-image", body(image=None), "image", "at least one"),
    ("bad-base64", body(image="%%%not base64%%%"), "image", "base64"),
    ("not-an-image", body(image=base64.b64encode(b"GIF89a" + b"\0" * 100).decode()), "image", "JPEG or PNG"),
    ("gif-bytes", body(image=b64(encode(textured(400, 400), "GIF"))), "image", "JPEG or PNG"),
    ("too-small", body(image=png_b64(299, 400)), "image", "at least 300"),
    ("too-wide", body(image=png_b64(1000, 300)), "image", "aspect ratio"),
    ("too-tall", body(image=png_b64(300, 1000)), "image", "aspect ratio"),
    ("corrupt-png", body(image=base64.b64encode(encode(textured(400, 400))[:200]).decode()), "image", "decoded"),
    ("bomb", body(image=bomb_png()), "image", "pixel"),
    ("ftp-url", body(image="ftp://example.com/a.png"), "image", "http"),
    ("tail-bad", body(image_tail="AAAA"), "image_tail", "JPEG or PNG"),
    ("long-prompt", body(prompt="x" * 2501), "prompt", "2500"),
    ("long-negative", body(negative_prompt="x" * 2501), "negative_prompt", "2500"),
    ("cfg-high", body(cfg_scale=1.5), "cfg_scale", "less than or equal to 1"),
    ("cfg-low", body(cfg_scale=-0.1), "cfg_scale", "greater than or equal to 0"),
    ("mode", body(mode="standard"), "mode", "std"),
    ("duration", body(duration="7"), "duration", "5"),
    ("duration-num", body(duration=6), "duration", "5"),
    ("tail-and-camera", body(image_tail=IMG, camera_control=CAM), "camera_control", "mutually exclusive"),
    ("masks-and-camera", body(static_mask=mask_b64(), camera_control=CAM), "camera_control", "mutually exclusive"),
    ("tail-and-masks", body(image_tail=IMG, dynamic_masks=[{"mask": mask_b64(), "trajectories": traj()}]),
     "dynamic_masks", "mutually exclusive"),
    ("camera-type", body(camera_control={"type": "spin"}), "camera_control.type", "simple"),
    ("simple-no-config", body(camera_control={"type": "simple"}), "camera_control.config", "required"),
    ("simple-two-axes", body(camera_control={"type": "simple", "config": {"zoom": 1, "pan": 1}}),
     "camera_control.config", "exactly one"),
    ("simple-all-zero", body(camera_control={"type": "simple", "config": {"zoom": 0}}),
     "camera_control.config", "exactly one"),
    ("axis-range", body(camera_control={"type": "simple", "config": {"roll": 11}}),
     "camera_control.config.roll", "less than or equal to 10"),
    ("preset-with-config", body(camera_control={"type": "down_back", "config": {"zoom": 3}}),
     "camera_control.config", "only used with type 'simple'"),
    ("seven-masks", body(dynamic_masks=[{"mask": mask_b64(), "trajectories": traj()}] * 7),
     "dynamic_masks", "at most 6"),
    ("one-point", body(dynamic_masks=[{"mask": mask_b64(), "trajectories": traj(1)}]),
     "dynamic_masks[0].trajectories", "2 to 77"),
    ("78-points", body(dynamic_masks=[{"mask": mask_b64(), "trajectories": traj(78)}]),
     "dynamic_masks[0].trajectories", "2 to 77"),
    ("mask-ratio", body(dynamic_masks=[{"mask": mask_b64(400, 400), "trajectories": traj()}]),
     "dynamic_masks[0].mask", "aspect ratio"),
    ("mask-resolution", body(static_mask=mask_b64(640, 360),
                             dynamic_masks=[{"mask": mask_b64(1280, 720), "trajectories": traj()}]),
     "dynamic_masks[0].mask", "one resolution"),
    ("sound-value", body(sound="loud"), "sound", "'on' or 'off'"),
    ("voices-without-sound", body(voice_list=[{"voice_id": "a"}]), "voice_list", "sound"),
    ("three-voices", body(sound="on", voice_list=[{"voice_id": "a"}] * 3), "voice_list", "at most 2"),
    ("unknown-model", body(model_name="kling-v9"), "model_name", "kling-v2-6"),
    ("legacy-model-unknown", body(model_name=None, model="nope"), "model", "known models"),
    ("capability-camera-v1", body(model_name="kling-v1", camera_control=CAM), "camera_control",
     "kling-v1 in mode std"),
    ("capability-brush-v2-1", body(model_name="kling-v2-1", mode="pro",
                                   dynamic_masks=[{"mask": mask_b64(), "trajectories": traj()}]),
     "dynamic_masks", "motion brush"),
    ("capability-tail-std", body(model_name="kling-v2-1", image_tail=IMG), "image_tail", "mode std"),
    ("capability-sound", body(model_name="kling-v2-6", sound="on"), "sound", "kling-v2-6"),
    ("callback-scheme", body(callback_url="file:///etc/passwd"), "callback_url", "http"),
    ("external-empty", body(external_task_id=""), "external_task_id", "at least 1"),
    ("trajectory-type", body(dynamic_masks=[{"mask": mask_b64(), "trajectories": [{"x": "a", "y": 1}] * 2}]),
     "dynamic_masks[0].trajectories[0].x", "number"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_is_enforced(server, case) -> None:
    _, payload, field, words = case
    with server.client() as c:
        before = len(c.get("/v1/videos/image2video", params={"pageSize": 500}).json()["data"])
        r = c.post("/v1/videos/image2video", json=payload)
        after = len(c.get("/v1/videos/image2video", params={"pageSize": 500}).json()["data"])
    assert r.status_code == 400, r.text
    data = r.json()
    assert data["code"] == 1201, data
    assert data["message"].startswith(field + ":"), data["message"]
    assert words.lower() in data["message"].lower(), data["message"]
    assert "data" not in data and data["request_id"]
    assert after == before, "nothing is stored for a rejected request"


def test_data_prefix_and_jpeg_and_legacy_model_accepted(server) -> None:
    jpeg = b64(textured(480, 480), "JPEG")
    with server.client() as c:
        r = c.post("/v1/videos/image2video", json={"model": "", "image": "data:image/jpeg;base64," + jpeg,
                                                    "prompt": "p", "duration": 5})
    assert r.status_code == 200, r.text
    assert r.json()["code"] == 0
    assert r.json()["data"]["task_id"].isdigit()


def test_tuning_knob_the_model_lacks_is_ignored(server) -> None:
    with server.client() as c:
        r = c.post("/v1/videos/image2video", json=body(model_name="kling-v2-1", cfg_scale=0.9))
    assert r.status_code == 200 and r.json()["code"] == 0


def test_malformed_bodies(server) -> None:
    with server.client() as c:
        r = c.post("/v1/videos/image2video", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == 1200 and "JSON" in r.json()["message"]
        r = c.post("/v1/videos/image2video", json=[1, 2])
        assert r.status_code == 400 and r.json()["code"] == 1200
        r = c.get("/v1/videos/image2video", params={"pageNum": 0})
        assert r.status_code == 400 and r.json()["code"] == 1201 and "pageNum" in r.json()["message"]
        r = c.get("/v1/videos/image2video", params={"pageSize": 501})
        assert r.status_code == 400 and "pageSize" in r.json()["message"]


def test_oversized_image_and_body(start) -> None:
    srv = start({"KINEMA_MAX_BODY_BYTES": str(2 * 1024 * 1024), "KINEMA_MAX_IMAGE_BYTES": str(512 * 1024)})
    noisy = (np.random.default_rng(1).random((600, 600, 3)) * 255).astype(np.uint8)
    big = b64(noisy)  # ~1 MB of PNG noise: over the 512 KB image cap, under the body cap
    with srv.client() as c:
        r = c.post("/v1/videos/image2video", json=body(image=big))
        assert r.status_code == 400 and r.json()["code"] == 1201
        assert r.json()["message"].startswith("image:") and "MB" in r.json()["message"]
        r = c.post("/v1/videos/image2video", json=body(prompt="x" * (3 * 1024 * 1024)))
        assert r.status_code == 400 and r.json()["code"] == 1200 and "larger than" in r.json()["message"]


def test_private_urls_are_refused_unless_allowed(start) -> None:
    srv = start({"KINEMA_ALLOW_PRIVATE_URLS": "0"})
    with srv.client() as c:
        for url in ("http://127.0.0.1:1/a.png", "http://169.254.169.254/latest", "http://[::1]/x.png",
                    "http://10.0.0.1/x.png", "http://224.0.0.1/x.png"):
            r = c.post("/v1/videos/image2video", json=body(image=url))
            assert r.status_code == 400 and r.json()["code"] == 1201, (url, r.text)
            assert r.json()["message"].startswith("image:") and "non-public" in r.json()["message"]
        r = c.post("/v1/videos/image2video", json=body(callback_url="http://127.0.0.1:9/hook"))
        assert r.status_code == 400 and r.json()["message"].startswith("callback_url:")


def test_image_url_fetch_and_redirect_guard(server, start) -> None:
    """A URL image is fetched; a redirect to a private address is checked again and refused."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    png = encode(textured(640, 360))

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/img.png":
                self.send_response(200)
                self.send_header("content-length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)
            else:
                self.send_response(302)
                self.send_header("location", "http://127.0.0.1:1/secret.png")
                self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with server.client() as c:  # private URLs allowed on this server
            r = c.post("/v1/videos/image2video", json=body(image=f"{base}/img.png"))
            assert r.status_code == 200, r.text
            r = c.post("/v1/videos/image2video", json=body(image=f"{base}/redirect"))
            assert r.status_code == 400 and r.json()["message"].startswith("image: URL refused")
    finally:
        httpd.shutdown()
