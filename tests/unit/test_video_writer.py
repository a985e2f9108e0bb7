"""VideoWriter must turn the same frames into the same bytes, whatever the heap held."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from kinema.engines.motion import MotionEngine
from kinema.engines.motion.timing import Variant
from kinema.media.video import VideoWriter, _encoder_options
from tests.unit.motion_helpers import make_job

# The motion engine's orbit frames (I420): x264 uses B-frames and MB-tree on them.
_ENCODE = """
import hashlib, sys
from pathlib import Path
from kinema.media.video import VideoWriter, _encoder_options
from tests.unit.test_video_writer import _frames
path = Path(sys.argv[1])
frames = _frames()
with VideoWriter(path, width=frames[0].shape[1], height=frames[0].shape[0] * 2 // 3, fps=24,
                 thread_type=sys.argv[2]) as w:
    for f in frames:
        w.write(f)
print(hashlib.md5(path.read_bytes()).hexdigest())
"""


def _frames() -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        job = make_job(Path(tmp), seed=42, prompt="orbit")
        engine = MotionEngine()
        return list(engine.frames(job, Variant.for_seed(42), {**engine.options}))


def _encode(path: Path, frames: list[np.ndarray], thread_type: str) -> bytes:
    height, width = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    with VideoWriter(path, width=width, height=height, fps=24, thread_type=thread_type) as w:
        for f in frames:
            w.write(f)
    return path.read_bytes()


@pytest.mark.parametrize("thread_type", ["FRAME", "SLICE"])
def test_same_frames_encode_to_same_bytes(tmp_path: Path, thread_type: str) -> None:
    frames = _frames()
    runs = {hashlib.md5(_encode(tmp_path / f"{k}.mp4", frames, thread_type)).hexdigest()
            for k in range(4)}
    assert len(runs) == 1


def test_bytes_do_not_depend_on_heap_contents(tmp_path: Path) -> None:
    # glibc fills fresh/freed heap with MALLOC_PERTURB_'s byte: an encoder that reads
    # uninitialised memory (x264's AVX-512 MB-tree path did) gives different bytes here.
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    hashes = set()
    for k, perturb in enumerate(("0", "85", "170")):
        out = subprocess.run(
            [sys.executable, "-c", _ENCODE, str(tmp_path / f"p{k}.mp4"), "FRAME"],
            env={**env, "MALLOC_PERTURB_": perturb}, capture_output=True, text=True,
            check=True, timeout=60,
        )
        hashes.add(out.stdout.strip())
    assert len(hashes) == 1


def test_encoder_options_keep_caller_x264_params() -> None:
    opts = _encoder_options(20, "fast", {"x264-params": "keyint=48", "tune": "film"})
    assert opts["crf"] == "20" and opts["preset"] == "fast" and opts["tune"] == "film"
    assert opts["x264-params"].split(":")[0] == "keyint=48"
    own = _encoder_options(18, "veryfast", {"x264-params": "asm=0"})
    assert own["x264-params"] == "asm=0"
