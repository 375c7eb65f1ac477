"""NRMP-sized allocator benchmark (issue 14): 45,000 workers, 6,400 job lines of 8 seats,
12-entry ranked lists with ties (competition notation), one supervisor per line ranking up to
20 of its applicants, every unranked pair eligible at the unranked budget. Seeded by COPY into
the embedded PostgreSQL, claimed and completed by a real daemon on the sparse hub path.

Recorded: claimed → committed (the run's completed_at is the start of its finishing
transaction, so the write phase is added) and enqueued → seen completed by this client; the
daemon's load / solve / write split, the solver's build and flow time, the solver process's
peak RSS; and the objective against references:

- the independent checker (``daemon.checks.allocation``) on the written rows and the loaded
  input: every hard rule, and the objective recomputed from the raw rows;
- an outside exact solver on the same hub network: HiGHS (scipy ``linprog``) on its LP with
  the true float costs, which is integral (a network matrix is totally unimodular), so its
  optimum is the network's exact optimum without our integer scaling or OR-Tools;
- the dense model (``build_problem``, the daemon's own dense path) on an NRMP-shaped run a
  tenth the size (4,500 x 600, popularity steeper so that the hub carries flow there too),
  against the hub path on that same run: the reduction itself.

Popularity is skewed (line i drawn with weight 1/(i+20)^1.5), so popular lines fill and a
share of workers end on a line no side ranked: the hub carries real flow.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import psycopg
import scipy.sparse
from scipy.optimize import linprog

from bench.common import Daemon, fresh_database, save, wait_for_daemons
from daemon.allocator import sparse
from daemon.allocator.build import build_problem
from daemon.allocator.data import AllocatorInput, JobLine, Preferencer, RankTable
from daemon.allocator.flow import solve_flow
from daemon.allocator.load import load
from daemon.allocator.problem import Allocation
from daemon.allocator.report import objective
from daemon.checks.allocation import check_allocation
from daemon.solving import SolveContext

RANKED = 12  # lines per worker's list
SEATS = 8
TIE_SHARE = 0.2  # chance a list entry ties with the one before it
POPULARITY = 1.5
APPLICANTS_RANKED = 20  # a supervisor ranks up to this many of its line's applicants


@dataclass(frozen=True)
class Case:
    """An NRMP-shaped run as plain arrays (indices into its worker and line lists)."""

    workers: int
    lines: int
    pref_who: np.ndarray[Any, Any]
    pref_what: np.ndarray[Any, Any]
    pref_rank: np.ndarray[Any, Any]
    sup_line: np.ndarray[Any, Any]  # supervisor i owns line i; rows (supervisor, worker, rank)
    sup_worker: np.ndarray[Any, Any]
    sup_rank: np.ndarray[Any, Any]


def generate(workers: int, lines: int, seed: int, popularity: float = POPULARITY) -> Case:
    rng = np.random.default_rng(seed)
    weight = 1.0 / (np.arange(lines) + 20.0) ** popularity
    weight /= weight.sum()
    what = np.empty((workers, RANKED), dtype=np.int64)
    for w in range(workers):  # draws with replacement, then the first 12 distinct
        drawn = rng.choice(lines, size=4 * RANKED, p=weight)
        _, first = np.unique(drawn, return_index=True)
        picked = drawn[np.sort(first)][:RANKED]
        while len(picked) < RANKED:  # rare: top up uniformly
            extra = rng.integers(lines)
            if extra not in picked:
                picked = np.append(picked, extra)
        what[w] = picked
    # Competition notation with ties: an entry tying with the one before shares its rank.
    rank = np.tile(np.arange(1, RANKED + 1), (workers, 1)).astype(np.float64)
    tie = rng.random((workers, RANKED)) < TIE_SHARE
    for k in range(1, RANKED):
        rank[tie[:, k], k] = rank[tie[:, k], k - 1]
    who = np.repeat(np.arange(workers), RANKED)
    by_line = np.argsort(what.ravel(), kind="stable")
    starts = np.searchsorted(what.ravel()[by_line], np.arange(lines + 1))
    s_line, s_worker, s_rank = [], [], []
    for ln in range(lines):
        applicants = who[by_line[starts[ln] : starts[ln + 1]]]
        ranked = rng.permutation(applicants)[:APPLICANTS_RANKED]
        s_line.append(np.full(len(ranked), ln))
        s_worker.append(ranked)
        s_rank.append(np.arange(1, len(ranked) + 1, dtype=np.float64))
    return Case(
        workers,
        lines,
        who,
        what.ravel(),
        rank.ravel(),
        np.concatenate(s_line),
        np.concatenate(s_worker),
        np.concatenate(s_rank),
    )


def as_input(case: Case) -> AllocatorInput:
    """The case as the loader would give it (ids are positions; good enough in process)."""
    worker_ids = tuple(f"w{i:06d}" for i in range(case.workers))
    line_ids = tuple(f"l{j:05d}" for j in range(case.lines))
    sups = tuple(Preferencer(f"s{j:05d}", f"Supervisor {j}") for j in range(case.lines))
    return AllocatorInput(
        run_id="bench",
        allocation_run_id="bench",
        config={},
        worker_ids=worker_ids,
        line_ids=line_ids,
        lines=tuple(JobLine(lid, f"Line {j}", SEATS) for j, lid in enumerate(line_ids)),
        worker_prefs=RankTable(
            case.pref_who.astype(np.int32), case.pref_what.astype(np.int32), case.pref_rank.astype(np.float64)
        ),
        preferencers=sups,
        line_preferencers=tuple((lid, s.id) for lid, s in zip(line_ids, sups, strict=True)),
        preferencer_prefs=RankTable(
            case.sup_line.astype(np.int32), case.sup_worker.astype(np.int32), case.sup_rank.astype(np.float64)
        ),
    )


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def seed(conn: psycopg.Connection[Any], case: Case) -> str:
    """COPY the case into a new allocation run; returns its id."""
    run = str(uuid.uuid4())
    lines, people, mappings, sups = (_ids(n) for n in (case.lines, case.workers, case.workers, case.lines))
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "INSERT INTO allocationruns (id, name, periodstart, periodend) "
            "VALUES (%s, 'NRMP-sized', '2027-01-04', '2027-12-31')",
            (run,),
        )
        with cur.copy("COPY job_lines (id, allocation_run, name, sort_order, max_n_workers) FROM STDIN") as copy:
            copy.write("".join(f"{lid}\t{run}\tLine {j:05d}\t{j}\t{SEATS}\n" for j, lid in enumerate(lines)))
        with cur.copy("COPY workers (id, name, email) FROM STDIN") as copy:
            copy.write("".join(f"{p}\tDr {i}\tdr{i}@example.org\n" for i, p in enumerate(people)))
        with cur.copy("COPY allocation_run_worker_mappings (id, allocation_run, worker) FROM STDIN") as copy:
            copy.write("".join(f"{m}\t{run}\t{p}\n" for m, p in zip(mappings, people, strict=True)))
        with cur.copy("COPY preference_worker_job_lines (worker_mapping, job_line, rank) FROM STDIN") as copy:
            rows = zip(case.pref_who.tolist(), case.pref_what.tolist(), case.pref_rank.tolist(), strict=True)
            copy.write("".join(f"{mappings[w]}\t{lines[ln]}\t{r:g}\n" for w, ln, r in rows))
        with cur.copy("COPY allocation_run_preferencers (id, allocation_run, name) FROM STDIN") as copy:
            copy.write("".join(f"{s}\t{run}\tSupervisor {j}\n" for j, s in enumerate(sups)))
        with cur.copy("COPY job_line_preferencers (job_line, preferencer) FROM STDIN") as copy:
            copy.write("".join(f"{lid}\t{s}\n" for lid, s in zip(lines, sups, strict=True)))
        with cur.copy("COPY preference_preferencer_workers (preferencer, worker_mapping, rank) FROM STDIN") as copy:
            rows = zip(case.sup_line.tolist(), case.sup_worker.tolist(), case.sup_rank.tolist(), strict=True)
            copy.write("".join(f"{sups[s]}\t{mappings[w]}\t{r:g}\n" for s, w, r in rows))
    conn.execute("ANALYZE")
    return run


def highs_optimum(sp: sparse.SparseProblem) -> tuple[float, float]:
    """(optimum, seconds) of the hub network's LP by HiGHS, true float costs: arcs explicit,
    worker → hub, hub → line, line → sink (no caps or must-fill lines in this case)."""
    n_w, n_l = sp.n_workers, sp.n_lines
    n_hubs = int(sp.hub_of.max(initial=-1)) + 1
    pw, pl = sp.pair_key // n_l, sp.pair_key % n_l
    hub_workers = np.flatnonzero(sp.hub_of >= 0)
    hub_idx, hub_line = np.nonzero(sp.elig_rows[:n_hubs])
    alpha = sp.config.preferencer_weight
    tails = np.concatenate([pw, hub_workers, n_w + n_l + hub_idx, n_w + np.arange(n_l)])
    heads = np.concatenate([n_w + pl, n_w + n_l + sp.hub_of[hub_workers], n_w + hub_line, np.full(n_l, -1)])
    cost = np.concatenate(
        [
            sp.pair_cost,
            sp.hub_cost[hub_workers] + alpha * sp.global_weight[hub_workers],
            alpha * sp.hub_line_view[hub_line],
            np.zeros(n_l),
        ]
    )
    upper = np.concatenate([np.ones(len(pw)), np.ones(len(hub_workers)), sp.capacity[hub_line], sp.capacity]).astype(
        np.float64
    )
    n_nodes, arcs = n_w + n_l + n_hubs, np.arange(len(tails))
    # Conservation at every node but the sink: out - in = supply (1 per worker, 0 elsewhere).
    inside = heads >= 0
    a_eq = scipy.sparse.csr_matrix(
        (
            np.concatenate([np.ones(len(tails)), -np.ones(int(inside.sum()))]),
            (np.concatenate([tails, heads[inside]]), np.concatenate([arcs, arcs[inside]])),
        ),
        shape=(n_nodes, len(tails)),
    )
    b_eq = np.zeros(n_nodes)
    b_eq[:n_w] = 1.0
    started = time.perf_counter()
    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([np.zeros(len(upper)), upper]), method="highs")
    seconds = time.perf_counter() - started
    if res.status != 0:
        raise RuntimeError(f"HiGHS: {res.message}")
    return float(res.fun), seconds


def smaller_against_dense(workers: int, lines: int) -> dict[str, Any]:
    """The reduction at a tenth of the size: hub path and dense model on the same run."""
    # Steeper popularity: at a tenth of the lines, 1.5 leaves no line short of applicants.
    inp = as_input(generate(workers, lines, seed=10, popularity=2.0))
    started = time.perf_counter()
    hub = sparse.build_sparse(inp)
    assert isinstance(hub, sparse.SparseProblem)
    out = sparse.solve_sparse(hub, SolveContext(), started=started)
    hub_seconds = time.perf_counter() - started
    started = time.perf_counter()
    problem = build_problem(inp)
    dense = solve_flow(problem)
    dense_seconds = time.perf_counter() - started
    assert dense is not None
    return {
        "size": f"{workers}x{lines} cap {SEATS}",
        "hub_objective": out.metadata["objective"],
        "hub_seconds": hub_seconds,
        "via_hub": out.metadata["via_hub"],
        "dense_objective": objective(problem, dense.line_of),
        "dense_seconds": dense_seconds,
        "rounding_error_bound": out.metadata["rounding_error_bound"],
    }


def _solver_peak(daemon: Daemon) -> int | None:
    """The largest peak RSS (VmHWM, as the OS counts it) among the daemon's child processes:
    the solver process (the others, the forkserver, stay small)."""
    peaks = []
    for child in psutil.Process(daemon.proc.pid).children(recursive=True):
        try:
            with Path(f"/proc/{child.pid}/status").open() as status:
                peaks += [int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:")]
        except OSError:  # ended meanwhile
            continue
    return max(peaks, default=None)


def main() -> dict[str, Any]:
    case = generate(45_000, 6_400, seed=14)
    url = fresh_database()
    daemon = Daemon(url, "--solver-processes", "1", name="bench-nrmp")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            wait_for_daemons(conn, ["bench-nrmp"])
            started = time.perf_counter()
            run = seed(conn, case)
            seed_seconds = time.perf_counter() - started
            row = conn.execute(
                "INSERT INTO allocator_py_runs (allocation_run_id, config) VALUES (%s, '{}') RETURNING id", (run,)
            ).fetchone()
            assert row is not None
            run_id = str(row[0])
            inserted = time.perf_counter()
            deadline = time.monotonic() + 600
            final = None
            while final is None and time.monotonic() < deadline:
                final = conn.execute(
                    "SELECT status, extract(epoch FROM completed_at - claimed_at), result_metadata, last_error "
                    "FROM allocator_py_runs WHERE id = %s AND status NOT IN ('PENDING', 'GENERATING')",
                    (run_id,),
                ).fetchone()
                time.sleep(0.05)
            if final is None:
                raise TimeoutError("the NRMP-sized run did not finish within 600 s")
            seen = time.perf_counter() - inserted
            solver_peak = _solver_peak(daemon)
            status, wall, meta, error = final
            rows = [
                Allocation(str(w), str(ln), None if r is None else float(r), float(c))
                for w, ln, r, c in conn.execute(
                    "SELECT worker_mapping, job_line, worker_rank, dissatisfaction "
                    "FROM allocator_py_allocations WHERE run_id = %s",
                    (run_id,),
                )
            ]
            inp = load(conn, run_id)
    finally:
        daemon.stop()
    started = time.perf_counter()
    check = check_allocation(inp, rows)
    check_seconds = time.perf_counter() - started
    hub = sparse.build_sparse(inp)
    assert isinstance(hub, sparse.SparseProblem)
    highs, highs_seconds = highs_optimum(hub)
    result = {
        "size": f"{case.workers}x{case.lines} cap {SEATS}, {len(case.pref_rank):,} worker preferences, "
        f"{len(case.sup_rank):,} supervisor preferences",
        "status": status,
        "error": error,
        "seed_seconds": seed_seconds,
        # completed_at is now() of the finishing transaction: its start, before the rows are
        # written. The run is committed about the write phase later.
        "claimed_to_completed_at_seconds": float(wall),
        "claimed_to_committed_seconds": float(wall) + float((meta.get("seconds") or {}).get("write", 0.0)),
        "enqueued_to_seen_completed_seconds": seen,
        "daemon_seconds": meta.get("seconds"),
        "build_seconds": meta.get("build_seconds"),
        "solver_seconds": meta.get("solve_seconds"),
        "solver_peak_rss_bytes": meta.get("peak_rss_bytes"),
        "solver_peak_rss_bytes_os": solver_peak,
        "method": meta.get("method"),
        "solver_status": meta.get("status"),
        "objective": meta.get("objective"),
        "rounding_error_bound": meta.get("rounding_error_bound"),
        "via_hub": meta.get("via_hub"),
        "rank_histogram": meta.get("rank_histogram"),
        "checker_violations": len(check.violations),
        "checker_objective": check.objective,
        "checker_seconds": check_seconds,
        "daemon_check_seconds": meta.get("check_seconds"),  # the same check, in the solver process
        "highs_objective": highs,
        "highs_seconds": highs_seconds,
        "smaller_vs_dense": smaller_against_dense(4_500, 600),
    }
    print(json.dumps(result, default=str), flush=True)
    save("nrmp", result, table(result))
    return result


def table(r: dict[str, Any]) -> str:
    s = r["daemon_seconds"] or {}
    peak = (r["solver_peak_rss_bytes"] or 0) / 2**30
    small = r["smaller_vs_dense"]
    return "\n".join(
        [
            "| run | status | method | claimed → committed | load / solve / write | solver peak RSS "
            "| objective | HiGHS on the hub LP | dense model, 4,500 x 600 |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| NRMP 45,000 x 6,400 x 8 seats | {r['solver_status']} | {r['method']} "
            f"| {r['claimed_to_committed_seconds']:.1f} s "
            f"| {s.get('load', 0):.1f} / {s.get('solve', 0):.1f} / {s.get('write', 0):.1f} s | {peak:.2f} GiB "
            f"| {r['objective']:.1f} | {r['highs_objective']:.1f} "
            f"| hub {small['hub_objective']:.1f} = dense {small['dense_objective']:.1f} |",
        ]
    )
