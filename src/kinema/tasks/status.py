"""The task status machine: one enum, and every transition checked in one place."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    SUCCEED = "succeed"
    FAILED = "failed"

    def is_terminal(self) -> bool:
        return self in (TaskStatus.SUCCEED, TaskStatus.FAILED)


_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.SUBMITTED: frozenset({TaskStatus.PROCESSING, TaskStatus.FAILED}),
    # processing -> processing is a re-claim after a lost lease; -> submitted a hand-back.
    TaskStatus.PROCESSING: frozenset(
        {TaskStatus.PROCESSING, TaskStatus.SUBMITTED, TaskStatus.SUCCEED, TaskStatus.FAILED}),
    TaskStatus.SUCCEED: frozenset(),
    TaskStatus.FAILED: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


def transition(current: TaskStatus | str, new: TaskStatus | str) -> TaskStatus:
    cur, nxt = TaskStatus(current), TaskStatus(new)
    if nxt not in _ALLOWED[cur]:
        raise IllegalTransition(f"task cannot go from {cur} to {nxt}")
    return nxt
