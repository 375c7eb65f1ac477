"""What a rule is, and what it sees of the model.

A rule has up to four jobs, each optional, each a method (plus ``describe`` and ``reads``,
which name it and the data it depends on in a diagnosis):

- ``check_input``: run parameters that contradict the rule (the run must be fixed: BadInput);
- ``shortfalls``: necessary conditions on the positions, as a bound on how many lines can be
  built (the INFEASIBLE diagnosis, or the reason a partial run has fewer lines);
- ``excludes``: positions no line may hold;
- ``add``: its constraints on one line of the CP-SAT model, through ``LineVars``.

Rules never see CP-SAT variables of other lines, so each stays a few lines of arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ortools.sat.python import cp_model

from daemon.planner.data import PlannerInput, Position
from daemon.planner.rules.predicates import Predicate


class Plan(Protocol):
    """What rules see of the run (``problem.Problem`` is one): the problem module builds on
    the rules, never the other way round."""

    @property
    def inp(self) -> PlannerInput: ...
    @property
    def positions(self) -> tuple[Position, ...]: ...
    @property
    def seats(self) -> tuple[tuple[int, ...], ...]: ...
    @property
    def barred(self) -> tuple[Position, ...]: ...
    @property
    def terms(self) -> tuple[int, ...]: ...
    @property
    def n_terms(self) -> int: ...
    @property
    def year_weeks(self) -> int: ...
    @property
    def six_month_starts(self) -> tuple[int, ...]: ...
    @property
    def most_six_month_terms(self) -> int: ...
    def term_seats(self, t: int, where: Predicate | None = None) -> int: ...
    def year_seats(self, where: Predicate) -> int: ...


@dataclass(frozen=True)
class Read:
    """Position data a rule reads, for a diagnosis to describe in plain words.

    ``role``: "needs" (every line needs such terms), "caps" (lines may hold few of them, so
    the other positions must carry the rest), "barred" (no line may hold them), "share" (one
    group of positions, capped as a share of the year), or "fact" (``fact`` says it all).
    """

    label: str  # plural, as an administrator says it: "team-based posts", "Surgery posts"
    where: Predicate
    role: Literal["needs", "caps", "barred", "share", "fact"]
    fact: str = ""
    limit: int = 0  # "caps": terms of the kind a line may hold
    need: int = 1  # "needs": terms of the kind every line holds, at least


@dataclass(frozen=True)
class Shortfall:
    """No more than ``max_lines`` lines can satisfy the rule, because ``reason``."""

    max_lines: int
    reason: str


class LineVars(Protocol):
    """One line of the model, as a rule sees it."""

    @property
    def model(self) -> cp_model.CpModel: ...

    @property
    def problem(self) -> Plan: ...

    def require(
        self, constraint: cp_model.BoundedLinearExpression | bool, *, when: cp_model.LiteralT | None = None
    ) -> None:
        """Add ``constraint`` for this line, enforced only when the line is built (and ``when``
        holds, if given).

        With partial filling a line may be left out; its terms are then all empty. In a
        diagnosis each rule can be switched off as a whole, so a rule adds every constraint of
        its own through here, never with ``model.add`` directly.
        """
        ...

    def slots(self, where: Predicate) -> cp_model.LinearExpr:
        """How many terms of the line are held in positions matching ``where``."""
        ...

    def weeks(self, where: Predicate) -> cp_model.LinearExpr:
        """Term weeks of the line in positions matching ``where`` (leave not deducted)."""
        ...

    def term_cells(self, term: int) -> Sequence[tuple[Position, cp_model.IntVar]]:
        """(p, v) for each position open in ``term``: v is 1 when the line holds p then."""
        ...

    def six_month_pairs(self) -> Sequence[tuple[int, cp_model.IntVar]]:
        """(t, v): v is 1 when terms t and t+1 hold the same position (a 6-month term).

        Only for t in ``Plan.six_month_starts``: empty unless ALLOW_6_MONTH_TERMS is on and
        two consecutive terms make 24-28 weeks.
        """
        ...


class Rule:
    """Base of every rule: each job defaults to "nothing to do"."""

    source: str  # the constraint name that brought the rule in, for messages
    # Rules sharing a slot are one setting: an explicit NAME=k replaces a template's.
    slot: str | None = None
    six_month_terms: bool = False

    def describe(self) -> str:
        """What the rule asks of every line, as the administrator knows it (no source)."""
        return type(self).__name__

    @property
    def title(self) -> str:
        """The rule named for a diagnosis: "AMC_PGY1: at least 50% of weeks in team-based terms"."""
        return f"{self.source}: {self.describe()}"

    def reads(self, problem: Plan) -> list[Read]:
        """The position data the rule depends on (for the data at fault)."""
        return []

    def check_input(self, problem: Plan) -> list[str]:
        return []

    def shortfalls(self, problem: Plan) -> list[Shortfall]:
        return []

    def excludes(self, position: Position) -> bool:
        return False

    def add(self, line: LineVars) -> None:
        return None
