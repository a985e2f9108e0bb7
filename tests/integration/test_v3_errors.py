"""Every v3 validation rule, as a failing request: the HTTP status and the v3 error body
{code, reason, message, metadata}, whose message and metadata.field name the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.media import png_b64
from tests.support.server import Server

IMAGE = png_b64(640, 360)
SMALL = png_b64(299, 400)
WIDE = png_b64(1000, 360)
BASES: dict[str, dict[str, Any]] = {
    "kling-v2.1-i2v": {"image": IMAGE, "prompt": "drift"},
    "kling-o1-i2v": {"image": IMAGE, "prompt": "drift"},
    "kling-v1.6-i2v": {"image_url": IMAGE, "prompt": "drift"},
    "kling-v2.1-i2v-master": {"image": IMAGE, "prompt": "drift"},
    "kling-2.5-turbo-i2v": {"image": IMAGE, "prompt": "drift"},
}

# (slug, changes to its base body (None removes a key), field, words in the message)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("kling-v2.1-i2v", {"image": None}, "image", "field required"),
    ("kling-v2.1-i2v", {"prompt": None}, "prompt", "field required"),
    ("kling-v2.1-i2v", {"prompt": "x" * 2501}, "prompt", "at most 2500 characters"),
    ("kling-v2.1-i2v", {"negative_prompt": "x" * 2501}, "negative_prompt", "at most 2500 characters"),
    ("kling-v2.1-i2v", {"mode": "std"}, "mode", "'Standard' or 'Professional'"),
    ("kling-v2.1-i2v", {"duration": "7"}, "duration", "5 or 10"),
    ("kling-v2.1-i2v", {"guidance_scale": 1.5}, "guidance_scale", "less than or equal to 1"),
    ("kling-v2.1-i2v", {"guidance_scale": -0.01}, "guidance_scale", "greater than or equal to 0"),
    ("kling-v2.1-i2v", {"guidance_scale": 0.555}, "guidance_scale", "multiple of 0.01"),
    ("kling-v2.1-i2v", {"image": "aGVsbG8="}, "image", "jpeg or png"),
    ("kling-v2.1-i2v", {"image": SMALL}, "image", "300"),
    ("kling-v2.1-i2v", {"image": WIDE}, "image", "aspect ratio"),
    ("kling-v2.1-i2v", {"image": "http://"}, "image", ""),
    ("kling-v2.1-i2v", {"extra": {"webhook": {"url": "ftp://example.com/hook"}}},
     "extra.webhook.url", "http"),
    ("kling-v2.1-i2v", {"extra": {"webhook": {}}}, "extra.webhook.url", "field required"),
    ("kling-o1-i2v", {"image": None}, "image", "field required"),
    ("kling-o1-i2v", {"prompt": None}, "prompt", "field required"),
    ("kling-o1-i2v", {"prompt": "x" * 2501}, "prompt", "at most 2500 characters"),
    ("kling-o1-i2v", {"duration": 7}, "duration", "5 or 10"),
    ("kling-o1-i2v", {"aspect_ratio": "4:3"}, "aspect_ratio", "'16:9', '9:16' or '1:1'"),
    ("kling-o1-i2v", {"image": "", "last_image": IMAGE}, "last_image", "needs image"),
    ("kling-o1-i2v", {"last_image": "!!"}, "last_image", "base64"),
    ("kling-v1.6-i2v", {"image_url": None}, "image_url", "field required"),
    ("kling-v1.6-i2v", {"prompt": ""}, "prompt", "at least 1 character"),
    ("kling-v1.6-i2v", {"prompt": "x" * 2001}, "prompt", "at most 2000 characters"),
    ("kling-v1.6-i2v", {"negative_prompt": "x" * 2001}, "negative_prompt", "at most 2000 characters"),
    ("kling-v1.6-i2v", {"guidance_scale": 2}, "guidance_scale", "less than or equal to 1"),
    ("kling-v1.6-i2v", {"end_image_url": IMAGE}, "end_image_url",
     "model kling-v1.6-i2v in mode std at 5 s does not support an end frame"),
    ("kling-v2.1-i2v-master", {"duration": 5.5}, "duration", "5 or 10"),
    ("kling-v2.1-i2v-master", {"guidance_scale": 0.123}, "guidance_scale", "multiple of 0.01"),
    ("kling-2.5-turbo-i2v", {"mode": "std"}, "mode", "'pro'"),
    ("kling-2.5-turbo-i2v", {"cfg_scale": 1.2}, "cfg_scale", "less than or equal to 1"),
    ("kling-2.5-turbo-i2v", {"duration": "15"}, "duration", "5 or 10"),
]


@pytest.mark.parametrize(("slug", "changes", "field", "words"), CASES,
                         ids=[f"{c[0]}:{c[2]}:{i}" for i, c in enumerate(CASES)])
def test_v3_rule(server: Server, slug: str, changes: dict[str, Any], field: str, words: str) -> None:
    body = {k: v for k, v in {**BASES[slug], **changes}.items() if v is not None}
    with server.client() as c:
        resp = c.post(f"/v3/async/{slug}", json=body)
    check(resp.status_code, resp.json(), 400, "INVALID_REQUEST_BODY", field, words)


def check(status: int, data: dict, want: int, reason: str, field: str | None, words: str) -> None:
    assert status == want, data
    assert set(data) == {"code", "reason", "message", "metadata"}, data
    assert data["code"] == want and data["reason"] == reason, data
    if field is not None:
        assert data["metadata"]["field"] == field, data
        assert data["message"].startswith(f"{field}: "), data
    assert words.lower() in data["message"].lower(), data


def test_unknown_slug_lists_the_known_ones(server: Server) -> None:
    with server.client() as c:
        resp = c.post("/v3/async/kling-v9-i2v", json=BASES["kling-v2.1-i2v"])
    check(resp.status_code, resp.json(), 400, "INVALID_REQUEST_BODY", "slug", "unknown model")
    assert "kling-o1-i2v" in resp.json()["message"]


def test_bodies_that_are_not_json_objects(server: Server) -> None:
    with server.client() as c:
        bad_json = c.post("/v3/async/kling-o1-i2v", content=b"{oops",
                          headers={"content-type": "application/json"})
        a_list = c.post("/v3/async/kling-o1-i2v", json=[1, 2])
    check(bad_json.status_code, bad_json.json(), 400, "INVALID_REQUEST_BODY", None, "not valid JSON")
    check(a_list.status_code, a_list.json(), 400, "INVALID_REQUEST_BODY", None, "JSON object")


def test_task_result_errors(server: Server) -> None:
    with server.client() as c:
        missing = c.get("/v3/async/task-result")
        unknown = c.get("/v3/async/task-result", params={"task_id": "99999999"})
    check(missing.status_code, missing.json(), 400, "INVALID_REQUEST_BODY", "task_id", "required")
    check(unknown.status_code, unknown.json(), 404, "NOT_FOUND", None, "not found")


def test_auth_errors_use_the_v3_shape(keyed_server: Server) -> None:
    with keyed_server.client() as c:
        none = c.post("/v3/async/kling-o1-i2v", json=BASES["kling-o1-i2v"])
    with keyed_server.client("wrong-key") as c:
        wrong = c.get("/v3/async/task-result", params={"task_id": "1"})
    check(none.status_code, none.json(), 401, "AUTHENTICATION_FAILED", None, "")
    check(wrong.status_code, wrong.json(), 401, "AUTHENTICATION_FAILED", None, "")
    # Another tenant's task looks exactly like an unknown one.
    with keyed_server.client("key-a") as c:
        task_id = c.post("/v3/async/kling-o1-i2v", json=BASES["kling-o1-i2v"]).json()["task_id"]
    with keyed_server.client("key-b") as c:
        other = c.get("/v3/async/task-result", params={"task_id": task_id})
    check(other.status_code, other.json(), 404, "NOT_FOUND", None, "not found")
