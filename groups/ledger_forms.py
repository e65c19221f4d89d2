"""Forms of the ledger pages: dues (R-31) and thought reports (R-30). They read and type the input.

A form checks what a field can know by itself (a number is a number, a month is a month, a member is
one of those offered). The dues screen also asks the rule of ``members.rules.dues_problems`` row by
row so that a bad amount is marked on the member's card at once (the rule is declared once and serves
the form, the model and the import alike); the service ``groups.services.dues_record_month`` checks
everything again in its transaction (paying twice, the group's roster of the month) and refuses the
whole month with Chinese messages when anything is wrong: nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.forms import MemberField
from members import rules
from members.dues_importing import parse_month
from members.enums import ThoughtReportKind
from members.forms import clean_spreadsheet_upload
from members.models import Member
from members.services import money
from partygroup.months import month_start

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH_WIDGET = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"})
AMOUNT_ATTRS = {"inputmode": "decimal", "autocomplete": "off", "class": "form-control form-control-lg"}


def month_param(value: str | None, default: dt.date) -> tuple[dt.date, str]:
    """The month of ``?month=2025-03`` (any form ``members.dues_importing.parse_month`` reads), else
    ``default``; with the Chinese reason when the value was given but could not be read."""
    if not value:
        return month_start(default), ""
    try:
        month = parse_month(value.strip())
    except ValueError as exc:
        return month_start(default), str(exc)
    if month is None or not 2000 <= month.year <= 2100:
        return month_start(default), str(_("月份不在有效范围内。"))
    return month, ""


class MonthField(forms.CharField):
    """A month as ``YYYY-MM`` (``<input type="month">``), cleaned to the month's first day."""

    widget = MONTH_WIDGET

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            month = parse_month(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if month is None or not 2000 <= month.year <= 2100:
            raise ValidationError(_("月份不在有效范围内。"))
        return month

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return f"{value:%Y-%m}"
        return value


# --- the leader's monthly collection ------------------------------------------------------


class DuesRowForm(forms.Form):
    """One member's card of the month: filled when 实交金额 is given, else left out (not recorded).

    ``members`` (id → Member: the group's roster of the month) and ``month`` come from the formset.
    """

    member = forms.IntegerField(widget=forms.HiddenInput)
    amount_due = forms.CharField(
        label=_("应交金额（元）"), required=False, max_length=20, widget=forms.TextInput(attrs=AMOUNT_ATTRS)
    )
    amount_paid = forms.CharField(
        label=_("实交金额（元）"), required=False, max_length=20, widget=forms.TextInput(attrs=AMOUNT_ATTRS)
    )
    paid_on = forms.DateField(label=_("交纳日期"), required=False, widget=DATE_WIDGET)
    is_lump_sum = forms.BooleanField(label=_("一次性交纳大额党费"), required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, members: Mapping[int, Member], month: dt.date, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = members
        self.month = month
        self.today = today
        self.fields["paid_on"].widget.attrs["class"] = "form-control form-control-lg"
        self.fields["note"].widget.attrs["class"] = "form-control"

    def posted_member_id(self) -> int | None:
        """The member this form is about: the initial one, or the posted one when bound."""
        raw = self["member"].value()
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None

    @property
    def is_filled(self) -> bool:
        return bool(getattr(self, "cleaned_data", {}).get("amount_paid_value") is not None)

    def clean_member(self) -> int:
        member_id = self.cleaned_data["member"]
        if member_id not in self.members:
            raise ValidationError(_("该党员不在本党小组本月的名单中。"))
        return member_id

    def clean(self):
        data = super().clean()
        member = self.members.get(data.get("member"))
        paid_text = (data.get("amount_paid") or "").strip()
        due_text = (data.get("amount_due") or "").strip()
        data["amount_paid_value"] = None
        if not paid_text:
            if data.get("is_lump_sum") or (data.get("note") or "").strip():
                self.add_error("amount_paid", _("请填写实交金额；未交纳的党员不必登记（R-31）。"))
            return data
        amounts: dict[str, Decimal] = {}
        for name, text, label in (
            ("amount_due", due_text, _("应交金额")),
            ("amount_paid", paid_text, _("实交金额")),
        ):
            if not text:
                self.add_error(name, _("请填写%(label)s。") % {"label": label})
                continue
            try:
                amounts[name] = money(text, field=name, label=str(label))
            except ValidationError as exc:
                self.add_error(name, exc.message_dict[name])
        if data.get("paid_on") is None and "paid_on" not in self.errors:
            self.add_error("paid_on", _("请填写交纳日期。"))
        if member is None or len(amounts) < 2 or self.errors:
            return data
        # the rule the model and the import apply, asked here to mark the member's card.
        problems = rules.dues_problems(
            month=self.month,
            amount_due=amounts["amount_due"],
            amount_paid=amounts["amount_paid"],
            paid_on=data["paid_on"],
            is_lump_sum=bool(data.get("is_lump_sum")),
            joined_on=member.joined_on,
            left_on=member.left_on,
            today=self.today,
        )
        for name, messages in problems.items():
            self.add_error(name if name in self.fields else None, messages)
        if not problems:
            data["amount_due_value"] = amounts["amount_due"]
            data["amount_paid_value"] = amounts["amount_paid"]
        return data


class BaseDuesMonthFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen: set[int] = set()
        for form in self.forms:
            member_id = form.cleaned_data.get("member")
            if member_id in seen:
                raise ValidationError(_("同一名党员在本次登记中出现了两次。"))
            seen.add(member_id)
        if not any(form.is_filled for form in self.forms):
            raise ValidationError(_("没有需要登记的党费：请至少填写一名党员的实交金额。"))


def dues_month_formset(*, members: Mapping[int, Member], month: dt.date, data=None, initial=None):
    """The month's cards as a formset: at most one form per member of the roster (a tampered
    TOTAL_FORMS cannot make more)."""
    size = max(len(members), 1)
    formset_class = forms.formset_factory(
        DuesRowForm,
        formset=BaseDuesMonthFormSet,
        extra=0,
        max_num=size,
        absolute_max=size,
        validate_max=True,
    )
    return formset_class(
        data=data,
        initial=initial,
        prefix="dues",
        form_kwargs={"members": members, "month": month, "today": timezone.localdate()},
    )


# --- the import of a month's payments -----------------------------------------------------


class DuesImportForm(forms.Form):
    month = MonthField(label=_("导入月份"), help_text=_("文件中每一行都应是该月的党费。"))
    upload = forms.FileField(
        label=_("党费文件（.xlsx 或 .csv）"),
        help_text=_(
            "表头：姓名、身份证号后四位（或身份证号）、月份、应交金额、实交金额、交纳日期、备注（可选）。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_upload(self):
        return clean_spreadsheet_upload(self.cleaned_data["upload"])


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=2000)


# --- a received thought report ------------------------------------------------------------


class ThoughtReportForm(forms.Form):
    member = MemberField(label=_("党员"), queryset=Member.objects.none())
    received_on = forms.DateField(label=_("汇报日期"), widget=DATE_WIDGET)
    kind = forms.ChoiceField(
        label=_("汇报方式"),
        choices=ThoughtReportKind.choices,
        widget=forms.RadioSelect,
        help_text=_("R-30：预备党员每季度应有一次书面汇报。"),
    )
    period_start = MonthField(
        label=_("汇报期间（起）"), required=False, help_text=_("留空为汇报日期所在月份。")
    )
    period_end = MonthField(label=_("汇报期间（止）"), required=False, help_text=_("留空与起始月份相同。"))
    summary = forms.CharField(
        label=_("主要内容"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": _("请填写汇报的主要内容。")},
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
