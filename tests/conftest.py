from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Receiver, Server, start_server

pytest_plugins = ["tests.support.services"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One open (no keys) server for the whole session."""
    srv = start_server(tmp_path_factory.mktemp("server"), {"KINEMA_WORKERS": "2"})
    yield srv
    srv.kill()


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with two bearer keys and two access-key pairs (four tenants)."""
    srv = start_server(tmp_path_factory.mktemp("keyed"), {
        "KINEMA_API_KEYS": "key-a,key-b",
        "KINEMA_ACCESS_KEYS": "ak-one:sk-one-secret-0123456789abcdef,ak-two:sk-two-secret-0123456789abcdef",
    })
    yield srv
    srv.kill()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def start(tmp_path: Path) -> Iterator:
    """Start extra servers inside one test; all are killed afterwards."""
    started: list[Server] = []

    def _start(env: dict[str, str] | None = None, **kw: object) -> Server:
        srv = start_server(tmp_path, env, **kw)  # type: ignore[arg-type]
        started.append(srv)
        return srv

    yield _start
    for srv in started:
        srv.kill()
