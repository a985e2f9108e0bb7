"""The one interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from kinema.job import Job, RemoteVideo, RenderedVideo

ProgressFn = Callable[[float], None]
StopFn = Callable[[], bool]


class Engine(Protocol):
    def generate(
        self, job: Job, *, on_progress: ProgressFn, should_stop: StopFn
    ) -> Sequence[RenderedVideo | RemoteVideo]:
        """Render `job.n` videos into `job.out_dir` (or, for a router, name where they are);
        progress is a fraction in [0, 1]."""
        ...


class StopRequested(Exception):
    """Raised inside an engine when `should_stop()` turned true."""
