"""NUM_TERMS=k: exactly k terms per line (a 6-month term counts once); replaces a template's."""

from __future__ import annotations

from daemon.planner.rules.base import Rule
from daemon.planner.rules.terms import ExactTermCount


def num_terms(k: int) -> list[Rule]:
    return [ExactTermCount(f"NUM_TERMS={k}", k)]


def meaning(k: int) -> str:
    return f"exactly {k} terms per line"
