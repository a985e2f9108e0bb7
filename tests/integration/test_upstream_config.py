"""Router configuration: the README's example is valid, and mistakes are named at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kinema.catalogue import Catalogue
from kinema.engines.registry import EngineSet
from kinema.engines.upstream.config import UpstreamConfig
from kinema.errors import ConfigError
from kinema.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_router_example_routes_only_kling_v2_6(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    section = README.read_text().split("## Router mode", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example, "the Router mode section has a TOML example"
    (tmp_path / "router.toml").write_text(example.group(1))
    for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY", "RESELLER_KEY"):
        monkeypatch.setenv(name, f"value-of-{name}")
    catalogue = Catalogue.load(tmp_path / "router.toml")
    routed = {p.name for p in catalogue.profiles() if p.engine == "upstream"}
    assert routed == {"kling-v2-6"}
    engine = EngineSet(catalogue, Settings()).for_profile(catalogue.get("kling-v2-6"))
    first, second = engine.cfg.upstreams  # type: ignore[attr-defined]
    assert first.url == "https://api-singapore.klingai.com"
    assert (first.access_key, first.secret_key) == ("value-of-KLING_ACCESS_KEY", "value-of-KLING_SECRET_KEY")
    assert second.api_key == "value-of-RESELLER_KEY"
    # Secrets stay out of reprs (logs, tracebacks); the access key is an identifier, not a secret.
    assert "value-of-KLING_SECRET_KEY" not in repr(first)
    assert "value-of-RESELLER_KEY" not in repr(second)


@pytest.mark.parametrize(("options", "error"), [
    ({}, "upstreams must be a non-empty list"),
    ({"upstreams": [{"url": "ftp://x"}]}, r"upstreams\[0\]\.url must be an http\(s\) URL"),
    ({"upstreams": [{"url": "http://x", "access_key": "a"}]}, "needs both access_key and secret_key"),
    ({"upstreams": [{"url": "http://x", "api_key_env": "KINEMA_TEST_UNSET_VAR"}]},
     "names KINEMA_TEST_UNSET_VAR, which is not set"),
    ({"upstreams": [{"url": "http://x"}], "dialect": "grpc"}, "dialect must be one of"),
    ({"upstreams": [{"url": "http://x"}], "poll_interval": 0}, "poll_interval must be a positive"),
    ({"upstreams": [{"url": "http://x"}], "rehost": "yes"}, "rehost must be true or false"),
    ({"upstreams": [{"url": "http://x"}], "polling": 1}, r"unknown engine_options \['polling'\]"),
])
def test_config_mistakes_are_named(options: dict, error: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=error):
        UpstreamConfig.parse(options)
