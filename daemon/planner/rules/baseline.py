"""SA_, WA_, TAS_ and NT_ templates: the AMC baseline on the hospital's term structure (4- or
5-term years, as the hospital's term structure says). QLD_ adds PMAQ's category limit (``qld``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from daemon.planner.rules.amc import amc_pgy1, amc_pgy2
from daemon.planner.rules.base import Rule
from daemon.planner.rules.qld import MEANINGS as QLD_MEANINGS
from daemon.planner.rules.qld import qld_pgy1, qld_pgy2

BASELINE_STATES = ("QLD", "SA", "WA", "TAS", "NT")
# What each template asks of every line, in words (the diagnostics sheet's rules table).
MEANINGS = {
    **{
        f"{state}_{cohort}": f"{state}: the AMC {cohort} baseline (AMC_{cohort}) with the hospital's term structure"
        for state in BASELINE_STATES
        for cohort in ("PGY1", "PGY2")
    },
    **QLD_MEANINGS,
}


def baseline_templates() -> dict[str, Callable[[], list[Rule]]]:
    out: dict[str, Callable[[], list[Rule]]] = {}
    for state in BASELINE_STATES:
        out[f"{state}_PGY1"] = partial(amc_pgy1, f"{state}_PGY1")
        out[f"{state}_PGY2"] = partial(amc_pgy2, f"{state}_PGY2")
    out["QLD_PGY1"] = qld_pgy1
    out["QLD_PGY2"] = qld_pgy2
    return out
