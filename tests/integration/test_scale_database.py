"""Database guarantees that must hold on SQLite and on PostgreSQL alike (the `server`
fixture runs these once per database): unique ids, external_task_id enforced by the
database under concurrent creates, and list pages that neither repeat nor skip."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.support.media import png_b64
from tests.support.server import Server

IMAGE = png_b64(480, 360, seed=7)


def post(server: Server, external: str | None = None) -> dict:
    body = {"model_name": "kling-v1", "image": IMAGE, "prompt": "still", "duration": "5"}
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
