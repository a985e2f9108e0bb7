"""Router mode: forward tasks to a Kling-compatible API (Kling, a reseller, another kinema)."""

from kinema.engines.upstream.engine import UpstreamEngine

__all__ = ["UpstreamEngine"]
