"""Config keys, types and ranges (SPEC §3): bad values fail naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from daemon.allocator.config import AllocatorConfig, parse_config, time_limit
from daemon.solving import BadInput


def test_defaults_match_the_spec() -> None:
    assert parse_config({}) == AllocatorConfig(
        preferencer_weight=0.3,
        preference_power=1.0,
        max_seconds=60.0,
        rng_seed=1234,
        allow_worker_preference_ties=True,
        rank_notation="competition",
        stability="none",
        num_workers=None,  # the daemon's solver_threads (SolveContext.threads)
        allow_unassigned=False,
        unassigned_penalty=None,  # 1 + the largest eligible cost (build.default_penalty)
    )
    assert parse_config(None) == AllocatorConfig()


def test_every_key_is_read() -> None:
    cfg = parse_config(
        {
            "preferencer_weight": 0,
            "preference_power": 2,
            "max_seconds": 5,
            "rng_seed": 7,
            "allow_worker_preference_ties": False,
            "rank_notation": "dense",
            "stability": "weak",
            "num_workers": 4,
            "allow_unassigned": True,
            "unassigned_penalty": 12,
        }
    )
    assert cfg == AllocatorConfig(0.0, 2.0, 5.0, 7, False, "dense", "weak", 4, True, 12.0)


def test_unknown_key_is_named() -> None:
    with pytest.raises(BadInput, match="'max_second'"):
        parse_config({"max_second": 3})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("preferencer_weight", "0.3"),
        ("preferencer_weight", True),
        ("preferencer_weight", 1.5),
        ("preferencer_weight", -0.1),
        ("preference_power", 0),
        ("preference_power", None),
        ("max_seconds", 0),
        ("max_seconds", float("nan")),
        ("max_seconds", 86_400.5),
        ("max_seconds", 1e300),
        ("rng_seed", 1.5),
        ("rng_seed", -1),
        ("allow_worker_preference_ties", 1),
        ("rank_notation", "ordinal"),
        ("stability", "strong"),
        ("stability", True),
        ("num_workers", 0),
        ("num_workers", 2.0),
        ("allow_unassigned", 1),
        ("allow_unassigned", "true"),
        ("unassigned_penalty", "5"),
        ("unassigned_penalty", True),
        ("unassigned_penalty", None),
        ("unassigned_penalty", float("inf")),
        ("unassigned_penalty", -1),
    ],
)
def test_wrong_type_or_range_names_the_key(key: str, value: Any) -> None:
    with pytest.raises(BadInput, match=key):
        parse_config({key: value})


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        # jsonb keeps 1e400 exactly; Python reads it back as a 401-digit int, not a float.
        ("preferencer_weight", 10**400, "1e+400"),
        ("preference_power", -(10**400), "-1e+400"),
        ("max_seconds", 10**400, "1e+400"),
        ("max_seconds", float("inf"), "inf"),
        ("preference_power", float("inf"), "inf"),
        ("preferencer_weight", float("nan"), "nan"),
    ],
    ids=lambda v: "10**400" if isinstance(v, int) and abs(v) > 10**300 else None,
)
def test_numbers_beyond_double_precision_name_the_key(key: str, value: Any, shown: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_config({key: value})
    assert str(err.value) == f"config key {key!r} must be a finite number, got {shown}"


def test_time_limit_of_an_unbounded_max_seconds_is_the_default() -> None:
    # The daemon's deadline: the default, and the solver then rejects the key.
    assert time_limit({"max_seconds": 10**400}) == time_limit({"max_seconds": float("inf")}) == 60.0
    assert time_limit({"max_seconds": 1e300}) == 60.0
    assert time_limit({"max_seconds": 86_400}) == 86_400.0
