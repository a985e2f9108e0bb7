"""The sweeper: re-publishes tasks whose broker message may be lost.

Two cases, both found in the database (the source of truth):
- submitted for longer than KINEMA_REPUBLISH_SECONDS: the publish failed (an API process
  died between commit and publish) or the broker lost its queue (a Redis restart);
- processing with an expired lease: the worker running it died (SIGKILL, power loss).
Re-publishing is always safe: the worker's claim refuses a task that is not runnable.
A per-task Redis key (SET NX EX) keeps several sweeping processes from piling up copies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kinema.tasks.repository import TaskRepository

log = logging.getLogger("kinema.sweeper")

Publish = Callable[[str], None]


class Sweeper:
    def __init__(self, repo: TaskRepository, publish: Publish, *, every: float,
                 republish_after: float, broker_url: str | None = None) -> None:
        self.repo, self.publish = repo, publish
        self.every, self.republish_after = every, republish_after
        self._redis = None
        if broker_url and broker_url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            self._redis = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kinema-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sweep()
            except Exception:  # a database or broker outage must not end the loop
                log.warning("sweep failed", exc_info=True)

    def sweep(self) -> list[str]:
        """One pass; returns the ids it published."""
        candidates = self.repo.expired_leases() + self.repo.stale_submitted(self.republish_after)
        sent = []
        for task_id in dict.fromkeys(candidates):
            if self._first_claim(task_id):
                self.publish(task_id)
                sent.append(task_id)
        if sent:
            log.info("re-published tasks", extra={"count": len(sent), "task_ids": sent[:20]})
        return sent

    def _first_claim(self, task_id: str) -> bool:
        """True for one sweeping process per task per `republish_after` seconds."""
        if self._redis is None:
            return True
        ttl = max(1, int(self.republish_after))
        return bool(self._redis.set(f"kinema:republished:{task_id}", b"1", nx=True, ex=ttl))
