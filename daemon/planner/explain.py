"""The diagnosis of a run that builds fewer lines than asked (or none): which rules conflict,
the data at fault, and the smallest change that fixes it, each measured by CP-SAT.

``explain`` runs in its own time budget (a share of ``max_seconds``, a cap per re-solve) and
says what it could not prove in that time. Its sentences go first into ``last_error`` and
``result_metadata.diagnosis``; the structured detail into ``result_metadata.conflict``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from daemon.planner import pathways
from daemon.planner.conflict import Budget, Conflict, Verdict, Without, find_conflict, with_barred
from daemon.planner.diagnose import always_on_lines
from daemon.planner.fault import data_at_fault
from daemon.planner.problem import Problem
from daemon.planner.remedy import SeatFix, fewest_extra_seats
from daemon.solving import SolveContext
from daemon.text import bounded, printable

SHARE = 0.4  # of max_seconds, at most, for a diagnosis
MIN_SECONDS = 2.0  # a diagnosis gets at least this much, if the run has it left
PER_SOLVE_SECONDS = 5.0  # cap on each re-solve of the conflict search
CONFLICT_SHARE = 0.6  # of the diagnosis' time for the conflict; the rest for the seat fix
MAX_SEATS_LISTED = 5
# Names in a sentence are cut to daemon.text.NAME_WIDTH where they are quoted; these bound
# whatever else a sentence or the whole diagnosis could grow to (a workbook cell holds 32,767).
SENTENCE_LIMIT = 1000
DIAGNOSIS_LIMIT = 8000
# What becomes of the request without a rule, as result_metadata says it.
VERDICTS: dict[Verdict, str] = {"feasible": "builds", "infeasible": "still short", "unknown": "not settled in time"}


def _measured(without: Without) -> dict[str, Any]:
    return {"result": VERDICTS[without.verdict], "lines_found": without.lines}


def said(sentences: Sequence[str]) -> list[str]:
    """Sentences as result_metadata, last_error and the workbook get them: no control
    characters, each bounded."""
    return [bounded(printable(s), SENTENCE_LIMIT) for s in sentences]


def joined(head: str, sentences: Sequence[str]) -> str:
    """A run's error: ``head`` then the sentences, bounded as a whole."""
    return bounded(head + "; ".join(said(sentences)), DIAGNOSIS_LIMIT)


def budget_for(max_seconds: float, left: float) -> float:
    return min(left, max(MIN_SECONDS, SHARE * max_seconds))


@dataclass(frozen=True)
class Diagnosis:
    sentences: tuple[str, ...]
    detail: dict[str, Any]


def lines_word(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def _said(conflict: Conflict, without: Without, built: int) -> str:
    n, found = conflict.lines, without.lines
    more = f" ({found - built} more than this run)" if found is not None and 0 < built < found else ""
    if without.verdict == "feasible":
        return f"{lines_word(n)} build{more}"
    if without.verdict == "infeasible":
        most = "" if found is None else f" (at most {found} build)"
        return f"{lines_word(n)} still cannot all be built{most}: another conflict remains"
    if found is not None:
        return f"at least {lines_word(found)} build{more}; whether all {n} do was not settled in time"
    return f"whether {lines_word(n)} build was not settled in time"


def _without(conflict: Conflict, built: int) -> list[str]:
    out = [
        f"without {r.title}, {_said(conflict, v, built)}" for r, v in zip(conflict.rules, conflict.without, strict=True)
    ]
    for rules in conflict.others:
        out.append("another conflict: " + "; ".join(r.title for r in rules))
    if conflict.dropped:
        names = " and ".join(r.title for r in conflict.dropped)
        out.append(f"without {names}, {_said(conflict, conflict.dropped_verdict, built)}")
    return out


def _conflict_sentences(conflict: Conflict | None, n: int, kept: str = "") -> list[str]:
    if conflict is None:
        return []
    if conflict.outcome == "possible":
        return [
            f"no rule conflict: CP-SAT built {conflict.lines} lines under every rule in the diagnosis; "
            "the run ran out of time (allow more max_seconds)"
        ]
    if conflict.skipped:
        return [
            "the rules in conflict were not searched for: a model of this size takes longer to build than the "
            "diagnosis' time (allow more max_seconds)"
        ]
    if conflict.outcome == "unknown":
        return ["the rules in conflict could not be found within the diagnosis' time"]
    if conflict.outcome == "data":
        but = f" but the {kept}" if kept else ""
        return [f"even with no rule at all{but}, {lines_word(conflict.lines)} cannot be built from these positions"]
    proof = (
        "a minimal set: without any one of them the conflict is gone"
        if conflict.minimal
        else "not proven minimal within the diagnosis' time"
    )
    return [
        f"rules in conflict for {lines_word(conflict.lines)} ({proof}): " + "; ".join(r.title for r in conflict.rules)
    ]


def _seat_sentence(fix: SeatFix | None, n: int, built: int) -> list[str]:
    if fix is None or not fix.seats:
        return []
    listed = ", ".join(s.words() for s in fix.seats[:MAX_SEATS_LISTED])
    more = len(fix.seats) - MAX_SEATS_LISTED
    listed += f" and {more} more" if more > 0 else ""
    gain = f" ({n - built} more than this run)" if 0 < built < n else ""
    fewest = " (proven the fewest extra seats)" if fix.fewest else " (fewer extra seats not ruled out in time)"
    return [f"with {listed}, {'all ' if n > 1 else ''}{lines_word(n)} build{gain}{fewest}"]


def explain(problem: Problem, found: Sequence[tuple[int, ...]], ctx: SolveContext, seconds: float) -> Diagnosis:
    """Why the lines ``found`` and not ``n_job_lines``, in at most about ``seconds``."""
    started = time.perf_counter()
    built = len(found)
    n = problem.inp.n_job_lines
    roomy = with_barred(problem)
    # The request the rules are tested against: as many lines as the seats allow without any
    # rule (the count alone explains the rest, and no rule can be blamed for it).
    lines = always_on_lines(roomy)
    conflict = None
    if lines > built:
        budget = Budget(started + CONFLICT_SHARE * seconds, min(PER_SOLVE_SECONDS, seconds / 2))
        conflict = find_conflict(problem, lines, ctx, budget, found)
        if conflict.outcome == "possible" and lines < n:
            conflict = None  # every rule holds on all the lines the seats allow: seats are short
    rules = conflict.rules if conflict else ()
    data = said(data_at_fault(roomy, rules, lines if rules else n))
    fix = fewest_extra_seats(problem, n, ctx, started + seconds - time.perf_counter(), found)
    kept = pathways.kept(problem)
    sentences = said(
        [
            *([f"this diagnosis holds the {kept} throughout; it does not test dropping a pathway"] if kept else []),
            *_conflict_sentences(conflict, n, kept),
            *(["data at fault: " + "; ".join(data)] if data else []),
            *(_without(conflict, built) if conflict else []),
            *_seat_sentence(fix, n, built),
        ]
    )
    detail: dict[str, Any] = {
        "lines_asked": n,
        "lines_built": built,
        "lines_tested": lines,
        "outcome": conflict.outcome if conflict else "seats",
        "rules": [
            {
                "constraint": r.source,
                "rule": r.describe(),
                "without_it": VERDICTS[v.verdict],
                "lines_without_it": v.lines,
            }
            for r, v in zip(rules, conflict.without if conflict else (), strict=True)
        ],
        "other_conflicts": [[r.title for r in c] for c in conflict.others] if conflict else [],
        "without_together": None
        if not conflict or not conflict.dropped
        else {"rules": [r.title for r in conflict.dropped], **_measured(conflict.dropped_verdict)},
        "minimal": None if not rules else "proven" if conflict and conflict.minimal else "not proven in time",
        "data": data,
        "seat_fix": None
        if fix is None
        else {
            "lines": fix.lines,
            "fewest": fix.fewest,
            "seats": [{"position": s.position_id, "term_index": s.term_index, "seats": s.seats} for s in fix.seats],
        },
        "solves": conflict.solves if conflict else 0,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Diagnosis(tuple(sentences), detail)
