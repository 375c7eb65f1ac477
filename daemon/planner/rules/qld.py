"""QLD_PGY1 and QLD_PGY2: the AMC baseline on the hospital's term structure, plus PMAQ's
accreditation of a term for at most two clinical experience categories.

A post recorded with more than two categories cannot be a QLD term as accredited: the run is
bad input naming every such post (fix the data, not the plan).
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.base import Plan, Rule
from daemon.planner.rules.predicates import shown

# What each template asks of every line, in words (the diagnostics sheet's rules table).
MEANINGS = {
    "QLD_PGY1": "QLD: the AMC PGY1 baseline (AMC_PGY1) with the hospital's term structure; a position listing "
    "more than two experience categories is bad input (PMAQ)",
    "QLD_PGY2": "QLD: the AMC PGY2 baseline (AMC_PGY2) with the hospital's term structure; a position listing "
    "more than two experience categories is bad input (PMAQ)",
}

MAX_LISTED = 10


@dataclass(frozen=True)
class AtMostTwoCategories(Rule):
    """Every position of the run is accredited for at most ``limit`` experience categories."""

    source: str
    limit: int = 2

    def describe(self) -> str:
        return f"a post is accredited for at most {self.limit} experience categories"

    def check_input(self, problem: Plan) -> list[str]:
        over = [
            f"{shown(p.name)} ({''.join(sorted(set(p.experience_categories)))})"
            for p in problem.inp.positions
            if len(set(p.experience_categories)) > self.limit
        ]
        if not over:
            return []
        more = len(over) - MAX_LISTED
        named = ", ".join(over[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")
        return [
            f"{self.source}: PMAQ accredits a term for at most {self.limit} experience categories; "
            f"positions.experience_categories lists more for {named}"
        ]


def qld_pgy1() -> list[Rule]:
    return [*amc_pgy1("QLD_PGY1"), AtMostTwoCategories("QLD_PGY1")]


def qld_pgy2() -> list[Rule]:
    return [*amc_pgy2("QLD_PGY2"), AtMostTwoCategories("QLD_PGY2")]
