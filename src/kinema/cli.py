"""The command line: serve | worker | generate | submit | tasks | models."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from kinema.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="kinema: image-to-video that speaks Kling.")
err = Console(stderr=True)


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
    except Exception as exc:
        err.print(f"[red]error:[/red] bad settings: {exc}")
        raise typer.Exit(2) from None


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

    settings = _settings(host=host, port=port, workers=workers)
    logs.configure(settings.log_level)
    if settings.open_access and settings.host not in ("127.0.0.1", "localhost", "::1"):
        err.print("[yellow]No KINEMA_API_KEYS or KINEMA_ACCESS_KEYS set: the service is open, so it "
                  f"binds to loopback only (127.0.0.1), not {settings.host}.[/yellow]")
        settings = _settings(host="127.0.0.1", port=settings.port, workers=workers)
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

    settings = _settings()
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

    settings = _settings()
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
LOCAL_SERVER = "http://127.0.0.1:8000"
CameraOpt = typer.Option(None, "--camera", help="One simple camera axis, e.g. zoom=5 or pan=-3.")
PresetOpt = typer.Option(None, "--camera-preset", help="down_back | forward_up | right_turn_forward "
                         "| left_turn_forward.")


def _fail(message: str, code: int | None = None) -> typer.Exit:
    """One clear line (with the Kling code when there is one), never a traceback."""
    err.print(f"[red]error{f' {code}' if code else ''}:[/red] {message}", highlight=False,
              soft_wrap=True)
    return typer.Exit(1)


def _camera(axis: str | None, preset: str | None) -> dict[str, float] | str | None:
    from kinema.client import CAMERA_AXES, CAMERA_PRESETS

    if axis and preset:
        raise _fail("--camera and --camera-preset cannot be combined")
    if preset:
        if preset not in CAMERA_PRESETS:
            raise _fail(f"--camera-preset must be one of {', '.join(CAMERA_PRESETS)}, not {preset!r}")
        return preset
    if not axis:
        return None
    config: dict[str, float] = {}
    for part in axis.split(","):
        name, sep, value = part.partition("=")
        try:
            if not sep or name.strip() not in CAMERA_AXES:
                raise ValueError
            config[name.strip()] = float(value)
        except ValueError:
            raise _fail(f"--camera takes AXIS=VALUE with AXIS one of {', '.join(CAMERA_AXES)}, "
                        f"not {part!r}") from None
    return config


def _progress() -> Any:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    TimeElapsedColumn(), console=err, transient=False)


def _b64_file(path: Path, option: str) -> str:
    import base64

    if not path.is_file():
        raise _fail(f"{option}: no such file: {path}")
    return base64.b64encode(path.read_bytes()).decode()


@app.command()
def generate(
    image: Path = typer.Argument(..., help="Start frame (JPEG or PNG)."),
    prompt: str = typer.Option("", help="What should happen."),
    negative_prompt: str = typer.Option("", help="What should not."),
    image_tail: Path | None = typer.Option(None, help="End frame to arrive at."),
    camera: str | None = CameraOpt,
    camera_preset: str | None = PresetOpt,
    model: str = typer.Option("kinema-motion", help="A model from `kinema models`."),
    mode: str = typer.Option("std", help="std or pro."),
    duration: int = typer.Option(5, help="5 or 10 seconds."),
    seed: int | None = typer.Option(None, help="Same seed, same video."),
    cfg_scale: float | None = typer.Option(None, help="Prompt adherence, 0 to 1."),
    output: Path = typer.Option(Path("out.mp4"), "-o", "--output", help="Where to write the MP4."),
) -> None:
    """Render a video here, with no server: the same rules and engines as the API."""
    import shutil
    import tempfile

    from kinema.catalogue import Catalogue
    from kinema.engines.registry import EngineSet
    from kinema.errors import ConfigError, KinemaError, TaskFailure
    from kinema.job import CameraMove, RenderedVideo
    from kinema.media.images import ImageLimits
    from kinema.requests import Draft, validate

    settings = _settings()
    cam = _camera(camera, camera_preset)
    move = None
    if isinstance(cam, str):
        move = CameraMove(type=cam)
    elif cam:
        move = CameraMove(type="simple", **cam)
    draft = Draft(model=model, mode=mode, duration=duration, prompt=prompt,
                  negative_prompt=negative_prompt, cfg_scale=cfg_scale, seed=seed,
                  image=_b64_file(image, "IMAGE"),
                  image_tail=_b64_file(image_tail, "--image-tail") if image_tail else None,
                  camera=move, camera_config_given=isinstance(cam, dict),
                  names={"model": "--model", "image": "IMAGE", "image_tail": "--image-tail",
                         "camera_control": "--camera", "duration": "--duration", "mode": "--mode"})
    try:
        catalogue = Catalogue.load(settings.models_file)
        req = validate(draft, catalogue, ImageLimits(
            max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels,
            allow_private_urls=True))
        profile = catalogue.get(req.model)
        engine = EngineSet(catalogue, settings).for_profile(profile)
    except KinemaError as exc:
        raise _fail(exc.message, exc.code) from None
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="kinema-") as tmp, _progress() as bar:
        job = _job(req, profile.engine_options, Path(tmp))
        task = bar.add_task(f"{req.model} {req.output.width}x{req.output.height}", total=100)
        try:
            videos = engine.generate(job, on_progress=lambda f: bar.update(task, completed=f * 100),
                                     should_stop=lambda: False)
        except (TaskFailure, KinemaError) as exc:
            raise _fail(getattr(exc, "message", str(exc))) from None
        bar.update(task, completed=100)
        output.parent.mkdir(parents=True, exist_ok=True)
        first = videos[0]
        if not isinstance(first, RenderedVideo):
            raise _fail("this model passes upstream URLs through; use `kinema submit` for it")
        shutil.move(str(first.path), output)
    Console().print(f"saved {output} ({req.output.width}x{req.output.height}, {req.output.fps} fps, "
                    f"{req.duration} s, seed {req.seed})", highlight=False)


def _job(req: Any, engine_options: dict[str, Any], out_dir: Path) -> Any:
    """The Job a worker would build for this request (tasks/jobs.py), from memory, not storage."""
    from kinema.job import BrushStroke, Job
    from kinema.media.images import to_mask, to_rgb

    imgs = req.images
    return Job(task_id="local", model=req.model, image=to_rgb(imgs["image"].data),
               image_tail=to_rgb(imgs["image_tail"].data) if "image_tail" in imgs else None,
               prompt=req.prompt, negative_prompt=req.negative_prompt, cfg_scale=req.cfg_scale,
               mode=req.mode, duration=float(req.duration), width=req.output.width,
               height=req.output.height, fps=req.output.fps, num_frames=req.output.num_frames,
               camera=req.camera,
               static_mask=to_mask(imgs["static_mask"].data) if "static_mask" in imgs else None,
               dynamic_masks=tuple(BrushStroke(mask=to_mask(imgs[f"mask_{i}"].data), trajectory=t)
                                   for i, t in enumerate(req.trajectories)),
               seed=req.seed, n=req.n, watermark=req.watermark, out_dir=out_dir,
               engine_options=dict(engine_options))


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
        raise _fail(str(exc)) from None


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

    cam = _camera(camera, camera_preset)
    for path, option in ((image, "IMAGE"), (image_tail, "--image-tail")):
        if path is not None and not path.is_file():
            raise _fail(f"{option}: no such file: {path}")
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
            with _progress() as bar:
                row = bar.add_task(f"task {task.id} submitted", total=100)
                task = client.wait(task, timeout=timeout, on_progress=lambda t: bar.update(
                    row, completed=t.progress, description=f"task {t.id} {t.status}"))
            path = client.download(task, output or Path(f"{task.id}.mp4"))
        except KlingError as exc:
            raise _fail(exc.message, exc.code) from None
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
            raise _fail(exc.message, exc.code) from None
    table = Table(Column("task_id", no_wrap=True), "status", "progress", Column("created", no_wrap=True),
                  "external id", "video")
    for t in found:
        created = datetime.datetime.fromtimestamp(t.created_at / 1000).strftime("%m-%d %H:%M:%S")
        video = f"{t.videos[0].duration:g} s" if t.videos else (t.status_msg or "-")
        table.add_row(t.id, t.status, f"{t.progress}%", created, t.external_task_id or "-", video)
    Console().print(table if found else "no tasks")

def main() -> None:  # pragma: no cover
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
