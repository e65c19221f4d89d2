"""Forms of the members admin: import (with the branch to import into) and export (reveal or not)."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm

from members.importing import ImportFileError, check_upload_size
from members.models import Branch

ALLOWED_SUFFIXES = (".xlsx", ".csv")


def clean_spreadsheet_upload(upload):
    """An uploaded file to import (the members list, a month's dues): only .xlsx or .csv, and not
    larger than the import limit (``check_upload_size``); else a ``ValidationError`` in Chinese."""
    if Path(upload.name or "").suffix.lower() not in ALLOWED_SUFFIXES:
        raise ValidationError(_("只能导入 .xlsx 或 .csv 文件。"))
    try:
        check_upload_size(upload.size)
    except ImportFileError as exc:
        raise ValidationError(exc.message) from exc
    return upload


class MemberImportForm(ImportForm):
    branch = forms.ModelChoiceField(
        label=_("导入到党支部"),
        queryset=Branch.objects.none(),
        help_text=_("所在单位、所在党小组按该支部的名称识别；缺少的单位会新建。"),
    )
    field_order = ["resource", "branch", "import_file", "format"]

    def __init__(self, formats, resources, *, branches=None, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["branch"].queryset = branches if branches is not None else Branch.objects.none()
        self.fields["import_file"].label = _("党员名单文件（.xlsx 或 .csv）")

    def clean_import_file(self):
        return clean_spreadsheet_upload(self.cleaned_data["import_file"])


class MemberConfirmImportForm(ConfirmImportForm):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches if branches is not None else Branch.objects.none()


class MemberExportForm(ExportForm):
    reveal = forms.BooleanField(
        label=_("导出完整身份证号和手机号码"),
        required=False,
        help_text=_("仅对您有权查看的党员生效，每次导出都会记录在“个人信息查看记录”中；其余党员仍为脱敏值。"),
    )
