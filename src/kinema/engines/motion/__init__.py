"""The built-in CPU engine: camera moves, motion brush and end frames by image warping."""

from kinema.engines.motion.render import MotionEngine

__all__ = ["MotionEngine"]
