"""MAX_ONE_SERVICE and MAX_SERVICE_TERMS=k: caps on service (nights/relief) terms per line.

MAX_SERVICE_TERMS=k replaces a template's count (NSW's one); the AMC percentage caps stay.
"""

from __future__ import annotations

from daemon.planner.rules.base import Rule
from daemon.planner.rules.counts import MaxSlots
from daemon.planner.rules.predicates import is_service

MEANINGS = {"MAX_ONE_SERVICE": "at most one service term (is_service_term or is_nights) per line"}


def max_one_service() -> list[Rule]:
    return [MaxSlots("MAX_ONE_SERVICE", "service", is_service, 1)]


def max_service_terms(k: int) -> list[Rule]:
    return [MaxSlots(f"MAX_SERVICE_TERMS={k}", "service", is_service, k, slot="service_terms")]


def max_service_terms_meaning(k: int) -> str:
    return f"at most {k} service terms (is_service_term or is_nights) per line"
