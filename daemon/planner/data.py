"""The planner's raw input: a hospital's positions and the run's parameters as plain data.

Both loaders (PostgreSQL and XLSX) produce a ``PlannerInput``; the model validates and solves
it. Frozen dataclasses of plain values: picklable, printable, testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Position:
    id: str
    name: str
    parent_specialty: str
    subspecialty: str | None = None
    experience_categories: tuple[str, ...] = ()  # AMC categories 'A'..'D'
    is_service_term: bool = False
    is_nights: bool = False  # relief / nights
    is_rural: bool = False
    is_non_clinical: bool = False
    is_team_based: bool = True
    capacity: int = 1  # workers per term
    capacity_by_term: tuple[int, ...] | None = None  # None: ``capacity`` in every term
    cohorts: tuple[str, ...] | None = None  # None: open to any cohort
    excludable: bool = False  # may be left unfilled
    tags: tuple[str, ...] = ()
    # VIC_PGY2: a 6-month term may be built on this post (two subspecialty components, tied to a
    # diploma or certificate, a six-month placement required by the vocational college).
    six_month_approved: bool = False


@dataclass(frozen=True)
class Inferred:
    """A specialty ``infer`` filled in from a position's name (``position`` is its id)."""

    position: str
    name: str
    parent_specialty: str
    subspecialty: str | None  # None: the position kept its own (or the table gives none)
    keyword: str


@dataclass(frozen=True)
class Inference:
    """What the keyword table did to the positions that came without a parent specialty."""

    inferred: tuple[Inferred, ...] = ()
    unmatched: tuple[Position, ...] = ()  # no keyword in the name: left without a specialty
    ambiguous: tuple[tuple[Position, tuple[str, ...]], ...] = ()  # keywords that disagree: left without one


@dataclass(frozen=True)
class Pathway:
    """Lines reserved for a priority cohort (``daemon.planner.pathways`` says what it asks)."""

    name: str
    lines: int  # lines reserved
    specialties: tuple[str, ...]  # parent specialties or subspecialties, any of them
    min_terms: int = 1  # terms each reserved line holds in them, at least
    mode: str = "exact"  # "exact": a hard rule on those lines; "soft": a heavily weighted goal
    distinct: bool = False  # the terms counted are in different subspecialties


@dataclass(frozen=True)
class PlannerInput:
    run_id: str
    allocation_run_id: str
    n_job_lines: int
    positions: tuple[Position, ...]
    constraints: tuple[str, ...] = ("UNRESTRICTED",)
    state: str = "UNRESTRICTED"
    cohort: str = "ANY"
    term_structure: tuple[int, ...] = (10, 10, 10, 10, 12)
    leave_weeks: int = 5
    max_seconds: float = 60.0
    allow_partial_filling: bool = True
    num_workers: int | None = None  # CP-SAT search workers; None: the daemon's solver-threads setting
    rng_seed: int = 1234
    # (specialty_a, specialty_b) -> weight in -100..100; symmetric, optional.
    specialty_affinity: tuple[tuple[str, str, int], ...] = ()
    # What the loader inferred from position names (``positions`` already hold it).
    inference: Inference = field(default_factory=Inference)
    pathways: tuple[Pathway, ...] = ()  # reserved first, in this order; the rest is the general pool
