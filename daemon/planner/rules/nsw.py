"""NSW_PGY1 and NSW_PGY2: the AMC rules, exactly five terms, at most one service term."""

from __future__ import annotations

from collections.abc import Callable

from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.base import Rule
from daemon.planner.rules.counts import MaxSlots
from daemon.planner.rules.predicates import is_service
from daemon.planner.rules.terms import ExactTermCount

# What each template asks of every line, in words (the diagnostics sheet's rules table).
MEANINGS = {
    "NSW_PGY1": "AMC_PGY1, plus exactly five terms and at most one service term",
    "NSW_PGY2": "AMC_PGY2, plus exactly five terms and at most one service term",
}


def _nsw(source: str, amc: Callable[[str], list[Rule]]) -> list[Rule]:
    return [
        *amc(source),
        # Both are settings NUM_TERMS=k / MAX_SERVICE_TERMS=k may override (their slots).
        ExactTermCount(source, 5),
        MaxSlots(source, "service", is_service, 1, slot="service_terms"),
    ]


def nsw_pgy1() -> list[Rule]:
    return _nsw("NSW_PGY1", amc_pgy1)


def nsw_pgy2() -> list[Rule]:
    return _nsw("NSW_PGY2", amc_pgy2)
