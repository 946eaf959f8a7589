"""Every table mfhc writes for a spreadsheet (CSV and Excel downloads, the Annex A export)
goes through here, so spreadsheet formula injection is neutralised in one place: a text
cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, and Excel cells are written as text, never as formulas."""

from __future__ import annotations

import io

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.map(neutralise)
    out.columns = [neutralise(str(c)) for c in frame.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    neutralise_frame(frame).to_csv(buffer, index=False)
    return buffer.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    cleaned = "".join("_" if c in '[]:*?/\\' else c for c in name)[:31] or "Sheet"
    candidate, n = cleaned, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = cleaned[:31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, one sheet per frame. Text cells are stored as text with their
    formula neutralised; openpyxl would otherwise store any string starting `=` as a formula."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for name, frame in sheets.items():
        sheet = book.create_sheet(_sheet_name(name, used))
        safe = neutralise_frame(frame)
        sheet.append(list(safe.columns))
        for row in safe.itertuples(index=False):
            values = []
            for value in row:
                if value is None or value is pd.NA or (isinstance(value, float) and value != value):
                    values.append(None)
                elif isinstance(value, pd.Timestamp):
                    values.append(value.to_pydatetime())
                elif hasattr(value, "item") and not isinstance(value, str):
                    values.append(value.item())
                else:
                    values.append(value)
            sheet.append(values)
        for cell_row in sheet.iter_rows(min_row=1):
            for cell in cell_row:
                if cell.data_type == "f":          # never a formula
                    cell.data_type = "s"
        for index, column in enumerate(safe.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in safe.iloc[:200, index - 1]]) + 2
            sheet.column_dimensions[get_column_letter(index)].width = min(width, 60)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
