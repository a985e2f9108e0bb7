"""The task store: every read and write of tasks and deliveries goes through here.

Status changes and their callback deliveries are written in one transaction (an
outbox), so a delivery is never lost and never sent for a change that did not happen.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kinema.errors import InvalidParameter, NotFound
from kinema.tasks.models import DeliveryRow, TaskRecord, TaskRow
from kinema.tasks.status import TaskStatus, transition

# Turns a task (after a change) into (url, body) deliveries; injected by the app.
Notifier = Callable[[TaskRecord], Iterable[tuple[str, str]]]


class DuplicateTaskId(Exception):
    """The generated task id is taken (two creates in one millisecond drew the same digits)."""


def now_ms() -> int:
    return int(time.time() * 1000)


def new_task_id() -> str:
    # 18 digits like Kling's: milliseconds, then 5 random digits.
    return f"{now_ms()}{secrets.randbelow(10**5):05d}"


class TaskRepository:
    def __init__(self, sessions: sessionmaker[Session], notifier: Notifier | None = None) -> None:
        self.sessions = sessions
        self.notifier: Notifier = notifier or (lambda _task: ())

    # ---- create and read -------------------------------------------------
    def create(self, *, tenant: str, dialect: str, model: str, engine: str,
               request: dict[str, Any], external_task_id: str | None,
               callback_url: str | None, task_id: str | None = None) -> TaskRecord:
        stamp = now_ms()
        row = TaskRow(
            id=task_id or new_task_id(), tenant=tenant, dialect=dialect, model=model,
            engine=engine, status=TaskStatus.SUBMITTED.value, status_msg="", progress=0.0,
            attempts=0, external_task_id=external_task_id, callback_url=callback_url,
            request=request, created_at=stamp, updated_at=stamp,
        )
        try:
            with self.sessions.begin() as s:
                s.add(row)
                s.flush()
                record = TaskRecord.from_row(row)
                self._enqueue(s, record)
        except IntegrityError:
            if external_task_id is not None and self._external_exists(tenant, external_task_id):
                raise InvalidParameter(
                    "external_task_id", f"{external_task_id!r} is already used by another task"
                ) from None
            if self.get(row.id) is not None:
                raise DuplicateTaskId(row.id) from None
            raise
        return record

    def _external_exists(self, tenant: str, external_task_id: str) -> bool:
        with self.sessions() as s:
            return s.scalar(select(TaskRow.id).where(
                TaskRow.tenant == tenant, TaskRow.external_task_id == external_task_id)) is not None

    def get(self, task_id: str) -> TaskRecord | None:
        with self.sessions() as s:
            row = s.get(TaskRow, task_id)
            return TaskRecord.from_row(row) if row else None

    def find(self, tenant: str, ident: str) -> TaskRecord:
        """A task of `tenant` by task_id or external_task_id; anything else is NotFound."""
        with self.sessions() as s:
            row = s.scalar(select(TaskRow).where(TaskRow.tenant == tenant, or_(
                TaskRow.id == ident, TaskRow.external_task_id == ident)).order_by(
                (TaskRow.id == ident).desc()).limit(1))
            if row is None:
                raise NotFound(f"task {ident!r} not found")
            return TaskRecord.from_row(row)

    def page(self, tenant: str, page: int, size: int) -> list[TaskRecord]:
        with self.sessions() as s:
            rows = s.scalars(select(TaskRow).where(TaskRow.tenant == tenant)
                             .order_by(TaskRow.created_at.desc(), TaskRow.id.desc())
                             .offset((page - 1) * size).limit(size))
            return [TaskRecord.from_row(r) for r in rows]

    def count_active(self, tenant: str) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(TaskRow).where(
                TaskRow.tenant == tenant,
                TaskRow.status.in_([TaskStatus.SUBMITTED.value, TaskStatus.PROCESSING.value]))) or 0

    def counts_by_status(self) -> dict[str, int]:
        with self.sessions() as s:
            return dict(s.execute(select(TaskRow.status, func.count()).group_by(TaskRow.status)).all())

    # ---- the worker's side -----------------------------------------------
    def claim(self, owner: str, *, lease_seconds: float, max_attempts: int,
              task_id: str | None = None) -> TaskRecord | None:
        """Take one runnable task (or `task_id`) with a lease. Tasks whose lease ran out are
        runnable again; one that has used all its attempts is failed instead."""
        now = time.time()
        runnable = or_(TaskRow.status == TaskStatus.SUBMITTED.value, and_(
            TaskRow.status == TaskStatus.PROCESSING.value, TaskRow.lease_expires < now))
        with self.sessions.begin() as s:
            query = select(TaskRow).where(runnable)
            query = query.where(TaskRow.id == task_id) if task_id else query.order_by(
                TaskRow.created_at).limit(8)
            for row in s.scalars(query).all():
                if row.attempts >= max_attempts:
                    self._set(s, row, TaskStatus.FAILED, msg=(
                        f"the task was interrupted {row.attempts} times (worker lost) and was "
                        "given up; please submit it again"))
                    continue
                claimed = s.execute(update(TaskRow).where(TaskRow.id == row.id, runnable).values(
                    lease_owner=owner, lease_expires=now + lease_seconds,
                    attempts=TaskRow.attempts + 1)).rowcount  # type: ignore[attr-defined]
                if claimed:
                    s.refresh(row)
                    self._set(s, row, TaskStatus.PROCESSING, started=True)
                    return TaskRecord.from_row(row)
        return None

    def heartbeat(self, task_id: str, owner: str, *, lease_seconds: float,
                  progress: float | None = None) -> bool:
        """Extend the lease (and record progress); False if the lease was lost."""
        values: dict[str, Any] = {"lease_expires": time.time() + lease_seconds}
        if progress is not None:
            values.update(progress=max(0.0, min(progress, 1.0)), updated_at=now_ms())
        with self.sessions.begin() as s:
            return bool(s.execute(update(TaskRow).where(
                TaskRow.id == task_id, TaskRow.lease_owner == owner,
                TaskRow.status == TaskStatus.PROCESSING.value).values(**values)).rowcount)  # type: ignore[attr-defined]

    def set_upstream_id(self, task_id: str, upstream_task_id: str) -> None:
        with self.sessions.begin() as s:
            s.execute(update(TaskRow).where(TaskRow.id == task_id).values(
                upstream_task_id=upstream_task_id))

    def finish(self, task_id: str, owner: str | None, status: TaskStatus, *, msg: str = "",
               result: dict[str, Any] | None = None) -> TaskRecord | None:
        """End a task; None if `owner` no longer holds it (another worker took over)."""
        with self.sessions.begin() as s:
            row = s.get(TaskRow, task_id, with_for_update=True)
            if row is None or TaskStatus(row.status).is_terminal():
                return None
            if owner is not None and row.lease_owner != owner:
                return None
            if result is not None:
                row.result = result
            if status is TaskStatus.SUCCEED:
                row.progress = 1.0
            self._set(s, row, status, msg=msg)
            return TaskRecord.from_row(row)

    def release(self, task_id: str, owner: str) -> None:
        """Hand a task back (graceful shutdown) without spending an attempt."""
        with self.sessions.begin() as s:
            row = s.get(TaskRow, task_id, with_for_update=True)
            if row is not None and row.lease_owner == owner and row.status == "processing":
                row.attempts = max(0, row.attempts - 1)
                row.lease_owner, row.lease_expires = None, None
                self._set(s, row, TaskStatus.SUBMITTED)

    def stale_submitted(self, older_than_s: float, limit: int = 500) -> list[str]:
        cutoff = now_ms() - int(older_than_s * 1000)
        with self.sessions() as s:
            return list(s.scalars(select(TaskRow.id).where(
                TaskRow.status == TaskStatus.SUBMITTED.value, TaskRow.updated_at < cutoff)
                .order_by(TaskRow.created_at).limit(limit)))

    def expired_leases(self, limit: int = 500) -> list[str]:
        with self.sessions() as s:
            return list(s.scalars(select(TaskRow.id).where(
                TaskRow.status == TaskStatus.PROCESSING.value,
                TaskRow.lease_expires < time.time()).limit(limit)))

    def _set(self, s: Session, row: TaskRow, status: TaskStatus, *, msg: str | None = None,
             started: bool = False) -> None:
        row.status = transition(row.status, status).value
        if msg is not None:
            row.status_msg = msg
        row.updated_at = now_ms()
        if started:
            row.started_at = row.updated_at
            row.progress = 0.0
        if status.is_terminal():
            row.finished_at = row.updated_at
            row.lease_owner, row.lease_expires = None, None
        s.flush()
        self._enqueue(s, TaskRecord.from_row(row))

    # ---- the callback outbox ----------------------------------------------
    def _enqueue(self, s: Session, task: TaskRecord) -> None:
        for url, body in self.notifier(task):
            s.add(DeliveryRow(id=uuid.uuid4().hex, task_id=task.id, url=url, body=body,
                              state="pending", attempts=0, next_attempt_at=time.time(),
                              last_error="", created_at=now_ms()))

    def due_deliveries(self, limit: int = 20, *, lease_seconds: float = 60.0) -> list[DeliveryRow]:
        """Claim due deliveries: they stay 'pending' with their next attempt pushed out by a
        lease, so a process that dies mid-send leaves them to be retried."""
        now = time.time()
        with self.sessions.begin() as s:
            rows = s.scalars(select(DeliveryRow).where(
                DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= now)
                .order_by(DeliveryRow.next_attempt_at).limit(limit)).all()
            taken = []
            for row in rows:
                if s.execute(update(DeliveryRow).where(
                        DeliveryRow.id == row.id, DeliveryRow.next_attempt_at == row.next_attempt_at)
                        .values(next_attempt_at=now + lease_seconds)).rowcount:  # type: ignore[attr-defined]
                    s.expunge(row)
                    taken.append(row)
            return taken

    def delivery_done(self, delivery_id: str, *, ok: bool, error: str = "",
                      retry_in: float | None = None) -> None:
        with self.sessions.begin() as s:
            row = s.get(DeliveryRow, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error[:500]
            if ok:
                row.state = "delivered"
            elif retry_in is None:
                row.state = "dead"
            else:
                row.next_attempt_at = time.time() + retry_in

    def deliveries(self, task_id: str) -> list[DeliveryRow]:
        with self.sessions() as s:
            return list(s.scalars(select(DeliveryRow).where(DeliveryRow.task_id == task_id)
                                  .order_by(DeliveryRow.created_at)))
