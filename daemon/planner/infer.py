"""Specialty inference (SPEC §5): a position that comes without a parent specialty gets one
from its name, by the keyword table ``specialty_keywords.csv`` shipped beside this module.

The table is data, not code: one row per keyword, ``keyword,parent_specialty,subspecialty``
(subspecialty optional). Edit it to a district's vocabulary; every run reads it.

Matching: case-insensitive and by whole words, after Unicode NFKC normalisation (full-width
letters are letters). A name and a keyword are both cut into words
(letters and digits; ``&`` reads as ``and``, other punctuation separates), and a keyword
matches when its words appear consecutively in the name's: ``ed`` matches "Gen Med/ED" but
not "Medicine", ``surgery urology`` matches "Surgery - Urology".

Precedence: of keywords that overlap in the name, the longest wins (its words joined by single
spaces, counted in characters), so ``general medicine relief`` beats ``general medicine``,
which beats ``medicine``, and ``surgery urology`` reads "Surgery - Urology" as Urology (the
table names a district's "Department - Unit" habit this way). Keywords at different places of
the name must agree: one parent specialty, at most one subspecialty of it ("Medicine -
Cardiology" is Cardiology). Otherwise ("Emergency Surgery", "Cardiology / Respiratory"), or
when overlapping keywords of the same greatest length disagree, nothing is chosen and the
position is reported as ambiguous with the keywords that disagree.

Only a missing (empty) ``parent_specialty`` is filled, never a given one; with it the
table's subspecialty, when the position has none of its own. What was inferred, and the names
that matched nothing or tied, go to ``result_metadata`` (``inferred``,
``positions_unmatched``, ``positions_ambiguous``) and the workbook's diagnostics sheet: the
planner never guesses silently. A position still without a specialty is what it was before
inference: the database's empty one counts for no specialty (the rules' diagnosis names it),
the workbook's blank cell is bad input (``xlsx_reader.read_workbook``).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from daemon.planner.data import Inference, Inferred, Position
from daemon.planner.rules.predicates import specialty_key
from daemon.solving import BadInput

TABLE = Path(__file__).with_name("specialty_keywords.csv")
COLUMNS = ("keyword", "parent_specialty", "subspecialty")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Keyword:
    words: tuple[str, ...]
    parent_specialty: str
    subspecialty: str | None

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def shown(self) -> str:
        """ "ent" (General Surgery / ENT)."""
        specialty = self.parent_specialty + (f" / {self.subspecialty}" if self.subspecialty else "")
        return f"{self.text!r} ({specialty})"


def words(text: str) -> tuple[str, ...]:
    """``text`` cut into words, NFKC-normalised first so that full-width "Ｍｅｄｉｃｉｎｅ" and
    "＆" read as "medicine" and "&", then casefolded."""
    return tuple(_WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")))


@functools.cache
def keyword_table(path: Path = TABLE) -> tuple[Keyword, ...]:
    """The table at ``path``; BadInput names the file and the row (as a spreadsheet numbers it)
    of a malformed one."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = tuple(h.strip() for h in next(reader, ()))
        if header not in (COLUMNS, COLUMNS[:2]):
            raise BadInput(f"{path.name}: the header must be {','.join(COLUMNS)}, got {','.join(header)}")
        table: list[Keyword] = []
        first_row: dict[tuple[str, ...], int] = {}
        for number, row in enumerate(reader, start=2):
            cells = [c.strip() for c in row] + [""] * (len(COLUMNS) - len(row))
            if not any(cells):
                continue
            keyword, parent, sub = cells[: len(COLUMNS)]
            where = f"{path.name} row {number}"
            if not words(keyword):
                raise BadInput(f"{where}: the keyword needs a letter or digit, got {keyword!r}")
            if not parent:
                raise BadInput(f"{where}: keyword {keyword!r} needs a parent_specialty")
            if words(keyword) in first_row:
                raise BadInput(f"{where}: keyword {keyword!r} is the same as row {first_row[words(keyword)]}'s")
            first_row[words(keyword)] = number
            table.append(Keyword(words(keyword), parent, sub or None))
    return tuple(table)


def _found(name: tuple[str, ...], table: Sequence[Keyword]) -> list[tuple[int, Keyword]]:
    """Every keyword in ``name`` (its words), with the word it starts at. One pass over the
    name, looking each run of words up in the table by its words: the cost grows with the
    name's length times the longest keyword's word count (a few), not times the table's size
    (a 2 MB name, cut into words once per keyword, took 14 s inside the load transaction)."""
    by_words = {k.words: k for k in table}
    most = max((len(w) for w in by_words), default=0)
    return [
        (i, by_words[name[i : i + n]])
        for i in range(len(name))
        for n in range(1, min(most, len(name) - i) + 1)
        if name[i : i + n] in by_words
    ]


def _places(found: list[tuple[int, Keyword]]) -> list[list[Keyword]]:
    """``found`` (in the name's order) grouped into places: keywords that overlap in the name."""
    places: list[list[Keyword]] = []
    end = 0
    for start, k in found:
        if not places or start >= end:
            places.append([])
        places[-1].append(k)
        end = max(end, start + len(k.words))
    return places


def best_keywords(name: str, table: Sequence[Keyword]) -> tuple[Keyword, ...]:
    """What the keywords in ``name`` settle: none found, one answer, or several that disagree
    (in the order the name holds them).

    Keywords that overlap in the name read one place of it, and the longest of them says what
    that place is ("surgery urology" over "surgery" and "urology"). Places that disagree make
    the name ambiguous: "Emergency Surgery" may be either, and the longer keyword is no
    evidence of which. Places agree when they give one parent specialty and at most one
    subspecialty of it: "Medicine - Cardiology" is Cardiology, "Cardiology / Respiratory" is
    ambiguous."""
    said: list[Keyword] = []
    for place in _places(_found(words(name), table)):
        longest = max(len(k.text) for k in place)
        said += [k for k in place if len(k.text) == longest]
    answers: dict[tuple[str, str], Keyword] = {}
    for k in said:
        answers.setdefault((specialty_key(k.parent_specialty), specialty_key(k.subspecialty)), k)
    parents = {parent for parent, _ in answers}
    subspecialties = {sub for _, sub in answers if sub}
    if len(parents) == 1 and len(subspecialties) <= 1:
        # The subspecialty's keyword, the longest of those, is the one reported.
        return (max(answers.values(), key=lambda k: (bool(specialty_key(k.subspecialty)), len(k.text))),)
    return tuple(answers.values())


def infer(positions: Sequence[Position], table: Sequence[Keyword]) -> tuple[tuple[Position, ...], Inference]:
    """``positions`` with every missing parent specialty the table settles filled in, and
    the record of what it did."""
    out: list[Position] = []
    inferred: list[Inferred] = []
    unmatched: list[Position] = []
    ambiguous: list[tuple[Position, tuple[str, ...]]] = []
    for p in positions:
        if specialty_key(p.parent_specialty):
            out.append(p)
            continue
        best = best_keywords(p.name, table)
        if not best:
            unmatched.append(p)
        elif len(best) > 1:
            ambiguous.append((p, tuple(k.shown() for k in best)))
        if len(best) != 1:
            out.append(p)
            continue
        k = best[0]
        sub = k.subspecialty if not specialty_key(p.subspecialty) else None
        out.append(replace(p, parent_specialty=k.parent_specialty, subspecialty=sub or p.subspecialty))
        inferred.append(Inferred(p.id, p.name, k.parent_specialty, sub, k.text))
    return tuple(out), Inference(tuple(inferred), tuple(unmatched), tuple(ambiguous))


def metadata(inference: Inference) -> dict[str, Any]:
    """The ``result_metadata`` keys; none when every position came with its specialty."""
    if inference == Inference():
        return {}
    return {
        "inferred": {
            i.position: {
                "name": i.name,
                "parent_specialty": i.parent_specialty,
                "subspecialty": i.subspecialty,
                "keyword": i.keyword,
            }
            for i in inference.inferred
        },
        "positions_unmatched": [p.name for p in inference.unmatched],
        "positions_ambiguous": {p.name: list(tied) for p, tied in inference.ambiguous},
    }
