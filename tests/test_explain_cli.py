"""`receptord explain`: a COMPLETED allocator run's explanations as plain sentences per worker,
then the value of a seat; names when the role may read them; exit 2 for a run it cannot explain.

Runs are seeded synthetic hospitals solved in the foreground as the daemon's role (the real
lifecycle and writer); the command runs as the test's admin role unless said otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import psycopg
import pytest

from daemon import foreground
from daemon.allocator.sentences import amount
from daemon.db import ROOT
from daemon.explain import NOT_READABLE
from daemon.settings import Settings
from daemon.synthetic import Hospital, seed_allocation
from tests.daemons import enqueue
from tests.pg import as_daemon

Conn = psycopg.Connection[Any]


def receptord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def explain(db_url: str, run_id: str, *more: str) -> subprocess.CompletedProcess[str]:
    return receptord("explain", "--allocator-run-id", run_id, "--database-url", db_url, *more)


def solve(db_url: str, conn: Conn, h: Hospital, config: dict[str, Any] | None = None) -> str:
    """Enqueue a run of ``h`` and solve it now, as the daemon's role; it must complete."""
    run_id = enqueue(conn, h.allocation_run, config=json.dumps(config or {}))
    foreground.solve_run(Settings(database_url=as_daemon(db_url)), "allocator", run_id)
    row = conn.execute("SELECT status, last_error FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None and row[0] == "COMPLETED", row
    return run_id


def worker_name(conn: Conn, mapping: str) -> str:
    row = conn.execute(
        "SELECT w.name FROM allocation_run_worker_mappings m JOIN workers w ON w.id = m.worker WHERE m.id = %s",
        (mapping,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def line_name(conn: Conn, line: str) -> str:
    row = conn.execute("SELECT name FROM job_lines WHERE id = %s", (line,)).fetchone()
    assert row is not None
    return str(row[0])


def rows(conn: Conn, run_id: str, reason: str) -> list[tuple[str, str, float, float | None, dict[str, Any]]]:
    return [
        (str(w), str(j), rank, delta, detail)
        for w, j, rank, delta, detail in conn.execute(
            "SELECT worker_mapping, job_line, worker_rank, delta, detail FROM allocator_py_explanations"
            " WHERE run_id = %s AND reason = %s ORDER BY worker_mapping, worker_rank",
            (run_id, reason),
        )
    ]


def first_choice(conn: Conn, mapping: str) -> str:
    row = conn.execute(
        "SELECT job_line FROM preference_worker_job_lines WHERE worker_mapping = %s ORDER BY rank, job_line LIMIT 1",
        (mapping,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_trade_off_names_the_holder_the_rise_and_where_the_holder_would_go(db_url: str, conn: Conn) -> None:
    h = seed_allocation(conn, workers=6, lines=8, capacity=1, ranked=4, seed=7)
    run_id = solve(db_url, conn, h)
    chained = [r for r in rows(conn, run_id, "trade_off") if r[4].get("chain") and (r[3] or 0) > 0]
    assert chained, "the seed gives trade-offs with a displacement chain"
    done = explain(db_url, run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "exact figures" in done.stdout
    for worker, line, rank, delta, detail in chained:
        holder = worker_name(conn, detail["chain"][0]["worker_mapping"])
        assert f"{worker_name(conn, worker)} got " in done.stdout
        assert delta is not None and rank == 1.0
        said = [s for s in done.stdout.splitlines() if s.startswith(f"  - {line_name(conn, line)} (your 1st choice)")]
        assert any(
            f"went to {holder}, who ranked it" in s
            and f"would raise total dissatisfaction by {amount(delta)} and move {holder} to their " in s
            for s in said
        ), (said, holder, delta)
    assert "Value of a seat" in done.stdout


def test_worker_mapping_explains_one_worker_only(db_url: str, conn: Conn) -> None:
    h = seed_allocation(conn, workers=6, lines=8, capacity=1, ranked=4, seed=7)
    run_id = solve(db_url, conn, h)
    explained = sorted({r[0] for r in rows(conn, run_id, "trade_off")})
    assert len(explained) >= 2
    one, other = explained[0], explained[1]
    done = explain(db_url, run_id, "--worker-mapping", one)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{worker_name(conn, one)} got " in done.stdout
    assert f"{worker_name(conn, other)} got " not in done.stdout
    assert "would raise total dissatisfaction by" in done.stdout
    assert "Value of a seat" not in done.stdout  # the table is for the whole run
    # A worker who got their first choice has nothing to explain.
    content = next(w for w in h.workers if w not in {r[0] for r in rows(conn, run_id, "trade_off")})
    done = explain(db_url, run_id, "--worker-mapping", content)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{worker_name(conn, content)} got " in done.stdout and "(their 1st choice)" in done.stdout
    assert "Nothing to explain" in done.stdout
    # Someone not in the run: one line, exit 2.
    stranger = str(uuid.uuid4())
    done = explain(db_url, run_id, "--worker-mapping", stranger)
    assert done.returncode == 2 and done.stdout.strip().splitlines() == [
        f"worker mapping {stranger} is not a worker of allocator run {run_id}"
    ]


def test_not_eligible_and_no_seat_say_which_rule_and_which_seats(db_url: str, conn: Conn) -> None:
    h = seed_allocation(conn, workers=5, lines=8, capacity=1, seed=4)
    banned, banned_line = h.workers[0], first_choice(conn, h.workers[0])
    seatless_worker = next(w for w in h.workers[1:] if first_choice(conn, w) != banned_line)
    seatless = first_choice(conn, seatless_worker)
    tagged_worker = next(w for w in h.workers[1:] if first_choice(conn, w) not in (banned_line, seatless))
    tagged = first_choice(conn, tagged_worker)
    tag = conn.execute("INSERT INTO qualification_tags (name) VALUES ('Advanced Life Support') RETURNING id").fetchone()
    assert tag is not None
    conn.execute(
        "INSERT INTO job_line_eligibility (job_line, excluded_worker_mapping_ids) VALUES (%s, ARRAY[%s::uuid])",
        (banned_line, banned),
    )
    conn.execute(
        "INSERT INTO job_line_eligibility (job_line, included_qualification_tag_ids) VALUES (%s, ARRAY[%s::uuid])",
        (tagged, tag[0]),
    )
    conn.execute("UPDATE job_lines SET max_n_workers = 0 WHERE id = %s", (seatless,))
    run_id = solve(db_url, conn, h)
    assert {r[0] for r in rows(conn, run_id, "not_eligible")} == {banned, tagged_worker}
    assert {r[0] for r in rows(conn, run_id, "no_seat")} >= {seatless_worker}
    done = explain(db_url, run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert (
        f"{line_name(conn, banned_line)} (your 1st choice): you are not eligible for it;"
        " its eligibility rules exclude you by name (step 2, excluded workers)." in out
    )
    assert (
        f"{line_name(conn, tagged)} (your 1st choice): you are not eligible for it; it is open only to holders"
        " of Advanced Life Support, and you hold none (step 5, included tags)." in out
    )
    assert f"{line_name(conn, seatless)} (your 1st choice) had no seat to give: it has none" in out
    # Each sentence under its worker's heading.
    block = out.split(f"{worker_name(conn, banned)} got ")[1].split("\n\n")[0]
    assert "exclude you by name" in block


def test_a_cp_sat_run_gives_bounds_and_says_at_least(db_url: str, conn: Conn) -> None:
    h = seed_allocation(conn, workers=6, lines=8, capacity=1, ranked=4, seed=8, supervisors=2)
    run_id = solve(db_url, conn, h, {"stability": "weak"})
    bounds = rows(conn, run_id, "trade_off")
    assert bounds and all(r[4]["exact"] is False for r in bounds)
    done = explain(db_url, run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "figures are proven bounds" in done.stdout
    for _, line, _, delta, _ in bounds:
        assert delta is not None
        assert any(
            s.startswith(f"  - {line_name(conn, line)} (your ")
            and f"would raise total dissatisfaction by at least {amount(delta)}" in s
            for s in done.stdout.splitlines()
        )
    assert "Under weak stability it does not block" in done.stdout
    assert "falls by at most" in done.stdout  # the seat table's figures are bounds too


def test_a_role_that_cannot_read_names_gets_ids_and_one_notice(db_url: str, conn: Conn) -> None:
    h = seed_allocation(conn, workers=6, lines=8, capacity=1, ranked=4, seed=7)
    run_id = solve(db_url, conn, h)
    worker = rows(conn, run_id, "trade_off")[0][0]
    done = explain(as_daemon(db_url), run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(NOT_READABLE) == 1
    assert f"worker {worker} got " in done.stdout
    assert worker_name(conn, worker) not in done.stdout
    assert "Dr " not in done.stdout  # no name leaks through the holder either


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return lines[0]


def test_a_run_without_explanations_exits_2_with_one_line(db_url: str, conn: Conn) -> None:
    h = seed_allocation(conn, workers=4, lines=4, capacity=1, seed=5)
    unknown = str(uuid.uuid4())
    assert one_line(explain(db_url, unknown)) == f"no allocator run {unknown}"
    planner = conn.execute(
        "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines) VALUES (%s, 2) RETURNING id",
        (h.allocation_run,),
    ).fetchone()
    assert planner is not None
    assert one_line(explain(db_url, str(planner[0]))) == f"no allocator run {planner[0]}"  # a planner run's id
    pending = enqueue(conn, h.allocation_run)
    assert one_line(explain(db_url, pending)) == (
        f"allocator run {pending} is PENDING: only a COMPLETED run has explanations"
    )
    conn.execute("DELETE FROM allocator_py_runs WHERE id = %s", (pending,))
    off = solve(db_url, conn, h, {"explain": False})
    assert one_line(explain(db_url, off)) == (
        f"allocator run {off} has no explanations: its config sets explain to false"
    )


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED"])
def test_a_run_skipped_for_size_or_not_completed_exits_2(db_url: str, conn: Conn, status: str) -> None:
    h = seed_allocation(conn, workers=4, lines=4, capacity=1, seed=6)
    if status == "COMPLETED":
        run_id = solve(db_url, conn, h)
        # What the solver writes past explanations.MAX_CELLS (a run far too big for a test).
        skipped = "not computed: 2,000 workers x 16,000 job lines is beyond 30,000,000 pairs"
        conn.execute(
            "UPDATE allocator_py_runs SET result_metadata = result_metadata || %s::jsonb WHERE id = %s",
            (json.dumps({"explanations": {"skipped": skipped}}), run_id),
        )
        assert one_line(explain(db_url, run_id)) == f"allocator run {run_id} has no explanations: {skipped}"
    else:
        run_id = solve_failing(db_url, conn, h)
        assert one_line(explain(db_url, run_id)) == (
            f"allocator run {run_id} is FAILED: only a COMPLETED run has explanations"
        )


def solve_failing(db_url: str, conn: Conn, h: Hospital) -> str:
    """A run that fails on its config (an unknown key)."""
    run_id = enqueue(conn, h.allocation_run, config=json.dumps({"no_such_key": 1}))
    foreground.solve_run(Settings(database_url=as_daemon(db_url)), "allocator", run_id)
    row = conn.execute("SELECT status FROM allocator_py_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None and row[0] == "FAILED", row
    return run_id
