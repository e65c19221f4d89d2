"""Import of one month's dues payments (党费, R-31) from .xlsx or .csv, and the file to fill in.

The file is read by the member import's reader (``members.importing.read_table``: streaming, with
the size, row and zip-expansion limits of the settings; cells un-neutralised, GBK CSV) and written
by ``partygroup.exports.write_xlsx`` (formula neutralisation). The header (row 1) holds exactly:

    姓名, 身份证号 (or 身份证号后四位), 月份, 应交金额, 实交金额, 交纳日期 [, 备注]

Every row is one member's payment for the SAME month. The whole file is checked first; with any bad
row nothing is written and every bad cell is listed (row as in the spreadsheet, column, Chinese
reason). A good file is written in one transaction through ``members.services.dues_record_many``
(the same checks as a payment entered by hand: paying twice, negative or absurd amounts, months
before joining or after leaving …). ``dry_run=True`` checks and reports without writing.

``members`` knows nothing of groups: a group leader's import passes ``member_ids`` (the group's
roster in that month, from ``groups.services.dues_import_for_group``) and a ``scope_label``.
See docs/import.md (“党费导入”).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from members import services
from members.importing import (
    ImportFileError,
    RowError,
    Table,
    cell_text,
    column_positions,
    parse_date,
    read_table,
)
from members.models import Branch, DuesPayment, Member, mask_id_number
from members.validators import normalise_id_number
from partygroup.exports import write_xlsx
from partygroup.months import add_months, month_label, month_start

NAME = "姓名"
ID_NUMBER = "身份证号"
ID_LAST4 = "身份证号后四位"
MONTH = "月份"
AMOUNT_DUE = "应交金额"
AMOUNT_PAID = "实交金额"
PAID_ON = "交纳日期"
NOTE = "备注"

COMMON_COLUMNS = (MONTH, AMOUNT_DUE, AMOUNT_PAID, PAID_ON)
FIELD_COLUMNS = {
    "month": MONTH,
    "amount_due": AMOUNT_DUE,
    "amount_paid": AMOUNT_PAID,
    "paid_on": PAID_ON,
    "note": NOTE,
}
IMPORT_REASON = "导入党费"
TEMPLATE_SHEET = "党费收缴"
TEMPLATE_WIDTHS = (12, 16, 10, 12, 12, 12, 20)

_MONTH_RE = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?$")
_LAST4_RE = re.compile(r"^\d{3}[\dX]$")
MONTH_FORMAT_MESSAGE = "月份格式不正确，应为YYYY-MM（也可为YYYY年M月或该月的任一日期）。"


# --- The report ------------------------------------------------------------------------------------
@dataclass
class DuesRow:
    """One row of the file as understood: the member it names and the payment it records."""

    row: int
    name: str
    member: Member | None = None
    month: dt.date | None = None
    amount_due: Decimal | None = None
    amount_paid: Decimal | None = None
    paid_on: dt.date | None = None
    note: str = ""
    errors: list[RowError] = field(default_factory=list)

    def bad(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row, column, message))


@dataclass
class DuesImportReport:
    branch: Branch
    dry_run: bool
    columns: tuple[str, ...]
    month: dt.date | None = None
    rows: list[DuesRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    payments: list[DuesPayment] = field(default_factory=list)

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
    def total_due(self) -> Decimal:
        return sum((r.amount_due or Decimal(0) for r in self.rows), Decimal("0.00"))

    @property
    def total_paid(self) -> Decimal:
        return sum((r.amount_paid or Decimal(0) for r in self.rows), Decimal("0.00"))

    def error_lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def summary(self) -> str:
        if self.errors:
            rows = len({e.row for e in self.errors})
            return f"共{self.total_rows}行数据，其中{rows}行有错误（{len(self.errors)}处），未登记任何党费。"
        month = month_label(self.month) if self.month else ""
        prefix = "预检通过（未写入）：将" if self.dry_run else "导入完成：已"
        return (
            f"{prefix}登记{month}党费{self.total_rows}笔，应交合计{self.total_due:,.2f}元，"
            f"实交合计{self.total_paid:,.2f}元。"
        )


# --- Header and cells ------------------------------------------------------------------------------
def dues_columns(headers: Sequence[str]) -> tuple[str, ...]:
    """The columns the header must hold: the ID column the file uses, and 备注 when present."""
    present = set(headers)
    if ID_NUMBER in present and ID_LAST4 in present:
        raise ImportFileError(f"表头（第1行）不正确：“{ID_NUMBER}”和“{ID_LAST4}”只能有一列。")
    id_column = ID_LAST4 if ID_LAST4 in present else ID_NUMBER
    columns = (NAME, id_column, *COMMON_COLUMNS)
    return (*columns, NOTE) if NOTE in present else columns


def parse_month(value: Any) -> dt.date | None:
    """Excel date cells, 2025-03, 2025/3, 2025年3月, or any date of the month; ``ValueError`` otherwise."""
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return month_start(value.date() if isinstance(value, dt.datetime) else value)
    text = cell_text(value)
    if not text:
        return None
    match = _MONTH_RE.match(text)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), 1)
        except ValueError as exc:
            raise ValueError(f"月份“{text}”不存在，请核对。") from exc
    try:
        day = parse_date(text)
    except ValueError:
        raise ValueError(MONTH_FORMAT_MESSAGE) from None
    return month_start(day) if day else None


def _amount(row: DuesRow, raw: Any, column: str) -> Decimal | None:
    text = cell_text(raw)
    if not text:
        row.bad(column, f"{column}不能为空。")
        return None
    try:
        return services.money(
            raw if isinstance(raw, (int, float, Decimal)) else text, field="x", label=column
        )
    except ValidationError as exc:
        row.bad(column, " ".join(exc.messages))
        return None


# --- The pipeline ----------------------------------------------------------------------------------
def import_dues_file(
    *,
    path_or_file: Any,
    branch: Branch,
    by: Any,
    dry_run: bool,
    month: dt.date | None = None,
    member_ids: Iterable[int] | None = None,
    scope_label: str = "",
    filename: str | None = None,
) -> DuesImportReport:
    """Read ``path_or_file`` (.xlsx or .csv) and record its payments for members of ``branch``.

    ``month``: the month being imported (every row must be for it); default the first row's month.
    ``member_ids``: only these members may appear (e.g. a group's roster), ``scope_label`` names them
    in the refusal. File-level refusals (size, rows, format, header) raise ``ImportFileError``.
    """
    return import_dues_table(
        table=read_table(path_or_file, filename=filename),
        branch=branch,
        by=by,
        dry_run=dry_run,
        month=month,
        member_ids=member_ids,
        scope_label=scope_label,
    )


def import_dues_table(
    *,
    table: Table,
    branch: Branch,
    by: Any,
    dry_run: bool,
    month: dt.date | None = None,
    member_ids: Iterable[int] | None = None,
    scope_label: str = "",
) -> DuesImportReport:
    columns = dues_columns(table.headers)
    positions = column_positions(table.headers, columns)
    allowed = None if member_ids is None else set(member_ids)
    month = month_start(month) if month else None
    if dry_run:
        return _run(
            table,
            positions,
            columns,
            branch=branch,
            by=by,
            dry_run=True,
            month=month,
            allowed=allowed,
            scope_label=scope_label,
        )
    with transaction.atomic():
        # Serialise dues imports into one branch (row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE).
        Branch.objects.select_for_update().filter(pk=branch.pk).order_by("pk").values_list("pk").first()
        return _run(
            table,
            positions,
            columns,
            branch=branch,
            by=by,
            dry_run=False,
            month=month,
            allowed=allowed,
            scope_label=scope_label,
        )


class _Members:
    """The branch's members, found by full ID number or by name + the ID number's last four."""

    def __init__(self, branch: Branch):
        members = list(Member.objects.filter(branch=branch).order_by("pk"))
        self.by_id = {m.id_number: m for m in members if m.id_number}
        self.by_name: dict[str, list[Member]] = defaultdict(list)
        for member in members:
            self.by_name[member.name].append(member)

    def find(self, row: DuesRow, id_column: str, id_text: str) -> Member | None:
        if not row.name:
            row.bad(NAME, "姓名不能为空。")
            return None
        if id_column == ID_NUMBER:
            id_number = normalise_id_number(id_text)
            if not id_number:
                row.bad(ID_NUMBER, "身份证号不能为空（用于核对党员）。")
                return None
            if "*" in id_number:
                row.bad(ID_NUMBER, "身份证号是脱敏值（含*），请填写完整身份证号，或改用“身份证号后四位”列。")
                return None
            member = self.by_id.get(id_number)
            if member is None:
                row.bad(ID_NUMBER, f"本支部没有身份证号为{mask_id_number(id_number)}的党员。")
                return None
            if member.name != row.name:
                row.bad(NAME, f"姓名与身份证号不符（该身份证号登记的党员是“{member.name}”）。")
                return None
            return member
        last4 = normalise_id_number(id_text)
        if not _LAST4_RE.match(last4):
            row.bad(
                ID_LAST4,
                "身份证号后四位应为4位（数字，最后一位可为X）；请将该列设为文本格式，以免丢失开头的0。",
            )
            return None
        candidates = [m for m in self.by_name.get(row.name, []) if (m.id_number or "").endswith(last4)]
        if not candidates:
            row.bad(ID_LAST4, f"本支部没有姓名为“{row.name}”、身份证号后四位为{last4}的党员。")
            return None
        if len(candidates) > 1:
            row.bad(
                ID_LAST4,
                f"本支部有{len(candidates)}名“{row.name}”的身份证号后四位都是{last4}，请改填完整身份证号。",
            )
            return None
        return candidates[0]


def _run(
    table: Table,
    positions: dict[str, int],
    columns: tuple[str, ...],
    *,
    branch: Branch,
    by: Any,
    dry_run: bool,
    month: dt.date | None,
    allowed: set[int] | None,
    scope_label: str,
) -> DuesImportReport:
    report = DuesImportReport(branch=branch, dry_run=dry_run, columns=columns, month=month)
    id_column = columns[1]
    members = _Members(branch)
    first_row_of: dict[int, int] = {}
    for number, raw_row in table.numbered_rows():
        raw = {c: (raw_row[i] if i < len(raw_row) else None) for c, i in positions.items()}
        row = DuesRow(row=number, name=cell_text(raw[NAME]), note=cell_text(raw.get(NOTE)))
        report.rows.append(row)
        if isinstance(raw[id_column], float) and id_column == ID_NUMBER:
            row.bad(
                ID_NUMBER, "身份证号必须以文本格式填写（数字格式会丢失末几位），请将该列设为文本后重新填写。"
            )
        else:
            row.member = members.find(row, id_column, cell_text(raw[id_column]))
        if row.member is not None:
            if allowed is not None and row.member.pk not in allowed:
                row.bad(NAME, f"“{row.member.name}”不是{scope_label or '本次导入范围内'}的党员。")
            elif row.member.pk in first_row_of:
                row.bad(NAME, f"与第{first_row_of[row.member.pk]}行是同一名党员，同一月份只能交纳一次。")
            else:
                first_row_of[row.member.pk] = number
        try:
            row.month = parse_month(raw[MONTH])
        except ValueError as exc:
            row.bad(MONTH, str(exc))
        else:
            if row.month is None:
                row.bad(MONTH, "月份不能为空。")
            elif report.month is None:
                report.month = row.month
            elif row.month != report.month:
                what = "本次导入的是" if month else "一个文件只能导入同一个月份的党费，本文件为"
                row.bad(MONTH, f"{what}{month_label(report.month)}的党费，本行为{month_label(row.month)}。")
        row.amount_due = _amount(row, raw[AMOUNT_DUE], AMOUNT_DUE)
        row.amount_paid = _amount(row, raw[AMOUNT_PAID], AMOUNT_PAID)
        try:
            row.paid_on = parse_date(raw[PAID_ON])
        except ValueError as exc:
            row.bad(PAID_ON, str(exc))
        else:
            if row.paid_on is None:
                row.bad(PAID_ON, "交纳日期不能为空。")

    _check_payments(report)
    order = {c: i for i, c in enumerate(("", *columns))}
    report.errors = sorted(
        (e for r in report.rows for e in r.errors), key=lambda e: (e.row, order.get(e.column, len(order)))
    )
    if report.errors or dry_run:
        return report
    try:
        report.payments = services.dues_record_many(
            month=report.month,
            entries=[
                services.DuesEntry(
                    member=r.member,
                    amount_due=r.amount_due,
                    amount_paid=r.amount_paid,
                    paid_on=r.paid_on,
                    note=r.note,
                )
                for r in report.rows
            ],
            by=by,
            reason=f"{IMPORT_REASON}（{month_label(report.month)}）",
        )
    except ValidationError as exc:  # written by someone else meanwhile: nothing was written
        raise ImportFileError(
            "导入时党费记录被其他操作同时修改，未登记任何党费，请重新导入：" + "；".join(exc.messages)
        ) from exc
    return report


def _check_payments(report: DuesImportReport) -> None:
    """The ledger's own checks (``DuesPayment.clean``: members.rules) for every row whose cells could
    be read, and paying twice for the rows of the file's month (one query)."""
    complete = [
        r
        for r in report.rows
        if r.member is not None and None not in (r.month, r.amount_due, r.amount_paid, r.paid_on)
    ]
    member_ids = [r.member.pk for r in complete if r.month == report.month]
    existing = {
        p.member_id: p for p in DuesPayment.objects.filter(member_id__in=member_ids, month=report.month)
    }
    for row in complete:
        paid = existing.get(row.member.pk) if row.month == report.month else None
        if paid is not None:
            row.bad(
                MONTH,
                f"“{row.member.name}”{month_label(paid.month)}的党费已于{paid.paid_on:%Y-%m-%d}交纳，"
                "不能重复交纳（R-31）。",
            )
            continue
        payment = DuesPayment(
            member=row.member,
            month=row.month,
            amount_due=row.amount_due,
            amount_paid=row.amount_paid,
            paid_on=row.paid_on,
            note=row.note,
        )
        try:
            payment.full_clean(
                exclude=["member", "collected_by"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = "" if name == NON_FIELD_ERRORS else FIELD_COLUMNS.get(name, "")
                for message in messages:
                    row.bad(column, message)


# --- The file to fill in ---------------------------------------------------------------------------
def latest_amounts_due(member_ids: Iterable[int], month: dt.date) -> dict[int, Decimal]:
    """member id → the amount due of the member's latest recorded month in the 12 months before
    ``month`` (one query): what the collection sheet and the leader's monthly screen prefill."""
    month = month_start(month)
    latest_due: dict[int, Decimal] = {}
    for member_id, amount_due in (
        DuesPayment.objects.filter(
            member_id__in=sorted(set(member_ids)), month__lt=month, month__gte=add_months(month, -12)
        )
        .order_by("member_id", "month")
        .values_list("member_id", "amount_due")
    ):
        latest_due[member_id] = amount_due
    return latest_due


def dues_template_xlsx(members: Sequence[Member], month: dt.date) -> bytes:
    """The month's collection sheet: one row per member (姓名, 身份证号后四位), the month, and the
    amount due taken from the member's latest recorded month; 实交金额 and 交纳日期 are left to fill.
    Personal data: only the ID number's last four characters (as shown in every masked list)."""
    month = month_start(month)
    latest_due = latest_amounts_due([m.pk for m in members], month)
    rows = [
        [
            m.name,
            (m.id_number or "")[-4:],
            f"{month:%Y-%m}",
            latest_due.get(m.pk, ""),
            "",
            "",
            "",
        ]
        for m in members
    ]
    return write_xlsx(
        [NAME, ID_LAST4, MONTH, AMOUNT_DUE, AMOUNT_PAID, PAID_ON, NOTE],
        rows,
        sheet_title=TEMPLATE_SHEET,
        column_widths=TEMPLATE_WIDTHS,
    )
