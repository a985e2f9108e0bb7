"""The app factory: no import-time side effects; everything is built in the lifespan."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request, Response

from kinema import __version__, metrics
from kinema.api import errors, files, gateway, health, kling, upstream_hook, v3
from kinema.api.context import Services
from kinema.callbacks import CallbackSender, make_notifier
from kinema.catalogue import Catalogue
from kinema.engines.registry import EngineSet
from kinema.logs import request_id
from kinema.media.images import ImageLimits
from kinema.settings import Settings
from kinema.storage import Storage, build_storage, url_signer
from kinema.tasks.db import make_engine, migrate, session_factory
from kinema.tasks.pool import WorkerPool
from kinema.tasks.repository import TaskRepository
from kinema.tasks.runner import TaskRunner
from kinema.tasks.service import Dispatcher, TaskService

log = logging.getLogger("kinema")


@dataclass
class Runtime:
    """Everything a process needs to store and run tasks (API or worker)."""

    settings: Settings
    catalogue: Catalogue
    repo: TaskRepository
    storage: Storage
    engines: EngineSet
    sender: CallbackSender

    def runner(self) -> TaskRunner:
        return TaskRunner(self.repo, self.storage, self.engines, self.catalogue,
                          self.settings)

    def pool(self, size: int) -> WorkerPool:
        return WorkerPool(self.runner(), self.repo, size=size,
                          lease_seconds=self.settings.lease_seconds,
                          max_attempts=self.settings.max_attempts)


def build_runtime(settings: Settings, *, preload: set[str] | None = None) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.db_url)
    migrate(db)
    storage = build_storage(settings)
    catalogue = Catalogue.load(settings.models_file)
    repo = TaskRepository(session_factory(db), make_notifier(url_signer(storage, settings.url_ttl)))
    engines = EngineSet(catalogue, settings)
    engines.preload(preload)
    sender = CallbackSender(
        repo, secret=settings.webhook_secret, timeout=settings.callback_timeout,
        attempts=settings.callback_attempts, backoff=settings.callback_backoff,
        allow_private=settings.allow_private_urls)
    return Runtime(settings=settings, catalogue=catalogue, repo=repo, storage=storage,
                   engines=engines, sender=sender)


def api_preload(settings: Settings) -> set[str] | None:
    """An API process that hands tasks to a broker loads no engines; one that runs them
    loads every engine at start, so broken weights fail before the first request."""
    return set() if settings.broker_url else None


class _NoDispatch:
    """API-only process without a broker: separate `kinema worker` processes poll the database."""

    def submit(self, task_id: str, queue: str | None = None) -> None:
        return None


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """`runtime`: one built beforehand (serve does, so config errors stop it before uvicorn)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings, preload=api_preload(settings))
        dispatcher: Dispatcher
        pool = None
        sweeper = None
        if settings.broker_url:
            from kinema.tasks.celery_dispatch import CeleryDispatcher
            from kinema.tasks.sweeper import Sweeper

            celery = CeleryDispatcher(settings, rt.catalogue, repo=rt.repo)
            app.state.broker_ping = celery.ping
            app.state.broker_depth = celery.depth
            sweeper = Sweeper(rt.repo, celery.submit, every=settings.sweep_seconds,
                              republish_after=settings.republish_seconds,
                              broker_url=settings.broker_url)
            dispatcher = celery
        elif settings.workers > 0:
            pool = rt.pool(settings.workers)
            dispatcher = pool
        else:
            dispatcher = _NoDispatch()
        app.state.settings = settings
        app.state.runtime = rt
        app.state.services = Services(
            settings=settings, catalogue=rt.catalogue, repo=rt.repo, storage=rt.storage,
            tasks=TaskService(rt.repo, rt.storage, dispatcher,
                              max_active=settings.max_active_tasks),
            limits=ImageLimits(max_bytes=settings.max_image_bytes,
                               max_pixels=settings.max_image_pixels,
                               allow_private_urls=settings.allow_private_urls,
                               fetch_timeout=settings.fetch_timeout),
            engines=rt.engines)
        rt.sender.start()
        if pool is not None:
            pool.start()
        if sweeper is not None:
            sweeper.start()
        log.info("kinema ready", extra={"version": __version__, "workers": settings.workers,
                                        "database": settings.db_url.split("://")[0],
                                        "open_access": settings.open_access})
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()
            if sweeper is not None:
                sweeper.stop()
            rt.sender.stop()

    app = FastAPI(title="kinema", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    errors.install(app)

    @app.middleware("http")
    async def _request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or str(uuid.uuid4())
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
            if request.url.path not in ("/healthz", "/metrics"):
                log.info("request", extra={
                    "method": request.method, "path": request.url.path, "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1)})
        finally:
            request_id.reset(token)
        response.headers["x-request-id"] = rid
        return response

    for module in (kling, gateway, v3, files, health, upstream_hook):
        app.include_router(module.router)
    app.include_router(metrics.router)
    _mount_playground(app)
    return app


def _mount_playground(app: FastAPI) -> None:
    """The playground: / serves the page and /web/ its files; it calls the public API like any client."""
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    web_dir = Path(__file__).resolve().parent.parent / "web"

    @app.get("/", include_in_schema=False)
    async def playground() -> FileResponse:
        return FileResponse(web_dir / "index.html", media_type="text/html",
                            headers={"cache-control": "no-cache"})

    app.mount("/web", StaticFiles(directory=web_dir), name="web")
