"""Structural checks of an AllocatorInput (SPEC §8): bad rows raise BadInput naming them.

Only data errors live here (empty sets, duplicate or unknown ids, negative capacities, bad
ranks). Proven impossibilities of valid data (a worker no line accepts, too few seats) are a
diagnosis, made in ``diagnose``, and end INFEASIBLE rather than FAILED.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from daemon.allocator.config import RankNotation
from daemon.allocator.data import AllocatorInput, RankTable
from daemon.solving import BadInput

_LISTED = 10  # rows named in a message before "and N more"


def listing(items: Iterable[str]) -> str:
    """A human-sized list: the first few items, then how many more."""
    items = list(items)
    shown = ", ".join(items[:_LISTED])
    return shown if len(items) <= _LISTED else f"{shown} and {len(items) - _LISTED} more"


def _rows(
    idx: npt.NDArray[np.intp],
    *,
    who: npt.NDArray[np.int64],
    item: npt.NDArray[np.int64],
    rank: npt.NDArray[np.float64],
    who_ids: Sequence[str],
    what_ids: Sequence[str],
) -> str:
    """Name preference rows as (ranker, ranked, rank); only the first few of many."""
    shown = ", ".join(f"({who_ids[who[i]]}, {what_ids[item[i]]}, rank {rank[i]:g})" for i in idx[:_LISTED])
    return shown if len(idx) <= _LISTED else f"{shown} … ({len(idx)} rows in all)"


def check_sets(inp: AllocatorInput) -> None:
    """Workers, lines and supervisors: present, unique, consistent, no negative numbers."""
    _check_workers_and_lines(inp)
    _check_preferencers(inp)


def _check_workers_and_lines(inp: AllocatorInput) -> None:
    if not inp.worker_ids:
        raise BadInput("the run has no workers (check included_worker_mappings)")
    if not inp.line_ids:
        raise BadInput("the run has no job lines (check included_job_lines)")
    for label, ids in (("worker", inp.worker_ids), ("job line", inp.line_ids)):
        dups = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dups:
            raise BadInput(f"duplicate {label} ids: {listing(dups)}")
    if tuple(line.id for line in inp.lines) != tuple(inp.line_ids):
        raise BadInput("internal: line_ids and lines disagree (loader bug)")
    negative = [f"{ln.name!r} ({ln.id}): {ln.max_n_workers}" for ln in inp.lines if ln.max_n_workers < 0]
    if negative:
        raise BadInput(f"job lines with a negative max_n_workers: {listing(negative)}")
    taken = [f"{lid}: {n}" for lid, n in sorted(inp.taken_capacity.items()) if n < 0]
    if taken:
        raise BadInput(f"negative capacity taken by earlier rounds on lines: {listing(taken)}")


def _check_preferencers(inp: AllocatorInput) -> None:
    pref_dups = sorted(i for i, n in Counter(p.id for p in inp.preferencers).items() if n > 1)
    if pref_dups:
        raise BadInput(f"duplicate preferencer ids: {listing(pref_dups)}")
    caps = [
        f"{p.name!r} ({p.id})"
        for p in inp.preferencers
        if (p.max_job_lines is not None and p.max_job_lines < 0) or (p.max_workers is not None and p.max_workers < 0)
    ]
    if caps:
        raise BadInput(f"preferencers with a negative max_job_lines or max_workers: {listing(caps)}")
    known = {p.id for p in inp.preferencers}
    unknown = sorted({p for _, p in inp.line_preferencers if p not in known})
    unknown += sorted({w.preferencer for w in inp.weightings if w.preferencer not in known})
    if unknown:
        raise BadInput(
            f"unknown preferencers named by job_line_preferencers/weightings: {listing(sorted(set(unknown)))}"
        )
    bad_weights = [f"{w.preferencer}/{w.worker}/{w.job_line}" for w in inp.weightings if not np.isfinite(w.weight)]
    if bad_weights:
        raise BadInput(f"weightings that are not finite numbers: {listing(bad_weights)}")


def check_ranks(
    table: RankTable,
    who_ids: Sequence[str],
    what_ids: Sequence[str],
    what: str,
    notation: RankNotation,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Validate one preference table; return its columns as int64/float64 arrays.

    ``what`` names the table in messages ("worker preferences", ...). Rows are named by the
    ids of ranker and ranked item so the administrator can find them.
    """
    who = np.asarray(table.who, dtype=np.int64)
    item = np.asarray(table.what, dtype=np.int64)
    rank = np.asarray(table.rank, dtype=np.float64)
    if not len(who) == len(item) == len(rank):
        raise BadInput(f"{what}: columns of different lengths (loader bug)")

    def rows(mask: npt.NDArray[np.bool_]) -> str:
        return _rows(
            np.flatnonzero(mask),
            who=who,
            item=item,
            rank=rank,
            who_ids=who_ids,
            what_ids=what_ids,
        )

    outside = (who < 0) | (who >= len(who_ids)) | (item < 0) | (item >= len(what_ids))
    if outside.any():
        raise BadInput(f"{what}: {int(outside.sum())} rows name workers or job lines outside the run")
    bad = ~np.isfinite(rank) | (rank <= 0)
    if bad.any():
        raise BadInput(f"{what}: ranks must be positive numbers; bad rows: {rows(bad)}")
    if notation != "fractional":
        fractional = rank != np.floor(rank)
        if fractional.any():
            raise BadInput(
                f"{what}: rank_notation {notation!r} needs whole-number ranks "
                f"(use 'fractional' for x.5 ties); bad rows: {rows(fractional)}"
            )
    cell = who * len(what_ids)
    cell += item
    dup = _repeated(cell, len(who_ids) * len(what_ids))
    if dup.any():
        raise BadInput(f"{what}: the same pair is ranked more than once: {rows(dup)}")
    return who, item, rank


# Up to this many (ranker, item) cells a count per cell is cheapest; past it (an NRMP-sized
# run has 288 M cells, 2.3 GB of counts) the rows are sorted instead.
_COUNTED_CELLS = 16_000_000


def _repeated(key: npt.NDArray[np.int64], cells: int) -> npt.NDArray[np.bool_]:
    """Per row, whether another row has the same ``key`` (a cell index below ``cells``)."""
    if cells <= _COUNTED_CELLS:
        return np.asarray(np.bincount(key, minlength=cells)[key] > 1)
    order = np.argsort(key, kind="stable")
    same = key[order[1:]] == key[order[:-1]]
    dup = np.zeros(len(key), dtype=bool)
    dup[order[1:][same]] = True
    dup[order[:-1][same]] = True
    return dup


def check_no_ties(
    tied: npt.NDArray[np.bool_],
    *,
    who: npt.NDArray[np.int64],
    item: npt.NDArray[np.int64],
    rank: npt.NDArray[np.float64],
    worker_ids: Sequence[str],
    line_ids: Sequence[str],
) -> None:
    if tied.any():
        named = _rows(
            np.flatnonzero(tied),
            who=who,
            item=item,
            rank=rank,
            who_ids=worker_ids,
            what_ids=line_ids,
        )
        raise BadInput(f"tied worker preferences while allow_worker_preference_ties is false: {named}")
