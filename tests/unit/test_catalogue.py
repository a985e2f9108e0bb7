"""The model catalogue: defaults follow Kling's capability map; the models file overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kinema.catalogue import CONTROLS, Catalogue
from kinema.errors import ConfigError, InvalidParameter

OFFICIAL = ["kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1",
            "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6"]
SLUGS = ["kling-v1.6-i2v", "kling-v2.1-i2v", "kling-v2.1-i2v-master", "kling-2.5-turbo-i2v",
         "kling-o1-i2v"]


def test_every_name_a_client_may_send_is_listed() -> None:
    assert set(Catalogue.load().names()) == {*OFFICIAL, *SLUGS, "kinema-motion"}


# (model, mode, control, duration, allowed) straight from kling-api.md section 1.8
MAP = [
    ("kling-v1", "std", "end_frame", 5, True), ("kling-v1", "pro", "motion_brush", 5, True),
    ("kling-v1", "std", "end_frame", 10, False), ("kling-v1", "std", "camera", 5, False),
    ("kling-v1-5", "pro", "end_frame_only", 10, True), ("kling-v1-5", "pro", "camera", 5, True),
    ("kling-v1-5", "pro", "camera", 10, False), ("kling-v1-5", "std", "end_frame", 5, False),
    ("kling-v1-5", "pro", "motion_brush", 10, False),
    ("kling-v1-6", "pro", "end_frame_only", 5, True), ("kling-v1-6", "pro", "motion_brush", 5, False),
    ("kling-v2-master", "std", "end_frame", 5, False),
    ("kling-v2-1", "pro", "end_frame", 10, True), ("kling-v2-1", "std", "end_frame", 5, False),
    ("kling-v2-1-master", "pro", "end_frame", 5, False),
    ("kling-v2-5-turbo", "pro", "end_frame", 10, True), ("kling-v2-5-turbo", "pro", "camera", 5, False),
    ("kling-v2-6", "pro", "sound", 10, True), ("kling-v2-6", "pro", "voice", 5, True),
    ("kling-v2-6", "std", "sound", 5, False), ("kling-v2-6", "pro", "end_frame", 5, True),
    ("kling-o1-i2v", "std", "end_frame", 10, True), ("kling-o1-i2v", "std", "camera", 5, False),
]


@pytest.mark.parametrize(("model", "mode", "control", "duration", "allowed"), MAP)
def test_capability_map(model: str, mode: str, control: str, duration: int, allowed: bool) -> None:
    assert Catalogue.load().get(model).allows(control, mode, duration) is allowed


def test_profiles_follow_the_map() -> None:
    cat = Catalogue.load()
    assert [cat.get(m).fps for m in ("kling-v1", "kling-v1-5", "kling-v1-6")] == [30, 30, 30]
    assert {cat.get(m).fps for m in OFFICIAL[3:]} == {24}
    assert cat.get("kling-v1").short_side("pro") == 720
    assert cat.get("kling-v1-5").short_side("pro") == 1080
    assert cat.get("kling-v2-5-turbo").short_side("std") == 1080
    assert cat.get("kling-v2-master").fixed_mode and cat.get("kling-v2-master").short_side("std") == 720
    assert cat.get("kling-v2-1-master").modes == ("pro",)
    assert cat.get("kling-v1-5").camera_types == ("simple",)
    assert not any(cat.get(m).cfg_scale for m in OFFICIAL[3:])  # v2.x ignores cfg_scale
    assert cat.get("kling-v2-6").silent_only == ("end_frame",)


def test_kinema_motion_allows_everything() -> None:
    motion = Catalogue.load().get("kinema-motion")
    assert all(motion.allows(c, m, d) for c in CONTROLS for m in ("std", "pro") for d in (5, 10))
    assert len(motion.camera_types) == 5 and motion.cfg_scale


def test_v3_slugs_share_the_official_profile() -> None:
    cat = Catalogue.load()
    slug, official = cat.get("kling-v2.1-i2v"), cat.get("kling-v2-1")
    assert slug.alias_of == "kling-v2-1" and slug.controls == official.controls
    assert slug.resolution == official.resolution


def test_unknown_model_names_the_field_and_lists_the_known() -> None:
    with pytest.raises(InvalidParameter) as info:
        Catalogue.load().get("kling-v7", field_name="model")
    assert info.value.field == "model" and "kling-v2-6" in info.value.message


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_models_file_overrides_a_profile_and_the_slug_follows(tmp_path: Path) -> None:
    cat = Catalogue.load(write(tmp_path, """
[models."kling-v2-1"]
engine = "diffusion"
engine_options = { pipeline = "wan" }
controls = { std = { camera = [5] } }
queue = "gpu"
"""))
    for name in ("kling-v2-1", "kling-v2.1-i2v"):
        profile = cat.get(name)
        assert profile.engine == "diffusion" and profile.engine_options == {"pipeline": "wan"}
        assert profile.allows("camera", "std", 5) and not profile.allows("end_frame", "pro", 5)
        assert profile.queue == "gpu" and profile.fps == 24
    assert cat.get("kling-v2-1-master").engine == "motion"


def test_models_file_adds_a_model_and_overrides_a_slug_alone(tmp_path: Path) -> None:
    cat = Catalogue.load(write(tmp_path, """
[models."house-style"]
fps = 12
resolution = { std = 360, pro = 540 }

[models."studio-v1"]
base = "kling-v1-5"
modes = ["pro"]

[models."kling-o1-i2v"]
fps = 30
"""))
    house = cat.get("house-style")
    assert house.fps == 12 and house.short_side("pro") == 540
    assert house.allows("motion_brush", "std", 10)  # based on kinema-motion by default
    studio = cat.get("studio-v1")
    assert studio.modes == ("pro",) and studio.camera_types == ("simple",)
    assert cat.get("kling-o1-i2v").fps == 30 and cat.get("kling-v2-1").fps == 24
    assert "house-style" in cat.names() and "studio-v1" in cat.names()


@pytest.mark.parametrize(("text", "words"), [
    ("[models.x\n", "models file"),
    ('models = "no"\n', "expected [models"),
    ('[models."a"]\nbase = "kling-v0"\n', "unknown base 'kling-v0'"),
    ('[models."a"]\ncolour = "red"\n', "unknown keys ['colour']"),
    ('[models."a"]\ncontrols = { std = { teleport = [5] } }\n', "unknown controls ['teleport']"),
    ('[models."a"]\ncontrols = { std = { camera = [7] } }\n', "controls maps"),
    ('[models."a"]\nengine = "magic"\n', "unknown engine 'magic'"),
    ('[models."a"]\nmodes = ["turbo"]\n', "modes must be"),
    ('[models."a"]\nfps = 0\n', "fps must be"),
    ('[models."a"]\nresolution = { std = 721 }\n', "resolution maps"),
])
def test_a_bad_models_file_is_a_clear_config_error(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        Catalogue.load(write(tmp_path, text))
    assert words in str(info.value) and str(tmp_path) in str(info.value)


def test_a_missing_models_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="models file"):
        Catalogue.load(tmp_path / "absent.toml")


def test_the_readme_models_file_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## Dialects\n", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    cat = Catalogue.load(write(tmp_path, example))
    assert cat.get("kling-v2.1-i2v").engine == "diffusion" and cat.get("kling-v2-1").queue == "gpu"
    house = cat.get("house-style")
    assert house.fps == 12 and house.allows("camera", "std", 10) and not house.allows("camera", "pro", 5)
