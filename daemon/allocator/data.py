"""The allocator's raw input: the run's rows as plain, picklable data.

Both loaders (PostgreSQL and XLSX) produce an ``AllocatorInput``; the model validates and
solves it. Ids are kept as strings; the large preference table is columnar (numpy arrays of
indices into ``worker_ids`` / ``line_ids``) so 2.25 million rows cross the process boundary
in milliseconds rather than as millions of Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class JobLine:
    id: str
    name: str
    max_n_workers: int
    must_have_workers: bool = False
    sort_order: int = 0


@dataclass(frozen=True)
class Preferencer:
    """A supervisor: ranks workers, owns job lines, may cap its lines and workers."""

    id: str
    name: str
    max_job_lines: int | None = None
    max_workers: int | None = None


@dataclass(frozen=True)
class Eligibility:
    job_line: str
    included_workers: frozenset[str] = frozenset()
    excluded_workers: frozenset[str] = frozenset()
    included_tags: frozenset[str] = frozenset()
    excluded_tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RankTable:
    """Columnar (who, what, rank) rows; ``who``/``what`` index the input's id tuples."""

    who: npt.NDArray[np.int32]
    what: npt.NDArray[np.int32]
    rank: npt.NDArray[np.float64]

    @staticmethod
    def empty() -> RankTable:
        return RankTable(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64))

    def __len__(self) -> int:
        return len(self.rank)


@dataclass(frozen=True)
class Weighting:
    preferencer: str
    worker: str
    job_line: str | None  # None: a global weighting of the worker
    weight: float


@dataclass(frozen=True)
class AllocatorInput:
    run_id: str
    allocation_run_id: str
    config: dict[str, Any]
    worker_ids: tuple[str, ...]  # worker mapping ids taking part in this run
    line_ids: tuple[str, ...]  # job lines taking part in this run (same order as ``lines``)
    lines: tuple[JobLine, ...]
    worker_tags: dict[str, frozenset[str]] = field(default_factory=dict)
    worker_prefs: RankTable = field(default_factory=RankTable.empty)  # who=worker, what=line
    preferencers: tuple[Preferencer, ...] = ()
    line_preferencers: tuple[tuple[str, str], ...] = ()  # (job_line, preferencer)
    preferencer_prefs: RankTable = field(default_factory=RankTable.empty)  # who=preferencer idx, what=worker idx
    weightings: tuple[Weighting, ...] = ()
    eligibility: tuple[Eligibility, ...] = ()
    # Exclusive rounds: seats already taken on each line by earlier COMPLETED runs.
    taken_capacity: dict[str, int] = field(default_factory=dict)
    # Exclusive rounds, on each supervisor's lines OUTSIDE this run (lines of the allocation
    # run not included here): workers earlier COMPLETED rounds placed there, and how many of
    # those lines received workers. Supervisor caps count them with ``taken_capacity`` on the
    # lines inside the run (SPEC §3: "on every line of the allocation run, in this run or not").
    preferencer_taken_workers: dict[str, int] = field(default_factory=dict)
    preferencer_used_lines: dict[str, int] = field(default_factory=dict)
