"""Random small runs under random constraint sets: whatever the solver completes, the
independent checker accepts (``solve`` itself refuses to return lines the checker rejects),
and the fill it reports matches the lines."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.planner.data import PlannerInput, Position
from tests.planner.factory import lines_of, solve_checked

SPECIALTIES = ["Medicine", "Surgery", "Emergency Medicine", "Psychiatry", "Relief"]
CONSTRAINTS = [
    "AMC_PGY1",
    "AMC_PGY2",
    "NSW_PGY2",
    "MAX_ONE_RURAL",
    "MAX_ONE_SERVICE",
    "NO_NIGHTS",
    "ALLOW_6_MONTH_TERMS",
    "MAX_SERVICE_TERMS=2",
    "VIC_PGY2",
]
STRUCTURES = [(13, 13, 13, 13), (10, 10, 10, 10, 12), (6, 6, 10, 15, 15), (12, 12, 14, 14)]


@st.composite
def runs(draw: st.DrawFn) -> PlannerInput:
    terms = draw(st.sampled_from(STRUCTURES))
    positions = []
    for k in range(draw(st.integers(5, 9))):
        seats = tuple(draw(st.lists(st.integers(0, 2), min_size=len(terms), max_size=len(terms))))
        positions.append(
            Position(
                id=f"p{k}",
                name=f"p{k}",
                parent_specialty=draw(st.sampled_from(SPECIALTIES)),
                subspecialty=draw(st.sampled_from([None, "Cardiology", "Trauma"])),
                experience_categories=tuple(draw(st.sets(st.sampled_from("ABCD"), max_size=2))),
                is_service_term=draw(st.booleans()),
                is_nights=draw(st.booleans()),
                is_rural=draw(st.booleans()),
                is_non_clinical=draw(st.booleans()),
                is_team_based=draw(st.booleans()),
                capacity=max(seats),
                capacity_by_term=seats,
                excludable=draw(st.booleans()),
                six_month_approved=draw(st.booleans()),
            )
        )
    names = draw(st.lists(st.sampled_from(CONSTRAINTS), max_size=2, unique=True))
    # Keep to runs the templates accept: those they reject are BadInput (test_validation).
    if "NSW_PGY2" in names and len(terms) != 5:
        names.remove("NSW_PGY2")
    if "AMC_PGY1" in names and min(terms) < 10:
        names.remove("AMC_PGY1")
    return PlannerInput(
        run_id="r",
        allocation_run_id="a",
        n_job_lines=draw(st.integers(1, 4)),
        positions=tuple(positions),
        constraints=tuple(names),
        term_structure=terms,
        max_seconds=3.0,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_completed_lines_pass_the_checker_and_match_the_fill(inp: PlannerInput) -> None:
    out = solve_checked(inp)
    assert out.status in ("COMPLETED", "INFEASIBLE"), out.error
    if out.status == "INFEASIBLE":
        assert out.metadata["diagnosis"]
        return
    held = Counter((r.position_id, r.term_index) for line in lines_of(out) for r in line.clinical)
    for pid, per_term in out.metadata["fill"].items():
        assert per_term == [held[pid, t] for t in range(len(inp.term_structure))]
