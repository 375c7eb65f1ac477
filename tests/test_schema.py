"""Migrations and the SPEC §3 schema contract, against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from daemon import migrate
from daemon.db import ROOT, queue_statement
from daemon.kinds import registry
from tests.pg import Server, as_daemon

# The contract: names clients and DBAs rely on (SPEC §3).
CONTRACT: dict[str, set[str]] = {
    "allocationruns": {"id", "name", "status", "periodstart", "periodend"},
    "workers": {"id", "name", "email"},
    "qualification_tags": {"id", "name"},
    "worker_qualifications": {"worker", "tag"},
    "allocation_run_worker_mappings": {"id", "allocation_run", "worker"},
    "job_lines": {
        "id", "allocation_run", "name", "sort_order", "max_n_workers", "must_have_workers", "planner_run", "pathway",
    },
    "run_events": {"run_id", "run_kind", "at", "event", "detail"},
    "allocation_run_preferencers": {"id", "allocation_run", "name", "max_job_lines", "max_workers"},
    "job_line_preferencers": {"job_line", "preferencer"},
    "preference_worker_job_lines": {"worker_mapping", "job_line", "rank"},
    "preference_preferencer_workers": {"preferencer", "worker_mapping", "rank"},
    "allocation_run_preferencer_weightings": {"preferencer", "worker_mapping", "job_line", "weight"},
    "job_line_eligibility": {
        "job_line",
        "included_worker_mapping_ids",
        "excluded_worker_mapping_ids",
        "included_qualification_tag_ids",
        "excluded_qualification_tag_ids",
    },
    "allocator_py_runs": {
        "id", "allocation_run_id", "included_job_lines", "included_worker_mappings", "is_exclusive",
        "config", "status", "priority", "created_at", "claimed_by", "claimed_at", "heartbeat_at",
        "attempts", "max_attempts", "completed_at", "last_error", "result_metadata",
    },
    "allocator_py_allocations": {"id", "run_id", "worker_mapping", "job_line", "worker_rank", "dissatisfaction"},
    "allocator_py_explanations": {"run_id", "worker_mapping", "job_line", "worker_rank", "reason", "delta", "detail"},
    "allocator_py_seat_values": {"run_id", "job_line", "one_more_seat", "one_fewer_seat", "exact"},
    "positions": {
        "id", "allocation_run", "name", "parent_specialty", "subspecialty", "experience_categories",
        "is_service_term", "is_nights", "is_rural", "is_non_clinical", "is_team_based", "capacity",
        "capacity_by_term", "cohorts", "excludable", "tags",
    },
    "allocation_planner_runs": {
        "id", "createdat", "updatedat", "status", "n_job_lines", "constraints", "allocation_run",
        "state", "cohort", "term_structure", "leave_weeks", "max_seconds", "allow_partial_filling",
        "priority", "claimed_by", "claimed_at", "heartbeat_at", "attempts", "max_attempts",
        "completed_at", "last_error", "result_metadata", "pathways",
    },
    "rotations": {
        "id", "allocation_run", "job_line", "position", "term_index", "start_week", "length_weeks", "kind",
    },
    "job_lines_history": {"id", "allocation_run", "planner_run", "snapshot", "created_at"},
    "specialty_affinity": {"specialty_a", "specialty_b", "weight"},
}  # fmt: skip


@pytest.fixture
def empty_url(pg_server: Server) -> Iterator[str]:
    url = pg_server.create_database(migrated=False)
    yield url
    pg_server.drop_database(url)


def public_objects(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            "         WHERE n.nspname = 'public')"
            "     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            "         WHERE n.nspname = 'public')"
            "     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            "         WHERE n.nspname = 'public' AND t.typtype = 'e')"
        ).fetchone()
    assert row is not None
    return int(row[0])


def scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(cfg)


def test_single_head() -> None:
    assert len(scripts().get_heads()) == 1


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert public_objects(empty_url) > 50
    migrate.downgrade(empty_url, "base")
    # Only Alembic's own version table remains.
    with psycopg.connect(empty_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"alembic_version"}
    assert public_objects(empty_url) == 2  # alembic_version and its primary key index
    migrate.upgrade(empty_url)
    # Step by step down and up again, revision by revision.
    revisions = [s.revision for s in reversed(list(scripts().walk_revisions()))]
    for rev in [*reversed(revisions[:-1]), "base"]:
        migrate.downgrade(empty_url, rev)
    for rev in revisions:
        migrate.upgrade(empty_url, rev)


def test_alembic_command_line_uses_database_url(empty_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_url}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (scripts().get_current_head(),)


def test_concurrent_migrations_apply_once(empty_url: str) -> None:
    """Several daemons deployed at once may all run `receptord migrate`: the advisory lock
    makes the others wait, then find the schema at head."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "daemon.cli", "migrate", "--database-url", empty_url],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], results
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (scripts().get_current_head(),)


def test_contract_tables_and_columns_exist(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchall()
        columns: dict[str, set[str]] = {}
        for table, column in rows:
            columns.setdefault(table, set()).add(column)
        for table, expected in CONTRACT.items():
            assert expected <= columns.get(table, set()), f"{table} lacks {expected - columns.get(table, set())}"
        statuses = [r[0] for r in conn.execute("SELECT unnest(enum_range(NULL::run_status))::text")]
        assert statuses == ["PENDING", "GENERATING", "COMPLETED", "INFEASIBLE", "FAILED", "CANCELLED"]
        # get_worker_qualifications(allocation_run uuid) returns (worker_mapping, qualification_ids)
        conn.execute("SELECT worker_mapping, qualification_ids FROM get_worker_qualifications(gen_random_uuid())")


def test_every_client_column_has_a_default(db_url: str) -> None:
    """Enqueue is a plain INSERT: only the run's subject is required."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO allocator_py_runs (allocation_run_id) VALUES (gen_random_uuid())")
        conn.execute("INSERT INTO allocation_planner_runs (allocation_run, n_job_lines) VALUES (gen_random_uuid(), 4)")
        row = conn.execute(
            "SELECT status, constraints, state, cohort, term_structure, leave_weeks, allow_partial_filling, "
            "pathways FROM allocation_planner_runs"
        ).fetchone()
    assert row == ("PENDING", ["UNRESTRICTED"], "UNRESTRICTED", "ANY", [10, 10, 10, 10, 12], 5, True, [])


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO preference_worker_job_lines VALUES ('{m}', '{j}', 0)",
        "INSERT INTO preference_worker_job_lines VALUES ('{m}', '{j}', -1)",
        "UPDATE job_lines SET max_n_workers = -1",
        "INSERT INTO positions (allocation_run, name, parent_specialty, capacity) VALUES ('{a}', 'x', 'y', -1)",
        "INSERT INTO positions (allocation_run, name, parent_specialty, capacity_by_term) "
        "VALUES ('{a}', 'x', 'y', '{{1,-1}}')",
        "INSERT INTO positions (allocation_run, name, parent_specialty, experience_categories) "
        "VALUES ('{a}', 'x', 'y', '{{E}}')",
        "UPDATE allocator_py_runs SET status = 'DONE'",
        # 0008: a bounded max_seconds (NaN passes max_seconds > 0: PostgreSQL orders it above all)
        *(
            f"INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, max_seconds) VALUES ('{{a}}', 1, {v})"
            for v in ("'NaN'", "'Infinity'", "'-Infinity'", "86401")
        ),
        # 0015: pathways are a list (the daemon validates its elements)
        "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, pathways) VALUES ('{a}', 1, '{{}}')",
        # 0008: no NULL entries, one dimension, in the arrays the planner reads
        *(
            f"INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, {column}) VALUES ('{{a}}', 1, {v})"
            for column, values in (
                ("term_structure", ("'{{26,NULL,26}}'", "'{{{{26,26}}}}'", "'{{{{26}},{{NULL}}}}'")),
                ("constraints", ("'{{NULL}}'", "'{{UNRESTRICTED,NULL}}'", "'{{{{UNRESTRICTED}}}}'")),
            )
            for v in values
        ),
        *(
            f"INSERT INTO positions (allocation_run, name, parent_specialty, {column}) VALUES ('{{a}}', 'x', 'y', {v})"
            for column, values in (
                ("capacity_by_term", ("'{{1,NULL,1}}'", "'{{{{1,1}},{{1,1}}}}'")),
                ("cohorts", ("'{{NULL}}'", "'{{{{PGY1}}}}'")),
                ("experience_categories", ("'{{A,NULL}}'", "'{{{{A}}}}'")),
                ("tags", ("'{{x,NULL}}'", "'{{{{x}}}}'")),
            )
            for v in values
        ),
    ],
)
def test_checks_reject_bad_rows(db_url: str, statement: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        a = conn.execute("INSERT INTO allocationruns (name) VALUES ('r') RETURNING id").fetchone()[0]  # type: ignore[index]
        w = conn.execute("INSERT INTO workers (name) VALUES ('w') RETURNING id").fetchone()[0]  # type: ignore[index]
        m = conn.execute(
            "INSERT INTO allocation_run_worker_mappings (allocation_run, worker) VALUES (%s, %s) RETURNING id", (a, w)
        ).fetchone()[0]  # type: ignore[index]
        j = conn.execute("INSERT INTO job_lines (allocation_run, name) VALUES (%s, 'l') RETURNING id", (a,)).fetchone()[
            0
        ]  # type: ignore[index]
        conn.execute("INSERT INTO allocator_py_runs (allocation_run_id) VALUES (%s)", (a,))
        with pytest.raises((psycopg.errors.CheckViolation, psycopg.errors.InvalidTextRepresentation)):
            conn.execute(statement.format(a=a, m=m, j=j))


def test_checks_accept_the_edges_of_good_rows(db_url: str) -> None:
    """0008's checks refuse no value the planner takes: a day's max_seconds, empty arrays, NULL
    capacity_by_term and cohorts."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        a = conn.execute("INSERT INTO allocationruns (name) VALUES ('r') RETURNING id").fetchone()
        assert a is not None
        conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, max_seconds, term_structure, "
            "constraints) VALUES (%s, 1, 86400, '{}', '{}')",
            (a[0],),
        )
        conn.execute(
            "INSERT INTO positions (allocation_run, name, parent_specialty, capacity_by_term, cohorts, "
            "experience_categories, tags) VALUES (%s, 'x', 'y', NULL, NULL, '{}', '{}'), "
            "(%s, 'z', 'y', '{1,0,2}', '{}', '{A,D}', '{t}')",
            (a[0], a[0]),
        )


def test_claim_uses_the_pending_index(db_url: str) -> None:
    """However much history the queue holds, the claim is an index scan of pending rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id, status) "
            "SELECT gen_random_uuid(), 'COMPLETED' FROM generate_series(1, 20000)"
        )
        conn.execute(
            "INSERT INTO allocator_py_runs (allocation_run_id) SELECT gen_random_uuid() FROM generate_series(1, 5)"
        )
        conn.execute("ANALYZE allocator_py_runs")
        kind = registry()["allocator"]
        stmt = queue_statement("claim", kind.table, kind.created_column).as_string(conn)
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + stmt.replace("%(daemon)s", "'explain:0'")))
    assert "allocator_py_runs_pending_idx" in plan, plan


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT name, email FROM workers",  # personal data the solver never needs
        "SELECT worker_name FROM allocator_py_explanations_named",  # nor through the admins' view
        "UPDATE allocator_py_explanations SET delta = 0",  # results are written once
        "DELETE FROM allocator_py_seat_values",
        "DELETE FROM allocator_py_runs",
        "UPDATE allocator_py_runs SET config = '{}'",  # only lifecycle columns
        "UPDATE allocator_py_runs SET priority = 1",
        "TRUNCATE run_events",
        "UPDATE run_events SET event = 'x'",  # history is append-only for the daemon
        "CREATE TABLE sneaky (x int)",
        "DROP VIEW receptord_queue",
    ],
)
def test_daemon_role_cannot_step_outside_its_job(db_url: str, statement: str) -> None:
    with (
        psycopg.connect(as_daemon(db_url), autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)
