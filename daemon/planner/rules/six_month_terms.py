"""ALLOW_6_MONTH_TERMS: two consecutive terms in one position may count as one 6-month term.

It relaxes the always-on "a line holds a position at most once" to "at most once, or twice in
consecutive terms"; the model then makes the pairs visible to the term-count rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.planner.rules.base import Rule


@dataclass(frozen=True)
class SixMonthTerms(Rule):
    source: str = "ALLOW_6_MONTH_TERMS"
    six_month_terms: bool = True

    def describe(self) -> str:
        return "two consecutive terms in one position may be one 6-month term"


def allow_six_month_terms() -> list[Rule]:
    return [SixMonthTerms()]
