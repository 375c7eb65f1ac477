"""The result workbook's ``diagnostics`` sheet: how the run went and why (status, proofs,
diagnosis, inferred specialties, the rules applied in words, soft goals, CP-SAT phases,
unfilled seats, violations), and every other metadata as JSON so nothing reported is lost.

What the sheet shows, for people: docs/planner-workbook.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from daemon.planner.data import PlannerInput
from daemon.planner.rules import meaning, resolve
from daemon.planner.xlsx_layout import DIAGNOSTICS
from daemon.solving import BadInput, SolveOutcome
from daemon.workbook import Cell, Formats, write_cell


def _rule_names(inp: PlannerInput, meta: Mapping[str, Any]) -> list[str]:
    if "rules" in meta:
        return [str(r) for r in meta["rules"]]
    try:
        return list(resolve(inp.constraints, inp.state, inp.cohort).names)
    except BadInput:
        return list(inp.constraints)


_SUMMARY_FIELDS: tuple[tuple[str, str, str | None], ...] = (
    # (metadata key, label, format attribute of Formats)
    ("status", "solver status", None),
    ("lines_requested", "lines requested", None),
    ("lines_built", "lines built", None),
    ("unfilled_required_seats", "required seats left unfilled", None),
    ("objective", "objective (last CP-SAT phase)", None),
    ("best_bound", "best bound (last phase)", None),
    ("gap", "gap (last phase; to a weak bound, not plan quality)", "percent"),
    ("solve_seconds", "solve seconds", "seconds"),
)
_DEMAND_FIELDS: tuple[tuple[str, str], ...] = (
    # (key of result_metadata.demand, label): the hard goal's proof, apart from the soft goals
    ("lines_proven_most", "lines built: proven the most possible"),
    ("required_seats_unfilled_proven_least", "required seats unfilled: proven the fewest possible"),
)
_SOFT_GOALS: tuple[tuple[str, str, str], ...] = (
    # (goal, metadata key, label)
    ("reading", "rural_terms_beyond_one", "rural terms beyond one per line (minimised)"),
    ("reading", "specialty_terms_beyond_two", "terms of a parent specialty beyond two per line (minimised)"),
    ("diversity", "identical_pairs", "identical pairs of lines"),
    ("diversity", "min_hamming", "fewest terms in which two lines differ"),
    ("diversity", "mean_hamming", "mean terms in which two lines differ"),
    ("diversity", "shared_terms_all_pairs", "terms shared, summed over all pairs of lines (minimised)"),
    ("affinity", "score", "specialty affinity of consecutive terms (maximised)"),
    ("leave", "first_half_share", "share of leave in the first half of the year"),
    ("leave", "target_first_half_share", "target share in the first half"),
    ("leave", "most_lines_on_leave_in_a_week", "most lines on leave in one week"),
    ("leave", "most_from_one_position_in_a_week", "most from one position on leave in one week"),
    ("leave", "split_leave_lines", "lines with split leave (2+3 or 3+2 weeks)"),
)
_QUALITY: tuple[tuple[str, str], ...] = (
    # (key of result_metadata.quality, label): measured on the lines as written
    ("min_pairwise_distance", "fewest terms in which two lines differ (all pairs)"),
    ("mean_pairwise_distance", "mean terms in which two lines differ (all pairs)"),
    ("pairs_differing_in_one_term", "pairs of lines differing in one term only"),
    ("specialties_per_line", "parent specialties per line {specialties: lines}"),
    ("most_terms_of_one_specialty", "most terms of one parent specialty {terms: lines}"),
    ("rural_terms_per_line", "rural terms per line {terms: lines}"),
    ("lines_on_leave_in_week_1", "lines on leave in week 1 (orientation)"),
    ("lines_working_half_a_long_term", "lines away half or more of a 10+ week term"),
)
_SHOWN = {
    *(key for key, _, _ in _SUMMARY_FIELDS),
    "rules",
    "pathways",
    "fewer_lines_because",
    "diagnosis",
    "violations",
    "dropped_positions",
    "closed_positions",
    "inferred",
    "positions_unmatched",
    "positions_ambiguous",
    "unfilled",
    "fill",  # the lines themselves show it
    "soft_goals",
    "quality",
    "phases",
    "demand",
    "conflict",  # its sentences are in "diagnosis"
}


class _Sheet:
    """A top-to-bottom writer: labelled rows, sections and tables on one sheet."""

    def __init__(self, ws: Any, formats: Formats) -> None:
        self.ws, self.formats, self.row = ws, formats, 0

    def field(self, label: str, value: Cell, fmt: Any = None) -> None:
        self.ws.write_string(self.row, 0, label, self.formats.label)
        write_cell(self.ws, self.row, 1, value, fmt)
        self.row += 1

    def items(self, label: str, values: Sequence[Cell]) -> None:
        for n, value in enumerate(values):
            self.field(label if n == 0 else "", value, self.formats.wrap)

    def section(self, title: str) -> None:
        self.row += 1
        self.ws.write_string(self.row, 0, title, self.formats.section)
        self.row += 1

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[Cell]], formats: Mapping[int, Any] | None = None
    ) -> None:
        for c, name in enumerate(header):
            self.ws.write_string(self.row, c, name, self.formats.header)
        self.row += 1
        for values in rows:
            for c, value in enumerate(values):
                write_cell(self.ws, self.row, c, value, (formats or {}).get(c))
            self.row += 1


def _as_cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value)


def diagnostics_sheet(wb: Any, formats: Formats, inp: PlannerInput, outcome: SolveOutcome) -> None:
    meta = outcome.metadata
    ws = wb.add_worksheet(DIAGNOSTICS)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2 + len(inp.term_structure) + 1, 12)
    out = _Sheet(ws, formats)
    names = {p.id: p.name for p in inp.positions}
    n_terms = len(inp.term_structure)

    out.field("run", inp.run_id)
    out.field("allocation run", inp.allocation_run_id)
    out.field("status", outcome.status)
    if outcome.error:
        out.field("error", outcome.error, formats.wrap)
    for key, label, fmt in _SUMMARY_FIELDS:
        if key in meta:
            out.field(label, _as_cell(meta[key]), getattr(formats, fmt) if fmt else None)
    proof: Mapping[str, Any] = meta.get("demand") or {}
    for key, label in _DEMAND_FIELDS:
        if key in proof:
            out.field(label, _as_cell(proof[key]))
    out.items("why fewer lines", [str(r) for r in meta.get("fewer_lines_because", ())])
    out.items("diagnosis", [str(r) for r in meta.get("diagnosis", ())])
    out.items("dropped excludable positions", [f"{names.get(p, p)} ({p})" for p in meta.get("dropped_positions", ())])
    out.items(f"closed to cohort {inp.cohort}", [f"{names.get(p, p)} ({p})" for p in meta.get("closed_positions", ())])
    inferred: Mapping[str, Mapping[str, Any]] = meta.get("inferred") or {}
    out.items(
        "specialty inferred from the name",
        [
            f"{i['name']} ({pid}): {i['parent_specialty']}"
            + (f" / {i['subspecialty']}" if i.get("subspecialty") else "")
            + f" (keyword {i['keyword']!r})"
            for pid, i in inferred.items()
        ],
    )
    out.items("no specialty keyword in the name", [str(n) for n in meta.get("positions_unmatched", ())])
    tied: Mapping[str, Sequence[str]] = meta.get("positions_ambiguous") or {}
    out.items("specialty keywords that disagree (none chosen)", [f"{n}: {', '.join(k)}" for n, k in tied.items()])

    out.section("Rules applied")
    out.table(("rule", "meaning"), [[name, meaning(name)] for name in _rule_names(inp, meta)], {1: formats.wrap})

    goals: Mapping[str, Mapping[str, Any]] = meta.get("soft_goals") or {}
    if goals:
        out.section("Soft goals")
        rows = [
            ["all", label, _as_cell(goals[key])]
            for key, label in (("score", "soft-goal score (lower is better)"), ("score_bound", "its lower bound"))
            if key in goals
        ]
        rows += [
            [goal, label, _as_cell(goals[goal][key])]
            for goal, key, label in _SOFT_GOALS
            if goal in goals and key in goals[goal]
        ]
        out.table(("goal", "measure", "value"), rows)

    pathways: Sequence[Mapping[str, Any]] = meta.get("pathways") or ()
    if pathways:
        out.section("Pathways (reserved lines, built first)")
        columns = ("name", "mode", "lines_reserved", "lines_built", "lines_met")
        out.table(
            ("pathway", "mode", "lines reserved", "lines built", "lines meeting it", "lines"),
            [[*(_as_cell(p.get(k)) for k in columns), ", ".join(map(str, p.get("lines", ())))] for p in pathways],
        )
    quality: Mapping[str, Any] = meta.get("quality") or {}
    if quality:
        out.section("How the lines read")
        rows = [[label, _as_cell(quality[key])] for key, label in _QUALITY if key in quality]
        out.table(("measure", "value"), rows)
        away: Sequence[int] = quality.get("leave_by_week") or ()
        out.table(("week", "lines on leave"), [[week, n] for week, n in enumerate(away, start=1)])

    phases: Mapping[str, Mapping[str, Any]] = meta.get("phases") or {}
    if phases:
        out.section("CP-SAT phases")
        keys = ("status", "objective", "best_bound", "gap", "seconds", "solutions")
        out.table(
            ("phase", "status", "objective", "best bound", "gap", "seconds", "solutions"),
            [[phase, *(_as_cell(p.get(k)) for k in keys)] for phase, p in phases.items()],
            {4: formats.percent, 5: formats.seconds},
        )

    unfilled: Sequence[Mapping[str, Any]] = meta.get("unfilled") or ()
    if unfilled:
        out.section("Unfilled seats by position and term")
        grid: dict[str, list[int]] = {}
        kind: dict[str, str] = {}
        for u in unfilled:
            pid = str(u["position"])
            grid.setdefault(pid, [0] * n_terms)[int(u["term_index"])] += int(u["unfilled"])
            kind[pid] = "barred by a rule" if u.get("barred") else "excludable" if u.get("excludable") else "required"
        out.table(
            ("position", "name", "kind", *(f"Term {t + 1}" for t in range(n_terms)), "total"),
            [
                [pid, names.get(pid, pid), kind[pid], *(n or None for n in seats), sum(seats)]
                for pid, seats in grid.items()
            ],
        )

    violations = meta.get("violations") or ()
    if violations:
        out.section("Compliance check violations")
        out.items("violation", [str(v) for v in violations])

    others = {k: v for k, v in meta.items() if k not in _SHOWN}
    if others:
        out.section("Other metadata")
        for key, value in others.items():
            out.field(key, _as_cell(value), formats.wrap)
