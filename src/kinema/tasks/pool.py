"""The in-process worker pool: N threads that claim tasks from the database.

The database is the queue, so a restart finds every submitted task, and a task whose
worker died is claimed again once its lease runs out."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from kinema.tasks.repository import TaskRepository
from kinema.tasks.runner import TaskRunner

log = logging.getLogger("kinema.worker")


def owner_id(tag: str = "") -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{tag}{uuid.uuid4().hex[:8]}"


class WorkerPool:
    def __init__(self, runner: TaskRunner, repo: TaskRepository, *, size: int,
                 lease_seconds: float, max_attempts: int, poll: float = 1.0) -> None:
        self.runner, self.repo, self.size = runner, repo, size
        self.lease_seconds, self.max_attempts, self.poll = lease_seconds, max_attempts, poll
        self.shutdown = threading.Event()
        self._wake = threading.Condition()
        self._pending = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.size):
            t = threading.Thread(target=self._loop, args=(owner_id(f"w{i}-"),),
                                 name=f"kinema-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, task_id: str, queue: str | None = None) -> None:
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def stop(self, timeout: float = 10.0) -> None:
        self.shutdown.set()
        with self._wake:
            self._wake.notify_all()
        for t in self._threads:
            t.join(timeout=timeout)

    def _loop(self, owner: str) -> None:
        while not self.shutdown.is_set():
            try:
                task = self.repo.claim(owner, lease_seconds=self.lease_seconds,
                                       max_attempts=self.max_attempts)
            except Exception:
                log.exception("claim failed")
                task = None
            if task is not None:
                self.runner.run(task, owner, self.shutdown)
                continue
            with self._wake:
                if self._pending == 0 and not self.shutdown.is_set():
                    self._wake.wait(self.poll)
                self._pending = 0
