"""Stored rows (SQLAlchemy) and the frozen record the rest of the code reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kinema.tasks.status import TaskStatus


class Base(DeclarativeBase):
    pass


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("tenant", "external_task_id", name="uq_tasks_tenant_external"),
        Index("ix_tasks_tenant_created", "tenant", "created_at"),
        Index("ix_tasks_status_lease", "status", "lease_expires"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128))
    dialect: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.SUBMITTED.value)
    status_msg: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires: Mapped[float | None] = mapped_column(Float, nullable=True)
    external_task_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    upstream_task_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class DeliveryRow(Base):
    """The callback outbox: written in the same transaction as the status change."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|delivered|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, kw_only=True)
class Video:
    id: str
    key: str  # storage key
    watermark_key: str | None
    duration: float
    width: int
    height: int
    fps: int
    frames: int
    # Set when a router passed the upstream's own URLs through instead of storing the file.
    url: str | None = None
    watermark_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class TaskRecord:
    id: str
    tenant: str
    dialect: str
    model: str
    engine: str
    status: TaskStatus
    status_msg: str
    progress: float
    attempts: int
    external_task_id: str | None
    callback_url: str | None
    upstream_task_id: str | None
    request: dict[str, Any]
    videos: tuple[Video, ...]
    error_code: int
    created_at: int
    updated_at: int
    started_at: int | None
    finished_at: int | None

    @classmethod
    def from_row(cls, row: TaskRow) -> TaskRecord:
        videos = tuple(Video(**v) for v in (row.result or {}).get("videos", []))
        return cls(
            id=row.id, tenant=row.tenant, dialect=row.dialect, model=row.model, engine=row.engine,
            status=TaskStatus(row.status), status_msg=row.status_msg, progress=row.progress,
            attempts=row.attempts, external_task_id=row.external_task_id,
            callback_url=row.callback_url, upstream_task_id=row.upstream_task_id,
            request=row.request, videos=videos,
            error_code=int((row.result or {}).get("error_code", 5000)), created_at=row.created_at,
            updated_at=row.updated_at, started_at=row.started_at, finished_at=row.finished_at,
        )

    @property
    def progress_percent(self) -> int:
        return 100 if self.status is TaskStatus.SUCCEED else int(self.progress * 100)


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
