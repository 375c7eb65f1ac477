"""A throwaway PostgreSQL cluster from Debian's ``postgresql`` package, with password auth.

The tests' other sources are a server they cannot restart (a URL, a container) or the embedded
one, which trusts its Unix socket. This one is what a production server looks like to the
daemon: TCP on 127.0.0.1 (a free port), SCRAM-SHA-256 for every connection (pg_hba has no
``trust`` line), a superuser with a random password. The test session starts it in a temporary
folder, as the ``postgres`` OS user when run as root (initdb and pg_ctl refuse root), and stops
and deletes it at the end. ``restart()``, ``stop()`` and ``start()`` are the embedded server's.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

SUPERUSER = "postgres"
OS_USER = "postgres"  # created by Debian's postgresql-common when run as root

HBA = """\
# receptord tests: password (SCRAM) authentication only, no trust, TCP on 127.0.0.1 only.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
"""


def bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` with initdb and pg_ctl."""
    candidates = [
        d
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if re.fullmatch(r"\d+", d.parent.name) and (d / "initdb").is_file() and (d / "pg_ctl").is_file()
    ]
    if not candidates:
        raise RuntimeError(
            "RECEPTORD_TEST_SERVER=debian needs Debian's PostgreSQL server: "
            "apt-get install --no-install-recommends postgresql"
        )
    return max(candidates, key=lambda d: int(d.parent.name))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DebianPostgres:
    """Start a new cluster in a new temporary folder; ``close()`` stops it and deletes the folder."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.password = secrets.token_urlsafe(24)
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(OS_USER)
            except KeyError:
                raise RuntimeError(f"no OS user {OS_USER!r}: install Debian's postgresql package") from None
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.folder = Path(tempfile.mkdtemp(prefix="receptord-test-pgdeb-"))
        try:
            if self._as:
                os.chown(self.folder, self._as["user"], self._as["group"])
            self.pgdata = self.folder / "pgdata"
            self.log = self.folder / "server.log"
            self._initdb()
            self.port = self._start()
        except BaseException:
            self.close()
            raise

    def url(self, database: str = "postgres") -> str:
        return make_conninfo(
            "", host="127.0.0.1", port=self.port, dbname=database, user=SUPERUSER, password=self.password
        )

    def restart(self) -> None:
        """Fast restart: every session is disconnected, as in a failover or a crash recovery."""
        self._pg_ctl("-l", str(self.log), "-w", "-t", "60", "-m", "fast", "restart")

    def stop(self) -> None:
        """Fast shutdown: the server is gone until ``start`` (an outage of any length)."""
        self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def start(self) -> None:
        """Start it again after ``stop``, on the same port."""
        self._pg_ctl("-l", str(self.log), "-w", "-t", "60", "start")

    def close(self) -> None:
        """Stop the server (if it runs) and delete its folder."""
        try:
            if (self.folder / "pgdata" / "postmaster.pid").exists():
                try:
                    self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")
                except subprocess.CalledProcessError:
                    self._pg_ctl("-w", "-t", "60", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _initdb(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._as:
            os.chown(pwfile, self._as["user"], self._as["group"])
        try:
            self._run(
                "initdb",
                "-D", str(self.pgdata),
                "-U", SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        (self.pgdata / "pg_hba.conf").write_text(HBA)  # root keeps the file's owner
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# receptord tests\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\n"
                "password_encryption = 'scram-sha-256'\n"
                # A throwaway cluster: durability buys nothing (restarts are clean shutdowns).
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
            )

    def _start(self) -> int:
        for attempt in range(5):  # another process may take the free port before the server binds it
            port = _free_port()
            with (self.pgdata / "postgresql.conf").open("a") as conf:
                conf.write(f"port = {port}\n")  # the last setting wins, and restart keeps it
            try:
                self.start()
            except subprocess.CalledProcessError:
                if attempt == 4 or "could not bind" not in self._log_text():
                    raise
                continue
            return port
        raise AssertionError("unreachable")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), *args)

    def _run(self, program: str, *args: str) -> None:
        # Output goes to a file, never a pipe: the server pg_ctl starts would inherit the pipe.
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(
                    [str(self.bin / program), *args],
                    check=True,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.folder,
                    env=self._env(),
                    timeout=120,
                    **self._as,
                )
            except subprocess.CalledProcessError as e:
                out.seek(0)
                e.add_note(f"{program} output:\n{out.read()}\nserver log:\n{self._log_text()[-4000:]}")
                raise

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # PGDATA, PGPORT, ...
        return {**env, "HOME": str(self.folder), "LC_ALL": "C"}

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""
