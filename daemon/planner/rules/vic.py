"""VIC_PGY1 and VIC_PGY2: the AMC rules plus PMCV's (SPEC §5).

PMCV's PGY2 addition is about 6-month terms (``six_month_terms``), which still need
ALLOW_6_MONTH_TERMS: one only on a post approved for it, the line's other terms still covering
A, B and C, and the 6-month term exempt from the 25% subspecialty cap. Without a 6-month term
on the line the three add nothing to AMC_PGY2.
"""

from __future__ import annotations

from dataclasses import replace

from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.base import Rule
from daemon.planner.rules.coverage import RequiredSpecialties
from daemon.planner.rules.shares import ShareCap
from daemon.planner.rules.six_month_terms import CategoriesOutsideSixMonthTerms, SixMonthOnApprovedPosts
from daemon.planner.rules.terms import TermStructureIs

# What each template asks of every line, in words (the diagnostics sheet's rules table).
MEANINGS = {
    "VIC_PGY1": "AMC_PGY1, plus five terms of 10/10/10/10/12 weeks with the 12-week term last, and a Medicine, "
    "a Surgery and an Emergency Medicine term on every line",
    "VIC_PGY2": "AMC_PGY2, plus PMCV's rules for PGY2: with ALLOW_6_MONTH_TERMS, a 6-month term only on a "
    "position marked six_month_approved, the line's other terms still covering categories A, B and C, and the "
    "6-month term exempt from the 25% subspecialty cap",
}


def vic_pgy1() -> list[Rule]:
    source = "VIC_PGY1"
    return [
        *amc_pgy1(source),
        TermStructureIs(source, (10, 10, 10, 10, 12)),
        # One rule per specialty, so a diagnosis names the one that blocks.
        *(RequiredSpecialties(source, (s,)) for s in ("Medicine", "Surgery", "Emergency Medicine")),
    ]


def _exempt_six_month(rule: Rule) -> Rule:
    """AMC_PGY2's 25% subspecialty cap, with a 6-month term's weeks not counted."""
    if isinstance(rule, ShareCap) and rule.attribute == "subspecialty":
        return replace(rule, six_month_exempt=True)
    return rule


def vic_pgy2() -> list[Rule]:
    source = "VIC_PGY2"
    return [
        *(_exempt_six_month(r) for r in amc_pgy2(source)),
        SixMonthOnApprovedPosts(source),
        CategoriesOutsideSixMonthTerms(source, ("A", "B", "C")),
    ]
