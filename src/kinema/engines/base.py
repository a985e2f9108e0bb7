"""The one interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kinema.job import Job, RenderedVideo

ProgressFn = Callable[[float], None]
StopFn = Callable[[], bool]


class Engine(Protocol):
    def generate(
        self, job: Job, *, on_progress: ProgressFn, should_stop: StopFn
    ) -> list[RenderedVideo]:
        """Render `job.n` videos into `job.out_dir`; progress is a fraction in [0, 1]."""
        ...


class StopRequested(Exception):
    """Raised inside an engine when `should_stop()` turned true."""
