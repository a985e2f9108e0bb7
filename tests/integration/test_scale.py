"""Scale-out end to end: PostgreSQL, redis-server, two API processes, two Celery workers.

Fifty tasks go in through both APIs; one worker is SIGKILLed in the middle of a task. Every
task must still succeed, exactly once, with a decodable video and every callback delivered."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.test_scale_database import scrape
from tests.support.media import decode, png_b64
from tests.support.server import Receiver, start_server
from tests.support.services import Postgres, Redis, start_worker

pytestmark = [pytest.mark.heavy, pytest.mark.postgres, pytest.mark.redis]

SECRET = "whsec_" + "c2NhbGUtb3V0LXRlc3Qtc2VjcmV0LTAxMjM0NTY3"
MODELS = """
[models."kinema-small"]
base = "kinema-motion"
resolution = {std = 360, pro = 360}
fps = 24
"""


def scale_env(tmp: Path, db_url: str, broker_url: str) -> dict[str, str]:
    models = tmp / "models.toml"
    models.write_text(MODELS)
    return {"KINEMA_DATABASE_URL": db_url, "KINEMA_BROKER_URL": broker_url,
            "KINEMA_DATA_DIR": str(tmp / "shared"), "KINEMA_MODELS_FILE": str(models),
            "KINEMA_WEBHOOK_SECRET": SECRET, "KINEMA_SWEEP_SECONDS": "0.5",
            "KINEMA_REPUBLISH_SECONDS": "4", "KINEMA_LEASE_SECONDS": "3",
            "KINEMA_CALLBACK_TIMEOUT": "5"}


def finished_runs(*logs: str) -> Counter[str]:
    """task id -> how many times a worker ran it to a kept success."""
    runs: Counter[str] = Counter()
    for text in logs:
        for line in text.splitlines():
            if '"task finished"' in line:
                entry = json.loads(line)
                if entry["status"] == "succeed" and entry["kept"]:
                    runs[entry["task_id"]] += 1
    return runs


def test_fifty_tasks_survive_a_worker_killed_mid_task(tmp_path: Path, postgres: Postgres,
                                                      redis_server: Redis) -> None:
    db_url = postgres.new_database()
    env = scale_env(tmp_path, db_url, redis_server.url)
    for name in ("api0", "api1"):
        (tmp_path / name).mkdir()
    apis = [start_server(tmp_path / f"api{i}", env) for i in range(2)]
    workers = [start_worker(tmp_path / f"w{i}", env, "--concurrency", "1") for i in range(2)]
    receiver = Receiver()
    db = sa.create_engine(db_url)
    try:
        def create(i: int) -> str:
            with apis[i % 2].client() as c:
                body = c.post("/v1/videos/image2video", json={
                    "model_name": "kinema-small", "image": png_b64(480, 360, seed=i),
                    "prompt": "slow push in", "duration": "5", "external_task_id": f"ext-{i}",
                    "callback_url": receiver.url}).json()
            assert body["code"] == 0, body
            return str(body["data"]["task_id"])

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(create, range(50)))
        assert len(set(ids)) == 50

        # SIGKILL worker 0 while it holds a task (its pid is in the lease owner).
        victim, killed = workers[0], None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline:
            with db.connect() as conn:
                killed = conn.execute(sa.text(
                    "SELECT id FROM tasks WHERE status = 'processing' AND lease_owner LIKE :o"),
                    {"o": f"%:{victim.pid}:%"}).scalar()
            if killed is None:
                time.sleep(0.02)
        assert killed is not None, victim.log()[-2000:]
        victim.kill(signal.SIGKILL)

        bodies = {}
        for n, task_id in enumerate(ids):
            bodies[task_id] = apis[(n + 1) % 2].wait_task(f"/v1/videos/image2video/{task_id}",
                                                          timeout=240)["data"]
        assert {b["task_status"] for b in bodies.values()} == {"succeed"}, bodies

        for task_id, body in bodies.items():
            video = body["task_result"]["videos"][0]
            with apis[0].client() as c:
                decoded = decode(c.get(video["url"]).content)
            assert (decoded.height, decoded.fps, decoded.count) == (360, 24, 120), task_id

        with db.connect() as conn:
            attempts = conn.execute(sa.text("SELECT attempts FROM tasks WHERE id = :i"),
                                    {"i": killed}).scalar()
        assert attempts == 2  # the killed run, then the one that finished it

        runs = finished_runs(*(w.log() for w in workers))
        assert set(runs) == set(ids) and set(runs.values()) == {1}, runs
        assert finished_runs(victim.log())[killed] == 0

        # Every callback delivered. Delivery is at least once: the one a worker was sending
        # when it was SIGKILLed may arrive twice, with the same webhook-id for the receiver
        # to drop; nothing else may repeat.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with db.connect() as conn:
                left = conn.execute(sa.text(
                    "SELECT count(*) FROM deliveries WHERE state <> 'delivered'")).scalar()
            if not left:
                break
            time.sleep(0.2)
        assert left == 0
        with db.connect() as conn:
            total = conn.execute(sa.text("SELECT count(*) FROM deliveries")).scalar()
        got = receiver.wait(total, timeout=10)
        hits = Counter(r.headers["webhook-id"] for r in got)
        with db.connect() as conn:
            delivery_ids = set(conn.execute(sa.text("SELECT id FROM deliveries")).scalars())
        assert set(hits) == delivery_ids and len(delivery_ids) == total
        assert sum(n - 1 for n in hits.values()) <= 1, hits.most_common(3)
        succeeded = {r.json()["task_id"] for r in got if r.json()["task_status"] == "succeed"}
        assert succeeded == set(ids)

        samples = scrape(apis[1])
        assert samples[("kinema_tasks", (("status", "succeed"),))] == 50
        assert samples[("kinema_queue_depth", (("queue", "motion"),))] == 0
        assert samples[("kinema_task_duration_seconds_count", (("engine", "motion"),))] == 50
        assert samples[("kinema_task_failures_total", (("engine", "motion"),))] == 0
        with apis[0].client() as c:
            assert c.get("/readyz").json()["checks"] == {"database": "ok", "broker": "ok"}
    finally:
        receiver.close()
        for w in workers:
            w.kill()
        for api in apis:
            api.kill()
        db.dispose()
