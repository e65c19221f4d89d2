"""Member-list files for tests and benchmarks, written with openpyxl / csv (no binary fixtures).

    from tests.import_files import member_rows, write_members_xlsx
    path = write_members_xlsx(tmp_path / "members.xlsx", member_rows(10_000, groups=["第一党小组"]))
    report = import_members_file(path_or_file=path, branch=branch, by=user, dry_run=False)

Every generated row is valid: a unique, checksum-correct ID number whose birth date matches
出生日期, a full member with join and full-membership dates, a mobile number. Names cycle through
common and rare characters (喆, and 𠇔 outside the BMP).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from members.validators import id_check_digit

# The header of the file, exactly as the issue defines it (docs/import.md).
HEADERS = (
    "姓名",
    "性别",
    "出生日期",
    "党员类别",
    "入党日期",
    "转正日期",
    "所在单位",
    "手机号码",
    "身份证号",
    "所在党小组",
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "秀英", "喆", "𠇔", "静", "建华", "晓东", "琰", "堃", "鑫", "海燕", "志强")
_FIRST_BIRTH = dt.date(1960, 1, 1)
_DAYS = 12_000  # birth dates 1960-01-01 … 1992-11 (always in the past, always before joining)


def id_number_for(birth: dt.date, serial: int, gender: str, region: str = "110101") -> str:
    """A valid 18-digit ID number; ``gender`` is "男" or "女" (odd 17th digit for men)."""
    seq = (serial % 500) * 2 + (1 if gender == "男" else 0)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def member_row(n: int, *, group: str = "", unit: str = "综合处", **overrides: Any) -> dict[str, Any]:
    """Row ``n`` (0-based) of a valid file; ``overrides`` replace cells by their Chinese header."""
    birth = _FIRST_BIRTH + dt.timedelta(days=n % _DAYS)
    gender = "男" if n % 2 else "女"
    joined = dt.date(birth.year + 25, 7, 1)
    row = {
        "姓名": _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n // len(_SURNAMES)) % len(_GIVEN)],
        "性别": gender,
        "出生日期": birth.isoformat(),
        "党员类别": "正式党员",
        "入党日期": joined.isoformat(),
        "转正日期": dt.date(joined.year + 1, 7, 1).isoformat(),
        "所在单位": unit,
        "手机号码": f"139{n % 100_000_000:08d}",
        "身份证号": id_number_for(birth, n // _DAYS, gender),
        "所在党小组": group,
    }
    row.update(overrides)
    return row


def member_rows(
    count: int, *, start: int = 0, groups: Sequence[str] = (), units: Sequence[str] = ("综合处", "财务处")
) -> list[dict[str, Any]]:
    """``count`` valid rows; groups and units are assigned round-robin (no group when empty)."""
    return [
        member_row(
            n,
            group=groups[n % len(groups)] if groups else "",
            unit=units[n % len(units)] if units else "",
        )
        for n in range(start, start + count)
    ]


def _cells(rows: Iterable[dict[str, Any]], headers: Sequence[str]) -> Iterable[list[Any]]:
    for row in rows:
        yield [row.get(h) for h in headers]


def xlsx_bytes(
    rows: Iterable[dict[str, Any]], headers: Sequence[str] = HEADERS, *, like_excel: bool = True
) -> bytes:
    """An .xlsx workbook (first sheet: header + rows).

    When every value is text (the usual case, and what the benchmark imports) the file is laid out
    as Excel and WPS save it: a shared-string table and the sheet's dimension. Other values
    (dates, numbers) or ``like_excel=False`` go through openpyxl, which writes inline strings.
    """
    table = [list(headers), *(list(cells) for cells in _cells(rows, headers))]
    if like_excel and all(v is None or isinstance(v, str) for row in table for v in row):
        return _excel_like_xlsx(table)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "党员名单"
    for cells in table:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {_NS} xmlns:r="{_REL_NS}">'
        '<sheets><sheet name="党员名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet {_NS}>'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _excel_like_xlsx(table: list[list[str | None]]) -> bytes:
    index: dict[str, int] = {}
    sheet_rows = []
    for number, cells in enumerate(table, start=1):
        xml_cells = []
        for column, value in enumerate(cells, start=1):
            if value:
                position = index.setdefault(value, len(index))
                xml_cells.append(f'<c r="{get_column_letter(column)}{number}" t="s"><v>{position}</v></c>')
        sheet_rows.append(f'<row r="{number}">{"".join(xml_cells)}</row>')
    last = f"{get_column_letter(max(len(r) for r in table))}{len(table)}"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {_NS}>'
        f'<dimension ref="A1:{last}"/><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>'
    )
    strings = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in index)
    shared = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<sst {_NS} count="{len(index)}" uniqueCount="{len(index)}">{strings}</sst>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in _PARTS.items():
            archive.writestr(name, xml)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()


def csv_bytes(
    rows: Iterable[dict[str, Any]], headers: Sequence[str] = HEADERS, *, encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for cells in _cells(rows, headers):
        writer.writerow(["" if v is None else v for v in cells])
    return buffer.getvalue().encode(encoding)


def write_members_xlsx(
    path: str | Path,
    rows: Iterable[dict[str, Any]],
    headers: Sequence[str] = HEADERS,
    *,
    like_excel: bool = True,
) -> Path:
    path = Path(path)
    path.write_bytes(xlsx_bytes(rows, headers, like_excel=like_excel))
    return path


def write_members_csv(
    path: str | Path,
    rows: Iterable[dict[str, Any]],
    headers: Sequence[str] = HEADERS,
    *,
    encoding: str = "utf-8-sig",
) -> Path:
    path = Path(path)
    path.write_bytes(csv_bytes(rows, headers, encoding=encoding))
    return path
