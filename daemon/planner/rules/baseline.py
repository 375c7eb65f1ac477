"""QLD_, SA_, WA_, TAS_ and NT_ templates: the AMC baseline on the hospital's term structure."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.base import Rule

BASELINE_STATES = ("QLD", "SA", "WA", "TAS", "NT")


def baseline_templates() -> dict[str, Callable[[], list[Rule]]]:
    out: dict[str, Callable[[], list[Rule]]] = {}
    for state in BASELINE_STATES:
        out[f"{state}_PGY1"] = partial(amc_pgy1, f"{state}_PGY1")
        out[f"{state}_PGY2"] = partial(amc_pgy2, f"{state}_PGY2")
    return out
