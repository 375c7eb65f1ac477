"""The allocator's validated, dense problem and its result rows.

``Problem`` is what the solvers see: workers and lines in canonical (id-sorted) order, so a
shuffled input builds the same arrays, and every per-pair quantity as a dense workers x lines
numpy array (1,500 x 1,500 is 2.25 million cells: a few tens of megabytes, built in
milliseconds, and much simpler to index than sparse structures).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    cost_int: npt.NDArray[np.int64]  # scaled, rounded, seeded tie-break jitter added
    scale: float  # cost_int ≈ cost x scale
    jitter_max: int  # largest tie-break jitter added to one cell of cost_int
    supervisors: tuple[SupervisorCaps, ...]  # only supervisors with a binding cap

    @property
    def n_workers(self) -> int:
        return len(self.worker_ids)

    @property
    def n_lines(self) -> int:
        return len(self.line_ids)

    @property
    def rounding_bound(self) -> float:
        """How far the solver's optimum may be above the true one, in objective units.

        Per cell, |cost_int - cost·scale| ≤ 0.5 + jitter_max, so over the W assignments of a
        solution the scaled and true objectives differ by at most W·(0.5 + jitter_max) / scale
        (a half unit of rounding plus the jitter). Minimising the scaled objective therefore
        yields a true objective within twice that of the true optimum.
        """
        return 2.0 * self.n_workers * (0.5 + self.jitter_max) / self.scale

    def line_label(self, line: int) -> str:
        return f"{self.line_names[line]!r} ({self.line_ids[line]})"

    @property
    def needs_cp_sat(self) -> bool:
        """False when the problem is a pure transportation problem that min-cost flow solves.

        Flow handles capacities, must-fill lower bounds and supervisor worker caps as long as
        each line sits under at most one capped supervisor (a tree of capacity arcs). Line
        caps (a fixed charge per used line) and stability are not flows.
        """
        if self.config.stability != "none":
            return True
        if any(s.max_new_lines is not None for s in self.supervisors):
            return True
        capped = np.zeros(self.n_lines, np.int64)
        for sup in self.supervisors:
            if sup.max_new_workers is not None:
                capped[sup.lines] += 1
        return bool((capped > 1).any())
