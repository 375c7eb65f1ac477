"""VIC_PGY1 and VIC_PGY2: the AMC rules plus PMCV's (SPEC §5).

PMCV's one PGY2 addition in the SPEC, 6-month terms only where ALLOW_6_MONTH_TERMS is set, is
the always-on default: a line holds a position once unless that option is given.
"""

from __future__ import annotations

from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.base import Rule
from daemon.planner.rules.coverage import RequiredSpecialties
from daemon.planner.rules.terms import TermStructureIs


def vic_pgy1() -> list[Rule]:
    source = "VIC_PGY1"
    return [
        *amc_pgy1(source),
        TermStructureIs(source, (10, 10, 10, 10, 12)),
        # One rule per specialty, so a diagnosis names the one that blocks.
        *(RequiredSpecialties(source, (s,)) for s in ("Medicine", "Surgery", "Emergency Medicine")),
    ]


def vic_pgy2() -> list[Rule]:
    return amc_pgy2("VIC_PGY2")
