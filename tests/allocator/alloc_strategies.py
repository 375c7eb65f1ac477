"""Hypothesis strategies: tiny random allocator runs with every rule switched on at random."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from daemon.allocator.data import AllocatorInput, Eligibility, Preferencer, Weighting
from tests.allocator.alloc_factory import make_input

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tiny_instances(draw: st.DrawFn) -> AllocatorInput:
    n_w = draw(st.integers(1, 4))
    n_l = draw(st.integers(1, 3))
    workers = [f"w{i}" for i in range(n_w)]
    lines = [f"l{j}" for j in range(n_l)]
    rank = st.integers(1, 3).map(float)
    ranks = {w: draw(st.dictionaries(st.sampled_from(lines), rank)) for w in workers}
    # Mostly feasible instances (most rules binding now and then), so the optimum is tested
    # more often than the diagnosis.
    caps = {ln: draw(st.sampled_from([0, 1, 2, 2, 3, 3])) for ln in lines}
    must = [ln for ln in lines if draw(st.integers(0, 3)) == 0]
    taken = {ln: 1 for ln in lines if draw(st.integers(0, 5)) == 0}
    excluded = {ln: draw(st.sets(st.sampled_from(workers), max_size=1)) for ln in lines}
    sups = [
        Preferencer(
            f"s{k}",
            f"S{k}",
            draw(st.none() | st.integers(1, 2)),
            draw(st.none() | st.integers(1, 3)),
        )
        for k in range(draw(st.integers(0, 2)))
    ]
    owners = [(ln, s.id) for ln in lines for s in sups if draw(st.booleans())]
    sup_ranks = {s.id: draw(st.dictionaries(st.sampled_from(workers), rank)) for s in sups}
    weightings = [
        Weighting(
            s.id,
            draw(st.sampled_from(workers)),
            draw(st.none() | st.sampled_from(lines)),
            float(draw(st.integers(-3, 3))),
        )
        for s in sups
        for _ in range(draw(st.integers(0, 2)))
    ]
    config: dict[str, Any] = {
        "preferencer_weight": draw(st.sampled_from([0.0, 0.3, 0.75, 1.0])),
        "preference_power": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "stability": draw(st.sampled_from(["none", "weak"])),
        "rng_seed": draw(st.integers(0, 5)),
        "max_seconds": 20,
    }
    return make_input(
        ranks,
        caps,
        workers=workers,
        config=config,
        must=must,
        preferencers=sups,
        line_preferencers=owners,
        sup_ranks=sup_ranks,
        weightings=weightings,
        eligibility=[Eligibility(ln, excluded_workers=frozenset(ex)) for ln, ex in excluded.items()],
        taken=taken,
    )
