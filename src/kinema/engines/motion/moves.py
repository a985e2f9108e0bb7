"""Kling camera controls (and the presets) as `Move`s."""

from __future__ import annotations

from kinema.engines.motion.camera import AXIS_SCALE, Move, Track
from kinema.errors import TaskFailure
from kinema.job import CameraMove

PRESETS: dict[str, Move] = {
    # "Camera descends and moves backward: pan down and zoom out."
    "down_back": Move("down_back", (Track("tilt", -7.0), Track("zoom", 6.0))),
    # "Camera moves forward and tilts up: zoom in and pan up."
    "forward_up": Move("forward_up", (Track("zoom", -6.0), Track("tilt", 7.0))),
    # "Rotate right (then left) and move forward": the turn leads, the push follows.
    "right_turn_forward": Move(
        "right_turn_forward", (Track("pan", 8.0, 0.0, 0.6), Track("zoom", -6.0, 0.4, 1.0))
    ),
    "left_turn_forward": Move(
        "left_turn_forward", (Track("pan", -8.0, 0.0, 0.6), Track("zoom", -6.0, 0.4, 1.0))
    ),
}

PUSH_IN = Move("push_in", (Track("zoom", -3.0),))


def move_from_camera(camera: CameraMove) -> Move:
    """The `Move` for a Kling camera_control, or TaskFailure when it cannot be rendered."""
    if camera.type in PRESETS:
        return PRESETS[camera.type]
    if camera.type != "simple":
        raise TaskFailure(f"camera_control type '{camera.type}' is not supported")
    tracks = []
    for axis in AXIS_SCALE:
        value = float(getattr(camera, axis))
        if not -10.0 <= value <= 10.0:
            raise TaskFailure(f"camera_control.config.{axis} must be within [-10, 10]")
        if value:
            tracks.append(Track(axis, value))
    if len(tracks) > 1:
        raise TaskFailure("camera_control 'simple' moves exactly one axis; set the others to 0")
    if not tracks:
        return Move("still", ())
    return Move(f"{tracks[0].axis}", tuple(tracks))
