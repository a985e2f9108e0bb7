"""The upstream engine (router mode): forward the job, follow it, and re-host or pass
through the videos the upstream made."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kinema.engines.base import ProgressFn, StopFn
from kinema.engines.upstream.config import UpstreamConfig
from kinema.engines.upstream.failover import Failover
from kinema.engines.upstream.kling_wire import KlingWire
from kinema.engines.upstream.nudge import callback_url_for, nudge_event, release
from kinema.engines.upstream.state import RemoteFile, Wire
from kinema.engines.upstream.transport import Tokens, Transport
from kinema.engines.upstream.v3_wire import V3Wire
from kinema.errors import TaskFailure
from kinema.job import Job, RemoteVideo, RenderedVideo
from kinema.media.fetch import FetchError, UnsafeURL, check_url, fetch_file
from kinema.settings import Settings

DOWNLOAD_TRIES = 3


class UpstreamEngine:
    def __init__(self, options: dict[str, Any], *, settings: Settings) -> None:
        self.cfg = UpstreamConfig.parse(options)
        self.settings = settings
        self.wire: Wire = KlingWire() if self.cfg.dialect == "kling" else V3Wire()
        self.transport = Transport(tokens=Tokens(self.cfg.token_ttl), timeout=self.cfg.request_timeout,
                                   allow_private=settings.allow_private_urls)

    def generate(self, job: Job, *, on_progress: ProgressFn,
                 should_stop: StopFn) -> Sequence[RenderedVideo | RemoteVideo]:
        if job.n != 1:
            raise TaskFailure(f"an upstream task makes one video; n={job.n} cannot be forwarded")
        span = 0.9 if self.cfg.rehost else 0.99
        router = Failover(self.cfg, self.wire, self.transport, job, model=self.cfg.model or job.model,
                          on_progress=on_progress, should_stop=should_stop,
                          nudge=nudge_event(job.task_id), progress_span=span)
        try:
            outcome = router.run(callback_url_for(job.task_id, self.settings))
        finally:
            release(job.task_id)
        snap, where = outcome.snapshot, f"{outcome.endpoint.url} task {outcome.upstream_id}"
        if snap.status == "failed":
            raise TaskFailure(f"upstream {where} failed: {snap.message or 'no reason given'}")
        if not snap.videos:
            raise TaskFailure(f"upstream {where} succeeded without a video")
        video = snap.videos[0]
        if not self.cfg.rehost:
            return [self._pass_through(job, video, where)]
        job.out_dir.mkdir(parents=True, exist_ok=True)
        path = self._download(video.url, job.out_dir / "0.mp4", where)
        watermarked = None
        if job.watermark and video.watermark_url:
            watermarked = self._download(video.watermark_url, job.out_dir / "0-watermark.mp4", where)
        on_progress(0.99)
        return [RenderedVideo(path=path, watermarked=watermarked)]

    def _download(self, url: str, dest: Path, where: str) -> Path:
        for attempt in range(DOWNLOAD_TRIES):
            try:
                fetch_file(url, dest, allow_private=self.settings.allow_private_urls,
                           max_bytes=self.cfg.max_video_bytes, timeout=self.cfg.request_timeout)
                return dest
            except UnsafeURL as exc:
                raise TaskFailure(f"upstream {where} gave a video URL kinema refuses: {exc}") from None
            except FetchError as exc:
                if attempt + 1 == DOWNLOAD_TRIES:
                    raise TaskFailure(f"could not download the video of upstream {where}: {exc}") from None
                time.sleep(self.cfg.retry_backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _pass_through(self, job: Job, video: RemoteFile, where: str) -> RemoteVideo:
        for url in (video.url, video.watermark_url):
            if url:
                try:
                    check_url(url, allow_private=self.settings.allow_private_urls)
                except UnsafeURL as exc:
                    raise TaskFailure(f"upstream {where} gave a video URL kinema refuses: {exc}") from None
        return RemoteVideo(url=video.url, watermark_url=video.watermark_url if job.watermark else None,
                           duration=video.duration or job.duration, width=job.width, height=job.height,
                           fps=job.fps, frames=job.num_frames)
