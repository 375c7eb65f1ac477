"""The CP-SAT model of SPEC §5's hard rules: x[l, t, i] = line l holds position i in term t.

Always on: one position per built line per term; seats per position and term; a line holds a
position once (or twice as one 6-month term under ALLOW_6_MONTH_TERMS); then every rule adds
its constraints line by line through ``LineVars`` — in a diagnosis (``conflict``) each rule
behind a literal of its own, so that it can be switched off. The first lines are the run's
pathways' (``pathways``), constrained on those lines only; an optional one that does not meet
an exact pathway is a pool line (``Line.meets``). Objectives live in ``goals``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from daemon.planner import pathways
from daemon.planner.data import Pathway, Position
from daemon.planner.problem import Problem
from daemon.planner.rules.predicates import Predicate

Cell = tuple[int, int]  # (term, position index)


@dataclass
class Line:
    """One line of the model; implements ``rules.LineVars``."""

    model: cp_model.CpModel
    problem: Problem
    cells: dict[Cell, cp_model.IntVar]
    built_var: cp_model.IntVar | None  # None: the line is always built
    pairs: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)
    switch: cp_model.IntVar | None = None  # set on a rule's view of the line: the rule is on
    pathway: Pathway | None = None  # the pathway the line is reserved for; None: the general pool
    # An optional line reserved for an exact pathway: true when it meets the pathway. Built
    # without it, it is a pool line, so a pathway no line can meet never costs a line.
    # None: the line meets its pathway whenever it is built.
    meets: cp_model.IntVar | None = None

    def require(
        self, constraint: cp_model.BoundedLinearExpression | bool, *, when: cp_model.LiteralT | None = None
    ) -> None:
        added = self.model.add(constraint)
        enforced = [v for v in (self.built_var, self.switch, when) if v is not None]
        if enforced:
            added.only_enforce_if(enforced)

    def under(self, switch: cp_model.IntVar | None) -> Line:
        """This line as one rule sees it: every constraint it adds holds only when ``switch``
        does (same variables, same pairs)."""
        return self if switch is None else replace(self, switch=switch)

    def _matching(self, where: Predicate) -> list[tuple[Cell, cp_model.IntVar]]:
        match = [where(p) for p in self.problem.positions]
        return [(cell, v) for cell, v in self.cells.items() if match[cell[1]]]

    def slots(self, where: Predicate) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.sum([v for _, v in self._matching(where)])

    def weeks(self, where: Predicate) -> cp_model.LinearExpr:
        found = self._matching(where)
        terms = self.problem.terms
        return cp_model.LinearExpr.weighted_sum([v for _, v in found], [terms[t] for (t, _), _ in found])

    def term_cells(self, term: int) -> Sequence[tuple[Position, cp_model.IntVar]]:
        positions = self.problem.positions
        return [(positions[i], v) for (t, i), v in self.cells.items() if t == term]

    def six_month_pairs(self) -> Sequence[tuple[int, cp_model.IntVar]]:
        return self.pairs


@dataclass
class PlanModel:
    model: cp_model.CpModel
    problem: Problem
    lines: list[Line]
    n_built: cp_model.LinearExpr
    unfilled_required: cp_model.LinearExpr  # seats of non-excludable positions left empty
    reserved: tuple[int, ...]  # lines per pathway: the first lines, pathway by pathway
    n_reserved_met: cp_model.LinearExpr  # reserved lines built that meet their pathway
    pathway_shortfall: cp_model.LinearExpr  # terms soft pathways' lines are short of
    # One literal per rule of problem.rules when built switchable (a diagnosis): the rule's
    # constraints hold when it is true. Empty otherwise: every rule always holds.
    switches: list[cp_model.IntVar] = field(default_factory=list)


def _add_six_month_pairs(line: Line, n_terms: int) -> None:
    """Pair variables for a 6-month term (one position in consecutive terms t, t+1 of
    24-28 weeks together, ``Problem.six_month_starts``); other repeats are barred."""
    model, cells = line.model, line.cells
    starts = line.problem.six_month_starts
    positions = {i for _, i in cells}
    for i in sorted(positions):
        held = [(t, cells[t, i]) for t in range(n_terms) if (t, i) in cells]
        for a, (t1, v1) in enumerate(held):
            for t2, v2 in held[a + 1 :]:
                if not (t2 == t1 + 1 and t1 in starts):
                    model.add_at_most_one(v1, v2)
    for t in starts:
        both = []
        for i in sorted(positions):
            if (t, i) in cells and (t + 1, i) in cells:
                y = model.new_bool_var("")
                model.add_multiplication_equality(y, [cells[t, i], cells[t + 1, i]])
                both.append(y)
        if both:
            pair = model.new_bool_var("")
            model.add(pair == cp_model.LinearExpr.sum(both))
            line.pairs.append((t, pair))


def _add_rules(model: cp_model.CpModel, problem: Problem, lines: list[Line], switchable: bool) -> list[cp_model.IntVar]:
    switches = [model.new_bool_var(f"rule {k}") for k in range(len(problem.rules))] if switchable else []
    for k, rule in enumerate(problem.rules):
        switch = switches[k] if switchable else None
        # Positions a rule bars are normally not in the problem at all; a diagnosis puts them
        # back (``conflict``), and then the rule's own switch keeps lines out of them.
        barred = {i for i, p in enumerate(problem.positions) if rule.excludes(p)}
        for line in lines:
            view = line.under(switch)
            rule.add(view)
            for (_, i), v in line.cells.items() if barred else ():
                if i in barred:
                    view.require(v == 0)
    return switches


# Seconds to build the model per (line, open cell), rules and all: 7-12 us measured here (VIC_PGY1,
# 200,000 line-cells, switchable or not); a margin for a loaded machine.
BUILD_SECONDS_PER_CELL = 15e-6


def estimated_build_seconds(problem: Problem, n_lines: int, *, every_cell: bool = False) -> float:
    """About how long ``build_model`` takes for ``n_lines`` lines (``every_cell``: each
    position open in each term, as ``remedy.fewest_extra_seats`` builds it)."""
    if every_cell:
        cells = len(problem.positions) * problem.n_terms
    else:
        cells = sum(1 for seats in problem.seats for s in seats if s > 0)
    return cells * n_lines * BUILD_SECONDS_PER_CELL


def build_model(
    problem: Problem,
    n_lines: int,
    *,
    optional_lines: bool,
    switchable: bool = False,
    reserved: tuple[int, ...] | None = None,
) -> PlanModel:
    """``n_lines`` lines, all built, or each optional (partial filling) when asked; with
    ``switchable``, each rule can be switched off (``PlanModel.switches``). ``reserved``: lines
    per pathway (default: each pathway's own, the first first, as far as ``n_lines`` go)."""
    counts = pathways.reserved(problem, n_lines) if reserved is None else reserved
    reserved_for = pathways.line_pathways(problem, n_lines, counts)
    model = cp_model.CpModel()
    n_terms = problem.n_terms
    open_cells = [(t, i) for i, seats in enumerate(problem.seats) for t in range(n_terms) if seats[t] > 0]
    by_term = [[c for c in open_cells if c[0] == t] for t in range(n_terms)]
    by_position = [[c for c in open_cells if c[1] == i] for i in range(len(problem.positions))]
    lines: list[Line] = []
    for pathway in reserved_for:
        built = model.new_bool_var("") if optional_lines else None
        cells = {c: model.new_bool_var("") for c in open_cells}
        line = Line(model, problem, cells, built, pathway=pathway)
        if built is not None and pathway is not None and pathway.mode == "exact":
            line.meets = model.new_bool_var("")
            model.add(line.meets <= built)
        for term in by_term:
            if built is None:
                model.add_exactly_one(cells[c] for c in term)
            else:
                model.add(cp_model.LinearExpr.sum([cells[c] for c in term]) == built)
        if problem.six_month_starts:
            _add_six_month_pairs(line, n_terms)
        else:
            for held in by_position:
                model.add_at_most_one(cells[c] for c in held)
        lines.append(line)
    # Built lines first, and of those the ones meeting their pathway: optional lines of one
    # pathway (or of the pool) are interchangeable otherwise (ordered by met, then built, they
    # satisfy both). Not across pathways: a pathway's line left out must not drop the pool's.
    built_vars = [ln.built_var for ln in lines if ln.built_var is not None]
    for a, b in itertools.pairwise(lines):
        if a.built_var is not None and b.built_var is not None and a.pathway is b.pathway:
            model.add(a.built_var >= b.built_var)
            if a.meets is not None and b.meets is not None:
                model.add(a.meets >= b.meets)
    unfilled = []
    for t, i in open_cells:
        seats = problem.seats[i][t]
        filled = cp_model.LinearExpr.sum([ln.cells[t, i] for ln in lines])
        model.add(filled <= seats)
        if not problem.positions[i].excludable:
            unfilled.append(seats - filled)
    switches = _add_rules(model, problem, lines, switchable)
    shortfall = [pathways.add(ln, ln.pathway, ln.meets) for ln in lines if ln.pathway is not None]
    reserved_met = [ln.meets if ln.meets is not None else ln.built_var for ln in lines if ln.pathway is not None]
    n_reserved = sum(counts)
    return PlanModel(
        model=model,
        problem=problem,
        lines=lines,
        n_built=cp_model.LinearExpr.sum(built_vars) if optional_lines else cp_model.LinearExpr.constant(n_lines),
        unfilled_required=cp_model.LinearExpr.sum(unfilled),
        reserved=tuple(counts),
        n_reserved_met=cp_model.LinearExpr.sum([v for v in reserved_met if v is not None])
        if optional_lines
        else cp_model.LinearExpr.constant(n_reserved),
        pathway_shortfall=cp_model.LinearExpr.sum(shortfall),
        switches=switches,
    )


def line_positions(
    plan: PlanModel, value: cp_model.CpSolver | cp_model.CpSolverSolutionCallback
) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """The built lines of a solution (the position index each holds per term) and how many of
    them each pathway has: each pathway's lines meeting it, pathway by pathway, then the pool's
    (a reserved line that does not meet its exact pathway among them), each in model order."""
    mine: dict[Pathway | None, list[tuple[int, ...]]] = {p: [] for p in (*plan.problem.inp.pathways, None)}
    for line in plan.lines:
        held = sorted(cell for cell, v in line.cells.items() if value.boolean_value(v))
        if held:
            meets = line.meets is None or value.boolean_value(line.meets)
            mine[line.pathway if meets else None].append(tuple(i for _, i in held))
    return [held for lines in mine.values() for held in lines], tuple(len(mine[p]) for p in plan.problem.inp.pathways)
