"""MAX_ONE_RURAL: at most one rural term per line."""

from __future__ import annotations

from daemon.planner.rules.base import Rule
from daemon.planner.rules.counts import MaxSlots
from daemon.planner.rules.predicates import is_rural

MEANINGS = {"MAX_ONE_RURAL": "at most one rural term per line"}


def max_one_rural() -> list[Rule]:
    return [MaxSlots("MAX_ONE_RURAL", "rural", is_rural, 1)]
