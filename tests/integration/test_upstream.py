"""Router mode: a front kinema forwards tasks to an upstream kinema (two real servers, each its
own process, database and keys) over the Kling wire with a minted JWT, or over v3 with a key."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.support.media import decode, png_b64
from tests.support.server import Server, free_port, start_server

AK, SK = "ak-front", "sk-front-secret-0123456789abcdef"
V3_KEY = "front-v3-key"
# A small picture keeps the upstream's CPU render quick.
SMALL = '{ std = 240, pro = 360 }'
CAMERA = {"type": "simple", "config": {"horizontal": 0, "vertical": 0, "pan": 6, "tilt": 0,
                                       "roll": 0, "zoom": 0}}

UPSTREAM_MODELS = f"""
# The upstream's kling-v2-1 also allows camera control; kling-v2-5-turbo keeps Kling's map
# (no camera), so a camera move forwarded to it is refused with 1201.
[models."kling-v2-1"]
resolution = {SMALL}
controls = {{ std = {{ camera = [5, 10] }}, pro = {{ camera = [5, 10], end_frame = [5, 10] }} }}

[models."kling-v2-5-turbo"]
resolution = {SMALL}

[models."kling-v2.1-i2v"]
base = "kling-v2-1"
resolution = {SMALL}
"""


def front_models(upstream: str, down: list[str]) -> str:
    kling_auth = f'access_key = "{AK}", secret_key = "{SK}"'
    fast = "poll_interval = 0.2\npoll_max_interval = 1\nretries = 1\nretry_backoff = 0.2\n"
    camera = 'controls = { std = { camera = [5, 10] }, pro = { camera = [5, 10] } }'

    def routed(name: str, upstreams: list[str], extra: str = "", base: str = "kling-v2-1") -> str:
        listed = ", ".join(upstreams)
        return (f'[models."{name}"]\nbase = "{base}"\nengine = "upstream"\n{camera}\n'
                f'[models."{name}".engine_options]\n{fast}{extra}upstreams = [{listed}]\n\n')

    up = f'{{ url = "{upstream}", {kling_auth} }}'
    dead = [f'{{ url = "{url}", {kling_auth} }}' for url in down]
    return (
        routed("kling-v2-1", [up], 'model = "kling-v2-1"\ndialect = "kling"\nrehost = true\n')
        + routed("failover", [dead[0], up], 'model = "kling-v2-1"\n')
        + routed("all-down", dead, 'model = "kling-v2-1"\n')
        + routed("strict", [up], 'model = "kling-v2-5-turbo"\n')
        + routed("passthrough", [up], 'model = "kling-v2-1"\nrehost = false\n')
        + routed("via-v3", [f'{{ url = "{upstream}", api_key_env = "FRONT_UPSTREAM_KEY" }}'],
                 'model = "kling-v2.1-i2v"\ndialect = "v3"\n')
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, list[str]]]:
    tmp = tmp_path_factory.mktemp("router")
    (tmp / "upstream.toml").write_text(UPSTREAM_MODELS)
    upstream = start_server(tmp, {
        "KINEMA_ACCESS_KEYS": f"{AK}:{SK}", "KINEMA_API_KEYS": V3_KEY, "KINEMA_WORKERS": "2",
        "KINEMA_MODELS_FILE": str(tmp / "upstream.toml")}, data_dir=tmp / "upstream")
    down = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]  # nothing listens there
    (tmp / "front.toml").write_text(front_models(upstream.url, down))
    try:
        front = start_server(tmp, {
            "KINEMA_MODELS_FILE": str(tmp / "front.toml"), "KINEMA_WORKERS": "2",
            "FRONT_UPSTREAM_KEY": V3_KEY}, data_dir=tmp / "front")
    except Exception:
        upstream.kill()
        raise
    yield front, upstream, down
    front.kill()
    upstream.kill()


def token() -> str:
    now = int(time.time())
    return jwt.encode({"iss": AK, "exp": now + 600, "nbf": now - 5}, SK, algorithm="HS256")


def create(front: Server, model: str, **fields: Any) -> str:
    body = {"model_name": model, "image": png_b64(640, 360), "prompt": "a slow pan",
            "duration": "5", **fields}
    with front.client() as c:
        reply = c.post("/v1/videos/image2video", json=body).json()
    assert reply["code"] == 0, reply
    return str(reply["data"]["task_id"])


def finish(front: Server, task_id: str) -> dict[str, Any]:
    return front.wait_task(f"/v1/videos/image2video/{task_id}", timeout=120)["data"]


def stored(server: Server, task_id: str) -> dict[str, Any]:
    """The task row as the server's own database holds it."""
    with sqlite3.connect(server.data_dir / "kinema.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("select * from tasks where id = ?", (task_id,)).fetchone()
    assert row is not None, task_id
    return {**dict(row), "request": json.loads(row["request"])}


def upstream_tasks(upstream: Server) -> list[dict[str, Any]]:
    with upstream.client(token()) as c:
        reply = c.get("/v1/videos/image2video", params={"pageNum": 1, "pageSize": 100}).json()
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]


def forwarded(upstream: Server, front_task_id: str) -> dict[str, Any]:
    tasks = [t for t in upstream_tasks(upstream)
             if t["task_info"]["external_task_id"] == front_task_id]
    assert len(tasks) == 1, upstream_tasks(upstream)
    return tasks[0]


def test_camera_task_is_forwarded_and_rehosted(pair: tuple[Server, Server, list[str]]) -> None:
    front, upstream, _ = pair
    task_id = create(front, "kling-v2-1", camera_control=CAMERA)
    done = finish(front, task_id)
    assert done["task_status"] == "succeed", done

    there = forwarded(upstream, task_id)
    assert there["task_status"] == "succeed"
    # The upstream task carries the same control and model; the front knows its id.
    up_row = stored(upstream, there["task_id"])
    assert up_row["model"] == "kling-v2-1"
    assert up_row["request"]["camera"] == {"type": "simple", "horizontal": 0, "vertical": 0,
                                           "pan": 6, "tilt": 0, "roll": 0, "zoom": 0}
    assert stored(front, task_id)["upstream_task_id"] == there["task_id"]
    assert there["task_id"] in front.log()  # traceable in the front's logs too
    assert done["task_info"]["upstream_task_id"] == there["task_id"]
    listing = subprocess.run(
        [sys.executable, "-m", "kinema", "tasks", "--server", front.url],
        capture_output=True, text=True, env={**front.env, "COLUMNS": "250"}, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert task_id in listing.stdout and there["task_id"] in listing.stdout  # `kinema tasks`

    # Re-hosted: served by the front, byte for byte what the upstream made.
    front_url = done["task_result"]["videos"][0]["url"]
    assert front_url.startswith(front.url + "/files/")
    mine = httpx.get(front_url, timeout=30).content
    theirs = httpx.get(there["task_result"]["videos"][0]["url"], timeout=30).content
    assert mine == theirs
    video = decode(mine)
    assert (video.height, video.count, round(video.fps)) == (240, 120, 24)
    assert done["task_result"]["videos"][0]["duration"] == "5.0"


def test_failover_to_the_second_upstream(pair: tuple[Server, Server, list[str]]) -> None:
    front, upstream, down = pair
    task_id = create(front, "failover", camera_control=CAMERA)
    done = finish(front, task_id)
    assert done["task_status"] == "succeed", done
    there = forwarded(upstream, task_id)
    assert stored(front, task_id)["upstream_task_id"] == there["task_id"]
    assert down[0] in front.log()  # the skipped upstream is logged, with why


def test_all_upstreams_down_fails_naming_them(pair: tuple[Server, Server, list[str]]) -> None:
    front, _, down = pair
    done = finish(front, create(front, "all-down"))
    assert done["task_status"] == "failed"
    msg = done["task_status_msg"]
    assert msg.startswith("all upstreams are unreachable")
    assert down[0] in msg and down[1] in msg and "connection failed" in msg


def test_upstream_1201_fails_the_task_with_its_reason(pair: tuple[Server, Server, list[str]]) -> None:
    front, upstream, _ = pair
    task_id = create(front, "strict", camera_control=CAMERA)
    done = finish(front, task_id)
    assert done["task_status"] == "failed"
    msg = done["task_status_msg"]
    assert "1201" in msg and "camera_control" in msg and "kling-v2-5-turbo" in msg, msg
    assert not [t for t in upstream_tasks(upstream)
                if t["task_info"]["external_task_id"] == task_id]  # nothing was created there


def test_pass_through_keeps_the_upstream_url(pair: tuple[Server, Server, list[str]]) -> None:
    front, upstream, _ = pair
    task_id = create(front, "passthrough")
    done = finish(front, task_id)
    assert done["task_status"] == "succeed", done
    url = done["task_result"]["videos"][0]["url"]
    assert url.startswith(upstream.url + "/files/")
    assert url.split("?")[0] == forwarded(upstream, task_id)["task_result"]["videos"][0]["url"].split("?")[0]
    assert decode(httpx.get(url, timeout=30).content).count == 120
    # A Kling task read through the v3 query shows the same passed-through URL.
    with front.client() as c:
        v3 = c.get("/v3/async/task-result", params={"task_id": task_id}).json()
    assert v3["data"]["task_result"]["videos"][0]["url"] == url


def test_v3_dialect_with_a_bearer_key(pair: tuple[Server, Server, list[str]]) -> None:
    front, upstream, _ = pair
    task_id = create(front, "via-v3", prompt="drift", negative_prompt="blur")
    done = finish(front, task_id)
    assert done["task_status"] == "succeed", done
    up_id = stored(front, task_id)["upstream_task_id"]
    up_row = stored(upstream, up_id)
    assert (up_row["dialect"], up_row["model"]) == ("v3", "kling-v2.1-i2v")
    assert up_row["request"]["negative_prompt"] == "blur"
    mine = httpx.get(done["task_result"]["videos"][0]["url"], timeout=30).content
    assert decode(mine).count == 120


def test_v3_dialect_refuses_controls_it_cannot_carry(pair: tuple[Server, Server, list[str]]) -> None:
    front, _, _ = pair
    done = finish(front, create(front, "via-v3", camera_control=CAMERA))
    assert done["task_status"] == "failed"
    assert "cannot carry camera_control" in done["task_status_msg"]


def test_bad_router_config_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('[models."x"]\nengine = "upstream"\n'
                                     '[models."x".engine_options]\nupstreams = []\n')
    with pytest.raises(RuntimeError, match="upstreams must be a non-empty list"):
        start_server(tmp_path, {"KINEMA_MODELS_FILE": str(tmp_path / "m.toml")})
