"""The data at fault, in plain words: what the positions offer, for the rules of a conflict.

Each rule says which position data it reads (``Rule.reads``); this module turns those reads
into sentences an administrator can check against the term list: "team-based posts are open
only in terms 1-2 (4 seats)", "Emergency Medicine posts and Surgery posts are both open only in
term 5". Reads of the same kind with the same restricted terms are said once, together: that
overlap is usually the conflict.
"""

from __future__ import annotations

from collections.abc import Sequence

from daemon.planner.problem import Problem, seats_of
from daemon.planner.rules import Rule
from daemon.planner.rules.base import Read
from daemon.planner.rules.predicates import Predicate
from daemon.text import listing, printable


def terms_text(terms: Sequence[int]) -> str:
    """1-based term numbers as ranges: [1, 2, 4] -> "terms 1-2 and 4"."""
    runs: list[list[int]] = []
    for t in sorted(terms):
        if runs and t == runs[-1][-1] + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return ("term " if len(terms) == 1 else "terms ") + joined


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _per_term(problem: Problem, where: Predicate) -> list[int]:
    return [problem.term_seats(t, where) for t in range(problem.n_terms)]


def _open(problem: Problem) -> str:
    """How seats are counted: those open to the run's cohort, when some are closed to it."""
    return f" open to cohort {problem.inp.cohort}" if problem.closed else ""


def _closed(problem: Problem, where: Predicate | None = None) -> list[int]:
    """Seats per term of the positions closed to the run's cohort (of a kind, if ``where``)."""
    seats = [0] * problem.n_terms
    for p in problem.closed:
        if where is None or where(p):
            seats = [a + b for a, b in zip(seats, seats_of(p, problem.n_terms), strict=True)]
    return seats


def _closed_to(problem: Problem, where: Predicate | None = None) -> str:
    closed = sum(_closed(problem, where))
    return f" ({closed} more closed to cohort {problem.inp.cohort})" if closed else ""


def _terms_in(problem: Problem, posts: int) -> int:
    """The most terms of a line in ``posts`` different positions: a line holds a position
    once, or twice as one 6-month term (at most ``most_six_month_terms`` of them)."""
    return min(problem.n_terms, posts + min(posts, problem.most_six_month_terms))


def _few_posts(problem: Problem, posts: int, label: str, need: int) -> str:
    once = "once, or twice as a 6-month term," if problem.six_month_starts else "once"
    are = "is" if posts == 1 else "are"
    return (
        f"only {posts} {label} {are} {_open(problem).strip() or 'open'} and a line holds a position {once}, "
        f"but every line needs {need} terms in them (more seats cannot help)"
    )


def _needs(problem: Problem, reads: list[Read], lines: int) -> list[str]:
    """Where the positions lines need are open; reads open in the same few terms together."""
    by_terms: dict[tuple[int, ...], list[tuple[str, int]]] = {}
    out = []
    for r in reads:
        seats = _per_term(problem, r.where)
        if not any(seats):
            out.append(f"no position open to the run is one of the {r.label}")
            continue
        posts = sum(1 for p in problem.positions if r.where(p))
        if r.need > _terms_in(problem, posts):  # posts are short, not seats: more seats cannot help
            out.append(_few_posts(problem, posts, r.label, r.need))
            continue
        needing = f" needing {r.need * lines}" if r.need > 1 else ""
        few = f" for {lines} lines{needing}" if sum(seats) < r.need * lines else ""
        open_terms = tuple(t + 1 for t, s in enumerate(seats) if s)
        if len(open_terms) == problem.n_terms:
            spread = "" if len(set(seats)) == 1 else f" ({_and([str(s) for s in seats])} by term)"
            closed = _closed_to(problem, r.where)
            out.append(f"{r.label} offer {sum(seats)} seats{_open(problem)} over the year{spread}{closed}{few}")
        else:
            by_terms.setdefault(open_terms, []).append((r.label, sum(seats)))
    for open_terms, group in by_terms.items():
        labels = [g[0] for g in group]
        both = " both" if len(group) == 2 else " all" if len(group) > 2 else ""
        counts = f"{_and([str(g[1]) for g in group])} seats"
        out.append(f"{_and(labels)} are{both} open only in {terms_text(open_terms)} ({counts})")
    return out


def _caps(problem: Problem, read: Read, lines: int) -> list[str]:
    """Lines may hold few capped posts, so the other posts must carry the rest of each line."""
    others = _per_term(problem, lambda p: not read.where(p))
    need = problem.n_terms - read.limit  # terms of each line in other posts
    usable = sum(min(lines, s) for s in others)  # a term's seats beyond one a line are no use
    short = [(t + 1, s) for t, s in enumerate(others) if s < lines]
    if usable < lines * need:
        by_term = f"{_and([str(s) for s in others])} seats in {terms_text(range(1, problem.n_terms + 1))}"
        return [
            f"posts other than {read.label} offer {by_term}, {usable} usable in all, and {lines} lines "
            f"need {lines * need} ({need} terms each outside {read.label})"
        ]
    count = sum(1 for p in problem.positions if not read.where(p))
    said = f"posts other than {read.label} are {count} positions"
    if short:
        seats, terms = _and([str(s) for _, s in short]), terms_text([t for t, _ in short])
        said += f", offering only {seats} seats in {terms} for {lines} lines"
    return [f"{said}; each line needs {need} terms in them, one position once"]


def _by_term(seats: Sequence[int], terms: Sequence[int] | None = None) -> str:
    """Seats per term in words: "3 seats in each term", "1, 0 and 2 seats in terms 1-3"."""
    terms = list(range(1, len(seats) + 1)) if terms is None else list(terms)
    if len(set(seats)) == 1:
        one = f"{seats[0]} seat{'' if seats[0] == 1 else 's'}"
        return f"{one} in {terms_text(terms)}" if len(terms) == 1 else f"{one} in each of {terms_text(terms)}"
    return f"{_and([str(s) for s in seats])} seats in {terms_text(terms)}"


def _barred(problem: Problem, read: Read, lines: int) -> list[str]:
    seats = _per_term(problem, read.where)
    if not any(seats):
        return []
    rest = [problem.term_seats(t) - s for t, s in enumerate(seats)]
    short = [(t + 1, s) for t, s in enumerate(rest) if s < lines]
    what = f"barring {read.label} takes away {_by_term(seats)} ({sum(seats)} seats over the year)"
    if not short:
        return [what]
    left = _by_term([s for _, s in short], [t for t, _ in short])
    return [f"{what}; without them only {left} remain for {lines} lines"]


def data_at_fault(problem: Problem, rules: Sequence[Rule], lines: int) -> list[str]:
    """Sentences about the positions the ``rules`` read, for ``lines`` lines, most telling first."""
    reads = [r for rule in rules for r in rule.reads(problem)]
    out = _needs(problem, [r for r in reads if r.role == "needs"], lines)
    for r in reads:
        if r.role == "caps":
            out += _caps(problem, r, lines)
        elif r.role == "barred":
            out += _barred(problem, r, lines)
        elif r.role in ("share", "fact"):
            out.append(r.fact)
    # The seats every line needs in each term, when a term alone is short.
    need = problem.n_terms - problem.most_six_month_terms
    if len(problem.positions) < need:
        out.append(_few_posts(problem, len(problem.positions), "positions", need))
    short = [t for t in range(problem.n_terms) if problem.term_seats(t) < lines]
    for t in short:
        out.append(f"term {t + 1} has only {problem.term_seats(t)} seats{_open(problem)} for {lines} lines")
    closed = _closed(problem)
    if short and any(closed[t] for t in short):
        names = listing(p.name for p in problem.closed if any(seats_of(p, problem.n_terms)))
        held = _by_term([closed[t] for t in short], [t + 1 for t in short])
        out.append(f"positions closed to cohort {problem.inp.cohort} ({printable(names)}) hold {held}")
    return list(dict.fromkeys(out))
