"""Database guarantees that must hold on SQLite and on PostgreSQL alike (the `server`
fixture runs these once per database): unique ids, external_task_id enforced by the
database under concurrent creates, and list pages that neither repeat nor skip."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.media import png_b64
from tests.support.server import Server, start_server

IMAGE = png_b64(480, 360, seed=7)
TINY = '[models."kinema-tiny"]\nbase = "kinema-motion"\nresolution = {std = 240, pro = 240}\nfps = 8\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           database: Callable[[], dict[str, str]]) -> Iterator[Server]:
    """Like the suite's `server` (and parametrised by the same `database`), with a tiny model
    so the tasks these tests create cost little to render."""
    tmp = tmp_path_factory.mktemp("dbserver")
    (tmp / "models.toml").write_text(TINY)
    srv = start_server(tmp, {"KINEMA_WORKERS": "1", "KINEMA_MODELS_FILE": str(tmp / "models.toml"),
                             **database()})
    yield srv
    srv.kill()


def post(server: Server, external: str | None = None) -> dict:
    body = {"model_name": "kinema-tiny", "image": IMAGE, "prompt": "still", "duration": "5"}
    if external is not None:
        body["external_task_id"] = external
    with server.client() as c:
        return c.post("/v1/videos/image2video", json=body).json()


def test_external_task_id_is_unique_under_concurrent_creates(server: Server) -> None:
    external = f"same-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda _: post(server, external), range(12)))
    accepted = [r for r in replies if r["code"] == 0]
    refused = [r for r in replies if r["code"] != 0]
    assert len(accepted) == 1, replies
    assert refused and all("external_task_id" in r["message"] and "already used" in r["message"]
                           for r in refused), refused
    with server.client() as c:
        found = c.get(f"/v1/videos/image2video/{external}").json()
    assert found["data"]["task_id"] == accepted[0]["data"]["task_id"]


def test_ids_stay_unique_and_pages_are_consistent(server: Server) -> None:
    with ThreadPoolExecutor(8) as pool:
        ids = [r["data"]["task_id"] for r in pool.map(lambda _: post(server), range(16))]
    assert len(set(ids)) == 16
    seen: list[str] = []
    with server.client() as c:
        page = 1
        while True:
            data = c.get("/v1/videos/image2video", params={"pageNum": page, "pageSize": 5}).json()["data"]
            if not data:
                break
            seen += [t["task_id"] for t in data]
            page += 1
    assert len(seen) == len(set(seen)), "a task showed on two pages"
    assert set(ids) <= set(seen)
    with server.client() as c:
        tasks = [c.get(f"/v1/videos/image2video/{i}").json()["data"] for i in seen]
    stamps = [(t["created_at"], t["task_id"]) for t in tasks]
    assert stamps == sorted(stamps, reverse=True), "pages must run newest first"


def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with server.client() as c:
        reply = c.get("/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(reply.text) for s in family.samples}


def test_metrics_report_tasks_queue_durations_and_failures(server: Server) -> None:
    task_id = post(server)["data"]["task_id"]
    server.wait_task(f"/v1/videos/image2video/{task_id}")
    with server.client() as c:
        counts = {}
        for page in range(1, 100):
            data = c.get("/v1/videos/image2video", params={"pageNum": page, "pageSize": 500}).json()["data"]
            if not data:
                break
            for t in data:
                counts[t["task_status"]] = counts.get(t["task_status"], 0) + 1
    samples = scrape(server)
    # Tasks by status match the API (other tests' tasks may still be running: allow that).
    succeeded = samples[("kinema_tasks", (("status", "succeed"),))]
    assert succeeded >= counts.get("succeed", 0) >= 1
    assert ("kinema_queue_depth", (("queue", "database"),)) in samples
    total = samples[("kinema_task_duration_seconds_count", (("engine", "motion"),))]
    assert total >= succeeded
    assert samples[("kinema_task_duration_seconds_sum", (("engine", "motion"),))] > 0
    assert samples[("kinema_task_duration_seconds_bucket", (("engine", "motion"), ("le", "+Inf")))] == total
    assert ("kinema_task_failures_total", (("engine", "motion"),)) in samples
