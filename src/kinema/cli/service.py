"""Running kinema: serve, worker, and the model catalogue."""

from __future__ import annotations

import signal
import threading

import typer
from rich.console import Console
from rich.markup import escape

from kinema.cli.common import app, err, load_settings


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8000)."),
    workers: int | None = typer.Option(None, help="In-process workers (KINEMA_WORKERS)."),
) -> None:
    """Run the API (and, without a broker, the workers)."""
    import uvicorn

    from kinema import logs
    from kinema.api import create_app
    from kinema.api.app import api_preload, build_runtime
    from kinema.errors import ConfigError

    settings = load_settings(host=host, port=port, workers=workers)
    logs.configure(settings.log_level)
    if settings.open_access and settings.host not in ("127.0.0.1", "localhost", "::1"):
        err.print("[yellow]No KINEMA_API_KEYS or KINEMA_ACCESS_KEYS set: the service is open, so it "
                  f"binds to loopback only (127.0.0.1), not {settings.host}.[/yellow]")
        settings = load_settings(host="127.0.0.1", port=settings.port, workers=workers)
    elif settings.open_access:
        err.print("[yellow]No KINEMA_API_KEYS or KINEMA_ACCESS_KEYS set: open to one anonymous "
                  "tenant, bound to loopback only.[/yellow]")
    try:
        # built here, not in the lifespan: a bad models file or weights folder then ends
        # with one error line instead of uvicorn's "startup failed" traceback
        runtime = build_runtime(settings, preload=api_preload(settings))
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    err.print(f"kinema listening on http://{settings.host}:{settings.port} "
              f"(data in {settings.data_dir})")
    uvicorn.run(create_app(settings, runtime=runtime), host=settings.host, port=settings.port,
                log_config=None, access_log=False)


@app.command()
def worker(
    concurrency: int = typer.Option(1, help="Tasks run at once by this process."),
    queues: str | None = typer.Option(None, help="Comma-separated queues (with a broker)."),
) -> None:
    """Run workers: Celery consumers with KINEMA_BROKER_URL, else database pollers."""
    from kinema import logs
    from kinema.api.app import build_runtime
    from kinema.errors import ConfigError

    settings = load_settings()
    logs.configure(settings.log_level)
    if settings.broker_url:
        from kinema.tasks.celery_worker import run_celery_worker

        run_celery_worker(settings, concurrency=concurrency, queues=queues)
        return
    try:
        rt = build_runtime(settings)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    pool = rt.pool(concurrency)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    rt.sender.start()
    pool.start()
    err.print(f"kinema worker polling the database with {concurrency} slot(s)")
    done.wait()
    pool.stop()
    rt.sender.stop()


@app.command()
def models(as_json: bool = typer.Option(False, "--json", help="Print JSON, as GET /v1/models.")) -> None:
    """List the model catalogue as it stands after KINEMA_MODELS_FILE."""
    import json

    from rich.table import Table

    from kinema.catalogue import Catalogue
    from kinema.errors import ConfigError

    settings = load_settings()
    try:
        catalogue = Catalogue.load(settings.models_file)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps([p.as_dict() for p in catalogue.profiles()], indent=2))
        return
    table = Table("model", "engine", "modes", "fps", "resolution", "controls")
    for p in catalogue.profiles():
        controls = "; ".join(f"{m}: {', '.join(f'{c} {list(d)}' for c, d in cs.items())}"
                             for m, cs in p.controls.items()) or "-"
        table.add_row(p.name, p.engine, ",".join(p.modes), str(p.fps),
                      ", ".join(f"{m} {s}p" for m, s in p.resolution.items()), controls)
    Console().print(table)



# ---- generate | submit | tasks -------------------------------------------------------------
