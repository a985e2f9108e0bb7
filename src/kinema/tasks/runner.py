"""Running one claimed task: build the job, run the engine under a lease, store the result."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from kinema.catalogue import Catalogue
from kinema.engines.base import StopRequested
from kinema.engines.registry import EngineSet
from kinema.errors import InvalidParameter, KinemaError, TaskFailure
from kinema.job import RemoteVideo, RenderedVideo
from kinema.media.probe import probe
from kinema.settings import Settings
from kinema.storage import Storage
from kinema.tasks.jobs import build_job
from kinema.tasks.models import TaskRecord, Video
from kinema.tasks.repository import TaskRepository
from kinema.tasks.status import TaskStatus

log = logging.getLogger("kinema.worker")


class TaskRunner:
    def __init__(self, repo: TaskRepository, storage: Storage, engines: EngineSet,
                 catalogue: Catalogue, settings: Settings) -> None:
        self.repo, self.storage, self.engines = repo, storage, engines
        self.catalogue, self.settings = catalogue, settings

    def run(self, task: TaskRecord, owner: str, shutdown: threading.Event) -> TaskStatus | None:
        """Run `task`, which `owner` has claimed; returns the final status (None if handed back)."""
        lease = Lease(self.repo, task.id, owner, self.settings.lease_seconds,
                      progress_every=self.settings.progress_seconds)
        work = self.settings.data_dir / "work" / f"{task.id}-{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        log.info("task started", extra={"task_id": task.id, "model": task.model, "attempt": task.attempts})
        lease.start()
        try:
            profile = self.catalogue.get(task.model)
            engine = self.engines.for_profile(profile)
            job = replace(build_job(task, profile, self.storage, work),
                          on_upstream_id=lambda uid: self._note_upstream(task.id, uid))
            rendered = engine.generate(job, on_progress=lease.progress,
                                       should_stop=lambda: shutdown.is_set() or lease.lost)
            result: dict[str, Any] | None = {"videos": [asdict(v) for v in self._store(task, rendered)]}
            status, msg = TaskStatus.SUCCEED, ""
        except StopRequested:
            lease.stop()
            if not lease.lost:
                self.repo.release(task.id, owner)
            log.info("task handed back", extra={"task_id": task.id})
            return None
        except (TaskFailure, InvalidParameter, KinemaError) as exc:
            status, msg = TaskStatus.FAILED, getattr(exc, "message", str(exc))
            code: int = getattr(exc, "code", 5000)
            result = {"videos": [], "error_code": code}
        except Exception:
            ref = uuid.uuid4().hex[:12]
            log.exception("task crashed", extra={"task_id": task.id, "error_ref": ref})
            status, result = TaskStatus.FAILED, None
            msg = f"internal error while rendering the video (reference {ref}); please try again"
        finally:
            lease.stop()
            shutil.rmtree(work, ignore_errors=True)
        done = self.repo.finish(task.id, owner, status, msg=msg, result=result)
        log.info("task finished", extra={"task_id": task.id, "status": status.value,
                                         "seconds": round(time.monotonic() - started, 3),
                                         "kept": done is not None})
        return status if done else None

    def _note_upstream(self, task_id: str, upstream_id: str) -> None:
        log.info("upstream task", extra={"task_id": task_id, "upstream_task_id": upstream_id})
        try:
            self.repo.set_upstream_id(task_id, upstream_id)
        except Exception:  # tracing only: a database hiccup must not fail the forwarded task
            log.warning("could not store the upstream task id", exc_info=True,
                        extra={"task_id": task_id, "upstream_task_id": upstream_id})

    def _store(self, task: TaskRecord, rendered: Sequence[RenderedVideo | RemoteVideo]) -> list[Video]:
        videos = []
        for i, item in enumerate(rendered):
            if isinstance(item, RemoteVideo):  # router pass-through: keep the upstream's URL
                videos.append(Video(id=f"{task.id}{i}", key="", watermark_key=None, url=item.url,
                                    watermark_url=item.watermark_url, duration=item.duration,
                                    width=item.width, height=item.height, fps=item.fps,
                                    frames=item.frames))
                continue
            info = probe(item.path)
            key = f"videos/{task.id}/{i}.mp4"
            self.storage.put_file(key, item.path)
            wm_key = None
            if item.watermarked is not None:
                wm_key = f"videos/{task.id}/{i}-watermark.mp4"
                self.storage.put_file(wm_key, item.watermarked)
            videos.append(Video(id=f"{task.id}{i}", key=key, watermark_key=wm_key,
                                duration=round(info.duration, 3), width=info.width,
                                height=info.height, fps=round(info.fps), frames=info.frames))
        return videos


class Lease:
    """Keeps a task's lease alive from a side thread and records progress, throttled."""

    def __init__(self, repo: TaskRepository, task_id: str, owner: str, seconds: float, *,
                 progress_every: float = 0.5) -> None:
        self.progress_every = progress_every
        self.repo, self.task_id, self.owner, self.seconds = repo, task_id, owner, seconds
        self.lost = False
        self._progress: float | None = None
        self._written = -1.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{task_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def progress(self, fraction: float) -> None:
        self._progress = max(self._progress or 0.0, min(fraction, 0.99))

    def _loop(self) -> None:
        interval = min(self.seconds / 3, self.progress_every)
        last_beat = 0.0
        while not self._stop.wait(interval):
            now = time.monotonic()
            changed = self._progress is not None and self._progress - self._written >= 0.01
            if changed or now - last_beat >= self.seconds / 3:
                progress = self._progress if changed else None
                try:
                    if not self.repo.heartbeat(self.task_id, self.owner,
                                               lease_seconds=self.seconds, progress=progress):
                        self.lost = True
                        return
                except Exception:  # a database hiccup must not kill the render
                    log.warning("heartbeat failed", exc_info=True, extra={"task_id": self.task_id})
                    continue
                last_beat = now
                if progress is not None:
                    self._written = progress
