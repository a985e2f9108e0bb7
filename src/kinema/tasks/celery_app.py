"""The Celery app: one task, `kinema.run`, whose message carries only a task id.

The task's state lives in the database; the broker only says "look at this id". So a
duplicate or late delivery is harmless: the claim refuses a task that is not runnable."""

from __future__ import annotations

from celery import Celery

from kinema.catalogue import Catalogue
from kinema.settings import Settings

RUN_TASK = "kinema.run"


def queue_for(catalogue: Catalogue, model: str, engine: str) -> str:
    """A profile's own queue, else its engine's ("motion", "diffusion", "upstream")."""
    try:
        profile = catalogue.get(model)
    except Exception:  # a model removed from the catalogue since: route by engine
        return engine
    return profile.queue or profile.engine


def all_queues(catalogue: Catalogue) -> list[str]:
    return sorted({p.queue or p.engine for p in catalogue.profiles()})


def make_celery(settings: Settings) -> Celery:
    assert settings.broker_url, "make_celery needs KINEMA_BROKER_URL"
    app = Celery("kinema", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        # A message is acknowledged only after its task ran, one at a time per slot, so a
        # worker that dies takes nothing with it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        task_ignore_result=True,
        task_default_queue="motion",
        task_serializer="json",
        accept_content=["json"],
        # Publishing must not hang an API request: a lost publish is re-sent by the sweeper.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                   "interval_max": 0.5},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app
