"""Specialty inference (SPEC §5, ``daemon/planner/infer.py``): the keyword table, its
precedence and ties, names that match nothing, and the two loaders that apply it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest

from daemon.planner import infer as inference_module
from daemon.planner.csv_terms import read_positions
from daemon.planner.data import Inference, Position
from daemon.planner.infer import TABLE, Keyword, best_keywords, infer, keyword_table, metadata, words
from daemon.planner.rules.predicates import specialty_key
from daemon.planner.solve import solve
from daemon.planner.xlsx_layout import DIAGNOSTICS
from daemon.planner.xlsx_reader import read_workbook
from daemon.planner.xlsx_result import write_result
from daemon.planner.xlsx_writer import write_input
from daemon.solving import BadInput, SolveContext
from daemon.synthetic import seed_positions
from tests.daemons import events
from tests.planner.factory import pos, run
from tests.planner.test_real_data import HNE_CSV
from tests.test_offline import receptord
from tests.workbooks import save

# Measured with the shipped table: 72 of the HNE list's 79 names give back the list's own
# parent specialty. The seven that do not: five that name two specialties and are reported
# ambiguous (Gastroenterology with Drug & Alcohol, General Medicine & Rehabilitation, two
# Anaesthetics / Emergency, HPB and Upper GI Surgery), a name with no keyword (Community Acute
# Post Acute Care), and one the list files otherwise ("Pathology - Forensic Pathology").
HNE_RECOVERED_AT_LEAST = 72


def table(*rows: tuple[str, str, str | None]) -> tuple[Keyword, ...]:
    return tuple(Keyword(words(k), parent, sub) for k, parent, sub in rows)


def blank(pid: str, name: str, **fields: Any) -> Position:
    """A position that came without a parent specialty."""
    return replace(pos(pid, **fields), name=name, parent_specialty="")


SMALL = table(
    ("medicine", "General Medicine", None),
    ("general medicine relief", "Relief", "Relief"),
    ("cardiology", "General Medicine", "Cardiology"),
    ("ed", "Emergency Medicine", None),
    ("urology", "Urology", None),
    ("surgery", "General Surgery", None),
    ("o&g", "Obstetrics and Gynaecology", None),
)


# ----------------------------------------------------------------------------- matching


def test_of_keywords_that_overlap_in_the_name_the_longest_wins() -> None:
    (won,) = best_keywords("MH General Medicine Relief (PGY2)", SMALL)  # over "medicine" inside it
    assert won.parent_specialty == "Relief"
    (won,) = best_keywords("Surgery - Urology", keyword_table())  # "surgery urology" over both
    assert won.parent_specialty == "Urology"


def test_keywords_at_different_places_agree_when_one_only_adds_a_subspecialty() -> None:
    (won,) = best_keywords("JHH Medicine - Cardiology", SMALL)
    assert (won.parent_specialty, won.subspecialty, won.text) == ("General Medicine", "Cardiology", "cardiology")
    (won,) = best_keywords("Medicine Medicine", SMALL)
    assert won.text == "medicine"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Emergency Surgery", ["'emergency' (Emergency Medicine)", "'surgery' (General Surgery)"]),
        ("Surgery & Medicine", ["'surgery' (General Surgery)", "'medicine' (General Medicine)"]),
        (
            "Cardiology / Respiratory",  # one parent, two subspecialties
            ["'cardiology' (General Medicine / Cardiology)", "'respiratory' (General Medicine / Respiratory)"],
        ),
        (
            "Emergency Medicine / General Surgery",
            ["'emergency medicine' (Emergency Medicine)", "'general surgery' (General Surgery)"],
        ),
    ],
)
def test_keywords_at_different_places_that_disagree_are_ambiguous(name: str, said: list[str]) -> None:
    # The longer keyword is no evidence of which specialty such a name means: it is not guessed.
    p = blank("x", name)
    (out,), inference = infer([p], keyword_table())
    assert out.parent_specialty == ""
    assert inference.inferred == ()
    assert metadata(inference)["positions_ambiguous"] == {name: said}


def test_keywords_match_whole_words_case_insensitively() -> None:
    assert [k.text for k in best_keywords("Gen Med/ED", SMALL)] == ["ed"]
    assert best_keywords("Medical Ward", SMALL) == ()  # "medicine" is not in "Medical"
    assert best_keywords("Red Team", SMALL) == ()  # nor "ed" in "Red"
    assert [k.text for k in best_keywords("JHH O & G", SMALL)] == ["o and g"]  # & reads as "and"


def test_names_are_compared_after_unicode_normalisation() -> None:
    # Full-width letters (as an East Asian input method types them) read as their plain ones.
    assert [k.text for k in best_keywords("Ｍｅｄｉｃｉｎｅ", SMALL)] == ["medicine"]
    assert [k.text for k in best_keywords("Ｏ＆Ｇ", SMALL)] == ["o and g"]
    assert words("Ｅｄ") == words("ED") == ("ed",)


def test_overlapping_keywords_of_the_same_length_that_disagree_tie() -> None:
    tied = table(("acute surgery", "General Surgery", None), ("surgery night", "Relief", "Relief"))
    p = blank("u", "Acute Surgery Night")
    (out,), inference = infer([p], tied)
    assert out.parent_specialty == ""
    assert inference.inferred == ()
    assert inference.ambiguous == ((p, ("'acute surgery' (General Surgery)", "'surgery night' (Relief / Relief)")),)


def test_a_name_with_no_keyword_is_reported_unmatched_and_left_as_it_was() -> None:
    p = blank("w", "Ward 7 (PGY1/2)")
    (out,), inference = infer([p], SMALL)
    assert out == p
    assert inference == Inference(unmatched=(p,))
    assert metadata(inference) == {
        "inferred": {},
        "positions_unmatched": ["Ward 7 (PGY1/2)"],
        "positions_ambiguous": {},
    }


def test_a_given_specialty_is_never_overridden() -> None:
    given = replace(pos("c", "Cardiothoracic Surgery"), name="Cardiology Surgery")
    own_sub = replace(blank("m", "Medicine - Cardiology"), subspecialty="Heart Failure")
    out, inference = infer([given, own_sub], SMALL)
    assert out[0] == given
    assert (out[1].parent_specialty, out[1].subspecialty) == ("General Medicine", "Heart Failure")
    # Only what was filled is recorded: the subspecialty was the position's own.
    assert [(i.position, i.parent_specialty, i.subspecialty, i.keyword) for i in inference.inferred] == [
        ("m", "General Medicine", None, "cardiology")
    ]
    assert metadata(infer([given], SMALL)[1]) == {}  # nothing missing: nothing said


def test_the_table_fills_a_missing_subspecialty_with_the_parent() -> None:
    (out,), inference = infer([blank("c", "Cardiology")], SMALL)
    assert (out.parent_specialty, out.subspecialty) == ("General Medicine", "Cardiology")
    assert metadata(inference)["inferred"] == {
        "c": {"name": "Cardiology", "parent_specialty": "General Medicine", "subspecialty": "Cardiology",
              "keyword": "cardiology"}
    }  # fmt: skip


def test_a_name_is_cut_into_words_once_not_once_per_keyword(monkeypatch: pytest.MonkeyPatch) -> None:
    # Cut once per keyword, a 2 MB name took 14 s inside the load transaction.
    shipped = keyword_table()
    cut: list[str] = []

    def counted(text: str) -> tuple[str, ...]:
        cut.append(text)
        return words(text)

    monkeypatch.setattr(inference_module, "words", counted)
    (out,), _ = infer([blank("c", "JHH Medicine - Cardiology")], shipped)
    assert out.subspecialty == "Cardiology"
    assert cut == ["JHH Medicine - Cardiology"]


# ----------------------------------------------------------------------------- the table


def test_the_shipped_table_loads() -> None:
    shipped = keyword_table()
    assert TABLE.name == "specialty_keywords.csv" and len(shipped) > 50
    assert all(k.words and k.parent_specialty for k in shipped)
    assert len({k.words for k in shipped}) == len(shipped)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keyword,specialty\nmedicine,Medicine\n", "the header must be keyword,parent_specialty,subspecialty"),
        ("keyword,parent_specialty\nmedicine,\n", "kw.csv row 2: keyword 'medicine' needs a parent_specialty"),
        ("keyword,parent_specialty\n--,Medicine\n", "kw.csv row 2: the keyword needs a letter or digit"),
        (
            "keyword,parent_specialty,subspecialty\nO&G,Obstetrics,\n\no and g,Gynaecology,\n",
            "kw.csv row 4: keyword 'o and g' is the same as row 2's",
        ),
    ],
)
def test_a_malformed_table_is_refused_naming_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kw.csv"
    path.write_text(text)
    with pytest.raises(BadInput) as caught:
        keyword_table(path)
    assert message in str(caught.value)


def test_the_hne_term_list_with_its_specialties_blanked_is_mostly_recovered() -> None:
    listed = read_positions(HNE_CSV)
    out, inference = infer([replace(p, parent_specialty="", subspecialty=None) for p in listed], keyword_table())
    recovered = sum(
        specialty_key(a.parent_specialty) == specialty_key(b.parent_specialty) for a, b in zip(listed, out, strict=True)
    )
    assert recovered >= HNE_RECOVERED_AT_LEAST
    assert len(inference.inferred) + len(inference.unmatched) + len(inference.ambiguous) == len(listed)
    assert [p.name for p in inference.unmatched] == ["JHH Community Acute Post Acute Care Service (PGY2)"]


# ----------------------------------------------------------------------------- the loaders


def _amc_positions() -> list[Position]:
    """AMC_PGY1 on four 13-week terms: one line holding four posts in four different parent
    specialties. With the specialties blank none counts, so only inference makes it buildable."""
    names = ("Cardiology", "BDH Emergency (PGY1/2)", "JHH Acute General Surgery Unit", "Mental Health Unit")
    return [blank(f"p{k}", name) for k, name in enumerate(names)] + [blank("w", "Ward 7", excludable=True)]


def test_a_database_run_infers_before_solving_and_says_so(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        allocation_run = seed_positions(conn, _amc_positions(), name="specialties to infer")
        row = conn.execute(
            "INSERT INTO allocation_planner_runs (allocation_run, n_job_lines, constraints, term_structure, "
            "allow_partial_filling, max_seconds) VALUES (%s, 1, '{AMC_PGY1}', '{13,13,13,13}', false, 10) "
            "RETURNING id",
            (allocation_run,),
        ).fetchone()
        assert row is not None
        run_id = str(row[0])
        done = receptord("plan", "--planner-run-id", run_id, "--database-url", db_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert events(conn, run_id)[-1] == "completed"
        (meta,) = conn.execute(
            "SELECT result_metadata FROM allocation_planner_runs WHERE id = %s", (run_id,)
        ).fetchone() or (None,)
        stored = conn.execute("SELECT count(*) FROM positions WHERE parent_specialty = ''").fetchone()
    assert meta["lines_built"] == 1
    inferred = sorted((i["name"], i["parent_specialty"], i["keyword"]) for i in meta["inferred"].values())
    assert inferred == [
        ("BDH Emergency (PGY1/2)", "Emergency Medicine", "emergency"),
        ("Cardiology", "General Medicine", "cardiology"),
        ("JHH Acute General Surgery Unit", "General Surgery", "general surgery"),
        ("Mental Health Unit", "Psychiatry", "mental health"),
    ]
    assert meta["positions_unmatched"] == ["Ward 7"]
    assert stored == (5,)  # the positions table keeps what was entered: inference is per run


def test_without_inference_the_same_run_has_no_four_specialties() -> None:
    # The contract a position still without a specialty keeps: it counts for none.
    out = solve(run(_amc_positions(), constraints=("AMC_PGY1",), allow_partial_filling=False), SolveContext())
    assert out.status == "INFEASIBLE"
    assert "posts with no parent specialty recorded or inferred from the name count for none" in (out.error or "")


def _sheets(specialty: str | None) -> dict[str, list[list[object]]]:
    return {
        "allocation_planner_runs": [
            ["id", "allocation_run", "n_job_lines", "constraints", "term_structure"],
            ["plan-1", "ar-1", 1, "AMC_PGY1", "13, 13, 13, 13"],
        ],
        "positions": [
            ["id", "name", "parent_specialty", "subspecialty", "experience_categories", "excludable"],
            ["car", "Cardiology", None, None, "A, B, C, D", "no"],
            ["ed", "BDH Emergency (PGY1/2)", None, None, "A, B, C, D", "no"],
            ["gs", "Acute General Surgery Unit", None, None, "A, B, C, D", "no"],
            ["mh", "Mental Health Unit", "Psychiatry", None, "A, B, C, D", "no"],
            ["w", "Ward 7", specialty, None, "A, B, C, D", "yes"],
        ],
    }


def test_a_workbook_infers_blank_cells_and_its_diagnostics_sheet_lists_them(tmp_path: Path) -> None:
    inp = read_workbook(save(tmp_path / "in.xlsx", _sheets("Geriatrics")))
    assert [p.parent_specialty for p in inp.positions] == [
        "General Medicine", "Emergency Medicine", "General Surgery", "Psychiatry", "Geriatrics"
    ]  # fmt: skip
    assert [i.position for i in inp.inference.inferred] == ["car", "ed", "gs"]
    # Exported, the inferred cells are blank again and read back to the same input.
    write_input(tmp_path / "again.xlsx", inp)
    assert read_workbook(tmp_path / "again.xlsx") == inp

    # An unmatched name (as a database run may hold) shows on the diagnostics sheet too.
    ward = replace(inp.positions[-1], parent_specialty="")
    shown = replace(inp, positions=(*inp.positions[:-1], ward), inference=replace(inp.inference, unmatched=(ward,)))
    out = solve(shown, SolveContext())
    assert out.status == "COMPLETED", out.error
    write_result(tmp_path / "out.xlsx", shown, out)
    rows = [
        tuple(r[:2]) for r in openpyxl.load_workbook(tmp_path / "out.xlsx")[DIAGNOSTICS].iter_rows(values_only=True)
    ]
    assert (
        "specialty inferred from the name",
        "Cardiology (car): General Medicine / Cardiology (keyword 'cardiology')",
    ) in rows
    assert ("", "BDH Emergency (PGY1/2) (ed): Emergency Medicine (keyword 'emergency')") in rows
    assert ("no specialty keyword in the name", "Ward 7") in rows


def test_a_blank_workbook_cell_no_keyword_settles_stays_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        read_workbook(save(tmp_path / "in.xlsx", _sheets(None)))
    assert str(caught.value) == (
        "sheet 'positions' row 6, column parent_specialty: a value is required: no keyword of "
        "specialty_keywords.csv is in the name 'Ward 7' (got an empty cell)"
    )
    tied = _sheets(None)
    tied["positions"][5][1] = "Gastroenterology with Drug & Alcohol"
    with pytest.raises(BadInput) as caught:
        read_workbook(save(tmp_path / "tied.xlsx", tied))
    assert "matches keywords of specialty_keywords.csv that disagree: 'gastroenterology'" in str(caught.value)
