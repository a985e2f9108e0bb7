"""What a router knows about an upstream task, whatever the dialect it speaks."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from kinema.engines.upstream.config import Endpoint
from kinema.engines.upstream.transport import Transport
from kinema.job import Job

DONE = ("succeed", "failed")


@dataclass(frozen=True, kw_only=True)
class RemoteFile:
    url: str
    watermark_url: str | None = None
    duration: float | None = None


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    status: str  # submitted | processing | succeed | failed (Kling's words)
    message: str = ""
    progress: float | None = None  # 0..1 when the upstream says
    videos: tuple[RemoteFile, ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return self.status in DONE


class Wire(Protocol):
    """One upstream dialect: how a job is sent and how its task is read back."""

    def submit(self, transport: Transport, endpoint: Endpoint, job: Job, *, model: str,
               callback_url: str | None) -> str: ...

    def query(self, transport: Transport, endpoint: Endpoint, upstream_id: str) -> Snapshot: ...

    def find(self, transport: Transport, endpoint: Endpoint, job: Job) -> str | None:
        """The upstream id of a task this job already created there (a re-run), if any."""
        ...


def image_b64(job: Job, slot: str, pixels: np.ndarray | None) -> str | None:
    """The input as the client sent it (base64), or re-encoded as PNG when only pixels exist."""
    raw = job.sources.get(slot)
    if raw is None:
        if pixels is None:
            return None
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        raw = buf.getvalue()
    return base64.b64encode(raw).decode()


def fraction(value: object, *, percent: bool = False) -> float | None:
    """An upstream progress number as a fraction; without `percent`, a number above 1 is
    read as a percent (the field is not standard, so both forms are met)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return max(0.0, min(1.0, number / 100 if percent or number > 1 else number))
