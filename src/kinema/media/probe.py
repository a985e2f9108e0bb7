"""Reading back what an encoder wrote: size, fps, frame count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True, kw_only=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


def probe(path: Path) -> VideoInfo:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
        rate = stream.average_rate or stream.guessed_rate or 0
        return VideoInfo(width=stream.width, height=stream.height, fps=float(rate), frames=frames)
