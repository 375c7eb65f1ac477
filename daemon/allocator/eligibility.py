"""Who may work on which line (SPEC §4.4).

Resolved per (worker, line), first match wins:

1. the worker is explicitly included → eligible;
2. the worker is explicitly excluded → ineligible;
3. the worker has an excluded tag → ineligible;
4. the worker has an included tag → eligible;
5. the line lists included tags or included workers and the worker matched none → ineligible
   (an include list is a whitelist, even when none of its workers take part in this run);
6. otherwise (no restriction applies) → eligible.

Several eligibility rows for one line are merged (their lists united). Rows for lines outside
the run cannot affect it and are ignored; listed workers outside the run simply match no one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from daemon.allocator.data import Eligibility
from daemon.allocator.problem import BoolMatrix


def merged_rules(rules: Sequence[Eligibility], line_index: Mapping[str, int]) -> dict[int, Eligibility]:
    """Per line index, its eligibility rows merged into one (lists united)."""
    merged: dict[int, Eligibility] = {}
    for rule in rules:
        line = line_index.get(rule.job_line)
        if line is None:
            continue
        prev = merged.get(line)
        merged[line] = (
            rule
            if prev is None
            else Eligibility(
                job_line=rule.job_line,
                included_workers=prev.included_workers | rule.included_workers,
                excluded_workers=prev.excluded_workers | rule.excluded_workers,
                included_tags=prev.included_tags | rule.included_tags,
                excluded_tags=prev.excluded_tags | rule.excluded_tags,
            )
        )
    return merged


def eligibility_matrix(
    worker_ids: Sequence[str],
    line_ids: Sequence[str],
    worker_tags: Mapping[str, frozenset[str]],
    rules: Sequence[Eligibility],
) -> BoolMatrix:
    """Workers x lines, True where the worker may be placed on the line."""
    n_w = len(worker_ids)
    eligible = np.ones((n_w, len(line_ids)), dtype=bool)
    merged = merged_rules(rules, {lid: i for i, lid in enumerate(line_ids)})
    if not merged:
        return eligible
    worker_index = {wid: i for i, wid in enumerate(worker_ids)}
    # Only tags some rule mentions can matter: a small workers x tags membership matrix.
    tags = sorted({t for r in merged.values() for t in r.included_tags | r.excluded_tags})
    tag_index = {t: i for i, t in enumerate(tags)}
    has_tag = np.zeros((n_w, len(tags)), dtype=bool)
    for wid, w in worker_index.items():
        for t in worker_tags.get(wid, frozenset()):
            if t in tag_index:
                has_tag[w, tag_index[t]] = True

    def workers(ids: frozenset[str]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(n_w, dtype=bool)
        mask[[worker_index[i] for i in ids if i in worker_index]] = True
        return mask

    def tagged(ids: frozenset[str]) -> npt.NDArray[np.bool_]:
        return np.asarray(has_tag[:, sorted(tag_index[t] for t in ids)].any(axis=1), dtype=bool)

    for line, rule in merged.items():
        restricted = bool(rule.included_workers or rule.included_tags)
        eligible[:, line] = workers(rule.included_workers) | (
            ~workers(rule.excluded_workers)
            & ~tagged(rule.excluded_tags)
            & (tagged(rule.included_tags) | (not restricted))
        )
    return eligible
