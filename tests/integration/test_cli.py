"""`kinema generate | submit | tasks` as subprocesses; their videos are decoded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.media import cover_fit, decode, encode, psnr, textured
from tests.support.server import ROOT, Server

AK, SK = "ak-one", "sk-one-secret-0123456789abcdef-0123"


def kinema(*args: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("KINEMA_")}
    full.update({"PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200", "KINEMA_DATA_DIR": str(cwd / "data"),
                 **(env or {})})
    return subprocess.run([sys.executable, "-m", "kinema", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def decode_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "start.png"
    path.write_bytes(encode(textured(640, 360, seed=5)))
    return path


def test_generate_renders_locally_with_camera_and_seed(tmp_path: Path, png: Path) -> None:
    proc = kinema("generate", str(png), "--prompt", "slow push in", "--camera", "zoom=5",
                  "--seed", "7", "-o", "clip.mp4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "saved clip.mp4 (1280x720, 24 fps, 5 s, seed 7)" in proc.stdout
    assert "100%" in proc.stderr  # the progress bar reached the end
    video = decode(tmp_path / "clip.mp4")
    assert (video.width, video.height, round(video.fps), video.count) == (1280, 720, 24, 120)
    assert psnr(video.frames[0], video.frames[-1]) < 25, "zoom=5 should move the picture"
    assert not (tmp_path / "data").exists(), "generate needs no server and no database"


def test_generate_end_frame_follows_the_model_profile(tmp_path: Path, png: Path) -> None:
    tail_img = textured(640, 360, seed=9)
    tail = tmp_path / "tail.png"
    tail.write_bytes(encode(tail_img))
    proc = kinema("generate", str(png), "--image-tail", str(tail), "--model", "kling-v1",
                  "-o", "ends.mp4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    video = decode(tmp_path / "ends.mp4")
    assert (video.width, video.height, round(video.fps), video.count) == (1280, 720, 30, 150)
    start_img = decode_png(png)
    last = video.frames[-1]
    assert psnr(last, cover_fit(tail_img, 1280, 720)) > psnr(last, cover_fit(start_img, 1280, 720)) + 3


def test_generate_errors_are_one_line_with_the_kling_code(tmp_path: Path, png: Path) -> None:
    small = tmp_path / "small.png"
    small.write_bytes(encode(textured(200, 120)))
    line = one_line_error(kinema("generate", str(small), cwd=tmp_path))
    assert line.startswith("error 1201: IMAGE:") and "300" in line
    line = one_line_error(kinema("generate", str(png), "--camera", "zoom=5", "--model", "kling-v1",
                                 cwd=tmp_path))
    assert line.startswith("error 1201: --camera:") and "does not support camera control" in line
    line = one_line_error(kinema("generate", str(png), "--camera", "zom=5", cwd=tmp_path))
    assert "--camera takes AXIS=VALUE" in line
    line = one_line_error(kinema("generate", "missing.png", cwd=tmp_path))
    assert "no such file" in line
    assert not list(tmp_path.glob("*.mp4"))


def test_submit_with_api_key_downloads_the_video(keyed_server: Server, tmp_path: Path,
                                                 png: Path) -> None:
    proc = kinema("submit", str(png), "--prompt", "pan left", "--model", "kinema-motion",
                  "--camera", "pan=-4", "--server", keyed_server.url, "--api-key", "key-a",
                  "-o", "remote.mp4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "saved remote.mp4 (task " in proc.stdout
    assert "succeed" in proc.stderr and "100%" in proc.stderr
    video = decode(tmp_path / "remote.mp4")
    assert (video.width, video.height, video.count) == (1280, 720, 120)

    task_id = proc.stdout.split("(task ")[1].split(",")[0]
    # `tasks` finds the key itself in KINEMA_API_KEYS, as the server does
    listed = kinema("tasks", "--server", keyed_server.url, cwd=tmp_path,
                    env={"KINEMA_API_KEYS": "key-a,key-b"})
    assert listed.returncode == 0, listed.stderr
    assert task_id in listed.stdout and "succeed" in listed.stdout and "100%" in listed.stdout


def test_submit_with_access_key_and_no_wait(keyed_server: Server, tmp_path: Path, png: Path) -> None:
    proc = kinema("submit", str(png), "--model", "kinema-motion", "--camera-preset", "forward_up",
                  "--server", keyed_server.url, "--access-key", AK, "--secret-key", SK,
                  "--external-task-id", f"cli-{tmp_path.name}", "--no-wait", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    task_id = proc.stdout.strip()
    assert task_id.isdigit()
    listed = kinema("tasks", "--server", keyed_server.url, "--access-key", AK, "--secret-key", SK,
                    cwd=tmp_path)
    assert task_id in listed.stdout and f"cli-{tmp_path.name}" in listed.stdout


def test_submit_errors_are_one_line(keyed_server: Server, tmp_path: Path, png: Path) -> None:
    line = one_line_error(kinema("submit", str(png), "--server", keyed_server.url, "--api-key",
                                 "wrong", cwd=tmp_path))
    assert line.startswith("error 1002:")
    line = one_line_error(kinema("submit", str(png), "--server", keyed_server.url, "--api-key",
                                 "key-a", "--camera", "zoom=5", cwd=tmp_path))
    assert line.startswith("error 1201: camera_control:")  # kling-v1 has no camera control
    line = one_line_error(kinema("submit", str(png), "--server", "http://127.0.0.1:9",
                                 "--api-key", "key-a", cwd=tmp_path))
    assert line.startswith("error: could not reach http://127.0.0.1:9")
    line = one_line_error(kinema("tasks", "--server", keyed_server.url, cwd=tmp_path))
    assert line.startswith("error 1001:")
