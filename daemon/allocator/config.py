"""The allocator run's ``config`` JSON: defaults, types and ranges (SPEC §3).

Every key is optional. An unknown key, a value of the wrong type or one out of range fails the
run with a message naming the key, so an administrator can fix the row they wrote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from daemon.solving import MAX_NUM_WORKERS, MAX_SECONDS, BadInput
from daemon.text import listing

RankNotation = Literal["competition", "dense", "fractional"]
Stability = Literal["none", "weak"]


@dataclass(frozen=True)
class AllocatorConfig:
    preferencer_weight: float = 0.3  # alpha in (1-alpha)·D_worker + alpha·D_preferencer
    preference_power: float = 1.0
    max_seconds: float = 60.0
    rng_seed: int = 1234
    allow_worker_preference_ties: bool = True
    rank_notation: RankNotation = "competition"
    stability: Stability = "none"
    # CP-SAT workers; None: the daemon's solver_threads (SolveContext.threads). Never 0, which
    # would mean "all cores".
    num_workers: int | None = None
    # SPEC §4.1: leave workers who cannot be placed unassigned instead of failing the run. The
    # number unassigned is minimised first, then the cost, each unassigned worker counting
    # ``unassigned_penalty`` (None: 1 + the largest cost of any eligible (worker, line) pair).
    allow_unassigned: bool = False
    unassigned_penalty: float | None = None
    # Issue 11: with the result, why each worker is not on the lines they ranked higher (up to
    # ``explain_limit`` per worker, best first) and what a seat on each line is worth.
    explain: bool = True
    explain_limit: int = 10


# Lines explained per worker at most: each is a row, and past the first few nobody reads them.
MAX_EXPLAIN_LIMIT = 100
_NOTATIONS: tuple[RankNotation, ...] = ("competition", "dense", "fractional")
_STABILITIES: tuple[Stability, ...] = ("none", "weak")


def _number(key: str, value: Any) -> float:
    # bool is an int subclass in Python; `true` for a weight is a typo, not a 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"config key {key!r} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond double precision: JSON's 1e400 reads back as one
        raise BadInput(f"config key {key!r} must be a finite number, got {Decimal(value).normalize():g}") from None
    if not math.isfinite(number):
        raise BadInput(f"config key {key!r} must be a finite number, got {value!r}")
    return number


def _integer(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"config key {key!r} must be an integer, got {value!r}")
    return value


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"config key {key!r} must be true or false, got {value!r}")
    return value


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise BadInput(f"config key {key!r} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def parse_config(raw: dict[str, Any] | None) -> AllocatorConfig:
    """Validate the run's config JSON; raise BadInput naming the first bad key."""
    raw = dict(raw or {})
    known = set(AllocatorConfig.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BadInput(
            f"unknown config key(s): {listing(unknown, show=repr)}; valid keys are {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    if "preferencer_weight" in raw:
        alpha = _number("preferencer_weight", raw["preferencer_weight"])
        if not 0.0 <= alpha <= 1.0:
            raise BadInput(f"config key 'preferencer_weight' must be within [0, 1], got {alpha}")
        values["preferencer_weight"] = alpha
    if "preference_power" in raw:
        power = _number("preference_power", raw["preference_power"])
        if power <= 0.0:
            raise BadInput(f"config key 'preference_power' must be positive, got {power}")
        values["preference_power"] = power
    if "max_seconds" in raw:
        values["max_seconds"] = _max_seconds(raw["max_seconds"])
    if "rng_seed" in raw:
        seed = _integer("rng_seed", raw["rng_seed"])
        if not 0 <= seed < 2**63:
            raise BadInput(f"config key 'rng_seed' must be within [0, 2^63), got {seed}")
        values["rng_seed"] = seed
    if "allow_worker_preference_ties" in raw:
        values["allow_worker_preference_ties"] = _flag(
            "allow_worker_preference_ties", raw["allow_worker_preference_ties"]
        )
    if "rank_notation" in raw:
        values["rank_notation"] = _choice("rank_notation", raw["rank_notation"], _NOTATIONS)
    if "stability" in raw:
        values["stability"] = _choice("stability", raw["stability"], _STABILITIES)
    if "num_workers" in raw:
        workers = _integer("num_workers", raw["num_workers"])
        if not 1 <= workers <= MAX_NUM_WORKERS:
            raise BadInput(f"config key 'num_workers' must be within [1, {MAX_NUM_WORKERS}], got {workers}")
        values["num_workers"] = workers
    if "allow_unassigned" in raw:
        values["allow_unassigned"] = _flag("allow_unassigned", raw["allow_unassigned"])
    if "unassigned_penalty" in raw:
        penalty = _number("unassigned_penalty", raw["unassigned_penalty"])
        if penalty < 0.0:
            raise BadInput(f"config key 'unassigned_penalty' must not be negative, got {penalty}")
        values["unassigned_penalty"] = penalty
    if "explain" in raw:
        values["explain"] = _flag("explain", raw["explain"])
    if "explain_limit" in raw:
        limit = _integer("explain_limit", raw["explain_limit"])
        if not 1 <= limit <= MAX_EXPLAIN_LIMIT:
            raise BadInput(f"config key 'explain_limit' must be within [1, {MAX_EXPLAIN_LIMIT}], got {limit}")
        values["explain_limit"] = limit
    return replace(AllocatorConfig(), **values)


def time_limit(raw: Mapping[str, Any] | None) -> float:
    """The run's ``max_seconds`` for the daemon's solve deadline; the default when the key is
    missing or invalid (the solver then rejects the run with the key's name)."""
    try:
        return _max_seconds((raw or {})["max_seconds"])
    except (KeyError, BadInput):
        return AllocatorConfig.max_seconds


def _max_seconds(value: Any) -> float:
    seconds = _number("max_seconds", value)
    if not 0.0 < seconds <= MAX_SECONDS:
        raise BadInput(f"config key 'max_seconds' must be within (0, {MAX_SECONDS:g}] seconds, got {seconds:g}")
    return seconds
