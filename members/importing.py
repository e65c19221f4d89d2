"""Import of member lists (党员名单) from .xlsx and .csv files: read, parse, validate, write.

One pipeline serves the command ``import_members``, the admin's import (with preview) and the
benchmark: :func:`import_members_file` reads the file (:func:`read_table`, streaming, with the size
and row limits of the settings) and :func:`import_member_table` validates the WHOLE file before it
writes anything. A file with any bad row writes nothing; a good file is written in one transaction
with a fixed number of queries whatever the number of rows (preloads + bulk writes with history).

Member-level rules are not repeated here: each row becomes a ``Member`` instance validated by
``Member.full_clean()`` (the field validators of ``members.validators`` and ``Member.clean()``).

``members`` knows nothing of groups (STYLE.md). Columns that belong to another app — the
``所在党小组`` column — are handled by a *column extension* that the other app registers in its
``AppConfig.ready()`` (``groups.importing``), like the finding collectors of
``partygroup.findings``. The expected header is the member columns followed by the columns of
the registered extensions. See docs/import.md for the file format and the matching rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import openpyxl
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from members import services
from members.enums import Gender, MemberStatus
from members.models import Branch, Member, Unit
from members.validators import (
    id_number_birth_date,
    normalise_id_number,
    validate_id_number,
    validate_person_name,
)
from partygroup.exports import unneutralise

# --- The file format (docs/import.md) --------------------------------------------------------------
NAME = "姓名"
GENDER = "性别"
BIRTH_DATE = "出生日期"
STATUS = "党员类别"
JOINED_ON = "入党日期"
FULL_MEMBER_ON = "转正日期"
UNIT = "所在单位"
PHONE = "手机号码"
ID_NUMBER = "身份证号"

MEMBER_COLUMNS: tuple[str, ...] = (
    NAME,
    GENDER,
    BIRTH_DATE,
    STATUS,
    JOINED_ON,
    FULL_MEMBER_ON,
    UNIT,
    PHONE,
    ID_NUMBER,
)
# Member field → column (for the messages of Member.full_clean()).
FIELD_COLUMNS = {
    "name": NAME,
    "gender": GENDER,
    "birth_date": BIRTH_DATE,
    "status": STATUS,
    "joined_on": JOINED_ON,
    "full_member_on": FULL_MEMBER_ON,
    "unit": UNIT,
    "phone": PHONE,
    "id_number": ID_NUMBER,
}
DATE_COLUMNS = {BIRTH_DATE: "birth_date", JOINED_ON: "joined_on", FULL_MEMBER_ON: "full_member_on"}
# The file always uses the Chinese words, whatever the language of the screen.
GENDER_VALUES = {"男": Gender.MALE, "女": Gender.FEMALE}
STATUS_VALUES = {"正式党员": MemberStatus.FULL, "预备党员": MemberStatus.PROBATIONARY}
GENDER_LABELS = {v: k for k, v in GENDER_VALUES.items()}
STATUS_LABELS = {v: k for k, v in STATUS_VALUES.items()}
TRACKED_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "status",
    "joined_on",
    "full_member_on",
    "unit",
    "phone",
    "id_number",
)

# Cells that keep the member's value when empty (every other member cell is cleared when empty).
KEEP_WHEN_EMPTY = frozenset({"birth_date", "phone", "id_number"})

# Excel's own limit on rows per sheet: no loop over a sheet goes further, whatever the file claims.
EXCEL_MAX_ROWS = 1_048_576
# Zip-bomb guard: an .xlsx may not unpack to more than this many times the upload limit.
XLSX_MAX_EXPANSION = 30
ID_LOOKUP_CHUNK = 2000
IMPORT_REASON = "导入党员名单"

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_CN_DATE_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
DATE_FORMAT_MESSAGE = "日期格式不正确，应为YYYY-MM-DD（也可为YYYY/MM/DD或YYYY年M月D日）。"


class ImportFileError(Exception):
    """The file as a whole is refused (size, rows, format, header); nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RowError(NamedTuple):
    """A bad cell: ``row`` as the user sees it in the spreadsheet (header = row 1), the column's
    Chinese header ("" for the row as a whole) and the reason in Chinese."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行"
        if self.column:
            where += f"【{self.column}】"
        return f"{where}{self.message}"


@dataclass
class Table:
    """A sheet as read: ``rows[i]`` is spreadsheet row ``i + 2`` (row 1 is the header).

    Blank rows inside the data are kept (as empty tuples) so row numbers stay those of the file;
    blank rows at the end are dropped.
    """

    headers: list[str]
    rows: list[tuple]

    def numbered_rows(self) -> Iterator[tuple[int, tuple]]:
        for index, row in enumerate(self.rows):
            if not _is_blank(row):
                yield index + 2, row


# --- Column extensions (registered by other apps) ------------------------------------------------
@dataclass
class RowPlan:
    """What the import will do with one row of the file."""

    row: int
    values: dict[str, str]  # every column's text as read (apostrophe stripped, trimmed)
    member: Member  # the member as it will be saved (unsaved when new)
    is_new: bool
    changed_fields: list[str] = field(default_factory=list)  # member fields that change
    extra_changes: list[str] = field(default_factory=list)  # extension columns that change
    errors: list[RowError] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # scratch space of the extensions

    @property
    def action(self) -> str:
        if self.is_new:
            return "new"
        return "update" if self.changed_fields or self.extra_changes else "unchanged"


@dataclass
class ImportContext:
    branch: Branch
    by: Any
    today: dt.date
    dry_run: bool
    plans: list[RowPlan]
    counts: Counter = field(default_factory=Counter)  # e.g. {"编入党小组": 3}


class ColumnExtension(Protocol):
    """Columns of the member file that another app understands (e.g. groups: 所在党小组)."""

    columns: tuple[str, ...]

    def validate(self, ctx: ImportContext) -> list[RowError]:
        """Check every plan's cells of ``columns`` (no writes); mark changes in ``plan.extra_changes``."""

    def apply(self, ctx: ImportContext) -> None:
        """Write what ``validate`` planned; members are saved by then. Inside the import transaction."""

    def export_values(self, member_ids: QuerySet | Sequence[int]) -> dict[int, tuple[str, ...]]:
        """member id → the cells of ``columns`` for the export."""


_EXTENSIONS: list[ColumnExtension] = []


def register_column_extension(extension: ColumnExtension) -> ColumnExtension:
    if all(type(e) is not type(extension) for e in _EXTENSIONS):
        _EXTENSIONS.append(extension)
    return extension


def column_extensions() -> tuple[ColumnExtension, ...]:
    return tuple(_EXTENSIONS)


def import_columns() -> tuple[str, ...]:
    """The header of the file, in order: the member columns, then the extensions' columns."""
    return MEMBER_COLUMNS + tuple(c for ext in _EXTENSIONS for c in ext.columns)


# --- The report ------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    branch: Branch
    dry_run: bool
    columns: tuple[str, ...]
    errors: list[RowError] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def total_rows(self) -> int:
        return len(self.rows)

    @property
    def created(self) -> int:
        return sum(1 for p in self.rows if p.action == "new")

    @property
    def updated(self) -> int:
        return sum(1 for p in self.rows if p.action == "update")

    @property
    def unchanged(self) -> int:
        return sum(1 for p in self.rows if p.action == "unchanged")

    def error_lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def summary(self) -> str:
        if self.errors:
            rows = len({e.row for e in self.errors})
            return f"共{self.total_rows}行数据，其中{rows}行有错误（{len(self.errors)}处），未导入任何数据。"
        verb = "将" if self.dry_run else "已"
        parts = [f"新增党员{self.created}名", f"更新{self.updated}名", f"无变化{self.unchanged}名"]
        if self.new_units:
            parts.append(f"新建单位{len(self.new_units)}个（{'、'.join(self.new_units)}）")
        parts += [f"{label}{count}名" for label, count in sorted(self.counts.items()) if count]
        prefix = "预检通过（未写入）：" if self.dry_run else "导入完成："
        return f"{prefix}共{self.total_rows}行，{verb}" + "，".join(parts) + "。"


# --- Reading ---------------------------------------------------------------------------------------
def human_size(size: int) -> str:
    """2048 → "2 KB", 10485760 → "10 MB", 1258291 → "1.2 MB"."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


def check_upload_size(size: int, *, max_bytes: int | None = None) -> None:
    max_bytes = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    if size > max_bytes:
        raise ImportFileError(
            f"文件大小为{human_size(size)}，超过上限{human_size(max_bytes)}，请拆分后分批导入。"
        )


def _source_name(source: Any, filename: str | None) -> str:
    if filename:
        return str(filename)
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "") or "")


def _source_size(source: Any) -> int:
    if isinstance(source, (bytes, bytearray)):
        return len(source)
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    size = getattr(source, "size", None)
    if isinstance(size, int):
        return size
    position = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def _open_binary(source: Any):
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source)
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb")  # closed by read_table
    if hasattr(source, "seek"):
        source.seek(0)
    return source


def _detect_format(name: str, head: bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    if suffix in {".xls", ".et", ".wps"}:
        raise ImportFileError("不支持旧版 .xls 等格式，请在 Excel/WPS 中另存为 .xlsx 或 .csv 后再导入。")
    if suffix and suffix not in {".tmp", ".upload"}:
        raise ImportFileError(f"不支持“{suffix}”格式的文件，请上传 .xlsx 或 .csv 文件。")
    return "xlsx" if head.startswith(b"PK\x03\x04") else "csv"


def read_table(
    source: Any,
    *,
    fmt: str | None = None,
    filename: str | None = None,
    max_rows: int | None = None,
    max_bytes: int | None = None,
) -> Table:
    """Read the first sheet of an .xlsx (openpyxl read-only, streaming) or a .csv file.

    ``source`` is a path, bytes or a binary file object. The size is checked before anything is
    parsed; data rows are counted while streaming, so an oversized file is refused as soon as the
    limit is passed, without loading it all. Raises :class:`ImportFileError` with a Chinese message.
    """
    max_rows = settings.UPLOAD_MAX_ROWS if max_rows is None else max_rows
    check_upload_size(_source_size(source), max_bytes=max_bytes)
    stream = _open_binary(source)
    try:
        head = stream.read(4)
        stream.seek(0)
        fmt = fmt or _detect_format(_source_name(source, filename), head)
        if fmt == "xlsx":
            return _read_xlsx(stream, max_rows=max_rows, max_bytes=max_bytes)
        if fmt == "csv":
            return _read_csv(stream.read(), max_rows=max_rows)
        raise ImportFileError(f"不支持的文件格式“{fmt}”，请上传 .xlsx 或 .csv 文件。")
    finally:
        if stream is not source:
            stream.close()


def _check_zip(stream, *, max_bytes: int | None) -> None:
    limit = (settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes) * XLSX_MAX_EXPANSION
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportFileError("无法读取该 .xlsx 文件：文件已损坏或不是 Excel 工作簿。") from exc
    finally:
        stream.seek(0)
    if unpacked > limit:
        raise ImportFileError(f"该 .xlsx 文件解压后超过{human_size(limit)}，疑似异常文件，已拒绝导入。")


def _read_xlsx(stream, *, max_rows: int, max_bytes: int | None) -> Table:
    _check_zip(stream, max_bytes=max_bytes)
    try:
        # read_only: rows are parsed as they are iterated; data_only: cached values, not formulas.
        # openpyxl parses the XML with defusedxml (openpyxl.DEFUSEDXML), so entity tricks fail.
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError("无法读取该 .xlsx 文件：文件已损坏或不是 Excel 工作簿。") from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError("该 .xlsx 文件中没有工作表。")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # do not trust the <dimension> the file states
        return _collect(sheet.iter_rows(values_only=True), max_rows=max_rows)
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError("读取 .xlsx 文件内容时出错：文件已损坏或格式不正确。") from exc
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves "CSV" in GBK; GB18030 is its superset (and covers 𠇔).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别 CSV 文件的编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入。")


def _read_csv(data: bytes, *, max_rows: int) -> Table:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        return _collect(reader, max_rows=max_rows)
    except csv.Error as exc:
        raise ImportFileError(
            f"CSV 文件第{reader.line_num}行附近格式错误，请在 Excel 中另存为 CSV 后再导入。"
        ) from exc


def _is_blank(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _collect(rows: Iterable[Sequence[Any]], *, max_rows: int) -> Table:
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None or _is_blank(header):
        raise ImportFileError("文件第1行应为表头（姓名、性别……），但第1行是空的。")
    headers = [str(unneutralise(h)).strip() if h is not None else "" for h in header]
    kept: list[tuple] = []
    pending_blank = 0
    data_rows = 0
    for row_number, row in enumerate(iterator, start=2):
        if row_number > EXCEL_MAX_ROWS:
            raise ImportFileError(f"文件超过{EXCEL_MAX_ROWS}行，已拒绝导入。")
        if _is_blank(row):
            pending_blank += 1
            continue
        data_rows += 1
        if data_rows > max_rows:
            raise ImportFileError(f"文件的数据行超过{max_rows}行（单次导入上限），请拆分后分批导入。")
        kept.extend([()] * pending_blank)
        pending_blank = 0
        kept.append(tuple(row))
    if not data_rows:
        raise ImportFileError("文件中没有党员数据（数据应从第2行开始）。")
    return Table(headers=headers, rows=kept)


def column_positions(headers: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, int]:
    """Column → position in the file; the header must hold every column exactly once, nothing else."""
    columns = tuple(columns or import_columns())
    positions: dict[str, int] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        if header in positions:
            duplicated.append(header)
        elif header in columns:
            positions[header] = index
        else:
            unknown.append(header)
    problems = []
    missing = [c for c in columns if c not in positions]
    if missing:
        problems.append("缺少列：" + "、".join(missing))
    if unknown:
        problems.append("无法识别的列：" + "、".join(unknown))
    if duplicated:
        problems.append("重复的列：" + "、".join(duplicated))
    if problems:
        raise ImportFileError(
            "表头（第1行）不正确：" + "；".join(problems) + "。表头应为：" + "、".join(columns) + "。"
        )
    return positions


# --- Parsing cells ---------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """A cell as text: the export's neutralising apostrophe removed, surrounding spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unneutralise(value).strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    """Excel date cells, YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYY年M月D日; ``ValueError`` otherwise."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(DATE_FORMAT_MESSAGE)
    text = unneutralise(value).strip()
    if not text:
        return None
    match = _DATE_RE.match(text) or _CN_DATE_RE.match(text)
    if not match:
        raise ValueError(DATE_FORMAT_MESSAGE)
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(f"日期“{text}”不存在，请核对。") from exc


def _snapshot(member: Member) -> dict[str, Any]:
    values = {f: getattr(member, f) for f in TRACKED_FIELDS if f != "unit"}
    values["unit"] = member.unit.name if member.unit is not None else None
    return values


def _valid_id_number(value: str) -> bool:
    try:
        validate_id_number(value)
    except ValidationError:
        return False
    return True


# --- The pipeline ----------------------------------------------------------------------------------
def import_members_file(
    *, path_or_file: Any, branch: Branch, by: Any, dry_run: bool, filename: str | None = None
) -> ImportReport:
    """Read ``path_or_file`` (.xlsx or .csv) and import its members into ``branch``.

    ``dry_run=True`` writes nothing and reports what would happen. Otherwise the whole file is
    validated first; with any bad row nothing is written (``report.errors`` lists every bad cell),
    else everything is written in one transaction. File-level refusals (size, row count, format,
    header) raise :class:`ImportFileError`.
    """
    return import_member_table(
        table=read_table(path_or_file, filename=filename), branch=branch, by=by, dry_run=dry_run
    )


def import_member_table(*, table: Table, branch: Branch, by: Any, dry_run: bool) -> ImportReport:
    columns = import_columns()
    positions = column_positions(table.headers, columns)
    if dry_run:
        return _run(table, positions, columns, branch=branch, by=by, dry_run=True)
    try:
        with transaction.atomic():
            # Serialise imports into one branch (row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE).
            Branch.objects.select_for_update().filter(pk=branch.pk).order_by("pk").values_list("pk").first()
            return _run(table, positions, columns, branch=branch, by=by, dry_run=False)
    except IntegrityError as exc:
        raise ImportFileError(
            "导入时数据被其他操作同时修改（如身份证号或党小组编入冲突），未导入任何数据，请重新导入。"
        ) from exc


@dataclass
class _Parsed:
    """One row's cells, parsed; ``failed`` names the member fields whose cell could not be read."""

    number: int
    texts: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    name: str = ""
    gender: str | None = None
    status: str | None = None
    dates: dict[str, dt.date | None] = field(default_factory=dict)
    phone: str = ""
    id_number: str = ""
    birth_key: dt.date | None = None  # birth date from the cell, else from the ID number

    def bad(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))
        for field_name, field_column in FIELD_COLUMNS.items():
            if field_column == column:
                self.failed.add(field_name)


def _parse(number: int, raw: dict[str, Any]) -> _Parsed:
    texts = {column: cell_text(value) for column, value in raw.items()}
    row = _Parsed(number=number, texts=texts)
    row.name = texts[NAME]
    try:
        validate_person_name(row.name)
    except ValidationError as exc:
        row.bad(NAME, " ".join(exc.messages))
    row.gender = GENDER_VALUES.get(texts[GENDER])
    if row.gender is None:
        row.bad(GENDER, "性别不能为空。" if not texts[GENDER] else "性别只能填写“男”或“女”。")
    row.status = STATUS_VALUES.get(texts[STATUS])
    if row.status is None:
        row.bad(
            STATUS,
            "党员类别不能为空。" if not texts[STATUS] else "党员类别只能填写“正式党员”或“预备党员”。",
        )
    for column, field_name in DATE_COLUMNS.items():
        try:
            row.dates[field_name] = parse_date(raw[column])
        except ValueError as exc:
            row.bad(column, str(exc))
    row.phone = texts[PHONE]
    if "*" in row.phone:
        row.bad(PHONE, "手机号码是脱敏值（含*），不能导入：请填写完整号码，或留空（留空则不修改）。")
        row.phone = ""
    row.id_number = normalise_id_number(texts[ID_NUMBER])
    if isinstance(raw[ID_NUMBER], float):
        row.bad(ID_NUMBER, "身份证号必须以文本格式填写（数字格式会丢失末几位），请将该列设为文本后重新填写。")
        row.id_number = ""
    elif "*" in row.id_number:
        row.bad(
            ID_NUMBER,
            "身份证号是脱敏值（含*），不能导入：请使用显示完整身份证号的导出文件，或留空（留空则不修改）。",
        )
        row.id_number = ""
    row.birth_key = row.dates.get("birth_date")
    if row.birth_key is None and row.id_number and _valid_id_number(row.id_number):
        row.birth_key = id_number_birth_date(row.id_number)
    return row


def _run(
    table: Table,
    positions: dict[str, int],
    columns: tuple[str, ...],
    *,
    branch: Branch,
    by: Any,
    dry_run: bool,
) -> ImportReport:
    today = timezone.localdate()
    report = ImportReport(branch=branch, dry_run=dry_run, columns=columns)
    parsed = [
        _parse(number, {c: (row[i] if i < len(row) else None) for c, i in positions.items()})
        for number, row in table.numbered_rows()
    ]

    # Preloads: a fixed number of queries whatever the number of rows.
    units = {u.name: u for u in Unit.objects.filter(branch=branch).order_by()}
    existing = list(Member.objects.filter(branch=branch).select_related("unit").order_by("pk"))
    file_id_numbers = {p.id_number for p in parsed if p.id_number}
    matcher = _Matcher(
        existing=existing,
        foreign=_id_numbers_elsewhere(file_id_numbers - {m.id_number for m in existing}, branch),
        parsed=parsed,
    )
    new_units: dict[str, Unit] = {}
    for row in parsed:
        report.rows.append(_plan(row, branch=branch, matcher=matcher, units=units, new_units=new_units))
    del parsed, matcher, existing  # keep the peak memory of a large file down

    ctx = ImportContext(branch=branch, by=by, today=today, dry_run=dry_run, plans=report.rows)
    errors = [e for plan in report.rows for e in plan.errors]
    for extension in column_extensions():
        errors += extension.validate(ctx)
    order = {c: i for i, c in enumerate(("", *columns))}
    report.errors = sorted(errors, key=lambda e: (e.row, order.get(e.column, len(order))))
    report.new_units = list(new_units)
    report.counts = ctx.counts
    if report.errors or dry_run:
        return report

    _write(ctx, new_units=list(new_units.values()), by=by)
    return report


def _id_numbers_elsewhere(id_numbers: set[str], branch: Branch) -> set[str]:
    """ID numbers of the file that belong to members of other branches (chunked IN lookups)."""
    found: set[str] = set()
    ordered = sorted(id_numbers)
    for start in range(0, len(ordered), ID_LOOKUP_CHUNK):
        chunk = ordered[start : start + ID_LOOKUP_CHUNK]
        found.update(
            Member.objects.filter(id_number__in=chunk)
            .exclude(branch=branch)
            .order_by()
            .values_list("id_number", flat=True)
        )
    return found


class _Matcher:
    """Finds the existing member a row stands for (docs/import.md, 'How rows find members').

    1. By 身份证号 within the branch. An ID number of another branch's member is refused.
    2. With an ID number not yet known: a member of the branch with the same name and birth date
       and no ID number on record (the row then records the ID number).
    3. Without an ID number: the member of the branch with the same name and birth date; refused
       when that is ambiguous (several such members, or several such rows in the file).
    A member may be matched by one row only.
    """

    def __init__(self, *, existing: list[Member], foreign: set[str], parsed: list[_Parsed]):
        self.by_id_number = {m.id_number: m for m in existing if m.id_number}
        self.by_name_birth: dict[tuple[str, dt.date], list[Member]] = defaultdict(list)
        for member in existing:
            if member.birth_date is not None:
                self.by_name_birth[(member.name, member.birth_date)].append(member)
        self.foreign = foreign
        self.id_rows: dict[str, list[int]] = defaultdict(list)
        self.name_birth_rows: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
        for row in parsed:
            if row.id_number:
                self.id_rows[row.id_number].append(row.number)
            if row.name and row.birth_key is not None:
                self.name_birth_rows[(row.name, row.birth_key)].append(row.number)
        self.claimed: dict[int, int] = {}

    def match(self, row: _Parsed) -> Member | None:
        member = self._find(row)
        if member is not None:
            if member.pk in self.claimed:
                row.bad(ID_NUMBER, f"与第{self.claimed[member.pk]}行对应同一名党员。")
                return None
            self.claimed[member.pk] = row.number
        return member

    def _find(self, row: _Parsed) -> Member | None:
        if row.id_number:
            first = self.id_rows[row.id_number][0]
            if first != row.number:
                row.bad(ID_NUMBER, f"与第{first}行的身份证号重复。")
            if row.id_number in self.foreign:
                row.bad(
                    ID_NUMBER,
                    "该身份证号已登记在其他党支部的党员名下，不能导入到本支部（请先办理组织关系转接）。",
                )
                return None
            member = self.by_id_number.get(row.id_number)
            if member is None and row.name and row.birth_key is not None:
                candidates = [
                    m for m in self.by_name_birth.get((row.name, row.birth_key), []) if not m.id_number
                ]
                if len(candidates) == 1:
                    member = candidates[0]
            return member
        if not row.name or "birth_date" in row.failed:
            return None
        if row.birth_key is None:
            row.bad(BIRTH_DATE, "未填写身份证号时必须填写出生日期（用于识别党员，避免重复导入）。")
            return None
        key = (row.name, row.birth_key)
        others = [n for n in self.name_birth_rows[key] if n != row.number]
        if others:
            listed = "、".join(f"第{n}行" for n in others)
            row.bad(
                ID_NUMBER, f"与{listed}的姓名、出生日期相同，本行未填写身份证号，无法区分，请填写身份证号。"
            )
            return None
        candidates = self.by_name_birth.get(key, [])
        if len(candidates) > 1:
            row.bad(
                ID_NUMBER,
                f"本支部有{len(candidates)}名姓名、出生日期都相同的党员，无法确定是哪一名，请填写身份证号。",
            )
            return None
        return candidates[0] if candidates else None


def _plan(
    row: _Parsed, *, branch: Branch, matcher: _Matcher, units: dict[str, Unit], new_units: dict[str, Unit]
) -> RowPlan:
    member = matcher.match(row)
    is_new = member is None
    if member is None:
        member = Member(branch=branch, name="", gender="", status="")
    before = None if is_new else _snapshot(member)

    # The file is the truth for its columns; an empty cell clears the value, except the cells of
    # KEEP_WHEN_EMPTY (identity and personal data, masked in ordinary exports) — docs/import.md.
    if row.name and "name" not in row.failed:
        member.name = row.name
    if row.gender:
        member.gender = row.gender
    if row.status:
        member.status = row.status
    for field_name in DATE_COLUMNS.values():
        value = row.dates.get(field_name)
        if field_name not in row.failed and (value is not None or field_name not in KEEP_WHEN_EMPTY):
            setattr(member, field_name, value)
    if member.birth_date is None and row.birth_key is not None:
        member.birth_date = row.birth_key  # from the ID number
    if row.phone:
        member.phone = row.phone
    if row.id_number:
        member.id_number = row.id_number
    unit_name = row.texts[UNIT]
    if not unit_name:
        member.unit = None
    else:
        unit = units.get(unit_name) or new_units.get(unit_name)
        if unit is None:
            unit = Unit(branch=branch, name=unit_name)
            try:
                unit.clean_fields(exclude=["branch"])
            except ValidationError as exc:
                row.bad(UNIT, " ".join(exc.messages))
                unit = None
            else:
                new_units[unit_name] = unit
        if unit is not None:
            member.unit = unit

    # The member rules live in one place: the field validators and Member.clean().
    try:
        member.full_clean(
            exclude=["branch", "unit", "user", *row.failed], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        for field_name, messages in exc.message_dict.items():
            if field_name in row.failed:
                continue
            column = "" if field_name == NON_FIELD_ERRORS else FIELD_COLUMNS.get(field_name, "")
            row.errors.extend(RowError(row.number, column, message) for message in messages)

    plan = RowPlan(row=row.number, values=row.texts, member=member, is_new=is_new, errors=row.errors)
    if before is not None:
        after = _snapshot(member)
        plan.changed_fields = [f for f in TRACKED_FIELDS if before[f] != after[f]]
    return plan


def _write(ctx: ImportContext, *, new_units: list[Unit], by: Any) -> None:
    services.units_bulk_create(units=new_units, by=by, reason=IMPORT_REASON)
    creates: list[Member] = []
    updates: list[Member] = []
    fields: set[str] = set()
    for plan in ctx.plans:
        member = plan.member
        if member.unit is not None and member.unit_id is None:
            member.unit = member.unit  # the unit was just created: take its id
        if plan.is_new:
            creates.append(member)
        elif plan.changed_fields:
            updates.append(member)
            fields.update(plan.changed_fields)
    services.members_bulk_write(
        creates=creates, updates=updates, update_fields=sorted(fields), by=by, reason=IMPORT_REASON
    )
    for extension in column_extensions():
        extension.apply(ctx)


# --- Export rows (members.resources writes the files) ---------------------------------------------
def member_export_cells(member: Member, *, reveal: bool) -> list[str]:
    """The member columns of one member, as the import reads them back."""

    def day(value: dt.date | None) -> str:
        return value.isoformat() if value else ""

    return [
        member.name,
        GENDER_LABELS.get(member.gender, ""),
        day(member.birth_date),
        STATUS_LABELS.get(member.status, ""),
        day(member.joined_on),
        day(member.full_member_on),
        member.unit.name if member.unit_id else "",
        (member.phone if reveal else member.masked_phone) or "",
        (member.id_number if reveal else member.masked_id_number) or "",
    ]
