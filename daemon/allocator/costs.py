"""Dissatisfaction costs: rank normalisation, D_worker, D_preferencer, integer scaling.

Everything is vectorised over the columnar preference rows: 2.25 million rows normalise in
tens of milliseconds, where a Python loop would take seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from daemon.allocator.problem import BoolMatrix, FloatMatrix

# SPEC §4: floats become integers x1,000,000 for the solvers (as in the seeds).
SCALE = 1_000_000.0
# Keep every partial sum of scaled costs exactly representable in a double (CP-SAT's LP works
# in doubles) and far from int64 overflow in the flow's cost scaling (costs x nodes).
MAX_SAFE = 2**53
_MAX_SAFE = float(MAX_SAFE)
# Each scaled unit is split into 2^10 sub-units for the seeded tie-break (tie_break_jitter).
_TIE_BITS = 10
TIE_LEVELS = 1 << _TIE_BITS


@dataclass(frozen=True)
class Normalised:
    """One ranker per row, one ranked item per column."""

    rank: FloatMatrix  # fractional rank; the unranked budget where not ranked
    ranked: BoolMatrix
    tied: BoolMatrix  # ranked, and sharing its rank with another item of the same ranker


def normalise(
    who: npt.NDArray[np.int64],
    what: npt.NDArray[np.int64],
    rank: npt.NDArray[np.float64],
    shape: tuple[int, int],
) -> Normalised:
    """Fractional ranking per ranker: ties share the mean of the positions they occupy.

    Whatever the notation (competition 1,1,3; dense 1,1,2; fractional 1.5,1.5,3), sorting one
    ranker's items by rank and averaging the positions of equal ranks gives 1.5,1.5,3. Gaps in
    the given ranks (lines left out of this run) close up, so the ranks are always 1..k.

    An item's mean position is (items its ranker ranked lower) + (items ranked the same + 1)/2.
    Ranks are nearly always whole numbers (or halves) not far above the number of items: those
    are counted per (ranker, rank) in a small table, in linear time; other ranks are sorted.
    Each (who, what) pair appears at most once (``validate.check_ranks``).
    """
    n_rows, n_cols = shape
    cell = who * n_cols  # flat index: one scatter each, not three 2-D fancy indexings
    cell += what
    ranked = np.zeros(shape, dtype=bool)
    ranked.reshape(-1)[cell] = True
    budget = unranked_budget(np.bincount(who, minlength=n_rows), n_cols)
    out = np.repeat(budget[:, None], n_cols, axis=1)
    tied = np.zeros(shape, dtype=bool)
    if rank.size == 0:
        return Normalised(out, ranked, tied)
    counted = _by_counting(who, rank, n_rows, n_cols)
    position, shared = counted if counted is not None else _by_sorting(cell, rank, shape)
    out.reshape(-1)[cell] = position
    tied.reshape(-1)[cell] = shared
    return Normalised(out, ranked, tied)


# Rank levels (whole or half units) the counting table may have per item before sorting is
# cheaper.
_LEVELS_PER_ITEM = 4


def _by_counting(
    who: npt.NDArray[np.int64], rank: npt.NDArray[np.float64], n_rows: int, n_cols: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None:
    """Mean positions and tie flags per row of the input, for whole or half ranks; else None."""
    for per_unit in (1.0, 2.0):  # whole ranks need half the table
        levels = rank * per_unit if per_unit != 1.0 else rank
        top = float(levels.max(initial=0.0))
        if top + 1 > _LEVELS_PER_ITEM * n_cols + 8:
            return None
        as_int = levels.astype(np.int64)
        if np.array_equal(as_int, levels):
            break
    else:
        return None
    n_levels = int(top) + 1
    # In place where it can be: every array here is one per input row or per table cell
    # (2.25 M of 8 bytes at 1,500 x 1,500), and a new one is fresh memory to fault in.
    key = who * n_levels
    key += as_int
    del as_int
    per_level = np.bincount(key, minlength=n_rows * n_levels).reshape(n_rows, n_levels)
    below = np.cumsum(per_level, axis=1)
    below -= per_level  # items ranked lower (better), per level
    same = per_level.reshape(-1)[key]
    del per_level
    position = np.add(same, 1.0)  # (same + 1) / 2 + below: exact in doubles, as before
    position /= 2.0
    position += below.reshape(-1)[key]
    return position, same > 1


def _by_sorting(
    cell: npt.NDArray[np.int64], rank: npt.NDArray[np.float64], shape: tuple[int, int]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Mean positions and tie flags per row of the input (``cell``: flat index), any ranks.

    Done on the dense rankers x items matrix, unranked cells at +inf (sorted last): sorting
    each row is cache-friendly and does not depend on the order the rows came in, where a
    global sort of scattered rows spends its time in random memory access. Equal ranks get
    the same mean position, so the sort need not be stable.
    """
    n_rows, n_cols = shape
    given = np.full(shape, np.inf)
    given.reshape(-1)[cell] = rank
    order = np.argsort(given, axis=1)
    in_order = np.take_along_axis(given, order, axis=1).ravel()
    starts_group = np.empty(in_order.size, dtype=bool)
    starts_group[0] = True
    np.not_equal(in_order[1:], in_order[:-1], out=starts_group[1:])
    starts_group[::n_cols] = True  # every row starts afresh
    starts = np.flatnonzero(starts_group)
    group = np.cumsum(starts_group) - 1
    size = np.diff(np.append(starts, in_order.size))
    # positions starts % n_cols + 1 .. + size: their mean
    mean_position = np.empty(in_order.size)
    shared = np.empty(in_order.size, dtype=bool)
    sorted_cell = (order + (np.arange(n_rows) * n_cols)[:, None]).ravel()
    mean_position[sorted_cell] = (starts % n_cols + 1.0 + (size - 1) / 2.0)[group]
    shared[sorted_cell] = (size > 1)[group]
    return mean_position[cell], shared[cell]


def unranked_budget(counts: npt.NDArray[np.int64], n_items: int) -> npt.NDArray[np.float64]:
    """(Σ 1..N - Σ of the ranker's normalised ranks) / (N - k), for k ranked of N items.

    Normalised ranks of k items sum to k(k+1)/2, so this is (N + k + 1)/2: the mean of the
    positions k+1..N the unranked items would share as one tie — strictly worse than any rank
    given, and the same total "rank budget" for every ranker.
    """
    return np.asarray((n_items + counts + 1.0) / 2.0, dtype=np.float64)


def preferencer_costs(
    by_supervisor: FloatMatrix,
    *,
    n_lines: int,
    line_preferencers: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    global_weights: npt.NDArray[np.float64],
    pair_weights: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]],
) -> FloatMatrix:
    """D_preferencer[worker, line]: mean supervisor rank of the worker plus weightings.

    ``line_preferencers`` = (line index, preferencer index) pairs; a line with none ranks
    everyone at (W+1)/2. ``global_weights`` is per worker (added on every line);
    ``pair_weights`` = (worker, line, weight) rows, summed where repeated.
    """
    n_workers = by_supervisor.shape[1]
    pair_line, pair_sup = line_preferencers
    base = np.zeros((n_lines, n_workers), dtype=np.float64)
    # Add each line's k-th supervisor in round k: no line repeats within a round, so plain
    # fancy-index += is correct, and much faster than np.add.at over whole rows.
    order = np.argsort(pair_line, kind="stable")
    pair_line, pair_sup = pair_line[order], pair_sup[order]
    n_sup = np.bincount(pair_line, minlength=n_lines)
    nth = np.arange(len(pair_line)) - (np.cumsum(n_sup) - n_sup)[pair_line]
    for k in range(int(n_sup.max(initial=0))):
        now = nth == k
        base[pair_line[now]] += by_supervisor[pair_sup[now]]
    base[n_sup == 0] = (n_workers + 1) / 2.0
    base[n_sup > 0] /= n_sup[n_sup > 0, None]
    d = np.ascontiguousarray(base.T)
    d += global_weights[:, None]
    w_idx, l_idx, weight = pair_weights
    np.add.at(d, (w_idx, l_idx), weight)
    return d


def combine(rank: FloatMatrix, d_preferencer: FloatMatrix, alpha: float, power: float) -> FloatMatrix:
    """(1-alpha)·D_worker + alpha·D_preferencer, D_worker = rank^power (the budget is a rank)."""
    d_worker = rank if power == 1.0 else np.power(rank, power)
    return (1.0 - alpha) * d_worker + alpha * d_preferencer


def _id_keys(ids: Sequence[str], seed: int, salt: bytes) -> npt.NDArray[np.uint64]:
    """A 64-bit key per id, from the seed and the id itself (not its position in the input)."""
    keys = [
        int.from_bytes(
            hashlib.blake2b(salt + i.encode(), digest_size=8, key=seed.to_bytes(8, "little")).digest(),
            "little",
        )
        for i in ids
    ]
    return np.array(keys, dtype=np.uint64)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: every input bit flips each output bit with probability ½.
    Computed in ``x`` itself (callers pass an array of their own) and one scratch array:
    a workers x lines matrix is 18 MB at 1,500 x 1,500, each temporary fresh memory."""
    shifted = x >> np.uint64(30)
    x ^= shifted
    x *= np.uint64(0xBF58476D1CE4E5B9)
    np.right_shift(x, np.uint64(27), out=shifted)
    x ^= shifted
    x *= np.uint64(0x94D049BB133111EB)
    np.right_shift(x, np.uint64(31), out=shifted)
    x ^= shifted
    return x


def tie_break_jitter(worker_ids: Sequence[str], line_ids: Sequence[str], seed: int) -> npt.NDArray[np.int64]:
    """A seeded sub-unit in [0, TIE_LEVELS) per (worker, line), keyed on ids, not input order.

    Among allocations of equal scaled cost, the solvers then prefer the one with least jitter,
    which depends on ``rng_seed``. With 10 bits per cell, two allocations rarely tie on the
    jittered cost too, so even CP-SAT's parallel search ends on the same optimum every time.
    """
    with np.errstate(over="ignore"):  # modular arithmetic is the point
        w = _mix(_id_keys(worker_ids, seed, b"w"))
        ln = _mix(_id_keys(line_ids, seed, b"l"))
        cell = _mix(w[:, None] ^ (ln[None, :] * np.uint64(0x9E3779B97F4A7C15)))
    cell >>= np.uint64(64 - _TIE_BITS)
    return cell.view(np.int64)  # below 2^10: the same bits as a signed integer


def scale_for(cost: FloatMatrix, eligible: npt.NDArray[np.bool_], n_nodes: int) -> float | None:
    """SCALE, or a smaller power of ten when huge costs (high powers) would overflow.

    None when even a scale of 1 would not fit: the costs are unusable as integers.
    """
    relevant = np.abs(cost[eligible])
    biggest = float(relevant.max()) if relevant.size else 0.0
    scale = SCALE
    while (biggest * scale + 1.0) * TIE_LEVELS * max(n_nodes, 1) > _MAX_SAFE:
        if scale <= 1.0:
            return None
        scale /= 10.0
    return scale


def to_integer(cost: FloatMatrix, scale: float, jitter: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """round(cost x scale) in units of TIE_LEVELS sub-units, plus the tie-break jitter.

    The jitter lives below one scaled unit, so it can reorder allocations only within the
    rounding error (see ``Problem.rounding_bound``).
    """
    scaled = cost * scale
    np.rint(scaled, out=scaled)
    out = scaled.astype(np.int64)
    out *= TIE_LEVELS
    out += jitter
    return out


def count_weight(cost_int: npt.NDArray[np.int64], eligible: npt.NDArray[np.bool_]) -> int:
    """The big-M making "fewest unassigned, then least cost" one exact integer objective.

    ``cost_int`` holds every pair's integer cost, the dummy unassigned line's included (without
    this weight). Any two allocations' integer costs differ by at most the sum over workers of
    (their dearest - their cheapest eligible cell), so adding one more than that per unassigned
    worker makes an allocation with fewer unassigned workers cheaper than any with more:
    M·k + C <= M·(k+1) - M + C < M·(k+1) + C' whenever C - C' < M. Python ints: no overflow.
    """
    masked_hi = np.where(eligible, cost_int, np.iinfo(np.int64).min).max(axis=1)
    masked_lo = np.where(eligible, cost_int, np.iinfo(np.int64).max).min(axis=1)
    has = eligible.any(axis=1)
    return sum(int(h) - int(lo) for h, lo in zip(masked_hi[has].tolist(), masked_lo[has].tolist(), strict=True)) + 1
