"""Callbacks: which deliveries a status change makes, signing, and the sender loop.

Deliveries sit in the database (the outbox) before they are sent; the sender retries with
exponential backoff, and a restart resumes whatever was pending."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable

import httpx

from kinema.dialects import kling, v3
from kinema.dialects.common import UrlSigner
from kinema.media.fetch import UnsafeURL, check_url
from kinema.tasks.models import TaskRecord, dumps
from kinema.tasks.repository import TaskRepository

log = logging.getLogger("kinema.callbacks")


def make_notifier(sign: UrlSigner) -> Callable[[TaskRecord], Iterable[tuple[str, str]]]:
    def notifier(task: TaskRecord) -> Iterable[tuple[str, str]]:
        if not task.callback_url:
            return ()
        if task.dialect == "kling":
            # Kling POSTs the bare task object on every status change.
            return [(task.callback_url, dumps(kling.task_object(task, sign)))]
        if task.dialect == "v3" and task.status.is_terminal():
            payload = {"event_type": "ASYNC_TASK_RESULT", "payload": v3.task_result(task, sign)}
            return [(task.callback_url, dumps(payload))]
        return ()

    return notifier


def sign_headers(secret: str, msg_id: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Standard Webhooks: v1 HMAC-SHA256 over "{id}.{timestamp}.{body}"."""
    ts = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": "v1," + base64.b64encode(digest).decode()}


class CallbackSender:
    """Sends due deliveries from the outbox on a background thread."""

    def __init__(self, repo: TaskRepository, *, secret: str | None, timeout: float,
                 attempts: int, backoff: float, allow_private: bool, interval: float = 0.2) -> None:
        self.repo, self.secret, self.timeout = repo, secret, timeout
        self.attempts, self.backoff, self.allow_private = attempts, backoff, allow_private
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kinema-callbacks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    sent = self.send_due(client)
                except Exception:  # the loop must outlive a bad database moment
                    log.exception("callback loop error")
                    sent = 0
                if not sent:
                    self._wake.wait(self.interval)
                    self._wake.clear()

    def send_due(self, client: httpx.Client) -> int:
        rows = self.repo.due_deliveries(lease_seconds=self.timeout + 30)
        for row in rows:
            ok, error = self._send(client, row.id, row.url, row.body)
            attempt = row.attempts + 1
            retry = None if ok or attempt >= self.attempts else min(self.backoff * 2 ** (attempt - 1), 600)
            self.repo.delivery_done(row.id, ok=ok, error=error, retry_in=retry)
            log.info("callback %s", "delivered" if ok else "failed",
                     extra={"task_id": row.task_id, "url": row.url, "attempt": attempt, "error": error})
        return len(rows)

    def _send(self, client: httpx.Client, msg_id: str, url: str, body: str) -> tuple[bool, str]:
        try:
            check_url(url, allow_private=self.allow_private)
        except UnsafeURL as exc:
            return False, str(exc)
        headers = {"content-type": "application/json", "user-agent": "kinema-callbacks"}
        if self.secret:
            headers.update(sign_headers(self.secret, msg_id, body))
        try:
            resp = client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if 200 <= resp.status_code < 300:
            return True, ""
        return False, f"HTTP {resp.status_code}"
