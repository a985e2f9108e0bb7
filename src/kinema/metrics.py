"""Prometheus /metrics: read at scrape time from the database (and the broker).

The database holds every task of every process, so any one API process reports the whole
service: scrape one of them (or take max() across them), not the sum."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from starlette.concurrency import run_in_threadpool

from kinema.tasks.models import DeliveryRow, TaskRow
from kinema.tasks.repository import TaskRepository
from kinema.tasks.status import TaskStatus

BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
Depth = Callable[[], dict[str, int]]


class KinemaCollector(Collector):
    def __init__(self, repo: TaskRepository, depth: Depth) -> None:
        self.repo, self.depth = repo, depth

    def collect(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily("kinema_tasks", "Tasks by status.", labels=["status"])
        counts = self.repo.counts_by_status()
        for status in TaskStatus:
            tasks.add_metric([status.value], counts.get(status.value, 0))
        yield tasks

        queue = GaugeMetricFamily("kinema_queue_depth", "Tasks waiting to be picked up, per queue.",
                                  labels=["queue"])
        for name, depth in self.depth().items():
            queue.add_metric([name], depth)
        yield queue

        duration = HistogramMetricFamily(
            "kinema_task_duration_seconds", "Run time of finished tasks (start to end), by engine.",
            labels=["engine"])
        failures = CounterMetricFamily("kinema_task_failures", "Tasks that ended failed, by engine.",
                                       labels=["engine"])
        for engine, total, seconds, failed, buckets in self._durations():
            cumulative = [(str(b), n) for b, n in zip(BUCKETS, buckets, strict=True)]
            duration.add_metric([engine], cumulative + [("+Inf", total)], seconds)
            failures.add_metric([engine], failed)
        yield duration
        yield failures

        callbacks = GaugeMetricFamily("kinema_callbacks", "Callback deliveries by state.",
                                      labels=["state"])
        with self.repo.sessions() as s:
            rows = s.execute(select(DeliveryRow.state, func.count()).group_by(DeliveryRow.state))
            for state, n in rows:
                callbacks.add_metric([state], n)
        yield callbacks

    def _durations(self) -> list[tuple[str, int, float, int, list[int]]]:
        """Per engine: count, total seconds, failed count, cumulative bucket counts (one query)."""
        seconds = (TaskRow.finished_at - TaskRow.started_at) / 1000.0
        failed = func.sum(case((TaskRow.status == TaskStatus.FAILED.value, 1), else_=0))
        per_bucket = [func.sum(case((seconds <= b, 1), else_=0)) for b in BUCKETS]
        query = (select(TaskRow.engine, func.count(), func.sum(seconds), failed, *per_bucket)
                 .where(TaskRow.finished_at.is_not(None), TaskRow.started_at.is_not(None))
                 .group_by(TaskRow.engine))
        with self.repo.sessions() as s:
            return [(row[0], int(row[1]), float(row[2] or 0), int(row[3] or 0),
                     [int(n or 0) for n in row[4:]]) for row in s.execute(query)]


router = APIRouter(tags=["ops"])


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        svc = request.app.state.services
        broker_depth = getattr(request.app.state, "broker_depth", None)

        def depth() -> dict[str, int]:
            if broker_depth is not None:
                from kinema.tasks.celery_app import all_queues

                return broker_depth(all_queues(svc.catalogue))  # type: ignore[no-any-return]
            # No broker: the database is the queue.
            return {"database": svc.repo.counts_by_status().get(TaskStatus.SUBMITTED.value, 0)}

        registry = CollectorRegistry(auto_describe=False)
        registry.register(KinemaCollector(svc.repo, depth))
        request.app.state.metrics_registry = registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
