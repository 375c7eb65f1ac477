"""The workers' preferences a run loads: all of them when the run takes its whole allocation
run (worker_prefs.sql then skips its per-row tests), only its own workers' for its own lines
when it takes a subset of either."""

from __future__ import annotations

import psycopg

from daemon.allocator.load import load
from daemon.synthetic import seed_allocation
from tests.daemons import enqueue


def loaded_pairs(db_url: str, run_id: str) -> set[tuple[str, str, float]]:
    with psycopg.connect(db_url) as c:
        inp = load(c, run_id)
    prefs = inp.worker_prefs
    return {
        (inp.worker_ids[w], inp.line_ids[j], r)
        for w, j, r in zip(prefs.who.tolist(), prefs.what.tolist(), prefs.rank.tolist(), strict=True)
    }


def test_a_whole_run_and_its_subsets_load_exactly_their_preferences(db_url: str, conn: psycopg.Connection) -> None:
    h = seed_allocation(conn, workers=5, lines=4, seed=7)
    every = {
        (str(w), str(j), float(r))
        for w, j, r in conn.execute(
            "SELECT worker_mapping, job_line, rank FROM preference_worker_job_lines WHERE worker_mapping = ANY(%s)",
            (h.workers,),
        )
    }
    assert len(every) == 20
    assert loaded_pairs(db_url, enqueue(conn, h.allocation_run)) == every
    workers, lines = set(h.workers[:3]), set(h.lines[1:3])
    for columns in [
        {"included_worker_mappings": sorted(workers)},
        {"included_job_lines": sorted(lines)},
        {"included_worker_mappings": sorted(workers), "included_job_lines": sorted(lines)},
    ]:
        w_in = workers if "included_worker_mappings" in columns else set(h.workers)
        j_in = lines if "included_job_lines" in columns else set(h.lines)
        want = {row for row in every if row[0] in w_in and row[1] in j_in}
        assert loaded_pairs(db_url, enqueue(conn, h.allocation_run, **columns)) == want, columns
