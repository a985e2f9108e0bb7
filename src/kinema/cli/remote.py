"""Talking to a server: `kinema submit` and `kinema tasks`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from kinema.cli.common import (
    LOCAL_SERVER,
    CameraOpt,
    PresetOpt,
    app,
    camera_option,
    fail,
    progress_bar,
)


def _client(server: str, api_key: str | None, access_key: str | None, secret_key: str | None) -> Any:
    import os

    from kinema.client import Client

    if not (api_key or access_key or secret_key):
        api_key = next((k.strip() for k in os.environ.get("KINEMA_API_KEYS", "").split(",")
                        if k.strip()), None)
    try:
        return Client(server, api_key=api_key, access_key=access_key, secret_key=secret_key,
                      poll_interval=0.5)
    except ValueError as exc:
        raise fail(str(exc)) from None


ServerOpt = typer.Option(LOCAL_SERVER, envvar="KINEMA_SERVER", help="A Kling-compatible base URL.")
ApiKeyOpt = typer.Option(None, envvar="KINEMA_API_KEY",
                         help="Bearer API key (default: the first of KINEMA_API_KEYS).")
AccessOpt = typer.Option(None, envvar="KINEMA_ACCESS_KEY", help="Kling access key (JWT auth).")
SecretOpt = typer.Option(None, envvar="KINEMA_SECRET_KEY", help="Kling secret key (JWT auth).")


@app.command()
def submit(
    image: Path = typer.Argument(..., help="Start frame (JPEG or PNG)."),
    prompt: str = typer.Option("", help="What should happen."),
    negative_prompt: str = typer.Option("", help="What should not."),
    image_tail: Path | None = typer.Option(None, help="End frame to arrive at."),
    camera: str | None = CameraOpt,
    camera_preset: str | None = PresetOpt,
    model: str = typer.Option("kling-v1", help="model_name to ask for."),
    mode: str = typer.Option("std", help="std or pro."),
    duration: int = typer.Option(5, help="5 or 10 seconds."),
    cfg_scale: float | None = typer.Option(None, help="Prompt adherence, 0 to 1."),
    external_task_id: str | None = typer.Option(None, help="Your own id for the task."),
    output: Path | None = typer.Option(None, "-o", "--output", help="MP4 path (default TASK_ID.mp4)."),
    wait: bool = typer.Option(True, help="Wait and download; --no-wait prints the task id."),
    timeout: float = typer.Option(900, help="Seconds to wait for the video."),
    server: str = ServerOpt, api_key: str | None = ApiKeyOpt,
    access_key: str | None = AccessOpt, secret_key: str | None = SecretOpt,
) -> None:
    """Send a task to a Kling-compatible server, follow it, and download the video."""
    from kinema.client import KlingError

    cam = camera_option(camera, camera_preset)
    for path, option in ((image, "IMAGE"), (image_tail, "--image-tail")):
        if path is not None and not path.is_file():
            raise fail(f"{option}: no such file: {path}")
    out = Console()
    with _client(server, api_key, access_key, secret_key) as client:
        try:
            task = client.image2video(image, prompt=prompt, negative_prompt=negative_prompt,
                                      image_tail=image_tail, camera=cam, model=model, mode=mode,
                                      duration=duration, cfg_scale=cfg_scale,
                                      external_task_id=external_task_id)
            if not wait:
                out.print(task.id)
                return
            with progress_bar() as bar:
                row = bar.add_task(f"task {task.id} submitted", total=100)
                task = client.wait(task, timeout=timeout, on_progress=lambda t: bar.update(
                    row, completed=t.progress, description=f"task {t.id} {t.status}"))
            path = client.download(task, output or Path(f"{task.id}.mp4"))
        except KlingError as exc:
            raise fail(exc.message, exc.code) from None
    out.print(f"saved {path} (task {task.id}, {task.videos[0].duration:g} s)", highlight=False)


@app.command()
def tasks(
    page: int = typer.Option(1, help="Page number (Kling's pageNum)."),
    size: int = typer.Option(20, help="Tasks per page (Kling's pageSize)."),
    server: str = ServerOpt, api_key: str | None = ApiKeyOpt,
    access_key: str | None = AccessOpt, secret_key: str | None = SecretOpt,
) -> None:
    """List recent tasks on a Kling-compatible server, newest first."""
    import datetime

    from rich.table import Column, Table

    from kinema.client import KlingError

    with _client(server, api_key, access_key, secret_key) as client:
        try:
            found = client.list(page, size)
        except KlingError as exc:
            raise fail(exc.message, exc.code) from None
    table = Table(Column("task_id", no_wrap=True), "status", "progress", Column("created", no_wrap=True),
                  "external id", "upstream id", "video")
    for t in found:
        created = datetime.datetime.fromtimestamp(t.created_at / 1000).strftime("%m-%d %H:%M:%S")
        video = f"{t.videos[0].duration:g} s" if t.videos else (t.status_msg or "-")
        table.add_row(t.id, t.status, f"{t.progress}%", created, t.external_task_id or "-",
                      t.upstream_task_id or "-", video)
    Console().print(table if found else "no tasks")
