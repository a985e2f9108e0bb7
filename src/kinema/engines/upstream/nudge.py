"""Upstream callbacks, used only as a nudge: with KINEMA_PUBLIC_URL set, the upstream is told
to call kinema back, and the call wakes the task's poller at once instead of at its next poll.

The callback body is never trusted: the poller still asks the upstream itself. The events live
in this process, so a callback that reaches another process (or a Celery worker's task) changes
nothing and polling with backoff carries on; that is why polling alone must always work.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from kinema.settings import Settings

_KEY = secrets.token_bytes(32)  # per process: a callback can only nudge the process that asked
_events: dict[str, threading.Event] = {}
_lock = threading.Lock()

CALLBACK_PATH = "/upstream/callback"


def signature(task_id: str) -> str:
    return hmac.new(_KEY, task_id.encode(), hashlib.sha256).hexdigest()[:32]


def callback_url_for(task_id: str, settings: Settings) -> str | None:
    if not settings.public_url:
        return None
    return f"{settings.base_url}{CALLBACK_PATH}/{task_id}?sig={signature(task_id)}"


def nudge_event(task_id: str) -> threading.Event:
    with _lock:
        return _events.setdefault(task_id, threading.Event())


def release(task_id: str) -> None:
    with _lock:
        _events.pop(task_id, None)


def nudge(task_id: str, sig: str) -> bool:
    """Wake the poller of `task_id` if `sig` is ours and the task is being followed here."""
    if not hmac.compare_digest(signature(task_id), sig):
        return False
    with _lock:
        event = _events.get(task_id)
    if event is not None:
        event.set()
    return event is not None
