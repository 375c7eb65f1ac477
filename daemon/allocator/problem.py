"""The allocator's validated, dense problem and its result rows.

``Problem`` is what the solvers see: workers and lines in canonical (id-sorted) order, so a
shuffled input builds the same arrays, and every per-pair quantity as a dense workers x lines
numpy array (1,500 x 1,500 is 2.25 million cells: a few tens of megabytes, built in
milliseconds, and much simpler to index than sparse structures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.allocator.config import AllocatorConfig

FloatMatrix = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Allocation:
    """One written row: the worker's line, its normalised rank (None if unranked) and cost."""

    worker: str
    job_line: str
    worker_rank: float | None
    dissatisfaction: float


@dataclass(frozen=True)
class Explanation:
    """Why ``worker`` is not on ``job_line``, a line they ranked (``worker_rank``, normalised)
    better than theirs: ``reason`` and, for a trade-off, the objective's rise ``delta``
    (``detail["exact"]`` false: a lower bound). See ``explanations``."""

    worker: str
    job_line: str
    worker_rank: float
    reason: str
    delta: float | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class SeatValue:
    """What one seat on ``job_line`` is worth to the objective: its fall with one more seat
    and its rise with one fewer (None: no allocation then, or no seat to take away). Not
    ``exact``: bounds, the first at most, the second at least."""

    job_line: str
    one_more_seat: float
    one_fewer_seat: float | None
    exact: bool
    # allow_unassigned: counted workers left out now that one more seat would place, and that
    # one fewer would leave out; the count comes first, so the figures above may be negative.
    one_more_seat_places: int = 0
    one_fewer_seat_leaves_out: int = 0


@dataclass(frozen=True)
class AllocatorResult:
    """What a COMPLETED allocator run writes: the allocations and their explanations."""

    allocations: tuple[Allocation, ...]
    explanations: tuple[Explanation, ...] = ()
    seat_values: tuple[SeatValue, ...] = ()


@dataclass(frozen=True)
class SupervisorCaps:
    """A supervisor's caps over its lines, net of what earlier exclusive rounds used.

    ``max_new_lines`` counts only lines still empty (``fresh``); lines that received workers in
    an earlier round are already counted against ``max_job_lines``. ``None`` = no binding cap.
    """

    id: str
    name: str
    lines: IntArray  # indices of the supervisor's lines
    fresh: npt.NDArray[np.bool_]  # per entry of ``lines``: no worker taken in earlier rounds
    max_new_lines: int | None
    max_new_workers: int | None


@dataclass(frozen=True)
class Problem:
    config: AllocatorConfig
    worker_ids: tuple[str, ...]  # sorted
    line_ids: tuple[str, ...]  # sorted
    line_names: tuple[str, ...]
    capacity: IntArray  # seats left per line after earlier exclusive rounds
    must_fill: npt.NDArray[np.bool_]  # must_have_workers and not already filled earlier
    eligible: BoolMatrix  # [worker, line]
    rank: FloatMatrix  # normalised fractional rank; the unranked budget where not ranked
    ranked: BoolMatrix  # the worker ranked the line
    d_preferencer: FloatMatrix  # the line's view of the worker (lower is better)
    cost: FloatMatrix  # (1-alpha)·rank^p + alpha·D_preferencer
    cost_int: npt.NDArray[np.int64]  # round(cost x scale) x tie_levels + seeded jitter
    scale: float  # 1,000,000 unless huge costs forced it down
    tie_levels: int  # sub-units per scaled unit; the jitter is below one scaled unit
    supervisors: tuple[SupervisorCaps, ...]  # only supervisors with a binding cap
    # Per line: a supervisor cap not in ``supervisors`` would bind with one more seat on it.
    tight_caps: npt.NDArray[np.bool_]
    # allow_unassigned (SPEC §4.1): the last line is a dummy "unassigned" line, eligible for
    # every worker, with a seat for each, at cost ``penalty`` plus ``count_weight`` integer
    # units (see build._unassigned). None: every worker must be placed on a real line.
    unassigned_line: int | None = None
    penalty: float = 0.0
    count_weight: int = 0  # integer units added per unassigned worker: the big-M of the count
    # Per worker, 1 where leaving them out counts (their dummy cell holds ``count_weight``);
    # all 0 without allow_unassigned.
    counted: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_real_lines(self) -> int:
        """Lines of the run, without the dummy unassigned line."""
        return self.n_lines - (self.unassigned_line is not None)

    @property
    def n_workers(self) -> int:
        return len(self.worker_ids)

    @property
    def n_lines(self) -> int:
        return len(self.line_ids)

    @property
    def unit(self) -> float:
        """Integer cost units per unit of true cost."""
        return self.scale * self.tie_levels

    @property
    def excess_bound(self) -> float:
        """Most by which cost_int / unit can exceed the true cost, over a whole allocation.

        Per cell, cost_int / unit - cost lies in [-0.5, 0.5 + (T-1)/T] / scale (rounding,
        then jitter below one scaled unit); over W assignments the excess is below 1.5·W/scale.
        """
        return 1.5 * self.n_workers / self.scale

    @property
    def rounding_bound(self) -> float:
        """How far the solver's optimum may be above the true one, in objective units.

        The integer objective misstates a solution's true cost by -0.5·W/scale to
        +1.5·W/scale (see ``excess_bound``), so the allocation minimising it costs at most
        2·W/scale more than the true optimum: 0.003 for 1,500 workers at scale 10^6.
        """
        return 2.0 * self.n_workers / self.scale

    def line_label(self, line: int) -> str:
        return line_label(self.line_names[line], self.line_ids[line])

    @property
    def needs_cp_sat(self) -> bool:
        """False when the problem is a pure transportation problem that min-cost flow solves
        (see ``needs_cp_sat``)."""
        return needs_cp_sat(self.config.stability, self.supervisors, self.n_lines)


def line_label(name: str, line_id: str) -> str:
    """How diagnoses name a job line."""
    return f"{name!r} ({line_id})"


def needs_cp_sat(stability: str, supervisors: tuple[SupervisorCaps, ...], n_lines: int) -> bool:
    """False when capacities, must-fill lines, eligibility and supervisor worker caps are all
    that constrain the allocation: a transportation problem that min-cost flow solves.

    Flow handles capacities, must-fill lower bounds and supervisor worker caps as long as
    each line sits under at most one capped supervisor (a tree of capacity arcs). Line
    caps (a fixed charge per used line) and stability are not flows.
    """
    if stability != "none":
        return True
    if any(s.max_new_lines is not None for s in supervisors):
        return True
    capped = np.zeros(n_lines, np.int64)
    for sup in supervisors:
        if sup.max_new_workers is not None:
            capped[sup.lines] += 1
    return bool((capped > 1).any())
