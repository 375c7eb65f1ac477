"""The explanation sentences `receptord explain` prints and the `why` sheet holds: one per
reason code, rank wording, bounds said as "at least", and text from the run made printable."""

from __future__ import annotations

from typing import Any

import pytest

from daemon.allocator.problem import Allocation, Explanation
from daemon.allocator.sentences import Names, amount, choice, holders, ordinal, placed, sentence

NAMES = Names(
    workers={"w": "Dr Ada Lovelace", "x": "Dr Xu Li", "y": "Dr Yara Obi"},
    lines={"l12": "Line 12", "l4": "Line 4", "l9": "Line 9"},
    tags={"t1": "Advanced Life Support"},
)


def said(reason: str, detail: dict[str, Any], *, delta: float | None = None, rank: float = 1.0, **kw: Any) -> str:
    return sentence(Explanation("w", "l12", rank, reason, delta, detail), kw.get("names", NAMES), kw.get("on_line"))


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (102, "102nd"),
    ],
)
def test_ordinals(n: int, word: str) -> None:
    assert ordinal(n) == word


def test_ranks_whole_fractional_and_missing() -> None:
    assert choice(1.0) == "1st choice" and choice(4.0) == "4th choice"
    assert choice(1.5) == "rank 1.5" and choice(None) == "unranked"
    assert said("no_seat", {"max_n_workers": 0}, rank=2.5).startswith("Line 12 (your rank 2.5) had no seat")
    assert amount(3.4000000000000004) == "3.4" and amount(12.0) == "12" and amount(0.004) == "0.004"


def test_a_trade_off_names_the_holder_the_rise_and_their_new_choice() -> None:
    chain = [{"worker_mapping": "x", "from": "l12", "to": "l4", "from_rank": 1.0, "to_rank": 4.0}]
    text = said("trade_off", {"exact": True, "chain": chain, "chain_length": 1, "more_unassigned": 0}, delta=3.4)
    assert text == (
        "Line 12 (your 1st choice) went to Dr Xu Li, who ranked it 1st; giving it to you would raise"
        " total dissatisfaction by 3.4 and move Dr Xu Li to their 4th choice."
    )


def test_a_longer_chain_an_unassigned_holder_and_an_unranked_destination() -> None:
    chain = [{"worker_mapping": "x", "from": "l12", "to": None, "from_rank": 2.0, "to_rank": None}]
    text = said("trade_off", {"exact": True, "chain": chain, "chain_length": 3, "more_unassigned": 2}, delta=1)
    assert "who ranked it 2nd" in text and "and leave Dr Xu Li unassigned" in text
    assert "displacing 2 more workers in turn" in text and "with 1 more worker left unassigned" in text
    chain = [{"worker_mapping": "x", "from": "l12", "to": "l9", "from_rank": None, "to_rank": None}]
    text = said("trade_off", {"exact": True, "chain": chain, "chain_length": 1}, delta=1)
    assert "who had not ranked it" in text and "move Dr Xu Li to Line 9, a line they had not ranked" in text


def test_a_tie_is_said_as_one() -> None:
    chain = [{"worker_mapping": "x", "from": "l12", "to": "l4", "from_rank": 1.0, "to_rank": 2.0}]
    text = said("trade_off", {"exact": True, "chain": chain, "chain_length": 1}, delta=0.0)
    assert "would leave total dissatisfaction as it is (another allocation ties with this one)" in text


def test_a_bound_says_at_least_and_names_the_holders_from_the_allocations() -> None:
    on_line = holders([Allocation("y", "l12", 1.0, 1.0), Allocation("w", "l4", 3.0, 2.0)])
    text = said("trade_off", {"exact": False, "own_change": -1.4}, delta=2.1, on_line=on_line)
    assert text == (
        "Line 12 (your 1st choice) went to Dr Yara Obi, who ranked it 1st; giving it to you would raise"
        " total dissatisfaction by at least 2.1."
    )
    two = holders([Allocation("x", "l12", 2.0, 1.0), Allocation("y", "l12", 1.0, 1.0)])
    assert "went to Dr Xu Li, Dr Yara Obi; giving it to you would raise total dissatisfaction by at least 0" in said(
        "trade_off", {"exact": False}, delta=0.0, on_line=two
    )


def test_eligibility_steps() -> None:
    assert said("not_eligible", {"step": 2, "rule": "excluded_workers"}) == (
        "Line 12 (your 1st choice): you are not eligible for it;"
        " its eligibility rules exclude you by name (step 2, excluded workers)."
    )
    assert "it excludes holders of Advanced Life Support, which you hold (step 3" in said(
        "not_eligible", {"step": 3, "rule": "excluded_tags", "tags": ["t1"]}
    )
    assert "open only to holders of Advanced Life Support, t2, and you hold none (step 5" in said(
        "not_eligible", {"step": 5, "rule": "included_tags", "tags": ["t1", "t2"]}
    )
    assert "open only to the 3 workers listed for it, and you are not one of them" in said(
        "not_eligible", {"step": 5, "rule": "included_workers", "tags": [], "included_workers": 3}
    )


def test_seats_caps_and_no_allocation() -> None:
    assert said("no_seat", {"max_n_workers": 2, "taken_by_earlier_rounds": 2}) == (
        "Line 12 (your 1st choice) had no seat left in this round: earlier rounds took 2 of its 2 seats."
    )
    cap = {"supervisor": "s", "supervisor_name": "Prof Ng", "cap": "max_workers", "limit": 3}
    assert said("supervisor_cap", {**cap, "used_by_earlier_rounds": 3}) == (
        "Line 12 (your 1st choice) could take no one more: its supervisor Prof Ng may take at most"
        " 3 workers and earlier rounds placed 3."
    )
    lines = {**cap, "cap": "max_job_lines", "limit": 1, "used_by_earlier_rounds": 1}
    assert "could not be opened: its supervisor Prof Ng may use at most 1 job line and earlier rounds used 1." in (
        said("supervisor_cap", lines)
    )
    assert "no allocation of this run can put you there" in said("no_allocation", {"exact": True})


def test_weak_stability_is_said() -> None:
    assert "Under weak stability this pair blocks" in said("no_seat", {"max_n_workers": 0, "stability": "blocking"})
    assert "Under weak stability it does not block" in said(
        "no_seat", {"max_n_workers": 0, "stability": "not_blocking: the line is full"}
    )


def test_ids_stand_in_for_unknown_names_and_control_characters_are_escaped() -> None:
    hostile = Names(workers={"x": "Dr \x1b[31mRed"}, lines={"l12": "Line\n12"})
    chain = [{"worker_mapping": "x", "from": "l12", "to": "l4", "from_rank": 1.0, "to_rank": 2.0}]
    text = said("trade_off", {"exact": True, "chain": chain, "chain_length": 1}, delta=1.0, names=hostile)
    assert "\x1b" not in text and "\n" not in text
    assert "Line\\n12 (your 1st choice) went to Dr \\x1b[31mRed" in text
    assert placed("w", Allocation("w", "l4", 2.0, 1.0), hostile) == "worker w got job line l4 (their 2nd choice)."
    assert placed("w", None, NAMES) == "Dr Ada Lovelace was left unassigned."
    assert (
        placed("w", Allocation("w", "l4", None, 5.0), NAMES)
        == "Dr Ada Lovelace got Line 4, a line they had not ranked."
    )
