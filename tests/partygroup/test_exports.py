"""Tests of partygroup/exports.py: formula neutralisation (and its inverse) and the two writers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from partygroup.exports import (
    FORMULA_TRIGGERS,
    neutralise,
    neutralise_row,
    unneutralise,
    write_csv,
    write_xlsx,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613900000000", "'+8613900000000"),
        ("-研发部", "'-研发部"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=x", "''=x"),  # a value that really starts with an apostrophe survives the round trip
        ("张喆", "张喆"),
        ("a=b", "a=b"),
        ("'abc", "'abc"),
        ("", ""),
        (None, None),
        (-5, -5),
        (dt.date(2020, 1, 1), dt.date(2020, 1, 1)),
    ],
)
def test_neutralise_prefixes_only_cells_that_start_a_formula(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("'=1+1", "=1+1"),
        ("'+86139", "+86139"),
        ("''=x", "'=x"),
        ("'abc", "'abc"),  # the apostrophe is not followed by a trigger: kept
        ("'", "'"),
        ("=1", "=1"),
        (5, 5),
    ],
)
def test_unneutralise_strips_exactly_the_exports_apostrophe(value, expected):
    assert unneutralise(value) == expected


@given(st.text())
def test_unneutralise_is_the_inverse_of_neutralise(text):
    assert unneutralise(neutralise(text)) == text


@given(st.text())
def test_a_neutralised_cell_never_starts_with_a_formula_character(text):
    assert neutralise(text)[:1] not in FORMULA_TRIGGERS


def test_neutralise_row_handles_every_cell():
    assert neutralise_row(["=A1", "姓名", 3, None]) == ["'=A1", "姓名", 3, None]


def test_write_csv_has_a_bom_crlf_lines_and_neutralised_cells():
    data = write_csv(["姓名", "=H"], [["王𠇔", "+86"], ["李喆", dt.date(2020, 1, 2)], ["赵", None]])

    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["姓名", "'=H"], ["王𠇔", "'+86"], ["李喆", "2020-01-02"], ["赵", ""]]


def test_write_xlsx_writes_text_not_formulas_and_replaces_control_characters():
    data = write_xlsx(
        ["姓名", "单位"],
        [["王𠇔", '=HYPERLINK("http://127.0.0.1")'], ["李\x01喆", "-1"]],
        sheet_title="党员名单",
        column_widths=(12, 20),
    )

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["党员名单"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["姓名", "单位"],
        ["王𠇔", '\'=HYPERLINK("http://127.0.0.1")'],
        ["李\N{REPLACEMENT CHARACTER}喆", "'-1"],
    ]
    assert {c.data_type for row in sheet.iter_rows() for c in row} == {"s"}
    assert sheet.column_dimensions["B"].width == 20
