"""Forms of the member registry pages (党员名册): the list's filters, member data, leaving, export.

The forms read and type the user's input; the rules are the model's (``Member.clean`` and the
validators, messages in Chinese) and the services' (``members.services.member_save``,
``groups.services.member_add`` / ``member_leave``).

Personal data: the member form never carries a stored ID number or phone number to the browser.
Both fields start with the MASKED value; a value left as shown keeps what is stored, a new value
replaces it (validated in full), an emptied field clears it.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.models import GroupMembership, PartyGroup
from members.enums import MemberState, MemberStatus
from members.models import Member, Unit, mask_id_number, mask_phone
from members.resources import EXPORT_FORMATS
from members.validators import normalise_id_number, normalise_phone

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

NO_GROUP = "none"
STATE_ALL = "all"

# Sort keys offered by the list (``-`` = descending) → ORDER BY; ties broken by name and id.
SORTS = {
    "name": (F("name").asc(),),
    "-name": (F("name").desc(),),
    "joined_on": (F("joined_on").asc(nulls_last=True),),
    "-joined_on": (F("joined_on").desc(nulls_last=True),),
    "status": (F("status").asc(),),
    "unit": (F("unit__name").asc(nulls_last=True),),
    "group": (F("current_group_name").asc(nulls_last=True),),
}
SORT_LABELS = {
    "name": _("姓名"),
    "-name": _("姓名（倒序）"),
    "joined_on": _("入党日期（早→晚）"),
    "-joined_on": _("入党日期（晚→早）"),
    "status": _("党员类别"),
    "unit": _("所在单位"),
    "group": _("所在党小组"),
}

_ID_TAIL = re.compile(r"^\d{3}[\dX]$")
_PHONE_TAIL = re.compile(r"^\d{4}$")
_ID_FULL = re.compile(r"^\d{17}[\dX]$")
_PHONE_FULL = re.compile(r"^(\+?86)?1\d{10}$")


ALL = _("全部")


def _blank(choices):
    return [("", ALL), *choices]


def with_current_group(queryset: QuerySet[Member], on=None) -> QuerySet[Member]:
    """Annotate each member's current group (``current_group_id`` / ``current_group_name``) in the
    same query (R-09: at most one current membership)."""
    current = GroupMembership.objects.current(on or timezone.localdate()).filter(member=OuterRef("pk"))
    return queryset.annotate(
        current_group_id=Subquery(current.values("group_id")[:1]),
        current_group_name=Subquery(current.values("group__name")[:1]),
    )


class RegistryFilterForm(forms.Form):
    """Search, filters and sort of the registry list (GET). Invalid values are ignored, never a 500."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("姓名、单位、身份证号或手机号后4位")}),
    )
    status = forms.ChoiceField(label=_("党员类别"), choices=_blank(MemberStatus.choices), required=False)
    state = forms.ChoiceField(
        label=_("在册状态"),
        choices=[
            (MemberState.ACTIVE, _("在册")),
            (MemberState.LEFT, _("离册")),
            (STATE_ALL, _("全部")),
        ],
        required=False,
    )
    group = forms.ChoiceField(label=_("党小组"), required=False)
    unit = forms.ChoiceField(label=_("所在单位"), required=False)
    sort = forms.ChoiceField(label=_("排序"), choices=list(SORT_LABELS.items()), required=False)

    def __init__(self, *args, groups=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [
            ("", _("全部")),
            (NO_GROUP, _("未编入党小组")),
            *((str(g.pk), g.name) for g in groups),
        ]
        self.fields["unit"].choices = _blank([(str(u.pk), u.name) for u in units])

    def _value(self, name: str) -> str:
        if not self.is_bound or not self.is_valid():
            return ""
        return self.cleaned_data.get(name) or ""

    @property
    def is_filtered(self) -> bool:
        return any(self._value(name) for name in ("q", "status", "group", "unit")) or self._value(
            "state"
        ) not in ("", MemberState.ACTIVE)

    def apply(self, queryset: QuerySet[Member], *, may_search_full: bool) -> QuerySet[Member]:
        """Filter, annotate the current group and sort ``queryset`` (already scoped to the user).

        Search matches the name, the unit, and the LAST 4 characters of the ID number or phone
        (what the masked value shows anyway). A complete ID number or phone number is matched only
        when ``may_search_full`` (the user may reveal them), so nobody can probe a hidden value.
        """
        queryset = with_current_group(queryset)
        state = self._value("state") or MemberState.ACTIVE
        if state != STATE_ALL:
            queryset = queryset.filter(state=state)
        if status := self._value("status"):
            queryset = queryset.filter(status=status)
        if unit := self._value("unit"):
            queryset = queryset.filter(unit_id=int(unit))
        group = self._value("group")
        if group == NO_GROUP:
            queryset = queryset.filter(current_group_id__isnull=True)
        elif group:
            queryset = queryset.filter(current_group_id=int(group))
        if q := self._value("q").strip():
            queryset = queryset.filter(self._search(q, may_search_full=may_search_full))
        sort = self._value("sort") or "name"
        return queryset.order_by(*SORTS[sort], "name", "id")

    @staticmethod
    def _search(q: str, *, may_search_full: bool) -> Q:
        condition = Q(name__icontains=q) | Q(unit__name__icontains=q)
        compact = normalise_id_number(q)
        if _ID_TAIL.match(compact):
            condition |= Q(id_number__endswith=compact)
        if _PHONE_TAIL.match(compact):
            condition |= Q(phone__endswith=compact)
        if may_search_full:
            if _ID_FULL.match(compact):
                condition |= Q(id_number=compact)
            phone = normalise_phone(q)
            if _PHONE_FULL.match(phone):
                condition |= Q(phone=phone) | Q(phone__endswith=phone[-11:])
        return condition


class ExportForm(forms.Form):
    fmt = forms.ChoiceField(
        label=_("格式"), choices=[(f, f".{f}") for f in EXPORT_FORMATS], initial=EXPORT_FORMATS[0]
    )
    reveal = forms.BooleanField(
        label=_("导出完整身份证号和手机号码"),
        required=False,
        help_text=_("仅对您有权查看的党员生效，每次导出都会记录在“个人信息查看记录”中。"),
    )


# --- Member data ---------------------------------------------------------------------------------

MEMBER_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "email",
    "unit",
    "post",
    "is_leading_cadre",
    "status",
    "joined_on",
    "full_member_on",
)

KEEP_MASKED_MESSAGE = _("请输入完整的%(field)s；不修改时请保持原显示的脱敏值。")


class MemberForm(forms.ModelForm):
    """A member's data as the branch committee edits it (the model validates, in Chinese)."""

    class Meta:
        model = Member
        fields = MEMBER_FIELDS
        widgets = {
            "birth_date": DATE_WIDGET,
            "joined_on": DATE_WIDGET,
            "full_member_on": DATE_WIDGET,
        }

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(branch=branch).order_by("name")
        self.stored = {"id_number": self.instance.id_number or "", "phone": self.instance.phone or ""}
        # Never the stored value: the masked one, replaced only when the user types a new value.
        self.initial["id_number"] = mask_id_number(self.stored["id_number"])
        self.initial["phone"] = mask_phone(self.stored["phone"])
        for name in ("id_number", "phone"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "data-masked": "1"})
        if self.stored["id_number"] or self.stored["phone"]:
            for name in ("id_number", "phone"):
                self.fields[name].help_text = _("显示为脱敏值；如需修改，请输入完整的新值。")

    def _personal(self, name: str, masked: str, normalise) -> str:
        value = normalise(self.cleaned_data.get(name) or "")
        stored = self.stored[name]
        if stored and value == masked:
            return stored  # unchanged: keep what is stored
        if "*" in value:
            raise ValidationError(KEEP_MASKED_MESSAGE % {"field": self.fields[name].label})
        return value

    def clean_id_number(self):
        return (
            self._personal("id_number", mask_id_number(self.stored["id_number"]), normalise_id_number) or None
        )

    def clean_phone(self):
        return self._personal("phone", mask_phone(self.stored["phone"]), normalise_phone)


class AddMemberForm(MemberForm):
    """A new member of the branch, optionally placed in one of its groups at once."""

    group = forms.ModelChoiceField(
        label=_("编入党小组"),
        queryset=PartyGroup.objects.none(),
        required=False,
        empty_label=_("暂不编入"),
    )
    started_on = forms.DateField(label=_("编入日期"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, branch=branch, **kwargs)
        self.fields["group"].queryset = PartyGroup.objects.active().filter(branch=branch).order_by("name")
        self.fields["started_on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("group") and not cleaned.get("started_on"):
            self.add_error("started_on", _("编入党小组时必须填写编入日期。"))
        return cleaned


class LeaveForm(forms.Form):
    left_on = forms.DateField(label=_("离册日期"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("离册原因"), max_length=100, required=False, help_text=_("如：组织关系转出、去世")
    )
