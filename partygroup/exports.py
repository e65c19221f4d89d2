"""Spreadsheet output shared by every export of the project: formula neutralisation and writers.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
WPS and LibreOffice as a formula (CSV/formula injection). Every export therefore passes its cells
through :func:`neutralise`, which puts an apostrophe in front of such a value; :func:`unneutralise`
is its exact inverse and is applied by every import, so an export → import round trip reproduces
the data.

The two functions are a bijection on strings: a value is prefixed when it begins with a trigger
character *after any leading apostrophes*, and exactly one apostrophe is removed from such a value
on import. (So ``'=x`` — a value that really begins with an apostrophe — is exported as ``''=x`` and
read back as ``'=x``.) Values that are not strings (numbers, dates) are left alone: a spreadsheet
never evaluates them.

Use :func:`write_xlsx` / :func:`write_csv` rather than writing spreadsheets by hand: they apply the
neutralisation to every cell, header included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = frozenset({"=", "+", "-", "@", "\t", "\r"})
APOSTROPHE = "'"


def _needs_prefix(value: str) -> bool:
    return value.lstrip(APOSTROPHE)[:1] in FORMULA_TRIGGERS


def neutralise(value: Any) -> Any:
    """``"=1+1"`` → ``"'=1+1"``; strings that cannot start a formula and non-strings are unchanged."""
    if isinstance(value, str) and _needs_prefix(value):
        return APOSTROPHE + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


def unneutralise(value: Any) -> Any:
    """The inverse of :func:`neutralise`: ``"'=1+1"`` → ``"=1+1"``; used on every imported cell."""
    if isinstance(value, str) and value.startswith(APOSTROPHE) and _needs_prefix(value):
        return value[1:]
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel on Chinese Windows then opens it correctly), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(neutralise_row(_cell_text(h) for h in headers))
    for row in rows:
        writer.writerow(neutralise_row(_cell_text(v) for v in row))
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "Sheet1",
    column_widths: Sequence[int] = (),
) -> bytes:
    """A one-sheet workbook (openpyxl write-only mode: constant memory whatever the row count)."""

    def clean(value: Any) -> Any:
        value = neutralise(value)
        if isinstance(value, str):
            # Control characters are not allowed in the XML of a sheet (IllegalCharacterError).
            value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
        return value

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    for index, width in enumerate(column_widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([clean(h) for h in headers])
    for row in rows:
        sheet.append([clean(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
