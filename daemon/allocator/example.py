"""The shipped example workbook ``examples/allocator-example.xlsx``: a small, realistic hospital.

Regenerate it (byte for byte: the data is fixed and so is the workbook's creation date) with::

    .venv/bin/python -m daemon.allocator.example examples/allocator-example.xlsx

24 junior doctors rank 10 job lines (26 seats). Two supervisors rank the doctors of their
lines: Dr Okafor (surgery and orthopaedics, at most 6 doctors on her 7 seats) and Dr Lee
(medicine and intensive care). Dr Lee wants Dr Patel in Intensive Care (a negative weighting is
a bonus) and Dr Okafor marks Dr Smith down everywhere. Paediatrics takes only doctors with the
``paeds-credential`` tag; Rural Generalist must be staffed and excludes Dr Brown.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from daemon.allocator.data import AllocatorInput, Eligibility, JobLine, Preferencer, RankTable, Weighting
from daemon.allocator.xlsx_writer import add_input_sheets
from daemon.workbook import example_main, example_workbook

# (id, display name)
DOCTORS = (
    ("dr-nguyen", "Dr An Nguyen"),
    ("dr-patel", "Dr Priya Patel"),
    ("dr-smith", "Dr Jack Smith"),
    ("dr-brown", "Dr Olivia Brown"),
    ("dr-wilson", "Dr Liam Wilson"),
    ("dr-taylor", "Dr Chloe Taylor"),
    ("dr-chen", "Dr Wei Chen"),
    ("dr-kaur", "Dr Simran Kaur"),
    ("dr-oconnor", "Dr Sean O'Connor"),
    ("dr-rossi", "Dr Giulia Rossi"),
    ("dr-kim", "Dr Min-jun Kim"),
    ("dr-ahmed", "Dr Sara Ahmed"),
    ("dr-jones", "Dr Ella Jones"),
    ("dr-williams", "Dr Noah Williams"),
    ("dr-martin", "Dr Lucy Martin"),
    ("dr-lopez", "Dr Mateo Lopez"),
    ("dr-walker", "Dr Ruby Walker"),
    ("dr-singh", "Dr Arjun Singh"),
    ("dr-murphy", "Dr Grace Murphy"),
    ("dr-tran", "Dr Linh Tran"),
    ("dr-white", "Dr Harry White"),
    ("dr-hall", "Dr Isla Hall"),
    ("dr-young", "Dr Oscar Young"),
    ("dr-lewis", "Dr Mia Lewis"),
)

# (id, name, seats, must have workers)
LINES = (
    ("med-a", "Medicine A", 3, False),
    ("med-b", "Medicine B", 3, False),
    ("surg-a", "Surgery A", 3, False),
    ("surg-b", "Surgery B", 2, False),
    ("ortho", "Orthopaedics", 2, False),
    ("ed", "Emergency Medicine", 4, False),
    ("icu", "Intensive Care", 3, False),
    ("paeds", "Paediatrics", 2, False),
    ("psych", "Psychiatry", 2, False),
    ("rural", "Rural Generalist", 2, True),
)

PAEDS_CREDENTIAL = "paeds-credential"
CREDENTIALLED = ("dr-kaur", "dr-rossi", "dr-ahmed", "dr-murphy", "dr-hall")
SEED = 2024  # the preferences are drawn once from this seed; random.Random is stable across versions


def _worker_ranks(rng: random.Random) -> list[tuple[int, int, float]]:
    """(doctor, line, rank): each doctor ranks 5 to 10 lines, with an occasional tie.

    Popular lines (medicine, ED, surgery A) are drawn more often near the top, as in real
    rounds, so the allocation has to disappoint someone.
    """
    popularity = [6, 4, 5, 2, 2, 5, 3, 2, 2, 1]
    rows: list[tuple[int, int, float]] = []
    for d in range(len(DOCTORS)):
        order: list[int] = []
        pool = list(range(len(LINES)))
        weights = list(popularity)
        while pool:
            pick = rng.choices(range(len(pool)), weights=weights)[0]
            order.append(pool.pop(pick))
            weights.pop(pick)
        ranked = order[: rng.randint(5, 10)]
        rank = 0
        for position, line in enumerate(ranked):
            # Competition notation: a tie shares a rank and skips the next (1, 2, 2, 4, ...).
            tied = position > 0 and rng.random() < 0.1
            rank = rank if tied else position + 1
            rows.append((d, line, float(rank)))
    return rows


def example_input() -> tuple[AllocatorInput, dict[str, str]]:
    """The example hospital's allocator input and the doctors' display names."""
    rng = random.Random(SEED)
    doctors = tuple(d for d, _ in DOCTORS)
    line_ids = tuple(line[0] for line in LINES)
    ranks = _worker_ranks(rng)
    okafor_lines, lee_lines = ("surg-a", "surg-b", "ortho"), ("med-a", "med-b", "icu")
    # Each supervisor ranks the 12 doctors who put one of their lines highest.
    sup_rows: list[tuple[int, int, float]] = []
    for s, own in enumerate((okafor_lines, lee_lines)):
        best = {
            d: min((r for dd, ln, r in ranks if dd == d and line_ids[ln] in own), default=99.0)
            for d in range(len(doctors))
        }
        shortlist = sorted(range(len(doctors)), key=lambda d: (best[d], doctors[d]))[:12]
        rng.shuffle(shortlist)  # the supervisor's own view, not a copy of the doctors'
        sup_rows += [(s, d, float(i + 1)) for i, d in enumerate(shortlist)]

    def table(rows: list[tuple[int, int, float]]) -> RankTable:
        who, what, rank = zip(*rows, strict=True)
        return RankTable(np.array(who, np.int32), np.array(what, np.int32), np.array(rank, np.float64))

    inp = AllocatorInput(
        run_id="example-round-1",
        allocation_run_id="st-elsewhere-2026",
        config={"max_seconds": 10, "rng_seed": 1234},
        worker_ids=doctors,
        line_ids=line_ids,
        lines=tuple(JobLine(lid, name, seats, must, sort_order=i) for i, (lid, name, seats, must) in enumerate(LINES)),
        worker_tags={d: frozenset({PAEDS_CREDENTIAL}) for d in CREDENTIALLED},
        worker_prefs=table(ranks),
        preferencers=(
            Preferencer("sup-okafor", "Dr Ngozi Okafor (Surgery)", max_workers=6),
            Preferencer("sup-lee", "Dr Daniel Lee (Medicine)"),
        ),
        line_preferencers=tuple(
            [(line, "sup-okafor") for line in okafor_lines] + [(line, "sup-lee") for line in lee_lines]
        ),
        preferencer_prefs=table(sup_rows),
        weightings=(
            Weighting("sup-lee", "dr-patel", "icu", -3.0),
            Weighting("sup-okafor", "dr-smith", None, 2.0),
        ),
        eligibility=(
            Eligibility("paeds", included_tags=frozenset({PAEDS_CREDENTIAL})),
            Eligibility("rural", excluded_workers=frozenset({"dr-brown"})),
        ),
    )
    return inp, dict(DOCTORS)


def write_example(path: Path) -> None:
    inp, names = example_input()
    with example_workbook(path, "receptord allocator example") as wb:
        add_input_sheets(wb, inp, names)


def main(argv: list[str] | None = None) -> None:
    example_main(argv, "examples/allocator-example.xlsx", write_example)


if __name__ == "__main__":
    main()
