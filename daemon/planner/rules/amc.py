"""AMC_PGY1 and AMC_PGY2: the national framework every state template builds on (SPEC §5).

The long terms are in different specialties as PMCV's "PGY1 & PGY2 Requirements" word them:
parent specialties for PGY1, subspecialties for PGY2 (``distinct_specialties``).
"""

from __future__ import annotations

from daemon.planner.rules.base import Rule
from daemon.planner.rules.counts import MaxSlots
from daemon.planner.rules.coverage import CategoriesCovered
from daemon.planner.rules.distinct_specialties import distinct_parent_specialties, distinct_subspecialties
from daemon.planner.rules.predicates import is_non_clinical
from daemon.planner.rules.shares import ServiceShareCap, ShareCap, TeamShareMin
from daemon.planner.rules.terms import MinClinicalWeeks, MinLongTerms

# What each template asks of every line, in words (the diagnostics sheet's rules table).
MEANINGS = {
    "AMC_PGY1": "AMC PGY1: at least 4 terms of at least 10 weeks, in 4 different parent specialties, and 47 "
    "clinical weeks; categories A, B, C and D "
    "all covered; at most 50% of weeks in one parent specialty, 25% in one subspecialty, 20% in service terms "
    "(one service term is always allowed in a year of four or more terms); at least 50% in team-based terms",
    "AMC_PGY2": "AMC PGY2: at least 3 terms of at least 10 weeks, in 3 different subspecialties (a post without "
    "one counts as its parent specialty), and 47 clinical weeks; categories A, B and C "
    "covered; at most 25% of weeks in one subspecialty, one non-clinical term, 25% in service terms; at least "
    "50% in team-based terms",
}

# One rule per category, so that a diagnosis names the category that blocks.


def amc_pgy1(source: str = "AMC_PGY1") -> list[Rule]:
    return [
        MinLongTerms(source, count=4),
        distinct_parent_specialties(source, 4),
        MinClinicalWeeks(source, weeks=47),
        *(CategoriesCovered(source, (c,)) for c in "ABCD"),
        ShareCap(source, "parent_specialty", 50),
        ShareCap(source, "subspecialty", 25),
        ServiceShareCap(source, 20),
        TeamShareMin(source, 50),
    ]


def amc_pgy2(source: str = "AMC_PGY2") -> list[Rule]:
    return [
        MinLongTerms(source, count=3),
        distinct_subspecialties(source, 3),
        MinClinicalWeeks(source, weeks=47),
        *(CategoriesCovered(source, (c,)) for c in "ABC"),
        ShareCap(source, "subspecialty", 25),
        MaxSlots(source, "non-clinical", is_non_clinical, 1),
        ServiceShareCap(source, 25),
        TeamShareMin(source, 50),
    ]
