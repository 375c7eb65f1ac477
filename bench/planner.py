"""Planner benchmark: how fast compliant job lines come, and how good they are at 10 s and 60 s.

Cases: VIC_PGY1 with 140 lines over a 35-position Victorian service (daemon/planner/hospitals),
AMC_PGY2 with 80 lines over a real NSW district's 79 PGY2 posts (shared/data),
and UNRESTRICTED with 300 lines (the example's positions scaled further). Each case is solved
in-process twice, with max_seconds 10 and 60, on 2 CP-SAT workers.

How the lines read (issue 12, ``planner.quality``): VIC_PGY1's 140 lines and NSW_PGY2 over the
real NSW list, reading goals on and off (NO_READING_GOALS) alternated in the same run, medians
of READING_REPEATS solves of READING_BUDGET seconds each (``python -m bench planner_reading``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import save
from bench.planner_before import BEFORE, CLOCK_BOUND, release_tree, solve_there
from bench.reading_cases import NSW_TERMS, reading_cases
from daemon.planner import quality
from daemon.planner.csv_terms import planner_input_from_csv
from daemon.planner.data import PlannerInput, Position
from daemon.planner.example import example_input
from daemon.planner.goals import unfilled_required
from daemon.planner.hospitals import vic_hospital
from daemon.planner.problem import build_problem
from daemon.planner.solve import solve
from daemon.solving import SolveContext

BUDGETS = (10, 60)
READING_BUDGET = 25
READING_REPEATS = 3


def scaled(positions: tuple[Position, ...], factor: float) -> tuple[Position, ...]:
    """Capacities times ``factor``: rounded down for required posts, so the lines asked for can
    still fill every one of them, and up for excludable ones, which take the slack."""

    def scale(p: Position) -> Position:
        rounding = math.ceil if p.excludable else math.floor
        return dataclasses.replace(
            p,
            capacity=rounding(p.capacity * factor),
            capacity_by_term=None
            if p.capacity_by_term is None
            else tuple(rounding(s * factor) for s in p.capacity_by_term),
        )

    return tuple(scale(p) for p in positions)


def cases() -> list[tuple[str, PlannerInput]]:
    vic = example_input()
    out = [
        # 35 positions sized for 140 lines: 152 seats a term, 138 of them required.
        ("VIC_PGY1, 140 lines", dataclasses.replace(vic, n_job_lines=140, positions=vic_hospital())),
    ]
    if NSW_TERMS.exists():
        out.append(
            (
                "AMC_PGY2, 80 lines (NSW posts)",
                planner_input_from_csv(NSW_TERMS, n_job_lines=80, constraints=("AMC_PGY2",)),
            )
        )
    out.append(
        (
            "UNRESTRICTED, 300 lines",
            dataclasses.replace(
                vic,
                n_job_lines=300,
                constraints=("UNRESTRICTED",),
                state="UNRESTRICTED",
                cohort="ANY",
                positions=scaled(vic.positions, 300 / vic.n_job_lines),
            ),
        )
    )
    return out


def run(name: str, inp: PlannerInput, budget: int) -> dict[str, Any]:
    reports: list[tuple[float, dict[str, Any]]] = []
    started = time.perf_counter()
    outcome = solve(
        dataclasses.replace(inp, max_seconds=budget, num_workers=2),
        SolveContext(report=lambda p: reports.append((time.perf_counter() - started, p)), threads=2),
    )
    wall = time.perf_counter() - started
    first_full = next((t for t, p in reports if "best_objective" in p and p.get("lines") == inp.n_job_lines), None)
    meta = outcome.metadata
    fill = _fill(inp, outcome)
    return {
        "case": name,
        "budget_seconds": budget,
        "status": outcome.status,
        "solver_status": meta.get("status"),
        "error": outcome.error,
        "wall_seconds": wall,
        "first_full_solution_seconds": first_full,
        "lines_built": meta.get("lines_built"),
        "lines_requested": inp.n_job_lines,
        "objective": meta.get("objective"),
        "best_bound": meta.get("best_bound"),
        "gap": meta.get("gap"),
        "unfilled_required_seats": meta.get("unfilled_required_seats"),
        # Demand first, proven or not; then the soft goals' score against its (weak) bound.
        "demand_proven_optimal": (meta.get("demand") or {}).get("proven_optimal"),
        "soft_score": (meta.get("soft_goals") or {}).get("score"),
        "soft_score_bound": (meta.get("soft_goals") or {}).get("score_bound"),
        **fill,
    }


def _fill(inp: PlannerInput, outcome: Any) -> dict[str, float | None]:
    """Required seats filled, as a share of all required seats (non-excludable positions open
    to the cohort, at capacity in every term): the demand the planner must meet."""
    unfilled = outcome.metadata.get("unfilled_required_seats")
    if outcome.payload is None or unfilled is None:
        return {"required_seats_filled": None}
    terms = len(inp.term_structure)
    required = sum(
        (p.capacity if p.capacity_by_term is None else p.capacity_by_term[t])
        for p in inp.positions
        if not p.excludable and (p.cohorts is None or inp.cohort == "ANY" or inp.cohort in p.cohorts)
        for t in range(terms)
    )
    return {"required_seats_filled": (required - unfilled) / required if required else None}


def main() -> dict[str, Any]:
    rows = []
    for name, inp in cases():
        for budget in BUDGETS:
            rows.append(run(name, inp, budget))
            print({k: rows[-1][k] for k in ("case", "budget_seconds", "status", "first_full_solution_seconds")})
    save("planner", {"runs": rows}, table(rows))
    return {"runs": rows}


def _num(x: Any, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| case | budget | status | lines | first solution | required seats unfilled | filled "
        "| demand proven optimal | soft-goal score | its bound |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        proven = {True: "yes", False: "no", None: "—"}[r["demand_proven_optimal"]]
        out.append(
            f"| {r['case']} | {r['budget_seconds']} s | {r['solver_status'] or r['status']} "
            f"| {r['lines_built']}/{r['lines_requested']} | {_num(r['first_full_solution_seconds'], '.1f')} s "
            f"| {r['unfilled_required_seats']} | {_num(r['required_seats_filled'], '.1%')} | {proven} "
            f"| {_num(r['soft_score'], '.0f')} | {_num(r['soft_score_bound'], '.0f')} |"
        )
    return "\n".join(out)


def _lines_with(histogram: dict[str, int], at_least: int) -> int:
    return sum(n for value, n in histogram.items() if int(value) >= at_least)


def quality_of(inp: PlannerInput) -> dict[str, Any]:
    """One solve's quality figures (``result_metadata.quality``) and the local search's."""
    outcome = solve(dataclasses.replace(inp, max_seconds=READING_BUDGET, num_workers=2), SolveContext(threads=2))
    meta = outcome.metadata
    search = ((meta.get("soft_goals") or {}).get("diversity") or {}).get("local_search") or {}
    grid = [[r.position_id for r in line.rotations] for line in outcome.payload or ()]
    return {
        "lines_digest": _digest(grid),
        "repeatable": meta.get("repeatable"),
        "lines_built": meta.get("lines_built"),
        "unfilled_required_seats": meta.get("unfilled_required_seats"),
        "min_distance_from_cp_sat": search.get("min_distance_before"),
        "pairs_at_min": search.get("pairs_at_min_after"),
        **_read(meta.get("quality") or {}),
    }


def quality_before(tree: Path, name: str, inp: PlannerInput) -> dict[str, Any]:
    """The same figures for the lines the release in ``tree`` builds (``planner_before``)."""
    lines = solve_there(tree, name, READING_BUDGET)
    problem = build_problem(inp)
    index = {p.id: i for i, p in enumerate(problem.positions)}
    grid = [[index[r.position_id] for r in line.clinical if r.position_id is not None] for line in lines]
    distances = quality.pairwise_distances([[r.position_id for r in line.clinical] for line in lines])
    return {
        "lines_digest": _digest([[r.position_id for r in line.rotations] for line in lines]),
        "repeatable": None,
        "lines_built": len(lines),
        "unfilled_required_seats": unfilled_required(problem, grid),
        "min_distance_from_cp_sat": None,
        "pairs_at_min": distances.count(min(distances)) if distances else None,
        **_read(quality.figures(inp, lines)),
    }


def _digest(grid: list[list[Any]]) -> str:
    """The lines' positions term by term, hashed: equal digests, identical lines."""
    return hashlib.sha256(json.dumps(grid, default=str).encode()).hexdigest()[:16]


def _read(q: dict[str, Any]) -> dict[str, Any]:
    return {
        "min_pairwise_distance": q.get("min_pairwise_distance"),
        "mean_pairwise_distance": q.get("mean_pairwise_distance"),
        "lines_with_2_rural_or_more": _lines_with(q.get("rural_terms_per_line") or {}, 2),
        "lines_with_a_specialty_3_times": _lines_with(q.get("most_terms_of_one_specialty") or {}, 3),
        "lines_on_leave_in_week_1": q.get("lines_on_leave_in_week_1"),
        "lines_working_half_a_long_term": q.get("lines_working_half_a_long_term"),
    }


def reading_main() -> dict[str, Any]:
    rows = []
    clock_bound = f"clock-bound search ({CLOCK_BOUND})"
    before = f"before ({BEFORE})"
    with release_tree() as old, release_tree(CLOCK_BOUND) as clocked:
        for name, inp in reading_cases():
            runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": [], clock_bound: [], before: []}
            for _ in range(READING_REPEATS):  # alternated: the machine's load falls on all alike
                runs["on"].append(quality_of(inp))
                runs["off"].append(
                    quality_of(dataclasses.replace(inp, constraints=(*inp.constraints, "NO_READING_GOALS")))
                )
                runs[clock_bound].append(quality_before(clocked, name, inp))
                runs[before].append(quality_before(old, name, inp))
            for variant, found in runs.items():
                medians = {
                    k: statistics.median(values) if (values := [r[k] for r in found if r[k] is not None]) else None
                    for k in found[0]
                    if k not in ("lines_digest", "repeatable")
                }
                rows.append(
                    {
                        "case": name,
                        "variant": variant,
                        "budget_seconds": READING_BUDGET,
                        "distinct_line_sets": len({r["lines_digest"] for r in found}),
                        **medians,
                        "runs": found,
                    }
                )
                print({k: v for k, v in rows[-1].items() if k != "runs"})
    meta = {"repeats": READING_REPEATS, "before": BEFORE, "clock_bound": CLOCK_BOUND, "rows": rows}
    save("planner_reading", meta, reading_table(rows))
    return {"rows": rows}


def reading_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| case | variant | fewest terms apart (CP-SAT → after) | pairs at it | mean apart "
        "| lines 2+ rural | specialty 3 times | week-1 leave | half a long term | required unfilled "
        "| distinct line sets |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['case']} | {r['variant']} "
            f"| {_num(r['min_distance_from_cp_sat'], 'g')} → {_num(r['min_pairwise_distance'], 'g')} "
            f"| {_num(r['pairs_at_min'], 'g')} | {_num(r['mean_pairwise_distance'], '.3f')} "
            f"| {_num(r['lines_with_2_rural_or_more'], 'g')} | {_num(r['lines_with_a_specialty_3_times'], 'g')} "
            f"| {_num(r['lines_on_leave_in_week_1'], 'g')} | {_num(r['lines_working_half_a_long_term'], 'g')} "
            f"| {_num(r['unfilled_required_seats'], 'g')} | {r['distinct_line_sets']} of {READING_REPEATS} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    main()
