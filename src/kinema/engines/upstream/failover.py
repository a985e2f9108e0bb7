"""Sending a job to the first upstream that takes it, then following it to the end.

- Unreachable (network error, timeout, 5xx without a body), or a refusal another upstream
  may not share (auth, account, unknown model), moves on to the next upstream.
- 1302, 1303 and 5000-5002 are retried on the same upstream with exponential backoff;
  an upstream that keeps answering them counts as down.
- A request the upstream finds invalid (1200, 1201, 1300, 1301) fails the task with the
  upstream's message: the next upstream would say the same.
- Polling backs off while nothing changes; an upstream that stops answering for
  `unreachable_grace` seconds mid-task is given up and the job goes to the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kinema.engines.base import StopRequested
from kinema.engines.upstream.config import Endpoint, UpstreamConfig
from kinema.engines.upstream.state import Snapshot, Wire
from kinema.engines.upstream.transport import Refused, Transport, Unreachable
from kinema.errors import TaskFailure
from kinema.job import Job

log = logging.getLogger("kinema.upstream")

FAIL_TASK_CODES = frozenset({1200, 1201, 1300, 1301})


class _Down(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    endpoint: Endpoint
    upstream_id: str
    snapshot: Snapshot


class Failover:
    def __init__(self, cfg: UpstreamConfig, wire: Wire, transport: Transport, job: Job, *,
                 model: str, on_progress: Callable[[float], None],
                 should_stop: Callable[[], bool], nudge: threading.Event | None = None,
                 progress_span: float = 0.9) -> None:
        self.cfg, self.wire, self.transport, self.job, self.model = cfg, wire, transport, job, model
        self.on_progress, self.should_stop = on_progress, should_stop
        self.nudge = nudge or threading.Event()
        self.span = progress_span
        self.deadline = time.monotonic() + cfg.timeout

    def run(self, callback_url: str | None = None) -> Outcome:
        down: list[str] = []
        for endpoint in self.cfg.upstreams:
            try:
                upstream_id = self._submit(endpoint, callback_url)
                if self.job.on_upstream_id is not None:
                    self.job.on_upstream_id(upstream_id)
                log.info("forwarded", extra={"task_id": self.job.task_id, "upstream": endpoint.url,
                                             "upstream_task_id": upstream_id})
                return Outcome(endpoint, upstream_id, self._follow(endpoint, upstream_id))
            except _Down as exc:
                log.warning("upstream down", extra={"task_id": self.job.task_id,
                                                    "upstream": endpoint.url, "reason": exc.reason})
                down.append(f"{endpoint.url} ({exc.reason})")
        raise TaskFailure("all upstreams are unreachable: " + ", ".join(down))

    def _submit(self, endpoint: Endpoint, callback_url: str | None) -> str:
        attempt = 0
        while True:
            try:
                return self.wire.submit(self.transport, endpoint, self.job, model=self.model,
                                        callback_url=callback_url)
            except Unreachable as exc:
                raise _Down(exc.reason) from None
            except Refused as exc:
                if exc.retryable:
                    if attempt < self.cfg.retries:
                        log.info("upstream busy, retrying", extra={
                            "task_id": self.job.task_id, "upstream": endpoint.url,
                            "code": exc.code, "reason": exc.message, "attempt": attempt + 1})
                        self._wait(min(self.cfg.retry_backoff * 2**attempt, self.cfg.poll_max_interval))
                        attempt += 1
                        continue
                    raise _Down(f"still {exc.code} after {attempt + 1} tries: {exc.message}") from None
                if exc.code == 1201 and callback_url and ("callback_url" in exc.message
                                                          or "webhook" in exc.message):
                    # The callback is only a nudge: an upstream that refuses our URL is polled.
                    log.info("upstream refused the callback URL; polling only", extra={
                        "task_id": self.job.task_id, "upstream": endpoint.url, "reason": exc.message})
                    callback_url = None
                    continue
                if exc.code == 1201 and "external_task_id" in exc.message:
                    # A re-run of this task: the upstream already has it, so follow that one.
                    found = self._find(endpoint)
                    if found:
                        return found
                if exc.code in FAIL_TASK_CODES:
                    raise TaskFailure(f"upstream {endpoint.url} rejected the task ({exc.code}): "
                                      f"{exc.message}", code=exc.code) from None
                raise _Down(f"refused with {exc.code}: {exc.message}") from None

    def _find(self, endpoint: Endpoint) -> str | None:
        try:
            return self.wire.find(self.transport, endpoint, self.job)
        except (Unreachable, Refused):
            return None

    def _follow(self, endpoint: Endpoint, upstream_id: str) -> Snapshot:
        interval = self.cfg.poll_interval
        seen: tuple[str, float | None] | None = None
        silent_since: float | None = None
        while True:
            if time.monotonic() > self.deadline:
                raise TaskFailure(f"upstream {endpoint.url} did not finish task {upstream_id} "
                                  f"within {self.cfg.timeout:g} s")
            try:
                snap = self.wire.query(self.transport, endpoint, upstream_id)
            except Unreachable as exc:
                silent_since = silent_since or time.monotonic()
                if time.monotonic() - silent_since > self.cfg.unreachable_grace:
                    raise _Down(f"stopped answering about task {upstream_id}: {exc.reason}") from None
                snap = None
            except Refused as exc:
                if not exc.retryable:
                    raise TaskFailure(f"upstream {endpoint.url} could not report task {upstream_id} "
                                      f"({exc.code}): {exc.message}") from None
                snap = None
            if snap is not None:
                silent_since = None
                self._mirror(snap)
                if snap.done:
                    return snap
                if (snap.status, snap.progress) != seen:
                    interval = self.cfg.poll_interval  # something moved: look again soon
                seen = (snap.status, snap.progress)
            self._wait(interval)
            interval = min(interval * 1.5, self.cfg.poll_max_interval)

    def _mirror(self, snap: Snapshot) -> None:
        if snap.status == "processing":
            self.on_progress(0.05 + (self.span - 0.05) * (snap.progress or 0.0))
        elif snap.status == "submitted":
            self.on_progress(0.01)

    def _wait(self, seconds: float) -> None:
        """Sleep, waking for a stop request, an upstream callback nudge, or the deadline."""
        end = min(time.monotonic() + seconds, self.deadline + 0.01)
        while True:
            if self.should_stop():
                raise StopRequested()
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.nudge.wait(min(left, 0.2)):
                self.nudge.clear()
                return
