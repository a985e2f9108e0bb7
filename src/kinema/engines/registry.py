"""Engines by name, built once per process and shared by every task of that config."""

from __future__ import annotations

import json
import threading
from typing import Any

from kinema.catalogue import Catalogue, Profile
from kinema.engines.base import Engine
from kinema.errors import ConfigError
from kinema.settings import Settings


class EngineSet:
    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self.catalogue, self.settings = catalogue, settings
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def for_profile(self, profile: Profile) -> Engine:
        key = self._key(profile)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = self._build(profile.engine, profile.engine_options)
            return self._engines[key]

    @staticmethod
    def _key(profile: Profile) -> str:
        return json.dumps([profile.engine, profile.engine_options], sort_keys=True, default=str)

    def check(self, profile: Profile, *, has_image_tail: bool) -> None:
        """Let a loaded engine refuse what it cannot render, at create time (a 1201).
        An API process that does not run this engine skips it; the worker refuses instead."""
        with self._lock:
            engine = self._engines.get(self._key(profile))
        check = getattr(engine, "check", None)
        if check is not None:
            check(has_image_tail=has_image_tail)

    def preload(self, engines: set[str] | None = None) -> None:
        """Build every engine the catalogue uses, so broken config fails at start-up."""
        for profile in self.catalogue.profiles():
            if engines is None or profile.engine in engines:
                self.for_profile(profile)

    def _build(self, kind: str, options: dict[str, Any]) -> Engine:
        if kind == "motion":
            from kinema.engines.motion import MotionEngine

            return MotionEngine(options, watermark_text=self.settings.watermark_text,
                                watermark_image=self.settings.watermark_image)
        if kind == "diffusion":
            try:
                # the package imports torch lazily, so ask for the extra itself here
                import diffusers  # noqa: F401
                import torch  # noqa: F401

                from kinema.engines.diffusion import DiffusionEngine
            except ImportError as exc:
                raise ConfigError(
                    f"the diffusion engine needs the extra: pip install 'kinema[diffusion]' ({exc})"
                ) from exc
            return DiffusionEngine(options, watermark_text=self.settings.watermark_text,
                                   watermark_image=self.settings.watermark_image)
        if kind == "upstream":
            from kinema.engines.upstream import UpstreamEngine

            return UpstreamEngine(options, settings=self.settings)  # type: ignore[return-value]
        raise ConfigError(f"unknown engine {kind!r}")
