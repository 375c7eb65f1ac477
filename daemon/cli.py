"""The ``receptord`` command line.

An operational failure is one line on stderr naming the fix, and an exit code of its own
(``--debug`` shows the traceback too): see ``EXIT_CODES``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from daemon import __version__, log
from daemon.db import connect, password_forms
from daemon.settings import Settings
from daemon.text import printable

DESCRIPTION = "receptord: allocate junior doctors to job lines and plan the lines, from a PostgreSQL queue."
# Documented in the README (Command line): scripts and systemd tell the failures apart by these.
EXIT_INTERNAL = 1
EXIT_USAGE = 2  # argparse's own code for bad usage; bad configuration too
EXIT_UNREACHABLE = 3  # the database refused the connection, or was not there
EXIT_SCHEMA = 4  # the database schema is not the one this receptord needs
# The commands that read or write receptord's tables: each checks the schema before it starts.
SCHEMA_COMMANDS = ("run", "status", "allocate", "plan", "export", "explain")


class Failure(Exception):
    """An operational failure: ``message`` (naming the fix) is printed alone, exit ``code``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _daemon_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", help="overrides DATABASE_URL")
    p.add_argument(
        "--solver-processes",
        "--pool-size",  # its name before 2026-12; kept so existing units keep working
        type=int,
        dest="solver_processes",
        help="solver processes: runs solved at once (RECEPTORD_SOLVER_PROCESSES)",
    )
    p.add_argument("--solver-threads", type=int, help="CP-SAT workers per solve (RECEPTORD_SOLVER_THREADS)")
    p.add_argument("--lease-seconds", type=float, help="reclaim runs silent this long")
    p.add_argument("--heartbeat-seconds", type=float, help="lease renewal and progress interval")
    p.add_argument("--poll-seconds", type=float, help="catch-up poll interval")
    p.add_argument("--drain-seconds", type=float, help="SIGTERM grace for in-flight solves")
    p.add_argument("--solve-grace-seconds", type=float, help="a solve past max_seconds plus this is stopped")
    p.add_argument(
        "--no-listen",
        dest="listen",
        action="store_const",
        const=False,
        help="poll only (no LISTEN), e.g. behind PgBouncer in transaction mode",
    )
    p.add_argument("--log-format", choices=["auto", "json", "console"])
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    p.add_argument("--daemon-name", help="claimed_by name (default host:pid)")
    p.add_argument(
        "--metrics-address", help="host:port serving /metrics, /healthz, /readyz (RECEPTORD_METRICS_ADDRESS)"
    )


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 86_400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def run_id(text: str) -> str:
    """A run id on the command line: a uuid, refused with its repr (no raw control characters)."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a run id (a uuid)") from None


def worker_mapping_id(text: str) -> str:
    """A worker mapping id on the command line: a uuid, refused with its repr."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a worker mapping id (a uuid)") from None


def _one_run_parser(sub: Any, command: str, kind: str) -> None:
    """`allocate` / `plan`: one run now, offline from a workbook or a queued run by id."""
    p = sub.add_parser(command, help=f"solve one {kind} run now: from a workbook, or a queued run by id")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--parse-xlsx", type=Path, metavar="IN.xlsx", help="solve a workbook, no database")
    source.add_argument(f"--{kind}-run-id", metavar="ID", type=run_id, help="claim and solve this PENDING run now")
    p.add_argument("--output", type=Path, metavar="OUT.xlsx", help="write the result workbook (with --parse-xlsx)")
    p.add_argument("--database-url")
    p.add_argument("--solver-threads", type=int)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="receptord", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"receptord {__version__}")
    parser.add_argument("--debug", action="store_true", help="on a failure, show the traceback too")
    sub = parser.add_subparsers(dest="command", required=True)
    _daemon_flags(sub.add_parser("run", help="run the daemon: claim and solve queued runs"))
    m = sub.add_parser("migrate", help="bring the database schema to head")
    m.add_argument("--database-url")
    m.add_argument("--revision", default="head", help="target revision (default head)")
    m.add_argument("--downgrade", action="store_true", help="downgrade to --revision instead")
    s = sub.add_parser("status", help="print the DBA views: queue, running, failures, daemons")
    s.add_argument("--database-url")
    how = s.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="print the views as JSON, for scripts")
    how.add_argument(
        "--watch",
        type=positive_seconds,
        nargs="?",
        const=2.0,
        metavar="SECONDS",
        help="refresh every SECONDS (default 2) until Ctrl-C",
    )
    _one_run_parser(sub, "allocate", "allocator")
    _one_run_parser(sub, "plan", "planner")
    e = sub.add_parser("export", help="write a run's input (and result) to the workbook --parse-xlsx reads")
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("--allocator-run-id", metavar="ID", type=run_id)
    which.add_argument("--planner-run-id", metavar="ID", type=run_id)
    e.add_argument("--output", type=Path, metavar="OUT.xlsx", required=True)
    e.add_argument("--database-url")
    x = sub.add_parser("explain", help="why each worker of a COMPLETED allocator run did not get a line ranked higher")
    x.add_argument("--allocator-run-id", metavar="ID", type=run_id, required=True)
    x.add_argument(
        "--worker-mapping", metavar="ID", type=worker_mapping_id, help="only this worker (a worker mapping id)"
    )
    x.add_argument("--database-url")
    d = sub.add_parser("demo", help="embedded PostgreSQL + synthetic hospital + the whole loop")
    d.add_argument("--dir", default=".receptord-demo", help="where the embedded server keeps its data")
    d.add_argument("--workers", type=int, default=36, help="doctors to allocate (at most --lines)")
    d.add_argument("--lines", type=int, default=40, help="job lines the planner generates")
    d.add_argument(
        "--keep", action="store_true", help="keep the server and daemon running to enqueue runs by hand (Ctrl-C stops)"
    )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in vars(args).items() if k in Settings.__dataclass_fields__}
    return Settings.from_env().with_overrides(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings_from(args)
    if args.command == "demo":
        from daemon import demo

        return demo.main(args.dir, workers=args.workers, lines=args.lines, keep=args.keep)
    # Every line logged from here on, and every error printed below, is scrubbed of the
    # database password: libpq quotes the connection string in some of its errors.
    log.configure(settings.log_format, settings.log_level, database_url=settings.database_url)
    if getattr(args, "database_url", None) and password_forms(args.database_url):
        log.get("receptord.cli").warning(
            "--database-url carries a password, which any user can read in the process list (ps); "
            "set DATABASE_URL (a systemd EnvironmentFile) or use a PGPASSFILE instead"
        )
    try:
        return _command(args, settings)
    except (Exception, KeyboardInterrupt) as e:
        failure = _failure(e)
        if args.debug or failure is None:
            # Through the log, which scrubs the password from the message and the traceback.
            log.get("receptord.cli").error(
                f"receptord {args.command} failed", error=f"{type(e).__name__}: {e}", exc_info=args.debug
            )
        if isinstance(e, KeyboardInterrupt):
            return 130
        if failure is None:
            failure = Failure(EXIT_INTERNAL, f"internal error: {type(e).__name__}: {e} (--debug shows the traceback)")
        # One line: libpq's messages run over several, and they may quote hostile text.
        print(f"receptord: {printable(log.scrub(' '.join(str(failure).split())))}", file=sys.stderr)
        return failure.code


def _failure(e: BaseException) -> Failure | None:
    """``e`` as the one line an operator needs, or None for an internal error."""
    if isinstance(e, Failure):
        return e
    if isinstance(e, PoolTimeout):  # `run`: the daemon waited a minute for its first connection
        return Failure(EXIT_UNREACHABLE, f"cannot connect to the database: {e}; check that the server is running")
    return None


def _check_database(url: str, *, schema: bool) -> None:
    """Raise a ``Failure`` when the database cannot be reached, or (``schema``) is not at head."""
    try:
        connect(url, application_name="receptord-check").close()
    except psycopg.OperationalError as e:
        text = str(e)
        fix = (
            "check the user and password (DATABASE_URL or a PGPASSFILE)"
            if "password" in text or "authentication" in text
            else "check that the server is running and DATABASE_URL's host and port (or socket)"
        )
        raise Failure(EXIT_UNREACHABLE, f"cannot connect to the database: {text}; {fix}") from e
    except psycopg.ProgrammingError as e:  # libpq could not parse the connection string
        raise Failure(EXIT_USAGE, f"DATABASE_URL is not a valid connection string: {e}") from e
    if schema:
        from daemon import migrate

        problem = migrate.schema_problem(url)
        if problem:
            raise Failure(EXIT_SCHEMA, problem)


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in ("allocate", "plan") and args.parse_xlsx:
        from daemon import offline

        offline_solve = offline.allocate_workbook if args.command == "allocate" else offline.plan_workbook
        return offline_solve(args.parse_xlsx, args.output, settings.solver_threads)
    if not settings.database_url:
        print("receptord: set DATABASE_URL or pass --database-url", file=sys.stderr)
        return EXIT_USAGE
    if args.command in ("run", "allocate", "plan") and settings.problems():
        for problem in settings.problems():
            print(f"receptord: {printable(problem)}", file=sys.stderr)
        return 2
    try:
        _check_database(settings.database_url, schema=args.command in SCHEMA_COMMANDS)
    except Failure as e:
        # The daemon waits a minute for a database it cannot reach yet (one starting with it at
        # boot), then exits with EXIT_UNREACHABLE; a schema it cannot use stops it at once.
        if args.command != "run" or e.code == EXIT_SCHEMA:
            raise
    if args.command == "migrate":
        from daemon import migrate

        if args.downgrade:
            migrate.downgrade(settings.database_url, args.revision)
        else:
            migrate.upgrade(settings.database_url, args.revision)
        return 0
    if args.command == "allocate":
        from daemon import foreground

        return foreground.solve_run(settings, "allocator", args.allocator_run_id)
    if args.command == "plan":
        from daemon import foreground

        return foreground.solve_run(settings, "planner", args.planner_run_id)
    if args.command == "export":
        from daemon import offline

        if args.allocator_run_id:
            return offline.export_allocator_run(settings.database_url, args.allocator_run_id, args.output)
        return offline.export_planner_run(settings.database_url, args.planner_run_id, args.output)
    if args.command == "explain":
        from daemon import explain

        return explain.main(settings.database_url, args.allocator_run_id, args.worker_mapping)
    if args.command == "status":
        from daemon import status

        if args.watch is not None:
            return status.watch(settings.database_url, args.watch)
        return status.main(settings.database_url, as_json=args.json)
    # Stopped while still starting (imports take a second): nothing is claimed yet, exit cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from daemon.loop import Daemon
    from daemon.metrics import MetricsAddressError

    try:
        daemon = Daemon(settings)
    except MetricsAddressError as e:
        print(f"receptord: {printable(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    daemon.install_signal_handlers()
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
