"""What every command shares: the Typer app, settings, errors as one line, progress bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from kinema.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="kinema: image-to-video that speaks Kling.")
err = Console(stderr=True)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
    except Exception as exc:
        err.print(f"[red]error:[/red] bad settings: {exc}")
        raise typer.Exit(2) from None



LOCAL_SERVER = "http://127.0.0.1:8000"
CameraOpt = typer.Option(None, "--camera", help="One simple camera axis, e.g. zoom=5 or pan=-3.")
PresetOpt = typer.Option(None, "--camera-preset", help="down_back | forward_up | right_turn_forward "
                         "| left_turn_forward.")


def fail(message: str, code: int | None = None) -> typer.Exit:
    """One clear line (with the Kling code when there is one), never a traceback."""
    err.print(f"[red]error{f' {code}' if code else ''}:[/red] {message}", highlight=False,
              soft_wrap=True)
    return typer.Exit(1)


def camera_option(axis: str | None, preset: str | None) -> dict[str, float] | str | None:
    from kinema.client import CAMERA_AXES, CAMERA_PRESETS

    if axis and preset:
        raise fail("--camera and --camera-preset cannot be combined")
    if preset:
        if preset not in CAMERA_PRESETS:
            raise fail(f"--camera-preset must be one of {', '.join(CAMERA_PRESETS)}, not {preset!r}")
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
            raise fail(f"--camera takes AXIS=VALUE with AXIS one of {', '.join(CAMERA_AXES)}, "
                        f"not {part!r}") from None
    return config


def progress_bar() -> Any:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    TimeElapsedColumn(), console=err, transient=False)


def b64_file(path: Path, option: str) -> str:
    import base64

    if not path.is_file():
        raise fail(f"{option}: no such file: {path}")
    return base64.b64encode(path.read_bytes()).decode()
