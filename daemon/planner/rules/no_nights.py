"""NO_NIGHTS: no line holds a nights/relief position."""

from __future__ import annotations

from daemon.planner.rules.base import Rule
from daemon.planner.rules.counts import Exclude
from daemon.planner.rules.predicates import is_nights

MEANINGS = {"NO_NIGHTS": "no line holds a position marked is_nights (nights/relief)"}


def no_nights() -> list[Rule]:
    return [Exclude("NO_NIGHTS", is_nights, "nights/relief")]
