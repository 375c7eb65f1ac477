"""Position predicates the rules share: what counts as service, rural, team-based, ...

One definition each, so every rule module reads a position the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from daemon.planner.data import Position
from daemon.text import NAME_WIDTH, bounded, printable

Predicate = Callable[[Position], bool]


def specialty_key(name: str | None) -> str:
    """Specialties compare case- and space-insensitively ("surgery" is "Surgery ")."""
    return " ".join((name or "").split()).casefold()


def shown(name: str | None) -> str:
    """A name from the run's data as a diagnosis quotes it: printable, at most NAME_WIDTH."""
    return bounded(printable(name or ""), NAME_WIDTH)


def is_service(p: Position) -> bool:
    # SPEC: "service (nights/relief) term" — a relief/nights post is service work too.
    return p.is_service_term or p.is_nights


def is_nights(p: Position) -> bool:
    return p.is_nights


def is_rural(p: Position) -> bool:
    return p.is_rural


def is_non_clinical(p: Position) -> bool:
    return p.is_non_clinical


def is_team_based(p: Position) -> bool:
    return p.is_team_based


def is_six_month_approved(p: Position) -> bool:
    return p.six_month_approved


def has_category(category: str) -> Predicate:
    return lambda p: category in p.experience_categories


def in_specialty(specialty: str) -> Predicate:
    key = specialty_key(specialty)
    return lambda p: specialty_key(p.parent_specialty) == key
