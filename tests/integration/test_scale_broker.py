"""Losing the broker's messages loses no task: a Redis restart while tasks are queued, and
tasks created while Redis is down (the same case as an API killed between commit and
publish), all finish because the sweeper re-publishes what sat unclaimed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from tests.integration.test_scale import scale_env
from tests.support.media import decode, png_b64
from tests.support.server import Server, start_server
from tests.support.services import Redis, start_worker

pytestmark = [pytest.mark.heavy, pytest.mark.redis]


def create(api: Server, seed: int) -> str:
    with api.client() as c:
        body = c.post("/v1/videos/image2video", json={
            "model_name": "kinema-small", "image": png_b64(480, 360, seed=seed),
            "prompt": "pan left", "duration": "5"}).json()
    assert body["code"] == 0, body
    return str(body["data"]["task_id"])


def test_redis_restart_and_outage_lose_no_task(tmp_path: Path, redis_server: Redis) -> None:
    # SQLite shared by both processes: the broker, not the database, is under test here.
    env = scale_env(tmp_path, f"sqlite:///{tmp_path / 'shared' / 'kinema.db'}", redis_server.url)
    (tmp_path / "api").mkdir()
    api = start_server(tmp_path / "api", env)
    worker = None
    try:
        queued = [create(api, i) for i in range(6)]
        # No worker yet: the messages wait in Redis, then the restart (no persistence) drops them.
        assert redis.Redis(port=redis_server.port).llen("motion") == 6
        redis_server.restart()
        assert redis.Redis(port=redis_server.port).llen("motion") == 0

        redis_server.stop()
        started = time.monotonic()
        outage = [create(api, 10 + i) for i in range(3)]  # committed; the publish fails
        assert time.monotonic() - started < 20, "a broker outage must not hang task creation"
        with api.client() as c:
            ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("error")
        redis_server.start()

        worker = start_worker(tmp_path / "w", env, "--concurrency", "2")
        for task_id in queued + outage:
            body = api.wait_task(f"/v1/videos/image2video/{task_id}", timeout=120)["data"]
            assert body["task_status"] == "succeed", body
            with api.client() as c:
                assert decode(c.get(body["task_result"]["videos"][0]["url"]).content).count == 120
        assert "re-published tasks" in api.log() + worker.log()
        with api.client() as c:
            assert c.get("/readyz").json()["checks"] == {"database": "ok", "broker": "ok"}
    finally:
        if worker is not None:
            worker.kill()
        api.kill()
