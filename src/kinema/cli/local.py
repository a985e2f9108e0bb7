"""`kinema generate`: render a video here, with no server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from kinema.cli.common import CameraOpt, PresetOpt, app, b64_file, camera_option, fail, load_settings, progress_bar


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

    settings = load_settings()
    cam = camera_option(camera, camera_preset)
    move = None
    if isinstance(cam, str):
        move = CameraMove(type=cam)
    elif cam:
        move = CameraMove(type="simple", **cam)
    draft = Draft(model=model, mode=mode, duration=duration, prompt=prompt,
                  negative_prompt=negative_prompt, cfg_scale=cfg_scale, seed=seed,
                  image=b64_file(image, "IMAGE"),
                  image_tail=b64_file(image_tail, "--image-tail") if image_tail else None,
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
        raise fail(exc.message, exc.code) from None
    except ConfigError as exc:
        raise fail(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="kinema-") as tmp, progress_bar() as bar:
        job = _job(req, profile.engine_options, Path(tmp))
        task = bar.add_task(f"{req.model} {req.output.width}x{req.output.height}", total=100)
        try:
            videos = engine.generate(job, on_progress=lambda f: bar.update(task, completed=f * 100),
                                     should_stop=lambda: False)
        except (TaskFailure, KinemaError) as exc:
            raise fail(getattr(exc, "message", str(exc))) from None
        bar.update(task, completed=100)
        output.parent.mkdir(parents=True, exist_ok=True)
        first = videos[0]
        if not isinstance(first, RenderedVideo):
            raise fail("this model passes upstream URLs through; use `kinema submit` for it")
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
