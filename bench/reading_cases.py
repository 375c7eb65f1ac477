"""The cases the planner's reading benchmark measures, built from modules every release since
issue 11 has (``bench/planner_before.py`` runs this file against an earlier release's code)."""

from __future__ import annotations

import dataclasses

from daemon.db import ROOT
from daemon.planner.csv_terms import planner_input_from_csv
from daemon.planner.data import PlannerInput
from daemon.planner.example import example_input
from daemon.planner.hospitals import vic_hospital

NSW_TERMS = ROOT / "examples" / "data" / "hne-2024-pgy2-terms.csv"


def reading_cases() -> list[tuple[str, PlannerInput]]:
    vic = dataclasses.replace(example_input(), n_job_lines=140, positions=vic_hospital())
    out = [("VIC_PGY1, 140 lines", vic)]
    if NSW_TERMS.exists():
        out.append(("NSW_PGY2 (NSW list)", planner_input_from_csv(NSW_TERMS, constraints=("NSW_PGY2",), cohort="PGY2")))
    return out
