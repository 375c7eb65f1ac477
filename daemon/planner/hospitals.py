"""A synthetic Victorian health service: 35 positions, 152 seats per term, 138 required (VIC_PGY1).

Sized for the issue's target: 140 VIC_PGY1 lines that fill every required seat. Emergency
offers exactly 28 seats a term, so every line holds exactly one ED term.
"""

from __future__ import annotations

from daemon.planner.data import Position

# name, parent specialty, subspecialty, categories, seats, team-based, service, rural, excludable
_POSTS: list[tuple[str, str, str | None, str, int, bool, bool, bool, bool]] = [
    ("Gen Med A", "Medicine", None, "AB", 8, True, False, False, False),
    ("Gen Med B", "Medicine", None, "AC", 8, True, False, False, False),
    ("Cardiology", "Medicine", "Cardiology", "C", 4, True, False, False, False),
    ("Respiratory", "Medicine", "Respiratory", "B", 4, True, False, False, False),
    ("Gastro", "Medicine", "Gastroenterology", "B", 3, True, False, False, False),
    ("Renal", "Medicine", "Nephrology", "B", 3, True, False, False, False),
    ("Geriatrics", "Medicine", "Geriatrics", "B", 4, False, False, False, False),
    ("Oncology", "Medicine", "Oncology", "BC", 3, True, False, False, True),
    ("Gen Surg A", "Surgery", None, "DA", 8, True, False, False, False),
    ("Gen Surg B", "Surgery", None, "DC", 8, True, False, False, False),
    ("Orthopaedics", "Surgery", "Orthopaedics", "D", 5, True, False, False, False),
    ("Urology", "Surgery", "Urology", "D", 3, True, False, False, False),
    ("Vascular", "Surgery", "Vascular", "DB", 3, True, False, False, False),
    ("Colorectal", "Surgery", "Colorectal", "D", 3, True, False, False, True),
    ("Plastics", "Surgery", "Plastics", "D", 2, True, False, False, False),
    ("ED 1", "Emergency Medicine", None, "AC", 12, False, False, False, False),
    ("ED 2", "Emergency Medicine", None, "AC", 12, False, False, False, False),
    ("ED Rural", "Emergency Medicine", "Rural ED", "AC", 4, False, False, True, False),
    ("Psychiatry", "Psychiatry", None, "BC", 5, True, False, False, False),
    ("Paediatrics", "Paediatrics", None, "A", 4, True, False, False, False),
    ("O&G", "Obstetrics", None, "DC", 4, True, False, False, False),
    ("Anaesthetics", "Anaesthetics", None, "D", 2, True, False, False, False),
    ("ICU", "Critical Care", None, "C", 3, True, False, False, False),
    ("Rehab", "Rehabilitation", None, "B", 4, True, False, False, False),
    ("Palliative", "Palliative Care", None, "B", 2, True, False, False, False),
    ("Rural GP", "General Practice", None, "AB", 3, True, False, True, False),
    ("Rural Med", "Medicine", "Rural Medicine", "AB", 3, True, False, True, False),
    ("Relief 1", "Relief", None, "", 6, False, True, False, False),
    ("Relief 2", "Relief", None, "", 5, False, True, False, False),
    ("Nights", "Relief", "Nights", "", 4, False, True, False, False),
    ("Haematology", "Medicine", "Haematology", "BC", 2, True, False, False, True),
    ("Neurology", "Medicine", "Neurology", "B", 2, True, False, False, False),
    ("ENT", "Surgery", "ENT", "D", 2, True, False, False, True),
    ("Infectious Dis", "Medicine", "Infectious Diseases", "A", 2, True, False, False, True),
    ("Endocrine", "Medicine", "Endocrinology", "B", 2, True, False, False, True),
]


def vic_hospital() -> tuple[Position, ...]:
    return tuple(
        Position(
            id=f"p{k:02d}",
            name=name,
            parent_specialty=parent,
            subspecialty=sub,
            experience_categories=tuple(cats),
            capacity=seats,
            is_team_based=team,
            is_service_term=service,
            is_nights=name == "Nights",
            is_rural=rural,
            excludable=excludable,
        )
        for k, (name, parent, sub, cats, seats, team, service, rural, excludable) in enumerate(_POSTS)
    )
