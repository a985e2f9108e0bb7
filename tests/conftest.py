from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import Receiver, Server, start_server

pytest_plugins = ["tests.support.services"]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Callable[[], dict[str, str]]:
    """The API suite runs on both databases: SQLite (the default), and PostgreSQL (a throwaway
    server, one fresh database per API server). Returns the env for one new server."""
    if request.param == "sqlite":
        return dict
    pg = request.getfixturevalue("postgres")
    return lambda: {"KINEMA_DATABASE_URL": pg.new_database()}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory,
           database: Callable[[], dict[str, str]]) -> Iterator[Server]:
    """One open (no keys) server for the whole session."""
    srv = start_server(tmp_path_factory.mktemp("server"), {"KINEMA_WORKERS": "2", **database()})
    yield srv
    srv.kill()


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory,
                 database: Callable[[], dict[str, str]]) -> Iterator[Server]:
    """A server with two bearer keys and two access-key pairs (four tenants)."""
    srv = start_server(tmp_path_factory.mktemp("keyed"), {
        **database(),
        "KINEMA_API_KEYS": "key-a,key-b",
        "KINEMA_ACCESS_KEYS": "ak-one:sk-one-secret-0123456789abcdef-0123,ak-two:sk-two-secret-0123456789abcdef-0123",
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
