"""Offline allocator workbooks (SPEC §6): format, round trip, bad input, results, the example."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.allocator import xlsx_writer
from daemon.allocator.data import AllocatorInput, Eligibility, JobLine, Preferencer, RankTable, Weighting
from daemon.allocator.example import example_input, write_example
from daemon.allocator.solve import solve
from daemon.allocator.xlsx_layout import WHY_COLUMNS
from daemon.allocator.xlsx_reader import read_names, read_workbook
from daemon.allocator.xlsx_result import write_result
from daemon.allocator.xlsx_writer import write_input
from daemon.solving import BadInput, SolveContext, SolveOutcome
from tests.allocator.alloc_factory import make_input
from tests.workbooks import Sheets, save

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allocator-example.xlsx"


def _rows(table: RankTable, who: Sequence[str], what: Sequence[str]) -> list[tuple[str, str, float]]:
    return sorted(zip((who[i] for i in table.who), (what[i] for i in table.what), table.rank.tolist(), strict=True))


def assert_same(a: AllocatorInput, b: AllocatorInput) -> None:
    """Field by field; rank tables as sorted (ranker id, ranked id, rank) rows."""
    for f in fields(AllocatorInput):
        if f.name == "worker_prefs":
            assert _rows(a.worker_prefs, a.worker_ids, a.line_ids) == _rows(b.worker_prefs, b.worker_ids, b.line_ids)
        elif f.name == "preferencer_prefs":
            pa, pb = [p.id for p in a.preferencers], [p.id for p in b.preferencers]
            assert _rows(a.preferencer_prefs, pa, a.worker_ids) == _rows(b.preferencer_prefs, pb, b.worker_ids)
        else:
            assert getattr(a, f.name) == getattr(b, f.name), f.name
    for table in (b.worker_prefs, b.preferencer_prefs):
        assert table.who.dtype == np.int32 and table.what.dtype == np.int32 and table.rank.dtype == np.float64


def round_trip(inp: AllocatorInput, path: Path) -> AllocatorInput:
    write_input(path, inp)
    return read_workbook(path)


# ----------------------------------------------------------------------------- round trip

# Ids and names as people type them: "=" (xlsxwriter's formula trigger), digits ("007" must
# stay text), spaces inside, accents. Leading/trailing spaces are trimmed by design.
_ID = st.text(alphabet="ab7é=-_ 0", min_size=1, max_size=5).filter(lambda s: s == s.strip())
_NAME = st.text(alphabet="Dr abcé'-(1)", min_size=1, max_size=12).filter(lambda s: s == s.strip())
_RANK = st.integers(2, 40).map(lambda n: n / 2)  # whole and x.5 ranks
_WEIGHT = st.integers(-400, 400).map(lambda n: n / 4)
_JSON = st.one_of(st.integers(-1000, 1000), st.booleans(), _NAME, _WEIGHT, st.none())


@st.composite
def inputs(draw: st.DrawFn) -> AllocatorInput:
    """Inputs in loader form: every row names the run's own workers and lines."""
    workers = draw(st.lists(_ID, min_size=1, max_size=6, unique=True))
    line_ids = draw(st.lists(_ID, min_size=1, max_size=5, unique=True))
    pref_ids = draw(st.lists(_ID, max_size=3, unique=True))
    tags = st.frozensets(_ID, max_size=3)
    pairs = [(w, ln) for w in range(len(workers)) for ln in range(len(line_ids))]
    ranked = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=12)) if pairs else []
    sup_pairs = [(p, w) for p in range(len(pref_ids)) for w in range(len(workers))]
    sup_ranked = draw(st.lists(st.sampled_from(sup_pairs), unique=True, max_size=8)) if sup_pairs else []
    weight_keys = [(p, w, ln) for p in pref_ids for w in workers for ln in (None, *line_ids)]
    weighted = draw(st.lists(st.sampled_from(weight_keys), unique=True, max_size=4)) if weight_keys else []

    def table(rows: list[tuple[int, int]]) -> RankTable:
        ranks = [draw(_RANK) for _ in rows]
        return RankTable(
            np.array([r[0] for r in rows], np.int32),
            np.array([r[1] for r in rows], np.int32),
            np.array(ranks, np.float64),
        )

    return AllocatorInput(
        run_id=draw(_ID),
        allocation_run_id=draw(_ID),
        config=draw(st.dictionaries(_NAME, _JSON, max_size=3)),
        worker_ids=tuple(workers),
        line_ids=tuple(line_ids),
        lines=tuple(
            JobLine(lid, draw(_NAME), draw(st.integers(0, 3)), draw(st.booleans()), draw(st.integers(-5, 5)))
            for lid in line_ids
        ),
        worker_tags=draw(st.dictionaries(st.sampled_from(workers), tags.filter(bool), max_size=3)),
        worker_prefs=table(ranked),
        preferencers=tuple(
            Preferencer(p, draw(_NAME), draw(st.none() | st.integers(0, 4)), draw(st.none() | st.integers(0, 9)))
            for p in pref_ids
        ),
        line_preferencers=tuple(
            draw(st.lists(st.sampled_from([(ln, p) for ln in line_ids for p in pref_ids]), unique=True, max_size=4))
            if pref_ids
            else ()
        ),
        preferencer_prefs=table(sup_ranked),
        weightings=tuple(Weighting(p, w, ln, draw(_WEIGHT)) for p, w, ln in weighted),
        # Eligibility lists may name workers outside the run (the database's arrays can).
        eligibility=tuple(
            Eligibility(ln, draw(tags), draw(tags), draw(tags), draw(tags))
            for ln in draw(st.lists(st.sampled_from(line_ids), unique=True, max_size=3))
        ),
        taken_capacity=draw(st.dictionaries(st.sampled_from(line_ids), st.integers(1, 3), max_size=2)),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_write_input_then_read_workbook_round_trips(inp: AllocatorInput) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        assert_same(round_trip(inp, Path(tmp) / "run.xlsx"), inp)


def test_round_trip_of_the_example_with_names(tmp_path: Path) -> None:
    inp, names = example_input()
    path = tmp_path / "example.xlsx"
    write_input(path, inp, names=names)
    assert_same(read_workbook(path), inp)
    assert read_names(path) == names


def test_long_tables_continue_on_numbered_sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "MAX_DATA_ROWS", 4)
    inp = make_input({f"w{i}": {"a": 1, "b": 2, "c": 3} for i in range(5)}, {"a": 2, "b": 2, "c": 2})
    path = tmp_path / "long.xlsx"
    write_input(path, inp)
    sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
    # 15 preference rows: 4 + 4 + 4 + 3, the suffixed names cut to Excel's 31 characters.
    assert [s for s in sheets if s.startswith("preference_worker")] == [
        "preference_worker_job_lines",
        "preference_worker_job_lines~2",
        "preference_worker_job_lines~3",
        "preference_worker_job_lines~4",
    ]
    assert "allocation_run_worker_mapping~2" in sheets
    assert_same(read_workbook(path), inp)


def test_streamed_writing_reads_back_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "STREAM_ABOVE_ROWS", 0)  # inline strings, as for huge runs
    inp, _ = example_input()
    assert_same(round_trip(inp, tmp_path / "streamed.xlsx"), inp)


def test_long_eligibility_lists_split_over_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "MAX_CELL_CHARS", 20)  # 6 of the 9 ids per cell
    workers = [f"w{i}" for i in range(9)]
    rule = Eligibility("a", included_workers=frozenset(workers), excluded_tags=frozenset({"t"}))
    inp = make_input({w: {"a": 1} for w in workers}, {"a": 9}, eligibility=[rule])
    path = tmp_path / "split.xlsx"
    write_input(path, inp)
    assert len(list(openpyxl.load_workbook(path)["job_line_eligibility"].iter_rows())) > 2
    assert_same(read_workbook(path), inp)


def test_write_input_refuses_what_excel_would_truncate(tmp_path: Path) -> None:
    inp = make_input({"w": {"a": 1}}, {"a": 1}, config={"note": "x" * 40_000})
    with pytest.raises(ValueError, match="does not fit an Excel cell"):
        write_input(tmp_path / "big.xlsx", inp)
    rule = Eligibility("a", excluded_workers=frozenset({"smith, j"}))
    with pytest.raises(ValueError, match="cannot contain a comma"):
        write_input(tmp_path / "comma.xlsx", make_input({"w": {"a": 1}}, {"a": 1}, eligibility=[rule]))


# ----------------------------------------------------------------------------- hand-made workbooks


def base_sheets() -> Sheets:
    """A small valid workbook as people make them: human ids, only the sheets they need."""
    return {
        "allocator_py_runs": [
            ["id", "allocation_run_id", "is_exclusive", "config"],
            ["r1", "ar1", False, '{"max_seconds": 5}'],
        ],
        "allocation_run_worker_mappings": [["id", "name"], ["w1", "Dr One"], ["w2", "Dr Two"], ["w3", None]],
        "job_lines": [["id", "name", "max_n_workers"], ["a", "Line A", 2], ["b", "Line B", 2]],
        "preference_worker_job_lines": [
            ["worker_mapping", "job_line", "rank"],
            ["w1", "a", 1],
            ["w1", "b", 2],
            ["w2", "b", 1],
        ],
    }


def read(tmp_path: Path, sheets: Sheets) -> AllocatorInput:
    return read_workbook(save(tmp_path / "in.xlsx", sheets))


def test_hand_made_workbook_defaults_and_solves(tmp_path: Path) -> None:
    sheets = base_sheets()
    sheets["Sheet1"] = []  # the empty sheet a new workbook starts with is ignored
    sheets["job_lines"][2][0] = " b "  # stray spaces around ids are trimmed
    inp = read(tmp_path, sheets)
    assert inp.worker_ids == ("w1", "w2", "w3") and inp.line_ids == ("a", "b")
    assert inp.lines[0] == JobLine("a", "Line A", 2, must_have_workers=False, sort_order=0)
    assert inp.config == {"max_seconds": 5} and inp.taken_capacity == {} and inp.preferencers == ()
    assert solve(inp, SolveContext()).status == "COMPLETED"


def test_headers_any_case_numbers_as_ids_and_postgres_lists(tmp_path: Path) -> None:
    sheets = base_sheets()
    sheets["allocator_py_runs"] = [
        ["ID", "Allocation_Run_ID", "included_worker_mappings", "status"],  # queue columns are ignored
        ["r1", "ar1", "{w1,7}", "PENDING"],
    ]
    sheets["allocation_run_worker_mappings"].append([7, "Dr Seven"])  # a number typed as an id
    sheets["job_line_eligibility"] = [["job_line", "excluded_worker_mapping_ids"], ["a", "7, w2"]]
    inp = read(tmp_path, sheets)
    assert inp.worker_ids == ("w1", "7")
    assert _rows(inp.worker_prefs, inp.worker_ids, inp.line_ids) == [("w1", "a", 1.0), ("w1", "b", 2.0)]
    assert inp.eligibility == (Eligibility("a", excluded_workers=frozenset({"7", "w2"})),)


def test_a_table_may_start_after_blank_columns_with_blank_rows_between(tmp_path: Path) -> None:
    # The reader takes each sheet from cell A1 (calamine would otherwise start at the first
    # used cell and shift every column) and skips blank rows, numbering rows as Excel does.
    sheets = base_sheets()
    sheets[PREFS] = [[None, *row] for row in sheets[PREFS]]
    sheets[PREFS].insert(2, [None, None, " ", None])
    inp = read(tmp_path, sheets)
    assert _rows(inp.worker_prefs, inp.worker_ids, inp.line_ids) == [
        ("w1", "a", 1.0),
        ("w1", "b", 2.0),
        ("w2", "b", 1.0),
    ]
    sheets[PREFS].append([None, "w9", "a", 1])
    with pytest.raises(BadInput, match=r"sheet 'preference_worker_job_lines' row 6, column worker_mapping: no worker"):
        read(tmp_path, sheets)
    sheets = _with("job_lines", [[None, "id", "capacity"], [None, "a", 2]])
    with pytest.raises(BadInput, match=r"sheet 'job_lines' row 1, cell C1: unknown column 'capacity'"):
        read(tmp_path, sheets)


def test_included_lists_leave_out_other_rows(tmp_path: Path) -> None:
    sheets = base_sheets()
    sheets["allocator_py_runs"][0] += ["included_job_lines", "included_worker_mappings"]
    sheets["allocator_py_runs"][1] += ["b", "w2, w3"]
    sheets["allocation_run_preferencers"] = [["id"], ["s"]]
    sheets["job_line_preferencers"] = [["job_line", "preferencer"], ["a", "s"], ["b", "s"]]
    sheets["preference_preferencer_workers"] = [
        ["preferencer", "worker_mapping", "rank"],
        ["s", "w1", 1],
        ["s", "w3", 2],
    ]
    sheets["preferencer_weightings"] = [
        ["preferencer", "worker_mapping", "job_line", "weight"],
        ["s", "w1", None, 5],
        ["s", "w2", "a", 5],
        ["s", "w2", None, -1.5],
    ]
    sheets["worker_qualifications"] = [["worker_mapping", "tag"], ["w1", "x"], ["w3", "x"], ["w3", "y"]]
    inp = read(tmp_path, sheets)
    assert inp.worker_ids == ("w2", "w3") and inp.line_ids == ("b",)
    assert _rows(inp.worker_prefs, inp.worker_ids, inp.line_ids) == [("w2", "b", 1.0)]
    assert _rows(inp.preferencer_prefs, ["s"], inp.worker_ids) == [("s", "w3", 2.0)]
    assert inp.line_preferencers == (("b", "s"),)
    assert inp.weightings == (Weighting("s", "w2", None, -1.5),)
    assert inp.worker_tags == {"w3": frozenset({"x", "y"})}


def test_exclusive_round_takes_capacity(tmp_path: Path) -> None:
    sheets = base_sheets()
    sheets["allocator_py_runs"][1][2] = "yes"
    sheets["taken_capacity"] = [["job_line", "taken"], ["a", 1], ["b", 0]]
    assert read(tmp_path, sheets).taken_capacity == {"a": 1}


def _with(sheet: str, rows: list[list[Any]]) -> Sheets:
    sheets = base_sheets()
    sheets[sheet] = rows
    return sheets


def _append(sheet: str, *rows: list[Any]) -> Sheets:
    sheets = base_sheets()
    sheets[sheet] = sheets[sheet] + list(rows)
    return sheets


PREFS = "preference_worker_job_lines"
P_HEAD = ["worker_mapping", "job_line", "rank"]
BAD: dict[str, tuple[Sheets, str]] = {
    "unknown column": (
        _with("job_lines", [["id", "capacity"], ["a", 2]]),
        r"sheet 'job_lines' row 1, cell B1: unknown column 'capacity'",
    ),
    "missing required column": (
        _with(PREFS, [["worker_mapping", "job_line"], ["w1", "a"]]),
        r"sheet 'preference_worker_job_lines' row 1: missing required column\(s\) rank",
    ),
    "unknown worker": (
        _append(PREFS, ["w9", "a", 1]),
        r"sheet 'preference_worker_job_lines' row 5, column worker_mapping: no worker mapping has this id \(got 'w9'\)",
    ),
    "unknown line": (
        _append(PREFS, ["w3", "zz", 1]),
        r"sheet 'preference_worker_job_lines' row 5, column job_line: no job line has this id \(got 'zz'\)",
    ),
    "duplicate preference": (
        _append(PREFS, ["w3", "a", 1], ["w1", "b", 3]),
        r"sheet 'preference_worker_job_lines' row 6: worker_mapping 'w1' ranks job_line 'b' a second time;"
        r" the first is sheet 'preference_worker_job_lines' row 3",
    ),
    "non-numeric rank": (
        _append(PREFS, ["w3", "a", "first"]),
        r"row 5, column rank: a rank must be a positive number \(got 'first'\)",
    ),
    "zero rank": (_append(PREFS, ["w3", "a", 0]), r"row 5, column rank: a rank must be a positive number \(got 0\)"),
    "negative rank": (_append(PREFS, ["w3", "a", -2]), r"row 5, column rank: .*\(got -2\)"),
    "boolean rank": (_append(PREFS, ["w3", "a", True]), r"row 5, column rank: .*\(got True\)"),
    "missing rank": (_append(PREFS, ["w3", "a", None, "x"]), r"row 5, column rank: .*\(got an empty cell\)"),
    "negative capacity": (
        _append("job_lines", ["c", "Line C", -1]),
        r"sheet 'job_lines' row 4, column max_n_workers: must be at least 0 \(got -1\)",
    ),
    "fractional capacity": (
        _append("job_lines", ["c", "Line C", 1.5]),
        r"sheet 'job_lines' row 4, column max_n_workers: must be a whole number \(got 1.5\)",
    ),
    "negative supervisor cap": (
        _with("allocation_run_preferencers", [["id", "max_workers"], ["s", -3]]),
        r"sheet 'allocation_run_preferencers' row 2, column max_workers: must be at least 0",
    ),
    "negative taken capacity": (
        _with("taken_capacity", [["job_line", "taken"], ["a", -1]]),
        r"sheet 'taken_capacity' row 2, column taken: must be at least 0 \(got -1\)",
    ),
    "taken capacity without an exclusive run": (
        _with("taken_capacity", [["job_line", "taken"], ["a", 1]]),
        r"sheet 'taken_capacity' row 2: .* the run is not exclusive",
    ),
    "unknown included worker": (
        _with(
            "allocator_py_runs",
            [["id", "allocation_run_id", "included_worker_mappings"], ["r1", "ar1", "w1, w7"]],
        ),
        r"sheet 'allocator_py_runs' row 2, column included_worker_mappings: no worker mapping has this id \(got 'w7'\)",
    ),
    "unknown included line": (
        _with("allocator_py_runs", [["id", "allocation_run_id", "included_job_lines"], ["r1", "ar1", "a,q"]]),
        r"sheet 'allocator_py_runs' row 2, column included_job_lines: no job line has this id \(got 'q'\)",
    ),
    "unknown preferencer": (
        _with("preference_preferencer_workers", [["preferencer", "worker_mapping", "rank"], ["s", "w1", 1]]),
        r"sheet 'preference_preferencer_workers' row 2, column preferencer: no preferencer has this id \(got 's'\)",
    ),
    "weighting of an unknown line": (
        {
            **_with("allocation_run_preferencers", [["id"], ["s"]]),
            "preferencer_weightings": [["preferencer", "worker_mapping", "job_line", "weight"], ["s", "w1", "x", 1]],
        },
        r"sheet 'preferencer_weightings' row 2, column job_line: no job line has this id \(got 'x'\)",
    ),
    "non-numeric weight": (
        {
            **_with("allocation_run_preferencers", [["id"], ["s"]]),
            "preferencer_weightings": [["preferencer", "worker_mapping", "weight"], ["s", "w1", "lots"]],
        },
        r"sheet 'preferencer_weightings' row 2, column weight: a weight must be a number \(got 'lots'\)",
    ),
    "duplicate worker mapping": (
        _append("allocation_run_worker_mappings", ["w1", "Dr One again"]),
        r"sheet 'allocation_run_worker_mappings' row 5: duplicate row \(id='w1'\); the same as .* row 2",
    ),
    "missing id": (
        _append("job_lines", [None, "Nameless", 1]),
        r"sheet 'job_lines' row 4, column id: a value is required \(got an empty cell\)",
    ),
    "row of another allocation run": (
        _with("job_lines", [["id", "allocation_run"], ["a", "ar1"], ["b", "ar2"]]),
        r"sheet 'job_lines' row 3, column allocation_run: the row belongs to another allocation run",
    ),
    "config that is not JSON": (
        _with("allocator_py_runs", [["id", "allocation_run_id", "config"], ["r1", "ar1", "{max_seconds: 5}"]]),
        r"sheet 'allocator_py_runs' row 2, column config: not valid JSON",
    ),
    "config that is not an object": (
        _with("allocator_py_runs", [["id", "allocation_run_id", "config"], ["r1", "ar1", "[1]"]]),
        r"sheet 'allocator_py_runs' row 2, column config: config must be a JSON object",
    ),
    "two run rows": (
        _append("allocator_py_runs", ["r2", "ar1"]),
        r"sheet 'allocator_py_runs' must have exactly one run row below the header, not 2",
    ),
    "bad boolean": (
        _with("job_lines", [["id", "must_have_workers"], ["a", "maybe"]]),
        r"sheet 'job_lines' row 2, column must_have_workers: must be TRUE or FALSE \(got 'maybe'\)",
    ),
    "misspelt sheet": (
        {**base_sheets(), "job_line_eligibilty": [["job_line"], ["a"]]},
        r"unknown sheet 'job_line_eligibilty'",
    ),
    "missing sheet": (
        {k: v for k, v in base_sheets().items() if k != "job_lines"},
        r"the workbook has no sheet 'job_lines'",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_sheet_row_and_value(tmp_path: Path, case: str) -> None:
    sheets, message = BAD[case]
    with pytest.raises(BadInput, match=message):
        read(tmp_path, sheets)


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("not a spreadsheet")
    with pytest.raises(BadInput, match=r"is not a readable \.xlsx workbook"):
        read_workbook(path)


# ----------------------------------------------------------------------------- results and the example


def _xlsxwriter_book(
    path: Path, sheets: Sheets, formula: tuple[str, int, int, str] | None = None, *, inline: bool = False
) -> Path:
    """``sheets`` written by xlsxwriter; ``formula`` = (sheet, row, column, cached value): a
    formula cell there with that result, as Excel saves a formula that failed; ``inline``:
    text in the sheet's own XML (as the streamed export writes it), not in shared strings."""
    with xlsxwriter.Workbook(str(path), {"constant_memory": inline}) as wb:
        for name, rows in sheets.items():
            ws = wb.add_worksheet(name)
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    if formula is not None and (name, i, j) == formula[:3]:
                        ws.write_formula(i, j, "=#REF!", None, formula[3])
                    elif value is not None:
                        ws.write(i, j, value)
    return path


@pytest.mark.parametrize(
    ("sheet", "row", "column", "cell"),
    [
        ("job_lines", 1, 2, "C2"),  # max_n_workers: read as blank, the default 1 stood in
        ("allocator_py_runs", 1, 1, "B2"),
        ("preference_worker_job_lines", 3, 2, "C4"),
    ],
)
def test_an_error_cell_is_refused_naming_it(tmp_path: Path, sheet: str, row: int, column: int, cell: str) -> None:
    sheets = base_sheets()
    sheets["job_lines"] = [["id", "name", "max_n_workers"], ["a", "Line A", 2], ["b", "Line B", 2]]
    path = _xlsxwriter_book(tmp_path / "in.xlsx", sheets, (sheet, row, column, "#REF!"))
    with pytest.raises(BadInput, match=rf"sheet '{sheet}' cell {cell}: an error value #REF!"):
        read_workbook(path)


def test_text_that_looks_like_an_error_cell_is_text(tmp_path: Path) -> None:
    sheets = base_sheets()
    sheets["job_lines"][1][1] = '<c r="A1" t="e"> not an error'
    path = _xlsxwriter_book(tmp_path / "in.xlsx", sheets, inline=True)
    assert read_workbook(path).lines[0].name == '<c r="A1" t="e"> not an error'


def test_a_workbook_with_a_broken_sheet_is_bad_input(tmp_path: Path) -> None:
    good = _xlsxwriter_book(tmp_path / "good.xlsx", base_sheets())
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet3.xml":
                data = data[: len(data) // 2]  # cut mid-element
            zout.writestr(item, data)
    with pytest.raises(BadInput, match=r"sheet 'job_lines' is not readable"):
        read_workbook(broken)


def test_shipped_example_is_what_its_module_generates(tmp_path: Path) -> None:
    fresh = tmp_path / "example.xlsx"
    write_example(fresh)
    assert fresh.read_bytes() == EXAMPLE.read_bytes(), (
        "examples/allocator-example.xlsx is stale: .venv/bin/python -m daemon.allocator.example"
    )


def test_example_solves_and_the_result_workbook_has_one_row_per_worker(tmp_path: Path) -> None:
    inp = read_workbook(EXAMPLE)
    assert len(inp.worker_ids) == 24 and len(inp.line_ids) == 10
    out = solve(inp, SolveContext())
    assert out.status == "COMPLETED", out.error
    path = tmp_path / "result.xlsx"
    names = read_names(EXAMPLE)
    write_result(path, inp, out, names=names)

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["allocations", "summary"]
    ws = wb["allocations"]
    header, *rows = list(ws.iter_rows(values_only=True))
    assert header == ("worker_mapping", "worker_name", "job_line", "job_line_name", "worker_rank", "dissatisfaction")
    assert [r[0] for r in rows] == list(inp.worker_ids)  # one row per worker, in the input's order
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F25"
    line_names = {ln.id: ln.name for ln in inp.lines}
    by_worker = {a.worker: a for a in out.payload.allocations}
    for worker, name, line, line_name, rank, cost in rows:
        assert name == names[worker] and line == by_worker[worker].job_line and line_name == line_names[line]
        assert rank == by_worker[worker].worker_rank
        assert cost == pytest.approx(by_worker[worker].dissatisfaction)
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(values_only=True)}
    assert summary["status"] == "COMPLETED" and summary["objective (total dissatisfaction)"] == pytest.approx(
        out.metadata["objective"]
    )
    assert summary["rank"] == "workers"  # the histogram table's header
    assert_same(read_workbook(path), inp)  # a result workbook replays


def test_result_of_an_infeasible_run_reports_the_diagnosis(tmp_path: Path) -> None:
    inp = make_input({"w1": {"a": 1}, "w2": {"a": 1}}, {"a": 1})
    out = solve(inp, SolveContext())
    assert out.status == "INFEASIBLE"
    path = tmp_path / "result.xlsx"
    write_result(path, inp, out)
    wb = openpyxl.load_workbook(path)
    assert list(wb["allocations"].iter_rows(values_only=True))[1:] == []
    values = [r[1] for r in wb["summary"].iter_rows(values_only=True)]
    assert "INFEASIBLE" in values and out.error in values
    assert any(isinstance(v, str) and v in out.metadata["diagnosis"] for v in values)


def test_result_keeps_unlisted_metadata(tmp_path: Path) -> None:
    inp = make_input({"w1": {"a": 1}}, {"a": 1})
    out = SolveOutcome("FAILED", {"status": "UNKNOWN", "stopped_by": {"who": "admin"}}, "stopped")
    path = tmp_path / "result.xlsx"
    write_result(path, inp, out)
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(path)["summary"].iter_rows(values_only=True)}
    assert summary["stopped_by"] == '{"who": "admin"}' and summary["error"] == "stopped"


def test_result_workbook_has_a_why_sheet_with_the_cli_s_sentences_and_seat_values(tmp_path: Path) -> None:
    from daemon.allocator import sentences

    inp = read_workbook(EXAMPLE)
    out = solve(inp, SolveContext())
    assert out.status == "COMPLETED", out.error
    explained, seats = out.payload.explanations, out.payload.seat_values
    assert explained and len(seats) == len(inp.line_ids)
    names = read_names(EXAMPLE)
    path = tmp_path / "result.xlsx"
    write_result(path, inp, out, names=names)

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["allocations", "summary", "why", "seat_values"]
    header, *rows = list(wb["why"].iter_rows(values_only=True))
    assert header == WHY_COLUMNS
    assert len(rows) == len(explained)  # one row per explanation
    said = sentences.Names(names, {ln.id: ln.name for ln in inp.lines})
    on_line = sentences.holders(out.payload.allocations)
    expected = {(e.worker, e.job_line): e for e in explained}
    position = {w: i for i, w in enumerate(inp.worker_ids)}
    assert [position[r[0]] for r in rows] == sorted(position[r[0]] for r in rows)  # per worker, input order
    for worker, name, line, line_name, rank, reason, delta, exact, sentence in rows:
        e = expected[(worker, line)]
        assert name == names[worker] and rank == e.worker_rank and reason == e.reason
        assert delta == (None if e.delta is None else pytest.approx(e.delta))
        assert exact == e.detail.get("exact")
        assert sentence == sentences.sentence(e, said, on_line)  # the sentence `receptord explain` prints
        assert line_name in sentence and name not in sentence  # the line by name; "you", not the worker
    header, *rows = list(wb["seat_values"].iter_rows(values_only=True))
    assert header == (
        "job_line", "job_line_name", "one_more_seat", "one_fewer_seat", "exact",
        "one_more_seat_places", "one_fewer_seat_leaves_out",
    )  # fmt: skip
    assert len(rows) == len(seats)
    assert [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)  # most valuable first
    assert_same(read_workbook(path), inp)  # the result sheets are still ignored when it is read back


def test_result_sheets_continued_on_numbered_sheets_are_ignored_too(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(EXAMPLE)
    book.create_sheet("why~2").append(["worker_mapping", "sentence"])
    book["why~2"].append(["w", "a sentence"])
    path = tmp_path / "continued.xlsx"
    book.save(path)
    assert_same(read_workbook(path), read_workbook(EXAMPLE))
