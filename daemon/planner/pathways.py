"""Targeted pathways (SPEC §5): lines a run reserves for a priority cohort.

A pathway reserves ``lines`` lines, each of which holds at least ``min_terms`` terms in posts
whose parent specialty or subspecialty is one of ``specialties`` ("10 lines with Paediatrics
or O&G for aspiring GPs": ``["Paediatrics", "O&G"]``, one term). With ``distinct`` the terms
counted are in different subspecialties, a post with none being its parent specialty's own
("6 pre-BPT lines with two Medicine subspecialties": ``["Medicine"]``, two terms, distinct).
A 6-month term (ALLOW_6_MONTH_TERMS) is one term here, as for term counts.
Specialties compare as the rules compare them (case- and space-insensitively, whole names).

- ``mode`` "exact": a hard rule on each reserved line, like a template's, but on those lines
  only; the independent checker verifies it on every line written with the pathway's name.
- ``mode`` "soft": the terms a reserved line is short of are the first soft goal, above
  diversity and affinity (one term short outweighs all of them); lines built and required
  seats filled still come first.

Reserved lines are the run's first lines, pathway by pathway in the order given; the rest are
the general pool. With partial filling a reserved line that cannot meet an exact pathway is
built as a pool line (unlabelled) when it can be: most lines first, then the reserved lines
among them that meet their pathway, then required seats; a reservation never costs a line.
Each written line carries its pathway's name (``job_lines.pathway``), so an allocation can
restrict those lines to the cohort's workers through ``job_line_eligibility``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ortools.sat.python import cp_model

from daemon.planner.data import Pathway, PlannerInput, Position
from daemon.planner.rules.base import LineVars
from daemon.planner.rules.distinct_specialties import specialty_of
from daemon.planner.rules.predicates import Predicate, shown, specialty_key
from daemon.solving import BadInput
from daemon.text import printable

if TYPE_CHECKING:
    from daemon.planner.problem import Problem

MODES = ("exact", "soft")
NAME_LIMIT = 100  # characters in a pathway's name
_REQUIRED = ("name", "lines", "specialties", "mode")
_FIELDS = (*_REQUIRED, "min_terms", "distinct")
_subspecialty = specialty_of("subspecialty")


# --- reading ---------------------------------------------------------------------------------


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one(at: int, raw: object) -> tuple[Pathway | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"pathway {at} must be an object with {', '.join(_FIELDS)}, got {raw!r}"]
    name = raw.get("name")
    label = f"pathway {at} ({name!r})" if isinstance(name, str) else f"pathway {at}"
    errors = [f"{label}: unknown field {k!r}; the fields are {', '.join(_FIELDS)}" for k in raw if k not in _FIELDS]
    errors += [f"{label}: {k} is required" for k in _REQUIRED if k not in raw]
    specialties = raw.get("specialties", [])
    checks: list[tuple[str, bool, str]] = [
        ("name", isinstance(name, str), "text"),
        ("lines", _whole(raw.get("lines", 0)), "a whole number"),
        (
            "specialties",
            isinstance(specialties, list) and all(isinstance(s, str) for s in specialties),
            "a list of names",
        ),
        ("min_terms", _whole(raw.get("min_terms", 1)), "a whole number"),
        ("mode", isinstance(raw.get("mode", ""), str), '"exact" or "soft"'),
        ("distinct", isinstance(raw.get("distinct", False), bool), "true or false"),
    ]
    errors += [f"{label}: {k} must be {what}, got {raw[k]!r}" for k, ok, what in checks if k in raw and not ok]
    if errors:
        return None, errors
    pathway = Pathway(
        name=raw["name"],
        lines=raw["lines"],
        specialties=tuple(raw["specialties"]),
        min_terms=raw.get("min_terms", 1),
        mode=raw["mode"],
        distinct=raw.get("distinct", False),
    )
    return pathway, []


def from_json(raw: Any, where: str) -> tuple[Pathway, ...]:
    """The pathways of a jsonb value (a list of objects); BadInput names ``where``, each
    pathway by its place (from 1) and name, and the field at fault."""
    if not isinstance(raw, list):
        raise BadInput(f"{where}: must be a JSON list of pathways, got {raw!r}")
    read = [_one(at, item) for at, item in enumerate(raw, start=1)]
    errors = [e for _, found in read for e in found]
    if errors:
        raise BadInput(f"{where}: " + "; ".join(errors))
    return tuple(p for p, _ in read if p is not None)


# --- validation ------------------------------------------------------------------------------


def keys(pathway: Pathway) -> frozenset[str]:
    return frozenset(specialty_key(s) for s in pathway.specialties)


def matches(pathway: Pathway) -> Predicate:
    """Posts a pathway's terms count in: parent specialty or subspecialty one of its names."""
    wanted = keys(pathway)
    return lambda p: specialty_key(p.parent_specialty) in wanted or specialty_key(p.subspecialty) in wanted


def _name_errors(at: int, name: str) -> list[str]:
    """A name is written raw on every reserved line (``job_lines.pathway``) and in the
    workbook: one an Excel cell cannot hold, or a round trip would change, is refused."""
    label = f"pathway {at}: name"
    found = []
    if len(name) > NAME_LIMIT:
        found.append(f"{label} has {len(name):,} characters, more than {NAME_LIMIT}")
    if printable(name) != name:
        found.append(f"{label} must not contain control characters, got '{shown(name)}'")
    if name != name.strip():
        found.append(f"{label} must not start or end with spaces, got '{shown(name)}'")
    return found


def errors(inp: PlannerInput) -> list[str]:
    """What is wrong with the run's pathways, each named; empty when they can be planned."""
    found = [e for at, p in enumerate(inp.pathways, start=1) for e in _name_errors(at, p.name)]
    names = Counter(specialty_key(p.name) for p in inp.pathways)
    known = {specialty_key(s) for p in inp.positions for s in (p.parent_specialty, p.subspecialty)} - {""}
    n_terms = len(inp.term_structure)
    for p in inp.pathways:
        label = f"pathway {shown(p.name)!r}"
        if not specialty_key(p.name):
            found.append(f"a pathway needs a name, got {p.name!r}")
        elif names[specialty_key(p.name)] > 1:
            found.append(f"{label}: name used by {names[specialty_key(p.name)]} pathways; each needs its own")
        if p.mode not in MODES:
            found.append(f"{label}: mode must be exact or soft, got {shown(p.mode)!r}")
        if not 1 <= p.lines <= inp.n_job_lines:
            found.append(f"{label}: lines must be within 1..n_job_lines ({inp.n_job_lines}), got {p.lines}")
        if not 1 <= p.min_terms <= n_terms:
            found.append(f"{label}: min_terms must be within 1..{n_terms} (the terms of a line), got {p.min_terms}")
        if not p.specialties:
            found.append(f"{label}: specialties must name at least one parent specialty or subspecialty")
        unknown = [shown(s) for s in p.specialties if specialty_key(s) not in known]
        if unknown:
            found.append(
                f"{label}: specialties {', '.join(map(repr, unknown))} match no position's parent_specialty "
                "or subspecialty"
            )
    reserved = sum(p.lines for p in inp.pathways)
    if len(inp.pathways) > 1 and reserved > inp.n_job_lines:
        found.append(f"the pathways reserve {reserved} lines, more than n_job_lines ({inp.n_job_lines})")
    return found


def _most_per_line(problem: Problem, pathway: Pathway) -> int:
    """A count no line can beat: the terms with a seat in a matching post, the matching posts
    (each held once a line, a 6-month term once) or with ``distinct`` their subspecialties."""
    match = matches(pathway)
    mine = [(p, seats) for p, seats in zip(problem.positions, problem.seats, strict=True) if match(p)]
    terms = sum(any(seats[t] for _, seats in mine) for t in range(problem.n_terms))
    kinds = {_subspecialty(p) if pathway.distinct else p.id for p, _ in mine}
    return min(terms, len(kinds))


def unmeetable(problem: Problem) -> list[str]:
    """Exact pathways no line can meet, each named with why: a run that plans them would fail
    or leave the reservation empty with a diagnosis about something else. Counted on the
    positions the run can use (open to its cohort, not barred by a rule, with a seat)."""
    found = []
    for p in problem.inp.pathways:
        most = _most_per_line(problem, p)
        if p.mode == "exact" and most < p.min_terms:
            what = "different subspecialties of" if p.distinct else "terms in"
            asked = f"{p.min_terms} {what} {', '.join(map(shown, p.specialties))}"
            found.append(
                f"pathway {shown(p.name)!r} asks for {asked}, but the positions offer at most {most} per line "
                "(a post counts once, a 6-month term included)"
            )
    return found


# --- lines and the model ---------------------------------------------------------------------


def reserved(problem: Problem, n_lines: int) -> tuple[int, ...]:
    """Lines per pathway when ``n_lines`` are planned: each its own, the first pathways first."""
    out, left = [], n_lines
    for p in problem.inp.pathways:
        out.append(min(p.lines, left))
        left -= out[-1]
    return tuple(out)


def line_pathways(problem: Problem, n_lines: int, counts: Sequence[int]) -> list[Pathway | None]:
    """The pathway of each of ``n_lines`` lines in order: ``counts[k]`` lines of pathway k
    first, then the general pool (None)."""
    out: list[Pathway | None] = [p for p, n in zip(problem.inp.pathways, counts, strict=True) for _ in range(n)]
    return out + [None] * (n_lines - len(out))


def ordered(lines: Sequence[tuple[int, ...]], counts: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Lines in the model's order: each pathway's in lexicographic order, then the pool's."""
    bounds = [0, *itertools.accumulate(counts), len(lines)]
    return tuple(held for a, b in itertools.pairwise(bounds) for held in sorted(lines[a:b]))


def terms_in(line: LineVars, pathway: Pathway) -> cp_model.LinearExpr:
    """The line's terms that count for ``pathway`` (with ``distinct``, its subspecialties).

    A 6-month term is one term (README): its post held in two terms counts once. A post is
    otherwise held once per line, so the posts held are the terms."""
    match = matches(pathway)
    if not pathway.distinct and not line.problem.six_month_starts:
        return line.slots(match)  # no post can be held twice: fewer variables
    by_key: dict[str, list[cp_model.IntVar]] = {}
    for t in range(line.problem.n_terms):
        for p, v in line.term_cells(t):
            if match(p):
                by_key.setdefault(_subspecialty(p) if pathway.distinct else p.id, []).append(v)
    has = []
    for _, cells in sorted(by_key.items()):
        held = line.model.new_bool_var("")
        line.model.add(held <= cp_model.LinearExpr.sum(cells))
        has.append(held)
    return cp_model.LinearExpr.sum(has)


def add(line: LineVars, pathway: Pathway, meets: cp_model.IntVar | None = None) -> cp_model.LinearExpr:
    """Constrain one reserved line (an exact pathway's only when ``meets``, if given); returns
    the terms it is short of (a soft pathway's goal, 0 for an exact one)."""
    count = terms_in(line, pathway)
    if pathway.mode == "exact":
        line.require(count >= pathway.min_terms, when=meets)
        return cp_model.LinearExpr.constant(0)
    short = line.model.new_int_var(0, pathway.min_terms, "")
    line.model.add(short >= pathway.min_terms - count)
    return short


# --- diagnosis ------------------------------------------------------------------------------


def kept(problem: Problem) -> str:
    """The exact pathways as a diagnosis names them ('' when there are none): every model of a
    run that must build its lines holds them on their reserved lines, and no diagnosis drops
    them, so what it blames is said with them in force."""
    held = [p for p in problem.inp.pathways if p.mode == "exact"]
    if len(held) == 1:
        return f"exact pathway {shown(held[0].name)!r} on its {held[0].lines} reserved lines"
    named = ", ".join(f"{shown(p.name)!r} ({p.lines})" for p in held)
    return f"exact pathways {named} on their reserved lines" if held else ""


def short(problem: Problem, counts: Sequence[int]) -> list[str]:
    """Per exact pathway with fewer lines meeting it than it reserves (``counts``: lines met
    per pathway), what it built: its other lines, if built, are pool lines."""
    return [
        f"exact pathway {shown(p.name)!r}: {met} of the {p.lines} lines it reserves meet it "
        "(a reserved line that cannot is built as a pool line)"
        for p, met in zip(problem.inp.pathways, counts, strict=True)
        if p.mode == "exact" and met < p.lines
    ]


# --- results ---------------------------------------------------------------------------------


def counted(pathway: Pathway, held: Sequence[Position]) -> int:
    """Terms of a line (its posts in term order) that count for ``pathway``, a 6-month term
    (its post in two terms) once."""
    match = [p for p in held if matches(pathway)(p)]
    return len({_subspecialty(p) if pathway.distinct else p.id for p in match})


def report(
    problem: Problem, lines: Sequence[Sequence[int]], names: Sequence[str], counts: Sequence[int]
) -> list[dict[str, Any]]:
    """Per pathway, for ``result_metadata.pathways``: lines reserved and built (named), and how
    many meet it (every one for an exact pathway)."""
    out = []
    labels = line_pathways(problem, len(lines), counts)
    for pathway in problem.inp.pathways:
        mine = [k for k, p in enumerate(labels) if p is pathway]
        met = [k for k in mine if counted(pathway, [problem.positions[i] for i in lines[k]]) >= pathway.min_terms]
        out.append(
            {
                "name": pathway.name,
                "mode": pathway.mode,
                "lines_reserved": pathway.lines,
                "lines_built": len(mine),
                "lines_met": len(met),
                "lines": [names[k] for k in mine],
            }
        )
    return out
