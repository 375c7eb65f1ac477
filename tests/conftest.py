from __future__ import annotations

from collections.abc import Iterator

import psycopg
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


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test's database, as a client inserting runs would use."""
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c
