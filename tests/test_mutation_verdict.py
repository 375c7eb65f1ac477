"""The fence mutation check counts a mutant as caught only on evidence (tests/fence_mutations.py)."""

from __future__ import annotations

from tests.fence_mutations import FENCE_TESTS, verdict

TEST = f"{FENCE_TESTS}::test_x"


def test_only_an_assertion_in_a_fence_test_catches_a_mutant() -> None:
    assert verdict(1, [("passed", TEST), ("assertion", TEST)]) == "caught"
    assert verdict(0, [("passed", TEST), ("passed", TEST)]) == "SURVIVED"


def test_errors_and_other_exceptions_are_no_evidence() -> None:
    assert verdict(1, [("error", TEST)]) == "NO EVIDENCE"  # a fixture or the server failed
    assert verdict(1, [("failed", TEST)]) == "NO EVIDENCE"  # raised something else
    assert verdict(1, [("assertion", "tests/test_other.py::test_x")]) == "NO EVIDENCE"
    assert verdict(4, []) == "NO EVIDENCE"  # pytest could not run at all
    assert verdict(0, []) == "NO EVIDENCE"  # nothing ran: no test passed either
