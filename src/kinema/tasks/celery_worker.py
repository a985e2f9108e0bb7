"""`kinema worker` with a broker: a Celery consumer that runs tasks by id.

One process loads its engines once (the Runtime), then runs up to `concurrency` tasks on
threads. The threads pool keeps a task inside the process Celery manages, so a SIGKILL
takes the task with it; its lease expires and the sweeper has another worker finish it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from celery import Celery, signals

from kinema.api.app import Runtime, build_runtime
from kinema.settings import Settings
from kinema.tasks.celery_app import RUN_TASK, all_queues, make_celery
from kinema.tasks.celery_dispatch import CeleryDispatcher
from kinema.tasks.pool import owner_id
from kinema.tasks.sweeper import Sweeper

log = logging.getLogger("kinema.worker")


def register_task(app: Celery, rt: Runtime, dispatcher: CeleryDispatcher,
                  shutdown: threading.Event) -> None:
    runner = rt.runner()
    settings = rt.settings

    @app.task(name=RUN_TASK, acks_late=True, ignore_result=True)
    def run(task_id: str) -> str:
        owner = owner_id("c-")
        task = rt.repo.claim(owner, lease_seconds=settings.lease_seconds,
                             max_attempts=settings.max_attempts, task_id=task_id)
        if task is None:
            # Finished, running under a live lease elsewhere, or given up: a duplicate.
            log.info("message skipped: task not runnable", extra={"task_id": task_id})
            return "skipped"
        status = runner.run(task, owner, shutdown)
        if status is None and shutdown.is_set():
            # Handed back on a warm shutdown: our message is acknowledged, so send a new one.
            dispatcher.submit(task_id)
        return status.value if status is not None else "handed back"


def parse_queues(queues: str | None, rt: Runtime) -> list[str]:
    names = [q.strip() for q in (queues or "").split(",") if q.strip()]
    return names or all_queues(rt.catalogue)


def run_celery_worker(settings: Settings, concurrency: int = 1, queues: str | None = None) -> None:
    from kinema.errors import ConfigError

    try:
        rt = build_runtime(settings, preload=set())
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    names = parse_queues(queues, rt)
    # Load only the engines this worker's queues can need, once, before taking work.
    rt.engines.preload({p.engine for p in rt.catalogue.profiles() if (p.queue or p.engine) in names})
    app = make_celery(settings)
    dispatcher = CeleryDispatcher(settings, rt.catalogue, repo=rt.repo, app=app)
    shutdown = threading.Event()
    register_task(app, rt, dispatcher, shutdown)
    sweeper = Sweeper(rt.repo, dispatcher.submit, every=settings.sweep_seconds,
                      republish_after=settings.republish_seconds, broker_url=settings.broker_url)

    def _stopping(**_: object) -> None:
        shutdown.set()

    signals.worker_shutting_down.connect(_stopping, weak=False)
    rt.sender.start()
    sweeper.start()
    log.info("kinema worker consuming", extra={"queues": names, "concurrency": concurrency})
    worker = app.Worker(
        pool="threads", concurrency=max(1, concurrency), queues=names,
        hostname=f"kinema-{os.getpid()}@{socket.gethostname()}", loglevel=settings.log_level.upper(),
        without_mingle=True, without_gossip=True, without_heartbeat=True, optimization="fair",
        quiet=True)
    try:
        worker.start()
    finally:
        shutdown.set()
        sweeper.stop()
        rt.sender.stop()
