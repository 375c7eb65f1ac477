from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.Server]:
    with pg.server() as s:
        yield s


@pytest.fixture
def db_url(pg_server: pg.Server) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)
