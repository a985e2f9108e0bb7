"""Camera words in the prompt pick the move when the request has no camera control.

The earliest cue in the prompt wins ("zoom in, then pan left" zooms in). English and
Chinese are matched; with no cue the clip gets a gentle push-in.
"""

from __future__ import annotations

import re

from kinema.engines.motion.camera import Move, Track
from kinema.engines.motion.moves import PUSH_IN

_MOVES: dict[str, Move] = {
    "zoom_in": Move("zoom_in", (Track("zoom", -5.0),)),
    "zoom_out": Move("zoom_out", (Track("zoom", 5.0),)),
    "pan_left": Move("pan_left", (Track("pan", -6.0),)),
    "pan_right": Move("pan_right", (Track("pan", 6.0),)),
    "tilt_up": Move("tilt_up", (Track("tilt", 6.0),)),
    "tilt_down": Move("tilt_down", (Track("tilt", -6.0),)),
    "truck_left": Move("truck_left", (Track("horizontal", -6.0),)),
    "truck_right": Move("truck_right", (Track("horizontal", 6.0),)),
    "rise": Move("rise", (Track("vertical", 6.0),)),
    "descend": Move("descend", (Track("vertical", -6.0),)),
    # On a flat picture an orbit is a sideways move while turning back to the subject.
    "orbit": Move("orbit", (Track("horizontal", 6.0), Track("pan", -6.0), Track("zoom", -2.0))),
    "roll": Move("roll", (Track("roll", 4.0),)),
}

_CUES: tuple[tuple[str, str], ...] = (
    # English
    (r"\b(zoom(s|ing)? in|push(es|ing)? in|dolly(ing)? in|move[sd]? (in|closer)|close[- ]?up)\b",
     "zoom_in"),
    ((r"\b(zoom(s|ing)? out|pull(s|ing)? (back|out)|dolly(ing)? out|move[sd]? (back|away)|"
      r"wide[- ]?(shot|angle))\b"), "zoom_out"),
    (r"\b(pan(s|ning|ned)? (to the )?left)\b", "pan_left"),
    (r"\b(pan(s|ning|ned)? (to the )?right|pans?|panning)\b", "pan_right"),
    (r"\b(tilt(s|ing|ed)? up)\b", "tilt_up"),
    (r"\b(tilt(s|ing|ed)? down)\b", "tilt_down"),
    (r"\b(truck(s|ing)? left|track(s|ing)? left|slide[sd]? left|move[sd]? left)\b", "truck_left"),
    (r"\b(truck(s|ing)? right|track(s|ing)? right|slide[sd]? right|move[sd]? right)\b",
     "truck_right"),
    (r"\b(orbit(s|ing)?|circl(e|es|ing) around|rotat(e|es|ing) around|arc shot)\b", "orbit"),
    (r"\b(ris(e|es|ing)|crane up|ascend(s|ing)?|pedestal up|boom up|fl(y|ies) up)\b", "rise"),
    (r"\b(descend(s|ing)?|crane down|pedestal down|boom down)\b", "descend"),
    (r"\b(camera roll(s|ing)?|barrel roll|dutch angle)\b", "roll"),
    # Chinese
    (r"推进|推近|拉近|放大|镜头前推|向前推", "zoom_in"),
    (r"拉远|拉开|缩小|后拉|镜头后退|远离", "zoom_out"),
    (r"左摇|向左摇|往左摇|镜头左转", "pan_left"),
    (r"右摇|向右摇|往右摇|镜头右转|摇镜", "pan_right"),
    (r"上摇|向上摇|仰拍", "tilt_up"),
    (r"下摇|向下摇|俯拍", "tilt_down"),
    (r"左移|向左移|往左移|镜头左移", "truck_left"),
    (r"右移|向右移|往右移|镜头右移", "truck_right"),
    (r"环绕|环拍|绕拍|旋转拍摄", "orbit"),
    (r"上升|升起|升镜|向上移", "rise"),
    (r"下降|降镜|向下移", "descend"),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), name) for p, name in _CUES)


def cue_name(prompt: str) -> str | None:
    """The name of the earliest camera cue in `prompt`, or None."""
    best: tuple[int, int, str] | None = None
    for order, (pattern, name) in enumerate(_COMPILED):
        m = pattern.search(prompt)
        if m and (best is None or (m.start(), order) < best[:2]):
            best = (m.start(), order, name)
    return best[2] if best else None


def move_for_prompt(prompt: str) -> Move:
    name = cue_name(prompt)
    return _MOVES[name] if name else PUSH_IN
