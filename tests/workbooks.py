"""Hand-built workbooks for the XLSX readers' tests (both solvers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

Sheets = dict[str, list[list[Any]]]  # sheet name -> rows, the header row first


def save(path: Path, sheets: Sheets) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path
