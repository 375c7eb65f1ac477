"""Independent compliance checker for generated job lines (SPEC §5).

Shares no code with the planner's model or rules: it reads the run (``PlannerInput``) and the
lines as plain objects, and re-derives every rule from the constraint names on its own — a
second reading of the catalogue, so a modelling bug shows up as a violation instead of a
non-compliant line in the database. ``check_lines`` returns readable violations; none means
every line is compliant.

Readings shared with the planner's documented semantics: shares are of the year's term weeks
(leave not deducted); service = is_service_term or is_nights; specialties compare
case-insensitively (for PGY2's long terms in different subspecialties a post without one
is its parent specialty's; a post with no specialty counts for none); specialties are the
input's, those the loader inferred from position names included (inference is input, not
model); HMO3 / PGY3 and later cohorts get no template; a 6-month term (ALLOW_6_MONTH_TERMS)
is one post in two consecutive terms of 24-28 weeks together ("about 26 weeks", half the year
give or take a fortnight), one term for term counts and two for caps on terms of a kind; under
VIC_PGY2 it must be on a post with six_month_approved, the line's terms outside it must cover
A, B and C, and its weeks do not count towards the 25% subspecialty cap; leave blocks lie
inside one term each, none starting in week 1 (orientation) unless the run names
ALLOW_WEEK1_LEAVE.

Targeted pathways: a line written with a pathway's name must name one of the run's pathways,
no pathway has more lines than it reserves, and each line of an *exact* pathway holds at least
``min_terms`` terms in posts whose parent specialty or subspecialty it lists (``distinct``: in
that many different subspecialties, a post with none being its parent specialty's). A *soft*
pathway's lines are a goal, reported, not checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from daemon.planner.data import Pathway, PlannerInput, Position

LEAVE_SPLITS = ({2, 3},)  # two blocks of 2 and 3 weeks, either order, for 5 weeks of leave
LEAVE_GAP = 13
SIX_MONTH_WEEKS = range(24, 29)  # two consecutive terms of this many weeks make a 6-month term


class RotationLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def start_week(self) -> int: ...
    @property
    def length_weeks(self) -> int: ...
    @property
    def position_id(self) -> str | None: ...
    @property
    def term_index(self) -> int | None: ...


class LineLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def rotations(self) -> Sequence[RotationLike]: ...
    @property
    def pathway(self) -> str | None: ...


@dataclass(frozen=True)
class Requirements:
    """Everything the constraint names ask of one line. Caps: None = no cap."""

    long_terms: int = 0  # terms of >= 10 weeks
    distinct_specialties: int = 0  # of them in different parent specialties (PGY1)
    distinct_subspecialties: int = 0  # ... in different subspecialties, else parent (PGY2)
    max_categories: int | None = None  # categories a post may list (QLD: PMAQ accredits 2)
    clinical_weeks: int = 0
    categories: frozenset[str] = frozenset()
    specialty_pct: int | None = None
    subspecialty_pct: int | None = None
    service_pct: int | None = None
    team_pct: int = 0
    non_clinical: int | None = None
    specialties: tuple[str, ...] = ()
    structure: tuple[int, ...] | None = None
    terms: int | None = None  # template's exact count (NUM_TERMS=k replaces it)
    service_terms: int | None = None  # template's count (MAX_SERVICE_TERMS=k replaces it)
    service_caps: tuple[int, ...] = ()  # explicit service-term caps, all apply
    rural: int | None = None
    no_nights: bool = False
    six_month: bool = False
    six_month_approved_only: bool = False  # VIC_PGY2: on approved posts, A/B/C outside it
    six_month_cap_exempt: bool = False  # VIC_PGY2: a 6-month term outside the subspecialty cap
    week_one_leave: bool = False  # leave may start in week 1, orientation


_AMC1 = Requirements(
    long_terms=4,
    distinct_specialties=4,
    clinical_weeks=47,
    categories=frozenset("ABCD"),
    specialty_pct=50,
    subspecialty_pct=25,
    service_pct=20,
    team_pct=50,
)
_AMC2 = Requirements(
    long_terms=3,
    distinct_subspecialties=3,
    clinical_weeks=47,
    categories=frozenset("ABC"),
    subspecialty_pct=25,
    non_clinical=1,
    service_pct=25,
    team_pct=50,
)
_TEMPLATES = {
    "AMC_PGY1": _AMC1,
    "AMC_PGY2": _AMC2,
    "VIC_PGY1": replace(
        _AMC1, structure=(10, 10, 10, 10, 12), specialties=("medicine", "surgery", "emergency medicine")
    ),
    "VIC_PGY2": replace(_AMC2, six_month_approved_only=True, six_month_cap_exempt=True),
    "NSW_PGY1": replace(_AMC1, terms=5, service_terms=1),
    "NSW_PGY2": replace(_AMC2, terms=5, service_terms=1),
    **{f"{s}_PGY{n}": (_AMC1 if n == 1 else _AMC2) for s in ("SA", "WA", "TAS", "NT") for n in (1, 2)},
    "QLD_PGY1": replace(_AMC1, max_categories=2),
    "QLD_PGY2": replace(_AMC2, max_categories=2),
}


def _senior(cohort: str) -> bool:
    """HMO3 / PGY3 and later: no accreditation template, only the always-on rules."""
    for prefix in ("HMO", "PGY"):
        number = cohort.removeprefix(prefix)
        if cohort.startswith(prefix) and number.isascii() and number.isdigit() and int(number) >= 3:
            return True
    return False


@dataclass
class _Reading:
    base: list[Requirements] = field(default_factory=list)
    explicit_terms: int | None = None
    explicit_service: list[int] = field(default_factory=list)
    rural: int | None = None
    no_nights: bool = False
    six_month: bool = False
    week_one_leave: bool = False
    unknown: list[str] = field(default_factory=list)


def _read_name(name: str, reading: _Reading) -> None:
    key, _, value = name.partition("=")
    if name in _TEMPLATES:
        reading.base.append(_TEMPLATES[name])
    elif name == "NO_NIGHTS":
        reading.no_nights = True
    elif name == "MAX_ONE_RURAL":
        reading.rural = 1
    elif name == "MAX_ONE_SERVICE":
        reading.explicit_service.append(1)
    elif name == "ALLOW_6_MONTH_TERMS":
        reading.six_month = True
    elif name == "ALLOW_WEEK1_LEAVE":
        reading.week_one_leave = True
    elif key == "MAX_SERVICE_TERMS" and value.isdigit():
        reading.explicit_service.append(int(value))
    elif key == "NUM_TERMS" and value.isdigit():
        reading.explicit_terms = int(value)
    elif name not in ("UNRESTRICTED", "NO_READING_GOALS"):  # the latter asks nothing of a line
        reading.unknown.append(name)


def _tightest(reqs: list[Requirements]) -> Requirements:
    def cap(values: list[int | None]) -> int | None:
        given = [v for v in values if v is not None]
        return min(given) if given else None

    return Requirements(
        long_terms=max((r.long_terms for r in reqs), default=0),
        distinct_specialties=max((r.distinct_specialties for r in reqs), default=0),
        distinct_subspecialties=max((r.distinct_subspecialties for r in reqs), default=0),
        max_categories=cap([r.max_categories for r in reqs]),
        clinical_weeks=max((r.clinical_weeks for r in reqs), default=0),
        categories=frozenset().union(*(r.categories for r in reqs)),
        specialty_pct=cap([r.specialty_pct for r in reqs]),
        subspecialty_pct=cap([r.subspecialty_pct for r in reqs]),
        service_pct=cap([r.service_pct for r in reqs]),
        team_pct=max((r.team_pct for r in reqs), default=0),
        non_clinical=cap([r.non_clinical for r in reqs]),
        specialties=tuple(sorted({s for r in reqs for s in r.specialties})),
        structure=next((r.structure for r in reqs if r.structure), None),
        terms=next((r.terms for r in reqs if r.terms is not None), None),
        service_terms=cap([r.service_terms for r in reqs]),
        six_month_approved_only=any(r.six_month_approved_only for r in reqs),
        # Exempt only if every template capping subspecialties exempts (AMC_PGY2 beside VIC_PGY2
        # keeps its plain cap).
        six_month_cap_exempt=all(r.six_month_cap_exempt for r in reqs if r.subspecialty_pct is not None)
        and any(r.six_month_cap_exempt for r in reqs),
    )


def requirements(inp: PlannerInput) -> tuple[Requirements, list[str]]:
    """The run's requirements, and the names the checker does not know."""
    reading = _Reading()
    state, cohort = inp.state.strip().upper(), inp.cohort.strip().upper()
    names = [c.strip().upper() for c in inp.constraints]
    if state != "UNRESTRICTED" and not _senior(cohort):
        names.insert(0, f"{state}_{cohort}")
    for name in names:
        _read_name(name, reading)
    req = _tightest(reading.base)
    if reading.explicit_terms is not None:
        req = replace(req, terms=reading.explicit_terms)
    if any(n.startswith("MAX_SERVICE_TERMS=") for n in names):
        req = replace(req, service_terms=None)  # replaced by the explicit count
    req = replace(
        req,
        service_caps=tuple(reading.explicit_service),
        rural=reading.rural,
        no_nights=reading.no_nights,
        six_month=reading.six_month,
        week_one_leave=reading.week_one_leave,
    )
    return req, reading.unknown


def _key(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def _is_open(p: Position, cohort: str) -> bool:
    if cohort.upper() == "ANY" or p.cohorts is None:
        return True
    return cohort.upper() in {c.upper() for c in p.cohorts}


def _capacity(p: Position, t: int) -> int:
    return p.capacity if p.capacity_by_term is None else p.capacity_by_term[t]


def _term_bounds(terms: Sequence[int]) -> list[tuple[int, int]]:
    """(first week, last week) of each term."""
    out, week = [], 1
    for length in terms:
        out.append((week, week + length - 1))
        week += length
    return out


def _check_leave(inp: PlannerInput, leave: list[RotationLike], week_one: bool) -> list[str]:
    bounds = _term_bounds(inp.term_structure)
    found = []
    total = sum(r.length_weeks for r in leave)
    if total != inp.leave_weeks:
        found.append(f"{total} weeks of leave, not {inp.leave_weeks}")
    lengths = sorted(r.length_weeks for r in leave)
    if len(leave) > 2 or (len(leave) == 2 and (inp.leave_weeks != 5 or set(lengths) not in LEAVE_SPLITS)):
        found.append(f"leave in blocks of {lengths} weeks: one block, or 2+3 / 3+2")
    for r in leave:
        if r.start_week == 1 and not week_one:
            found.append("leave in week 1 (orientation) without ALLOW_WEEK1_LEAVE")
        if r.position_id is not None or r.term_index is not None:
            found.append("a leave rotation names a position or term")
        end = r.start_week + r.length_weeks - 1
        if not any(a <= r.start_week and end <= b for a, b in bounds):
            found.append(f"leave weeks {r.start_week}-{end} are not inside one term")
    if len(leave) == 2:
        first, second = sorted(leave, key=lambda r: r.start_week)
        between = second.start_week - (first.start_week + first.length_weeks)
        if between < LEAVE_GAP:
            found.append(f"only {between} weeks between the leave blocks (at least {LEAVE_GAP})")
    return found


def _held_positions(
    inp: PlannerInput, clinical: list[RotationLike], by_id: dict[str, Position]
) -> tuple[list[Position], list[str]]:
    """The position of each term, in term order, or what is wrong with the rotations."""
    bounds = _term_bounds(inp.term_structure)
    by_term = {r.term_index: r for r in clinical}
    if len(clinical) != len(bounds) or set(by_term) != set(range(len(bounds))):
        return [], [
            f"terms {sorted(r.term_index or 0 for r in clinical)}: one clinical "
            f"rotation is needed in each of the {len(bounds)} terms"
        ]
    found, held = [], []
    for t, (first, last) in enumerate(bounds):
        r = by_term[t]
        if (r.start_week, r.length_weeks) != (first, last - first + 1):
            found.append(
                f"term {t} rotation starts week {r.start_week} for "
                f"{r.length_weeks} weeks, not week {first} for {last - first + 1}"
            )
        p = by_id.get(r.position_id or "")
        if p is None:
            found.append(f"term {t}: unknown position {r.position_id!r}")
            continue
        if not _is_open(p, inp.cohort):
            found.append(f"term {t}: {p.name} is not open to cohort {inp.cohort}")
        held.append(p)
    return held, found


@dataclass(frozen=True)
class _Unit:
    """A term as the rules count it: a 6-month term is one, of both terms' weeks."""

    weeks: int
    position: Position
    six_month: bool = False


def _units(held: list[Position], terms: Sequence[int], six_month: bool) -> list[_Unit]:
    units: list[_Unit] = []
    for p, weeks in zip(held, terms, strict=True):
        last = units[-1] if units else None
        if (
            six_month
            and last is not None
            and not last.six_month
            and last.position.id == p.id
            and last.weeks + weeks in SIX_MONTH_WEEKS
        ):
            units[-1] = _Unit(last.weeks + weeks, p, six_month=True)
        else:
            units.append(_Unit(weeks, p))
    return units


def check_held(req: Requirements, inp: PlannerInput, held: list[Position]) -> list[str]:
    """What is wrong with one line holding ``held`` (a post per term) under ``req``: rules only,
    not leave or seats (the planner's local search asks this of each line it changes)."""
    terms = inp.term_structure
    year = sum(terms)
    slots = list(zip(terms, held, strict=True))
    units = _units(held, terms, req.six_month)
    found = []

    def weeks(pred: Callable[[Position], bool]) -> int:
        return sum(w for w, p in slots if pred(p))

    def count(pred: Callable[[Position], bool]) -> int:
        return sum(1 for _, p in slots if pred(p))

    def service(p: Position) -> bool:
        return p.is_service_term or p.is_nights

    six_months = [u for u in units if u.six_month]
    for pid in {p.id for p in held}:
        at = [t for t, p in enumerate(held) if p.id == pid]
        if len(at) > 1 and not (len(at) == 2 and any(u.position.id == pid for u in six_months)):
            found.append(f"position {pid} held in terms {at} (only a 6-month term of 24-28 weeks repeats)")
    if sum(1 for u in units if u.weeks >= 10) < req.long_terms:
        found.append(f"fewer than {req.long_terms} terms of 10 weeks or more")
    for n, attr in ((req.distinct_specialties, "parent specialties"), (req.distinct_subspecialties, "subspecialties")):
        if attr == "parent specialties":
            keys = {_key(u.position.parent_specialty) for u in units if u.weeks >= 10}
        else:
            keys = {_key(u.position.subspecialty) or _key(u.position.parent_specialty) for u in units if u.weeks >= 10}
        if len(keys - {""}) < n:
            found.append(f"fewer than {n} terms of 10 weeks or more in different {attr}")
    if req.max_categories is not None:
        for p in held:
            if len(set(p.experience_categories)) > req.max_categories:
                found.append(f"{p.name} lists more than {req.max_categories} experience categories")
    if req.terms is not None and len(units) != req.terms:
        found.append(f"{len(units)} terms, not exactly {req.terms}")
    if req.structure is not None and tuple(terms) != req.structure:
        found.append(f"term structure {terms}, not {req.structure}")
    if year - inp.leave_weeks < req.clinical_weeks:
        found.append(f"fewer than {req.clinical_weeks} clinical weeks")
    covered = {c for p in held for c in p.experience_categories}
    missing = sorted(req.categories - covered)
    if missing:
        found.append(f"no category {', '.join(missing)} term")
    for specialty in req.specialties:
        if not any(_key(p.parent_specialty) == specialty for p in held):
            found.append(f"no {specialty} term")
    if req.six_month_approved_only and six_months:
        for u in six_months:
            if not u.position.six_month_approved:
                found.append(f"a 6-month term in {u.position.name}, a post not approved for one (six_month_approved)")
        outside = {c for u in units if not u.six_month for c in u.position.experience_categories}
        lacking = sorted(set("ABC") - outside)
        if lacking:
            found.append(f"no category {', '.join(lacking)} term outside the 6-month term(s)")
    for attr, pct in (("parent_specialty", req.specialty_pct), ("subspecialty", req.subspecialty_pct)):
        if pct is None:
            continue
        exempt = attr == "subspecialty" and req.six_month_cap_exempt
        by_group = Counter[str]()
        for u in units:
            if _key(getattr(u.position, attr)) and not (exempt and u.six_month):
                by_group[_key(getattr(u.position, attr))] += u.weeks
        over = [g for g, w in by_group.items() if w * 100 > pct * year]
        if over:
            found.append(f"more than {pct}% of the year in {attr} {', '.join(sorted(over))}")
    if (
        req.service_pct is not None
        and weeks(service) * 100 > req.service_pct * year
        and not (len(units) >= 4 and count(service) <= 1)
    ):
        found.append(f"more than {req.service_pct}% of the year in service terms")
    if weeks(lambda p: p.is_team_based) * 100 < req.team_pct * year:
        found.append(f"less than {req.team_pct}% of the year in team-based terms")
    caps = [
        ("non-clinical", req.non_clinical, lambda p: p.is_non_clinical),
        ("rural", req.rural, lambda p: p.is_rural),
        ("service", req.service_terms, service),
        *(("service", k, service) for k in req.service_caps),
    ]
    for kind, limit, pred in caps:
        if limit is not None and count(pred) > limit:
            found.append(f"{count(pred)} {kind} terms (at most {limit})")
    if req.no_nights and any(p.is_nights for p in held):
        found.append("a nights/relief term under NO_NIGHTS")
    return found


def pathway_shortfall(pathway: Pathway, held: Sequence[Position]) -> int:
    """Terms (``distinct``: different subspecialties) a line holding ``held`` lacks of those
    ``pathway`` asks for, whatever its mode: 0 when the line meets it."""
    wanted = {_key(s) for s in pathway.specialties}
    counted = [p for p in held if _key(p.parent_specialty) in wanted or _key(p.subspecialty) in wanted]
    if pathway.distinct:
        found = len({_key(p.subspecialty) or _key(p.parent_specialty) for p in counted})
    else:
        # A post held in two (consecutive) terms is a 6-month term, one term; a post is
        # otherwise held once per line (``check_held``), so the posts held are the terms.
        found = len({p.id for p in counted})
    return max(0, pathway.min_terms - found)


def _check_pathway(pathway: Pathway, held: list[Position]) -> list[str]:
    short = pathway_shortfall(pathway, held)
    if pathway.mode != "exact" or not short:
        return []
    what = "different subspecialties of its list" if pathway.distinct else f"terms in {', '.join(pathway.specialties)}"
    return [f"pathway {pathway.name}: {pathway.min_terms - short} {what}, not {pathway.min_terms}"]


def _pathway_counts(inp: PlannerInput, lines: Sequence[LineLike]) -> list[str]:
    by_name = {p.name: p for p in inp.pathways}
    used = Counter(line.pathway for line in lines if line.pathway is not None)
    found = [
        f"{n} lines name pathway {name!r}, which the run does not have"
        for name, n in used.items()
        if name not in by_name
    ]
    found += [
        f"pathway {name}: {n} lines, more than the {by_name[name].lines} it reserves"
        for name, n in used.items()
        if name in by_name and n > by_name[name].lines
    ]
    return found


def check_lines(inp: PlannerInput, lines: Sequence[LineLike]) -> list[str]:
    req, unknown = requirements(inp)
    if unknown:
        return [f"unknown constraint names: {', '.join(unknown)}"]
    by_id = {p.id: p for p in inp.positions}
    pathways = {p.name: p for p in inp.pathways}
    found: list[str] = _pathway_counts(inp, lines)
    taken = Counter[tuple[str, int]]()
    for line in lines:
        clinical = [r for r in line.rotations if r.kind == "CLINICAL"]
        leave = [r for r in line.rotations if r.kind == "LEAVE"]
        if len(clinical) + len(leave) != len(line.rotations):
            found.append(f"{line.name}: a rotation is neither CLINICAL nor LEAVE")
        held, problems = _held_positions(inp, clinical, by_id)
        problems += _check_leave(inp, leave, req.week_one_leave)
        if held and not problems:
            problems += check_held(req, inp, held)
            if line.pathway in pathways:
                problems += _check_pathway(pathways[line.pathway], held)
            taken.update((p.id, t) for t, p in enumerate(held))
        found += [f"{line.name}: {m}" for m in problems]
    for (pid, t), n in sorted(taken.items()):
        if n > _capacity(by_id[pid], t):
            found.append(f"{by_id[pid].name}: {n} lines in term {t}, capacity {_capacity(by_id[pid], t)}")
    return found
