"""Router mode under trouble, with real servers: a busy upstream (1303) is retried with
backoff, an upstream that dies mid-task is failed over, an upstream callback wakes the
poller long before its next poll, and a re-run follows the task it already created."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

from kinema.engines.upstream import UpstreamEngine
from kinema.job import Job
from kinema.settings import Settings
from tests.integration.test_upstream import (
    AK,
    SK,
    UPSTREAM_MODELS,
    create,
    finish,
    stored,
    upstream_tasks,
)
from tests.support.media import png_b64
from tests.support.server import Server, free_port

Start = Callable[..., Server]


def upstream_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    models = tmp_path / "upstream.toml"
    models.write_text(UPSTREAM_MODELS)
    return {"KINEMA_ACCESS_KEYS": f"{AK}:{SK}", "KINEMA_MODELS_FILE": str(models), **extra}


def front_env(tmp_path: Path, upstreams: list[str], options: str) -> dict[str, str]:
    listed = ", ".join(f'{{ url = "{u}", access_key = "{AK}", secret_key = "{SK}" }}'
                       for u in upstreams)
    models = tmp_path / "front.toml"
    models.write_text(f'[models."kling-v2-1"]\nengine = "upstream"\n'
                      f'[models."kling-v2-1".engine_options]\n{options}\nupstreams = [{listed}]\n')
    return {"KINEMA_MODELS_FILE": str(models), "KINEMA_WORKERS": "2"}


def test_busy_upstream_is_retried_with_backoff(start: Start, tmp_path: Path) -> None:
    # One task at a time upstream: the second forwarded task meets 1303 until the first ends.
    upstream = start(upstream_env(tmp_path, KINEMA_MAX_ACTIVE_TASKS="1"), data_dir=tmp_path / "up")
    front = start(front_env(tmp_path, [upstream.url],
                            "poll_interval = 0.2\npoll_max_interval = 1\nretries = 30\n"
                            "retry_backoff = 0.1"), data_dir=tmp_path / "front")
    ids = [create(front, "kling-v2-1") for _ in range(2)]
    for task_id in ids:
        assert finish(front, task_id)["task_status"] == "succeed"
    assert '"code": 1303' in front.log() and "upstream busy, retrying" in front.log()
    assert len({stored(front, t)["upstream_task_id"] for t in ids}) == 2


def test_upstream_dying_mid_task_fails_over(start: Start, tmp_path: Path) -> None:
    # The first upstream takes the task but has no workers, so it never finishes; then it dies.
    stuck = start(upstream_env(tmp_path, KINEMA_WORKERS="0"), data_dir=tmp_path / "stuck")
    healthy = start(upstream_env(tmp_path), data_dir=tmp_path / "healthy")
    front = start(front_env(tmp_path, [stuck.url, healthy.url],
                            "poll_interval = 0.2\npoll_max_interval = 0.5\nunreachable_grace = 1"),
                  data_dir=tmp_path / "front")
    task_id = create(front, "kling-v2-1")
    deadline = time.monotonic() + 30
    while not stored(front, task_id)["upstream_task_id"]:
        assert time.monotonic() < deadline, front.log()
        time.sleep(0.1)
    first = stored(front, task_id)["upstream_task_id"]
    assert stored(stuck, first)["status"] == "submitted"
    stuck.kill()
    done = finish(front, task_id)
    assert done["task_status"] == "succeed", done
    second = stored(front, task_id)["upstream_task_id"]
    assert second != first and stored(healthy, second)["status"] == "succeed"
    assert "stopped answering" in front.log()


def test_upstream_callback_wakes_the_poller(start: Start, tmp_path: Path) -> None:
    upstream = start(upstream_env(tmp_path), data_dir=tmp_path / "up")
    port = free_port()
    # Polls 60 s apart: only the upstream's callback can end the task within the wait below.
    front = start({**front_env(tmp_path, [upstream.url], "poll_interval = 60\npoll_max_interval = 60"),
                   "KINEMA_PUBLIC_URL": f"http://127.0.0.1:{port}"},
                  port=port, data_dir=tmp_path / "front")
    started = time.monotonic()
    task_id = create(front, "kling-v2-1")
    done = front.wait_task(f"/v1/videos/image2video/{task_id}", timeout=40)["data"]
    assert done["task_status"] == "succeed", done
    assert time.monotonic() - started < 40
    up_row = stored(upstream, stored(front, task_id)["upstream_task_id"])
    assert up_row["callback_url"].startswith(f"http://127.0.0.1:{port}/upstream/callback/{task_id}?sig=")


def test_a_rerun_follows_the_task_it_already_created(start: Start, tmp_path: Path) -> None:
    """A task run twice (a worker lost its lease) is followed upstream, not created again."""
    upstream = start(upstream_env(tmp_path), data_dir=tmp_path / "up")
    engine = UpstreamEngine({"model": "kling-v2-1", "poll_interval": 0.2, "poll_max_interval": 0.5,
                             "upstreams": [{"url": upstream.url, "access_key": AK, "secret_key": SK}]},
                            settings=Settings(allow_private_urls=True))
    noted: list[str] = []

    def run(out: str) -> bytes:
        job = Job(task_id="777000111", model="kling-v2-1", image=None, width=426, height=240,
                  fps=24, num_frames=120, out_dir=tmp_path / out, on_upstream_id=noted.append,
                  sources={"image": base64.b64decode(png_b64(640, 360))})
        videos = engine.generate(job, on_progress=lambda _f: None, should_stop=lambda: False)
        return videos[0].path.read_bytes()  # type: ignore[union-attr]

    first, second = run("a"), run("b")
    assert first == second and len(noted) == 2 and noted[0] == noted[1]
    # The upstream holds one task for that external id: the re-run met 1201 and looked it up.
    assert [t["task_info"]["external_task_id"] for t in upstream_tasks(upstream)] == ["777000111"]


def test_private_upstream_is_refused_without_the_setting(start: Start, tmp_path: Path) -> None:
    upstream = start(upstream_env(tmp_path), data_dir=tmp_path / "up")
    front = start({**front_env(tmp_path, [upstream.url], "poll_interval = 0.2"),
                   "KINEMA_ALLOW_PRIVATE_URLS": "0"}, data_dir=tmp_path / "front")
    done = finish(front, create(front, "kling-v2-1"))
    assert done["task_status"] == "failed"
    assert "refused by the address guard" in done["task_status_msg"]
    assert "KINEMA_ALLOW_PRIVATE_URLS" in done["task_status_msg"]
    assert upstream_tasks(upstream) == []


def test_refused_callback_url_falls_back_to_polling(start: Start, tmp_path: Path) -> None:
    # This upstream refuses private callback URLs (1201), so the front forwards without one.
    upstream = start(upstream_env(tmp_path, KINEMA_ALLOW_PRIVATE_URLS="0"), data_dir=tmp_path / "up")
    port = free_port()
    front = start({**front_env(tmp_path, [upstream.url], "poll_interval = 0.2\npoll_max_interval = 1"),
                   "KINEMA_PUBLIC_URL": f"http://127.0.0.1:{port}"},
                  port=port, data_dir=tmp_path / "front")
    task_id = create(front, "kling-v2-1")
    assert finish(front, task_id)["task_status"] == "succeed"
    assert "upstream refused the callback URL; polling only" in front.log()
    assert stored(upstream, stored(front, task_id)["upstream_task_id"])["callback_url"] is None
