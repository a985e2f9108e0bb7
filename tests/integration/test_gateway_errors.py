"""Every gateway validation rule, as a failing request: the status, the gateway error body,
and a message that names the field. Kling bodies on the same path fail in the Kling envelope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.media import png_b64
from tests.support.server import Server

PATH = "/kling/v1/videos/image2video"
IMAGE = png_b64(640, 360)
SMALL = png_b64(200, 200)
BASE = {"model": "kling-v1", "prompt": "a slow push in", "image": IMAGE}
CAMERA = {"type": "simple", "config": {"zoom": 5}}

# (name, changes to the base body (None removes a key), field named in the message, words)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("model missing", {"model": None}, "model", "field required"),
    ("model empty", {"model": ""}, "model", "at least 1 character"),
    ("model unknown", {"model": "kling-v9"}, "model", "unknown model 'kling-v9'"),
    ("prompt missing", {"prompt": None}, "prompt", "field required"),
    ("prompt too long", {"prompt": "x" * 2501}, "prompt", "at most 2500 characters"),
    ("image missing", {"image": None}, "image", "field required"),
    ("image not an image", {"image": "bm90IGFuIGltYWdl"}, "image", "jpeg or png"),
    ("image too small", {"image": SMALL}, "image", "300"),
    ("duration not 5 or 10", {"duration": 7}, "duration", "5 or 10"),
    ("duration not a number", {"duration": "long"}, "duration", "5 or 10"),
    ("width odd", {"width": 641, "height": 360}, "width", "even"),
    ("width too small", {"width": 254, "height": 360}, "width", "greater than or equal to 256"),
    ("height too large", {"width": 640, "height": 1922}, "height", "less than or equal to 1920"),
    ("width without height", {"width": 640}, "height", "given together"),
    ("height without width", {"height": 640}, "width", "given together"),
    ("fps too low", {"fps": 7}, "fps", "greater than or equal to 8"),
    ("fps too high", {"fps": 61}, "fps", "less than or equal to 60"),
    ("seed negative", {"seed": -1}, "seed", "greater than or equal to 0"),
    ("n zero", {"n": 0}, "n", "greater than or equal to 1"),
    ("n five", {"n": 5}, "n", "less than or equal to 4"),
    ("response_format", {"response_format": "xml"}, "response_format", "'url' or 'b64_json'"),
    ("metadata not an object", {"metadata": "pro"}, "metadata", "dictionary"),
    ("metadata.mode", {"metadata": {"mode": "ultra"}}, "metadata.mode", "'std' or 'pro'"),
    ("metadata.cfg_scale", {"metadata": {"cfg_scale": 2}}, "metadata.cfg_scale", "less than or equal to 1"),
    ("metadata.camera_control.type", {"metadata": {"camera_control": {"type": "orbit"}}},
     "metadata.camera_control.type", "input should be"),
    ("metadata.camera_control not allowed", {"metadata": {"camera_control": CAMERA}},
     "metadata.camera_control", "model kling-v1 in mode std at 5 s does not support camera control"),
    ("metadata.image_tail broken", {"model": "kinema-motion", "metadata": {"image_tail": "???"}},
     "metadata.image_tail", "base64"),
    ("end frame not in std", {"model": "kling-v2-1", "metadata": {"image_tail": IMAGE}},
     "metadata.image_tail", "model kling-v2-1 in mode std at 5 s does not support an end frame"),
    ("exclusive controls", {"model": "kinema-motion",
                            "metadata": {"image_tail": IMAGE, "camera_control": CAMERA}},
     "metadata.camera_control", "mutually exclusive"),
]


@pytest.mark.parametrize(("changes", "field", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_gateway_rule(server: Server, changes: dict[str, Any], field: str, words: str) -> None:
    body = {**BASE, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    with server.client() as c:
        resp = c.post(PATH, json=body)
    assert resp.status_code == 400, resp.text
    data = resp.json()
    assert set(data) == {"error"}, data
    error = data["error"]
    assert error["code"] == 1201 and error["type"] == "invalid_request_body"
    assert error["message"].startswith(f"{field}: "), error
    assert words.lower() in error["message"].lower(), error


def test_kling_body_errors_use_the_kling_envelope(server: Server) -> None:
    with server.client() as c:
        resp = c.post(PATH, json={"model_name": "kling-v1", "image": IMAGE, "mode": "turbo"})
        assert resp.status_code == 400
        data = resp.json()
        assert data["code"] == 1201 and data["message"].startswith("mode: ") and "request_id" in data
        assert "error" not in data
        resp = c.post(PATH, json={"model_name": "kling-v1", "image": IMAGE, "camera_control": CAMERA})
        assert resp.status_code == 400
        assert resp.json()["message"].startswith("camera_control: model kling-v1 in mode std")


def test_before_the_dialect_is_known_errors_carry_both_shapes(server: Server) -> None:
    with server.client() as c:
        for resp in (c.post(PATH, content=b"{not json", headers={"content-type": "application/json"}),
                     c.post(PATH, json=["a", "list"])):
            assert resp.status_code == 400
            data = resp.json()
            assert data["code"] == 1200 and data["error"]["code"] == 1200
            assert data["message"] == data["error"]["message"]
        resp = c.get(f"{PATH}/1234567890")
        assert resp.status_code == 404
        data = resp.json()
        assert data["code"] == 1203 and data["error"] == {
            "code": 1203, "message": "task '1234567890' not found", "type": "not_found"}


def test_a_rejected_request_stores_nothing(server: Server) -> None:
    with server.client() as c:
        before = c.get("/v1/videos/image2video", params={"pageSize": 500}).json()["data"]
        assert c.post(PATH, json={**BASE, "fps": 99}).status_code == 400
        after = c.get("/v1/videos/image2video", params={"pageSize": 500}).json()["data"]
    assert [t["task_id"] for t in after] == [t["task_id"] for t in before]
