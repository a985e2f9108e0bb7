"""Publishing task ids to Celery (the API side of scale-out)."""

from __future__ import annotations

import logging

from celery import Celery

from kinema.catalogue import Catalogue
from kinema.settings import Settings
from kinema.tasks.celery_app import RUN_TASK, make_celery, queue_for
from kinema.tasks.repository import TaskRepository

log = logging.getLogger("kinema.dispatch")


class CeleryDispatcher:
    def __init__(self, settings: Settings, catalogue: Catalogue, *,
                 repo: TaskRepository | None = None, app: Celery | None = None) -> None:
        self.settings, self.catalogue, self.repo = settings, catalogue, repo
        self.app = app or make_celery(settings)

    def submit(self, task_id: str, queue: str | None = None) -> None:
        """Publish `task_id`. A failure is logged, not raised: the task is already committed,
        and the sweeper re-publishes tasks left unclaimed (KINEMA_REPUBLISH_SECONDS)."""
        try:
            queue = queue or self._queue_of(task_id)
            # The Celery message id is the task id, which makes duplicates easy to spot in logs.
            self.app.send_task(RUN_TASK, args=(task_id,), queue=queue, task_id=task_id,
                               retry=True)
        except Exception as exc:
            log.warning("publish failed; the sweeper will send it again",
                        extra={"task_id": task_id, "error": f"{type(exc).__name__}: {exc}"})

    def _queue_of(self, task_id: str) -> str:
        task = self.repo.get(task_id) if self.repo is not None else None
        if task is None:
            return "motion"
        return queue_for(self.catalogue, task.model, task.engine)

    def ping(self) -> None:
        """Raise unless the broker answers (for /readyz)."""
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            client = getattr(conn.default_channel, "client", None)
            if client is not None:  # redis: a real round trip, not just a socket
                client.ping()

    def depth(self, queues: list[str]) -> dict[str, int]:
        """Messages waiting per queue (Redis keeps each queue as a list of that name)."""
        with self.app.connection_for_read() as conn:
            client = conn.default_channel.client
            return {q: int(client.llen(q)) for q in queues}

    def close(self) -> None:
        self.app.close()
