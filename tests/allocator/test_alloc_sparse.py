"""The sparse hub path (``daemon.allocator.sparse``) against the dense model.

Random small runs with ties, supervisors ranking some workers, global and pair weightings
(negative and positive), every kind of eligibility rule, must-have lines, supervisor
``max_workers`` caps and seats taken by earlier rounds: the hub network's optimum must be the
dense model's (true objectives within the documented rounding bounds), and its rows must pass
the independent checker.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from daemon.allocator import sparse
from daemon.allocator.build import build_problem, canonical
from daemon.allocator.config import parse_config
from daemon.allocator.data import AllocatorInput, Eligibility, Preferencer, Weighting
from daemon.allocator.solve import solve
from daemon.checks.allocation import check_allocation
from daemon.settings import DENSE_MAX_PAIRS_ENV
from daemon.solving import BadInput, SolveContext
from tests.allocator.alloc_factory import make_input
from tests.allocator.alloc_strategies import SETTINGS

TAGS = ("icu", "rural", "senior")


@st.composite
def runs(draw: st.DrawFn) -> AllocatorInput:
    n_w = draw(st.integers(1, 6))
    n_l = draw(st.integers(1, 5))
    workers = [f"w{i}" for i in range(n_w)]
    lines = [f"l{j}" for j in range(n_l)]
    rank = st.integers(1, 4).map(float)  # ties likely
    ranks = {w: draw(st.dictionaries(st.sampled_from(lines), rank, max_size=3)) for w in workers}
    # Mostly feasible runs (every rule binding now and then), so optima are compared more often
    # than diagnoses.
    caps = {ln: draw(st.sampled_from([0, 1, 2, 2, 3, 4, 4])) for ln in lines}
    must = [ln for ln in lines if draw(st.integers(0, 4)) == 0]
    taken = {ln: draw(st.integers(1, 2)) for ln in lines if draw(st.integers(0, 5)) == 0}
    tags = {w: frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=2))) for w in workers}
    rules = []
    # Include lists (whitelists) make most runs infeasible: only in some runs.
    whitelist = draw(st.integers(0, 2)) == 0
    listed = draw(st.booleans())
    for ln in lines:
        if draw(st.integers(0, 2)) == 0:
            rules.append(
                Eligibility(
                    ln,
                    included_workers=frozenset(draw(st.sets(st.sampled_from(workers), max_size=int(whitelist)))),
                    excluded_workers=frozenset(draw(st.sets(st.sampled_from(workers), max_size=1))),
                    included_tags=frozenset(draw(st.sets(st.sampled_from(TAGS[:1]), max_size=int(listed)))),
                    excluded_tags=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=1))),
                )
            )
    # One supervisor per line at most, so worker caps stay a flow; sometimes a line shares one.
    # A line cap (max_job_lines) now and then: not a flow, the hub path must decline it.
    sups = [
        Preferencer(
            f"s{k}",
            f"S{k}",
            draw(st.sampled_from([None] * 9 + [1])),
            draw(st.none() | st.none() | st.integers(0, 4)),
        )
        for k in range(n_l)
    ]
    owners = [(ln, sups[draw(st.integers(0, n_l - 1))].id) for ln in lines if draw(st.booleans())]
    if draw(st.booleans()) and owners:  # an uncapped second supervisor on a line
        extra = Preferencer("s-extra", "Extra", None, None)
        sups.append(extra)
        owners.append((owners[0][0], extra.id))
    sup_ranks = {s.id: draw(st.dictionaries(st.sampled_from(workers), rank, max_size=3)) for s in sups}
    weightings = [
        Weighting(
            draw(st.sampled_from(sups)).id,
            draw(st.sampled_from(workers)),
            draw(st.none() | st.sampled_from(lines)),
            float(draw(st.integers(-3, 2))),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    config: dict[str, Any] = {
        "preferencer_weight": draw(st.sampled_from([0.0, 0.3, 0.75, 1.0])),
        "preference_power": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "rank_notation": draw(st.sampled_from(["competition", "dense"])),
        "rng_seed": draw(st.integers(0, 5)),
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
        eligibility=rules,
        worker_tags=tags,
        taken=taken,
    )


@SETTINGS
@given(runs())
def test_sparse_optimum_equals_dense(inp: AllocatorInput) -> None:
    hub = sparse.build_sparse(inp)
    dense = solve(inp, SolveContext())  # small: the dense path
    if isinstance(hub, sparse.Declined):
        event("declined")
        assert build_problem(inp).needs_cp_sat, hub.reason
        return
    out = sparse.solve_sparse(hub, SolveContext(), started=0.0)
    event(f"{out.status}, {int(hub.hub_of.max(initial=-1)) + 1} hubs, {int((hub.hub_of < 0).sum())} explicit")
    assert out.status == dense.status, (out.error, dense.error)
    if out.status != "COMPLETED":
        return
    check = check_allocation(inp, out.payload.allocations)
    assert check.violations == (), check.violations
    assert abs(check.objective - out.metadata["objective"]) <= 1e-6 * max(1.0, abs(check.objective))
    bound = out.metadata["rounding_error_bound"]
    assert abs(out.metadata["objective"] - dense.metadata["objective"]) <= bound + 1e-9
    assert out.metadata["status"] == "OPTIMAL" and out.metadata["method"] == sparse.METHOD


def _nrmp_like(n_w: int, n_l: int, seed: int, **kw: Any) -> AllocatorInput:
    rng = np.random.default_rng(seed)
    workers = [f"w{i:04d}" for i in range(n_w)]
    lines = [f"l{j:03d}" for j in range(n_l)]
    ranks = {}
    for w in workers:
        chosen = rng.choice(n_l, size=min(4, n_l), replace=False, p=None)
        ranks[w] = {lines[j]: float(1 + k // 2) for k, j in enumerate(chosen)}  # ties in pairs
    sups = [Preferencer(f"s{j:03d}", f"S{j}") for j in range(n_l)]
    sup_ranks = {
        s.id: {workers[i]: float(r + 1) for r, i in enumerate(rng.choice(n_w, 3, replace=False))} for s in sups
    }
    return make_input(
        ranks,
        dict.fromkeys(lines, 3),
        workers=workers,
        preferencers=sups,
        line_preferencers=[(ln, s.id) for ln, s in zip(lines, sups, strict=True)],
        sup_ranks=sup_ranks,
        **kw,
    )


def test_dispatch_follows_the_size_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the threshold the dense path (and its explanations); above it the hub path, with
    the same objective and the explanations skipped, saying why."""
    inp = _nrmp_like(60, 40, seed=3)
    dense = solve(inp, SolveContext())
    assert dense.metadata["method"] != sparse.METHOD
    monkeypatch.setenv(DENSE_MAX_PAIRS_ENV, str(60 * 40 - 1))
    hub = solve(inp, SolveContext())
    assert hub.metadata["method"] == sparse.METHOD
    assert "sparse hub path" in hub.metadata["explanations"]["skipped"]
    assert abs(hub.metadata["objective"] - dense.metadata["objective"]) <= hub.metadata["rounding_error_bound"]
    assert check_allocation(inp, hub.payload.allocations).violations == ()


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"stability": "weak", "max_seconds": 10}, "weak stability"),
        ({"allow_unassigned": True}, "allow_unassigned"),
    ],
)
def test_a_run_the_hub_cannot_take_falls_back_and_says_why(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, Any], reason: str
) -> None:
    inp = _nrmp_like(30, 10, seed=4, config=config)
    monkeypatch.setenv(DENSE_MAX_PAIRS_ENV, "1")
    out = solve(inp, SolveContext())
    assert out.status == "COMPLETED" and out.metadata["method"] != sparse.METHOD  # the dense path solved it
    with pytest.raises(BadInput, match=f"not solvable on the sparse path: {reason}"):
        solve(inp, SolveContext(memory_limit=1000))


def test_line_caps_and_too_many_arcs_decline(monkeypatch: pytest.MonkeyPatch) -> None:
    capped = _nrmp_like(30, 10, seed=4)
    sups = (dataclasses.replace(capped.preferencers[0], max_job_lines=0), *capped.preferencers[1:])
    declined = sparse.build_sparse(dataclasses.replace(capped, preferencers=sups))
    assert isinstance(declined, sparse.Declined) and "max_job_lines" in declined.reason
    monkeypatch.setattr(sparse, "MAX_ARCS", 100)  # 120 ranked pairs alone
    declined = sparse.build_sparse(capped)
    assert isinstance(declined, sparse.Declined) and "more than 100" in declined.reason


def test_an_impossible_run_is_diagnosed() -> None:
    inp = _nrmp_like(40, 10, seed=2)  # 30 seats
    out = sparse.solve_sparse(sparse.build_sparse(inp), SolveContext(), started=0.0)  # type: ignore[arg-type]
    assert out.status == "INFEASIBLE"
    assert out.error is not None and "total capacity is 30 seat(s) for 40 workers" in out.error


def test_an_impossible_run_names_what_the_dense_path_names() -> None:
    # Must-have lines beyond the workers, one no worker may take, a cap below its must-haves:
    # counted without a matrix, worded as diagnose.precheck words them.
    lines = {"a": 1, "b": 1, "c": 1, "d": 1}
    ranks = {"w1": {"a": 1.0}, "w2": {"b": 1.0}}
    inp = make_input(
        ranks,
        lines,
        must=("a", "b", "c"),
        preferencers=[Preferencer("s", "Dr S", max_workers=1)],
        line_preferencers=[("a", "s"), ("b", "s")],
        eligibility=[Eligibility("c", included_workers=frozenset({"nobody"}))],
    )
    out = sparse.solve_sparse(sparse.build_sparse(inp), SolveContext(), started=0.0)  # type: ignore[arg-type]
    assert out.status == "INFEASIBLE" and out.error is not None
    assert "3 must-have job lines but only 2 workers" in out.error
    assert "must-have job lines no worker is eligible for: 'Line c' (c)" in out.error
    assert "preferencer 'Dr S' (s) has 2 must-have lines but max_workers leaves 1 worker(s)" in out.error
    dense = solve(inp, SolveContext())
    assert dense.status == "INFEASIBLE" and dense.error is not None
    assert dense.error == out.error


def test_a_bad_threshold_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DENSE_MAX_PAIRS_ENV, "lots")
    with pytest.raises(BadInput, match=DENSE_MAX_PAIRS_ENV):
        solve(_nrmp_like(5, 5, seed=1), SolveContext())


def test_same_input_same_output_whatever_the_row_order() -> None:
    inp = _nrmp_like(80, 30, seed=5)
    first = sparse.solve_sparse(sparse.build_sparse(inp), SolveContext(), started=0.0)  # type: ignore[arg-type]
    order = np.random.default_rng(0).permutation(len(inp.worker_prefs))
    prefs = inp.worker_prefs
    shuffled = type(prefs)(prefs.who[order], prefs.what[order], prefs.rank[order])
    again = sparse.build_sparse(dataclasses.replace(inp, worker_prefs=shuffled))
    second = sparse.solve_sparse(again, SolveContext(), started=0.0)  # type: ignore[arg-type]
    assert first.payload.allocations == second.payload.allocations


def _match_hubs_per_hub(
    hub_in: np.ndarray, entered: np.ndarray, hub_idx: np.ndarray, hub_line: np.ndarray, seats: np.ndarray
) -> dict[int, int]:
    """The reference decoding: one pass per hub (the quadratic loop ``_match_hubs`` replaced)."""
    out: dict[int, int] = {}
    for h in range(int(hub_idx.max(initial=-1)) + 1):
        mine = entered[hub_in == h]
        lines = np.repeat(hub_line[hub_idx == h], seats[hub_idx == h])
        out.update(zip(mine.tolist(), lines.tolist(), strict=True))
    return out


def _hub_flow(n_hubs: int, n_lines: int, per_hub: int, seed: int) -> tuple[np.ndarray, ...]:
    """A consistent hub flow: arcs sorted by hub then line, seats per hub = its entering workers."""
    rng = np.random.default_rng(seed)
    hub_idx = np.repeat(np.arange(n_hubs), n_lines)
    hub_line = np.tile(np.arange(n_lines), n_hubs)
    seats = np.zeros(len(hub_idx), dtype=np.int64)
    for h in range(n_hubs):
        np.add.at(seats, h * n_lines + rng.integers(0, n_lines, per_hub), 1)
    hub_in = rng.permutation(np.repeat(np.arange(n_hubs), per_hub))
    entered = np.sort(rng.choice(10 * len(hub_in), size=len(hub_in), replace=False)).astype(np.int64)
    return hub_in, entered, hub_idx, hub_line, seats


def test_hub_matching_is_the_per_hub_matching() -> None:
    for seed in range(5):
        hub_in, entered, hub_idx, hub_line, seats = _hub_flow(7, 5, 6, seed)
        workers, lines = sparse._match_hubs(hub_in, entered, hub_line, seats)
        assert dict(zip(workers.tolist(), lines.tolist(), strict=True)) == _match_hubs_per_hub(
            hub_in, entered, hub_idx, hub_line, seats
        )


def test_a_hub_network_over_the_memory_limit_is_refused_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The arc count is known before the network is built: past the solver's memory limit the
    run is refused with check_size's BadInput, not a std::bad_alloc minutes later."""
    inp = _nrmp_like(60, 40, seed=3)
    small = sparse.BASE_BYTES + 100 * sparse.BYTES_PER_ARC  # the run has about 500 arcs
    too_large = r"too large for one solver process: 60 workers x 40 job lines on the sparse hub"
    with pytest.raises(BadInput, match=too_large):
        sparse.build_sparse(inp, SolveContext(memory_limit=small))
    monkeypatch.setenv(DENSE_MAX_PAIRS_ENV, "1")
    with pytest.raises(BadInput, match=r"sparse hub path \(about [0-9,]+ arcs\) needs about"):
        solve(inp, SolveContext(memory_limit=small))
    assert solve(inp, SolveContext(memory_limit=10 * small)).metadata["method"] == sparse.METHOD


def test_a_supervisor_ranking_everyone_everywhere_is_declined_before_expanding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One supervisor on 1,000 lines ranking 20,000 workers: 20 M (worker, line) pairs, which
    the arc count must decline from their count, before any array of them exists (160 MB each;
    at 45,000 x 6,400 the expansion peaked at 9.2 GB before the decline)."""
    import tracemalloc

    workers = [f"w{i:05d}" for i in range(20_000)]
    lines = [f"l{j:04d}" for j in range(1_000)]
    inp = make_input(
        {w: {} for w in workers},
        dict.fromkeys(lines, 10),
        workers=workers,
        preferencers=[Preferencer("boss", "Boss")],
        line_preferencers=[(ln, "boss") for ln in lines],
        sup_ranks={"boss": {w: float(i + 1) for i, w in enumerate(workers)}},
    )
    monkeypatch.setattr(sparse, "MAX_ARCS", 1_000_000)
    tracemalloc.start()
    try:
        declined = sparse.build_sparse(inp)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(declined, sparse.Declined) and "20,001,000 arcs, more than 1,000,000" in declined.reason
    assert peak < 40 * 2**20, f"{peak / 2**20:.0f} MiB traced while declining"


def test_the_supervised_pair_count_is_the_expansions_length() -> None:
    inp = _nrmp_like(30, 10, seed=4)
    worker_ids, new_w = canonical(inp.worker_ids)
    line_index = {lid: i for i, lid in enumerate(canonical(inp.line_ids)[0])}
    sup = sparse._supervision(inp, parse_config(inp.config), new_w, line_index)
    assert sup.ranked_pair_count(len(worker_ids)) == len(sup.ranked_pairs(len(worker_ids), len(line_index))) == 30


def test_workers_with_the_same_eligibility_share_a_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule excluding 30 named workers from one line, and every worker with its own tag set:
    two eligibility patterns, so two hubs; no arcs to every line for the named workers (30 x 20
    = 600) nor a hub per tag class (11 x 20 = 220), together over the budget set here."""
    base = _nrmp_like(50, 20, seed=5)
    tags = {w: frozenset({f"own{i}", "t"}) for i, w in enumerate(base.worker_ids)}
    rules = (
        Eligibility("l000", excluded_workers=frozenset(base.worker_ids[:30])),
        # Ten tag sets the rules tell apart (own40..own49), all with the same eligibility.
        Eligibility("l001", excluded_tags=frozenset({"t"}), included_tags=frozenset(f"own{i}" for i in range(40, 50))),
    )
    inp = dataclasses.replace(base, eligibility=rules, worker_tags=tags)
    monkeypatch.setattr(sparse, "MAX_ARCS", 500)
    sp = sparse.build_sparse(inp)
    assert isinstance(sp, sparse.SparseProblem)
    assert int(sp.hub_of.max()) + 1 == 2 and (sp.hub_of >= 0).all()
    out = sparse.solve_sparse(sp, SolveContext(), started=0.0)
    dense = solve(inp, SolveContext())
    assert abs(out.metadata["objective"] - dense.metadata["objective"]) <= out.metadata["rounding_error_bound"]
    assert check_allocation(inp, out.payload.allocations).violations == ()
