"""The shipped example workbook ``examples/planner-example.xlsx``: a Victorian health service.

Regenerate it (byte for byte: the data is fixed and so is the workbook's creation date) with::

    .venv/bin/python -m daemon.planner.example examples/planner-example.xlsx

Yarra Bend Health, a fictional metropolitan health service with rural partners, plans 60 PGY1
job lines under ``VIC_PGY1`` (five terms, 10/10/10/10/12 weeks, five weeks of leave) from 34
positions: general and subspecialty medicine and surgery, three emergency departments (one
rural), mental health, paediatrics, O&G, intensive care, anaesthetics, rural generalist and
rural medicine posts, and medical, surgical and night relief.

Why it is shaped this way (the rules of SPEC §5 the data must allow):

- Every line needs an Emergency Medicine term: emergency offers exactly 12 seats a term, 60
  over the year, so each of the 60 lines holds exactly one.
- Required (non-excludable) seats number at most 60 in every term, so all of them can be filled;
  five excludable seats a term (oncology, plastics, consultation-liaison psychiatry, community
  GP) take what is left and the diagnostics show which stay empty.
- Some posts are offered only in some terms (``capacity_by_term``): neurology is closed in term
  3, anaesthetics and Warrnambool rural medicine in the 12-week term 5, palliative care in term 1.
- Medical Education is a non-clinical PGY2-only post (``cohorts``): closed to this PGY1 run, it
  shows how closed positions are reported.
- A small specialty affinity matrix asks for surgery next to anaesthetics or intensive care and
  medicine next to emergency, and discourages two relief terms in a row.

The data is written out literally (no random draws), so the file cannot drift.
"""

from __future__ import annotations

from pathlib import Path

from daemon.planner.data import PlannerInput, Position
from daemon.planner.xlsx_writer import add_input_sheets
from daemon.workbook import example_main, example_workbook

RUN_ID = "yarra-bend-pgy1-2026"
ALLOCATION_RUN = "yarra-bend-2026"
N_JOB_LINES = 60
MAX_SECONDS = 30.0

MED, SURG, ED = "Medicine", "Surgery", "Emergency Medicine"

# id, name, parent specialty, subspecialty, categories, seats (per term, or one per term),
# then flags: t = team-based, s = service term, n = nights, r = rural, x = excludable,
# c = non-clinical.
_POSTS: tuple[tuple[str, str, str, str | None, str, int | tuple[int, ...], str], ...] = (
    ("gen-med-1", "General Medicine Unit 1", MED, None, "AB", 4, "t"),
    ("gen-med-2", "General Medicine Unit 2", MED, None, "AC", 4, "t"),
    ("cardiology", "Cardiology", MED, "Cardiology", "C", 1, "t"),
    ("respiratory", "Respiratory Medicine", MED, "Respiratory", "B", 2, "t"),
    ("gastro", "Gastroenterology", MED, "Gastroenterology", "B", 1, "t"),
    ("renal", "Renal Medicine", MED, "Nephrology", "B", 1, "t"),
    ("neurology", "Neurology", MED, "Neurology", "B", (1, 1, 0, 1, 1), "t"),
    ("gem", "Geriatric Evaluation and Management", MED, "Geriatrics", "B", 1, ""),
    ("oncology", "Medical Oncology", MED, "Oncology", "BC", 2, "tx"),
    ("gen-surg-a", "General Surgery A (Upper GI)", SURG, None, "AD", 4, "t"),
    ("gen-surg-b", "General Surgery B (Colorectal)", SURG, None, "CD", 3, "t"),
    ("orthopaedics", "Orthopaedic Surgery", SURG, "Orthopaedics", "D", 3, "t"),
    ("urology", "Urology", SURG, "Urology", "D", 1, "t"),
    ("vascular", "Vascular Surgery", SURG, "Vascular", "BD", 1, "t"),
    ("plastics", "Plastic Surgery", SURG, "Plastics", "D", 1, "tx"),
    ("ed-acute", "Emergency Department (Acute)", ED, None, "AC", 6, ""),
    ("ed-ssu", "Emergency Short Stay Unit", ED, "Short Stay", "AC", 3, ""),
    ("ed-sale", "Sale Hospital Emergency (rural)", ED, "Rural Emergency", "AC", 3, "r"),
    ("psych-acute", "Adult Acute Psychiatry", "Psychiatry", None, "BC", 2, "t"),
    ("psych-cl", "Consultation-Liaison Psychiatry", "Psychiatry", "Consultation-Liaison", "B", 1, "tx"),
    ("paediatrics", "Paediatrics", "Paediatrics", None, "AC", 2, "t"),
    ("obs-gyn", "Obstetrics and Gynaecology", "Obstetrics and Gynaecology", None, "CD", 2, "t"),
    ("icu", "Intensive Care", "Critical Care", None, "C", 2, "t"),
    ("anaesthetics", "Anaesthetics", "Anaesthetics", None, "D", (1, 1, 1, 1, 0), "t"),
    ("bairnsdale-rg", "Bairnsdale Rural Generalist", "General Practice", None, "AB", 2, "tr"),
    ("warrnambool-med", "Warrnambool Rural Medicine", MED, "Rural Medicine", "AB", (2, 2, 2, 2, 0), "tr"),
    ("rehab", "Rehabilitation Medicine", "Rehabilitation", None, "B", 1, "t"),
    ("palliative", "Palliative Care", "Palliative Care", None, "B", (0, 1, 1, 1, 1), "t"),
    ("community-gp", "Community General Practice", "General Practice", "Community", "AB", 1, "tx"),
    ("relief-med", "Medical Relief", "Relief", "Medical Relief", "", 2, "s"),
    ("relief-surg", "Surgical Relief", "Relief", "Surgical Relief", "", 1, "s"),
    ("nights", "Night Relief", "Relief", "Nights", "", 2, "sn"),
    ("med-education", "Medical Education (PGY2)", "Medical Education", None, "", 1, "c"),
)

_COHORTS = {"med-education": ("PGY2",)}
_TAGS = {
    "ed-sale": ("rural", "accommodation"),
    "bairnsdale-rg": ("rural", "accommodation"),
    "warrnambool-med": ("rural", "accommodation"),
    "nights": ("after-hours",),
}

AFFINITY: tuple[tuple[str, str, int], ...] = (
    ("Surgery", "Anaesthetics", 30),
    ("Surgery", "Critical Care", 20),
    ("Medicine", "Emergency Medicine", 15),
    ("Paediatrics", "Obstetrics and Gynaecology", 10),
    ("Relief", "Relief", -50),
)


def positions() -> tuple[Position, ...]:
    return tuple(
        Position(
            id=pid,
            name=name,
            parent_specialty=parent,
            subspecialty=sub,
            experience_categories=tuple(cats),
            is_service_term="s" in flags,
            is_nights="n" in flags,
            is_rural="r" in flags,
            is_non_clinical="c" in flags,
            is_team_based="t" in flags,
            capacity=seats if isinstance(seats, int) else max(seats),
            capacity_by_term=None if isinstance(seats, int) else seats,
            cohorts=_COHORTS.get(pid),
            excludable="x" in flags,
            tags=_TAGS.get(pid, ()),
        )
        for pid, name, parent, sub, cats, seats, flags in _POSTS
    )


def example_input() -> PlannerInput:
    """The example hospital's PGY1 planner run."""
    return PlannerInput(
        run_id=RUN_ID,
        allocation_run_id=ALLOCATION_RUN,
        n_job_lines=N_JOB_LINES,
        positions=positions(),
        constraints=("VIC_PGY1",),
        state="VIC",
        cohort="PGY1",
        term_structure=(10, 10, 10, 10, 12),
        leave_weeks=5,
        max_seconds=MAX_SECONDS,
        allow_partial_filling=True,
        specialty_affinity=AFFINITY,
    )


def write_example(path: Path) -> None:
    with example_workbook(path, "receptord planner example") as wb:
        add_input_sheets(wb, example_input())


def main(argv: list[str] | None = None) -> None:
    example_main(argv, "examples/planner-example.xlsx", write_example)


if __name__ == "__main__":
    main()
