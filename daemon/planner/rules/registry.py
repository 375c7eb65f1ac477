"""Constraint names -> rules: the catalogue of SPEC §5, ``NAME=k`` overrides, state templates."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from daemon.planner.rules import amc, baseline, max_one_rural, no_nights, nsw, num_terms, service_terms, vic
from daemon.planner.rules import six_month_terms as six_month
from daemon.planner.rules.base import Rule
from daemon.solving import BadInput
from daemon.text import listing

# Accreditation templates: an explicit NAME=k replaces their settings of the same slot.
TEMPLATES: dict[str, Callable[[], list[Rule]]] = {
    "AMC_PGY1": amc.amc_pgy1,
    "AMC_PGY2": amc.amc_pgy2,
    "VIC_PGY1": vic.vic_pgy1,
    "VIC_PGY2": vic.vic_pgy2,
    "NSW_PGY1": nsw.nsw_pgy1,
    "NSW_PGY2": nsw.nsw_pgy2,
    **baseline.baseline_templates(),
}
OPTIONS: dict[str, Callable[[], list[Rule]]] = {
    "UNRESTRICTED": list,
    "NO_NIGHTS": no_nights.no_nights,
    "MAX_ONE_RURAL": max_one_rural.max_one_rural,
    "MAX_ONE_SERVICE": service_terms.max_one_service,
    "ALLOW_6_MONTH_TERMS": six_month.allow_six_month_terms,
    # Run options with no rule: they switch off the soft reading goals (``planner.readable``),
    # or let leave start in week 1, orientation (``planner.leave``).
    "NO_READING_GOALS": list,
    "ALLOW_WEEK1_LEAVE": list,
}
# name: (least k, rules, what the rules ask in words)
PARAMETRISED: dict[str, tuple[int, Callable[[int], list[Rule]], Callable[[int], str]]] = {
    "MAX_SERVICE_TERMS": (0, service_terms.max_service_terms, service_terms.max_service_terms_meaning),
    "NUM_TERMS": (1, num_terms.num_terms, num_terms.meaning),
}
# What each name asks of every line, in words, as its rule module says it; the names with no
# rule module say it here.
MEANINGS: dict[str, str] = {
    **amc.MEANINGS,
    **vic.MEANINGS,
    **nsw.MEANINGS,
    **baseline.MEANINGS,
    **no_nights.MEANINGS,
    **max_one_rural.MEANINGS,
    **service_terms.MEANINGS,
    **six_month.MEANINGS,
    "UNRESTRICTED": "only the always-on rules: one position per term, capacities, the cohort, a position at most "
    "once per line, leave as one block or 2+3 / 3+2 weeks at least 13 weeks apart",
    "NO_READING_GOALS": "lines may hold several rural terms and a parent specialty three times or more at no "
    "cost (by default each such term is avoided unless the required seats need it)",
    "ALLOW_WEEK1_LEAVE": "leave may start in week 1 (by default week 1, orientation, is worked by every line)",
}
STATES = ("UNRESTRICTED", "AMC", "VIC", "NSW", *baseline.BASELINE_STATES)
_PARAMETRISED_NAME = re.compile(r"([A-Z_]+)=(-?\d+)")
# HMO3 / PGY3 and later: no accreditation template applies (the seeds' presale demos bypass the
# strict checks); a run with a state and such a cohort gets the always-on rules and its names.
_SENIOR_COHORT = re.compile(r"(?:HMO|PGY)0*([1-9][0-9]*)")
SENIOR_FROM = 3


def is_senior(cohort: str) -> bool:
    """HMO3, PGY3 or later (case-insensitive): past the AMC's two accredited years."""
    match = _SENIOR_COHORT.fullmatch(cohort.strip().upper())
    return match is not None and int(match[1]) >= SENIOR_FROM


def valid_names() -> list[str]:
    return [*sorted(TEMPLATES), *sorted(OPTIONS), *(f"{n}=k" for n in sorted(PARAMETRISED))]


@dataclass(frozen=True)
class RuleSet:
    names: tuple[str, ...]  # as applied: the state/cohort template first, then the run's names
    rules: tuple[Rule, ...]


def _template_of(state: str, cohort: str) -> str | None:
    if state not in STATES:
        raise BadInput(f"unknown state {state!r}; valid states: {', '.join(STATES)}")
    if state == "UNRESTRICTED" or is_senior(cohort):
        return None
    name = f"{state}_{cohort}"
    if name not in TEMPLATES:
        raise BadInput(
            f"state {state} selects its template by cohort, PGY1 or PGY2 (HMO3 / PGY3 and later: "
            f"no template); the run's cohort is {cohort!r}"
        )
    return name


def _parametrised(name: str) -> list[Rule] | None:
    match = _PARAMETRISED_NAME.fullmatch(name)
    if match is None or match[1] not in PARAMETRISED:
        return None
    least, make, _ = PARAMETRISED[match[1]]
    k = int(match[2])
    if k < least:
        raise BadInput(f"constraint {name}: k must be at least {least}")
    return make(k)


def resolve(constraints: Sequence[str], state: str, cohort: str) -> RuleSet:
    """The rules a run is generated under. Unknown names raise BadInput listing the valid ones."""
    template = _template_of(state.strip().upper(), cohort.strip().upper())
    names = list(dict.fromkeys([*([template] if template else []), *(c.strip().upper() for c in constraints)]))
    unknown = [n for n in names if n not in TEMPLATES and n not in OPTIONS and _parametrised(n) is None]
    if unknown:
        raise BadInput(f"unknown constraint name(s): {listing(unknown)}; valid names: {', '.join(valid_names())}")
    from_templates = [r for n in names if n in TEMPLATES for r in TEMPLATES[n]()]
    explicit = [r for n in names if n in OPTIONS for r in OPTIONS[n]()]
    overrides = [r for n in names for r in (_parametrised(n) or [])]
    replaced = {r.slot for r in overrides if r.slot}
    rules = [r for r in from_templates if r.slot not in replaced] + explicit + overrides
    return RuleSet(tuple(names), tuple(rules))


def meaning(name: str) -> str:
    """What a constraint name asks of every line, in words (SPEC §5's catalogue)."""
    if name in MEANINGS:
        return MEANINGS[name]
    match = _PARAMETRISED_NAME.fullmatch(name)
    if match is not None and match[1] in PARAMETRISED:
        return PARAMETRISED[match[1]][2](int(match[2]))
    return "(not in the catalogue)"
