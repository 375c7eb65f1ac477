"""Explanations (issue 11) in plain sentences, addressed to the worker: what `receptord explain`
prints and the ``sentence`` column of a result workbook's ``why`` sheet, built here only.

"Line 12 (your 1st choice) went to Dr X, who ranked it 1st; giving it to you would raise total
dissatisfaction by 3.4 and move Dr X to their 4th choice." One sentence per reason code of
``explanations``; a figure that is a bound (``detail["exact"]`` false: a CP-SAT run) says
"at least". Ranks are the normalised ones the solver uses: "1st choice" for a whole rank,
"rank 1.5" for a tie's fractional one.

Everything quoted from the run (names, ids, tags) has its control characters escaped and is
cut to a readable width; a worker whose name is not known is shown as ``worker <id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daemon.allocator.problem import Allocation, Explanation
from daemon.text import NAME_WIDTH, bounded, listing, printable


def _shown(text: str) -> str:
    return printable(bounded(text, NAME_WIDTH))


@dataclass(frozen=True)
class Names:
    """Display names by id; an id without a name is shown as the id."""

    workers: Mapping[str, str] = field(default_factory=dict)  # worker mapping id -> name
    lines: Mapping[str, str] = field(default_factory=dict)  # job line id -> name
    tags: Mapping[str, str] = field(default_factory=dict)  # qualification tag id -> name

    def worker(self, worker: str) -> str:
        name = self.workers.get(worker)
        return _shown(name) if name else f"worker {_shown(worker)}"

    def line(self, line: str) -> str:
        name = self.lines.get(line)
        return _shown(name) if name else f"job line {_shown(line)}"

    def tag_list(self, tags: Iterable[str]) -> str:
        return listing((self.tags.get(t) or t for t in tags), first=3, show=printable)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _whole(rank: float) -> bool:
    return float(rank).is_integer()


def choice(rank: float | None) -> str:
    """A normalised rank as "1st choice", "rank 1.5" (a tie), or "unranked" (None)."""
    if rank is None:
        return "unranked"
    return f"{ordinal(int(rank))} choice" if _whole(rank) else f"rank {rank:g}"


def ranked_it(rank: float | None) -> str:
    """How someone ranked a line: "ranked it 1st", "ranked it 1.5" or "had not ranked it"."""
    if rank is None:
        return "had not ranked it"
    return f"ranked it {ordinal(int(rank)) if _whole(rank) else f'{rank:g}'}"


def amount(delta: float) -> str:
    """An objective figure for people: 2 decimals (3.4, 0.7, 12), small ones to 2 digits."""
    if delta != 0 and abs(delta) < 0.01:
        return f"{delta:.2g}"
    return f"{delta:.2f}".rstrip("0").rstrip(".")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def holders(allocations: Iterable[Allocation]) -> dict[str, list[Allocation]]:
    """The allocations on each line, for naming who a line went to."""
    out: dict[str, list[Allocation]] = {}
    for a in allocations:
        out.setdefault(a.job_line, []).append(a)
    return out


def placed(worker: str, allocation: Allocation | None, names: Names) -> str:
    """The heading of a worker's explanations: "Dr X got Line 3 (their 2nd choice)."."""
    who = names.worker(worker)
    if allocation is None:
        return f"{who} was left unassigned."
    if allocation.worker_rank is None:
        return f"{who} got {names.line(allocation.job_line)}, a line they had not ranked."
    return f"{who} got {names.line(allocation.job_line)} (their {choice(allocation.worker_rank)})."


def sentence(e: Explanation, names: Names, on_line: Mapping[str, Sequence[Allocation]] | None = None) -> str:
    """Why ``e.worker`` is not on ``e.job_line``, as one or two sentences to the worker.

    ``on_line`` (see ``holders``) names who holds the line when the explanation itself does
    not (a trade-off measured as a bound carries no displacement chain)."""
    opening = f"{names.line(e.job_line)} (your {choice(e.worker_rank)})"
    d = e.detail
    if e.reason == "not_eligible":
        text = f"{opening}: you are not eligible for it; {_eligibility(d, names)}."
    elif e.reason == "no_seat":
        text = _no_seat(opening, d)
    elif e.reason == "supervisor_cap":
        text = _supervisor_cap(opening, d)
    elif e.reason == "trade_off":
        text = _trade_off(opening, e, names, (on_line or {}).get(e.job_line, ()))
    elif e.reason == "no_allocation":
        text = (
            f"{opening}: no allocation of this run can put you there "
            "(a must-have line would be left empty, or a cap broken)."
        )
    else:
        text = f"{opening}: {_shown(e.reason)}."
    stability = d.get("stability")
    if isinstance(stability, str):
        if stability == "blocking":
            text += (
                " Under weak stability this pair blocks: the line has a spare seat"
                " or its supervisors prefer you to one of its workers."
            )
        else:
            text += (
                " Under weak stability it does not block: the line is full"
                " and its supervisors like each of its workers at least as well as you."
            )
    return text


def _eligibility(d: Mapping[str, Any], names: Names) -> str:
    rule, tags = d.get("rule"), d.get("tags") or []
    if rule == "excluded_workers":
        return "its eligibility rules exclude you by name (step 2, excluded workers)"
    if rule == "excluded_tags":
        return f"it excludes holders of {names.tag_list(tags)}, which you hold (step 3, excluded tags)"
    if rule == "included_tags":
        return f"it is open only to holders of {names.tag_list(tags)}, and you hold none (step 5, included tags)"
    if rule == "included_workers":
        listed = d.get("included_workers")
        who = "the workers listed for it" if listed is None else f"the {plural(int(listed), 'worker')} listed for it"
        return f"it is open only to {who}, and you are not one of them (step 5, included workers)"
    return f"eligibility step {_shown(str(d.get('step')))} excludes you"


def _no_seat(opening: str, d: Mapping[str, Any]) -> str:
    seats, taken = d.get("max_n_workers"), d.get("taken_by_earlier_rounds") or 0
    if not seats:
        return f"{opening} had no seat to give: it has none (max_n_workers is 0)."
    return f"{opening} had no seat left in this round: earlier rounds took {taken} of its {plural(int(seats), 'seat')}."


def _supervisor_cap(opening: str, d: Mapping[str, Any]) -> str:
    who = _shown(str(d.get("supervisor_name") or d.get("supervisor")))
    limit, used = d.get("limit"), d.get("used_by_earlier_rounds") or 0
    if d.get("cap") == "max_job_lines":
        return (
            f"{opening} could not be opened: its supervisor {who} may use at most "
            f"{plural(int(limit or 0), 'job line')} and earlier rounds used {used}."
        )
    return (
        f"{opening} could take no one more: its supervisor {who} may take at most "
        f"{plural(int(limit or 0), 'worker')} and earlier rounds placed {used}."
    )


def _trade_off(opening: str, e: Explanation, names: Names, holding: Sequence[Allocation]) -> str:
    d = e.detail
    exact = d.get("exact", True) is not False
    delta = e.delta or 0.0
    chain: list[dict[str, Any]] = list(d.get("chain") or [])
    if chain:
        first = chain[0]
        holder = names.worker(str(first["worker_mapping"]))
        went = f" went to {holder}, who {ranked_it(first.get('from_rank'))}"
    elif len(holding) == 1:
        holder = names.worker(holding[0].worker)
        went = f" went to {holder}, who {ranked_it(holding[0].worker_rank)}"
    elif holding:
        went = f" went to {listing((names.worker(a.worker) for a in holding), first=3)}"
    else:
        went = ""
    rise = f"by {'' if exact else 'at least '}{amount(delta)}"
    left_out = int(d.get("more_left_out") or 0)
    if left_out > 0:  # fewest left out comes first: the cost may then even fall
        effect = (
            f"would leave {plural(left_out, 'more worker')} without a line (fewest left out comes first)"
            f" and change total dissatisfaction by {amount(delta)}"
        )
    elif exact and delta == 0:
        effect = "would leave total dissatisfaction as it is (another allocation ties with this one)"
    else:
        effect = f"would raise total dissatisfaction {rise}"
    text = f"{opening}{went}; giving it to you {effect}" if went else f"{opening}: giving it to you {effect}"
    if chain:
        first = chain[0]
        if first.get("to") is None:
            text += f" and leave {holder} unassigned"
        elif first.get("to_rank") is None:
            text += f" and move {holder} to {names.line(str(first['to']))}, a line they had not ranked"
        else:
            text += f" and move {holder} to their {choice(first['to_rank'])}"
        more = int(d.get("chain_length") or len(chain)) - 1
        if more > 0:
            text += f", displacing {plural(more, 'more worker')} in turn"
        unassigned = int(d.get("more_unassigned") or 0) - (first.get("to") is None)
        if unassigned > 0 and left_out == 0:
            text += f", with {plural(unassigned, 'more worker')} left unassigned"
    return text + "."
