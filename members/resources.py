"""Member lists as spreadsheets: the export function and django-import-export's glue for the admin.

- :func:`export_members` writes .xlsx / .csv with exactly the import's columns (so an export →
  import round trip reproduces the data). ID numbers and phone numbers are MASKED unless the
  caller asks for full values (``reveal=True``) AND ``can_reveal_personal_data(user, member)``;
  every member shown in full is logged in ``PersonalDataReveal`` (context “导出”). Cells are
  neutralised by ``partygroup.exports`` (formula injection).
- ``MemberXLSX`` / ``MemberCSV`` are django-import-export formats that read uploads with the
  import's own reader (streaming, size and row limits, GBK CSV).
- ``MemberResource`` hands the admin's import (preview and confirm) to
  ``members.importing.import_member_table`` — the same validation as the command — and turns the
  report into django-import-export's ``Result`` so the standard preview shows per-row errors.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.results import Result, RowResult

from members.importing import (
    ID_NUMBER,
    PHONE,
    ImportFileError,
    ImportReport,
    Table,
    column_extensions,
    column_positions,
    import_columns,
    import_member_table,
    member_export_cells,
    read_table,
)
from members.models import Member, mask_id_number, mask_phone
from members.selectors import can_reveal_personal_data
from members.services import personal_data_reveal_log
from partygroup.exports import write_csv, write_xlsx

EXPORT_CONTEXT = "导出"
EXPORT_FORMATS = ("xlsx", "csv")
SHEET_TITLE = "党员名单"
COLUMN_WIDTHS = (12, 6, 12, 10, 12, 12, 20, 15, 21, 16)
EXPORT_CHUNK = 2000


# --- Export --------------------------------------------------------------------------------------
def member_export_rows(
    queryset: QuerySet[Member], user, *, reveal: bool = False
) -> tuple[list[str], list[list[str]], list[Member]]:
    """Header, rows and the members whose full ID number/phone the rows show."""
    members = queryset.select_related("unit", "branch__organisation")
    extensions = column_extensions()
    extra = [ext.export_values(queryset.order_by().values("pk")) for ext in extensions]
    rows: list[list[str]] = []
    revealed: list[Member] = []
    for member in members.iterator(chunk_size=EXPORT_CHUNK):
        show = reveal and can_reveal_personal_data(user, member)
        if show and (member.id_number or member.phone):
            revealed.append(member)
        row = member_export_cells(member, reveal=show)
        for ext, values in zip(extensions, extra, strict=True):
            row.extend(values.get(member.pk, ("",) * len(ext.columns)))
        rows.append(row)
    return list(import_columns()), rows, revealed


def export_members(
    queryset: QuerySet[Member],
    user,
    fmt: str = "xlsx",
    *,
    reveal: bool = False,
    ip_address: str | None = None,
) -> bytes:
    """The members of ``queryset`` as an .xlsx or .csv file (bytes) with the import's columns.

    The caller scopes ``queryset`` to what ``user`` may see (a selector). With ``reveal=True``
    members the user may reveal (``can_reveal_personal_data``) are written in full and logged;
    the others stay masked.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"不支持的导出格式：{fmt}")
    with transaction.atomic():
        headers, rows, revealed = member_export_rows(queryset, user, reveal=reveal)
        if revealed:
            personal_data_reveal_log(
                user=user, members=revealed, context=EXPORT_CONTEXT, ip_address=ip_address
            )
    if fmt == "csv":
        return write_csv(headers, rows)
    return write_xlsx(headers, rows, sheet_title=SHEET_TITLE, column_widths=COLUMN_WIDTHS)


# --- django-import-export formats (read with the import's reader) --------------------------------
def _table_to_dataset(table: Table) -> tablib.Dataset:
    width = len(table.headers)
    dataset = tablib.Dataset(headers=table.headers)
    for row in table.rows:
        dataset.append((tuple(row) + (None,) * width)[:width])
    return dataset


class _MemberFormatMixin:
    file_format = ""

    def is_binary(self):
        return True  # the reader decodes CSV itself (UTF-8 or GBK)

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        data = in_stream.encode("utf-8") if isinstance(in_stream, str) else in_stream
        table = read_table(io.BytesIO(data), fmt=self.file_format)
        column_positions(table.headers)  # a wrong header is a form error, before any preview
        return _table_to_dataset(table)


class MemberXLSX(_MemberFormatMixin, base_formats.XLSX):
    file_format = "xlsx"


class MemberCSV(_MemberFormatMixin, base_formats.CSV):
    file_format = "csv"

    def get_content_type(self):
        return "text/csv; charset=utf-8"


# --- django-import-export resource (admin preview and confirm) -----------------------------------
class MemberImportResult(Result):
    """``Result`` with the import's own report (summary, new units) for the preview template."""

    report: ImportReport | None = None
    file_error: str = ""


def _display_values(values: dict[str, str]) -> dict[str, str]:
    """The row as the preview shows it: ID number and phone masked like everywhere else."""
    shown = dict(values)
    if "*" not in shown.get(ID_NUMBER, ""):
        shown[ID_NUMBER] = mask_id_number(shown.get(ID_NUMBER))
    if "*" not in shown.get(PHONE, ""):
        shown[PHONE] = mask_phone(shown.get(PHONE))
    return shown


def report_to_result(report: ImportReport, result: MemberImportResult) -> MemberImportResult:
    result.report = report
    result.diff_headers = list(report.columns)
    result.total_rows = report.total_rows
    plans = {plan.row: plan for plan in report.rows}
    if report.errors:
        by_row: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for error in report.errors:
            by_row[error.row][error.column or NON_FIELD_ERRORS].append(error.message)
        for number, messages in by_row.items():
            plan = plans.get(number)
            values = _display_values(plan.values) if plan else {}
            result.append_invalid_row(number, values, ValidationError(dict(messages)))
            result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
        return result
    import_types = {
        "new": RowResult.IMPORT_TYPE_NEW,
        "update": RowResult.IMPORT_TYPE_UPDATE,
        "unchanged": RowResult.IMPORT_TYPE_SKIP,
    }
    for plan in report.rows:
        row_result = RowResult()
        row_result.import_type = import_types[plan.action]
        shown = _display_values(plan.values)
        row_result.diff = [shown.get(column, "") for column in report.columns]
        row_result.row_values = shown
        if plan.member.pk is not None:
            row_result.instance = plan.member
            row_result.add_instance_info(plan.member)
        result.append_row_result(row_result)
        result.increment_row_result_total(row_result)
    return result


class MemberResource(resources.ModelResource):
    """The member list in the admin. ``import_data`` runs ``members.importing`` (not the
    per-row machinery of django-import-export) so admin and command share one validation and
    one bulk write path."""

    class Meta:
        model = Member
        name = _("党员名单")
        fields = ()

    def get_user_visible_fields(self):
        return [Field(column_name=column) for column in import_columns()]

    def get_result_class(self):
        return MemberImportResult

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs: Any,
    ):
        result = MemberImportResult()
        result.diff_headers = list(import_columns())
        branch = kwargs.get("branch")
        if branch is None:
            raise ValueError("MemberResource.import_data needs branch=…")
        table = Table(headers=[str(h or "") for h in (dataset.headers or [])], rows=list(dataset))
        try:
            report = import_member_table(table=table, branch=branch, by=kwargs.get("user"), dry_run=dry_run)
        except ImportFileError as exc:
            result.file_error = exc.message
            result.append_invalid_row(1, {}, ValidationError(exc.message))
            return result
        return report_to_result(report, result)

    def export(self, queryset=None, **kwargs):
        """A masked ``tablib.Dataset`` of the member list (the admin writes files with
        :func:`export_members`, which can also reveal and log)."""
        queryset = self.get_queryset() if queryset is None else queryset
        headers, rows, _revealed = member_export_rows(queryset, None, reveal=False)
        return tablib.Dataset(*rows, headers=headers)
