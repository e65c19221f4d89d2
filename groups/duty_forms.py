"""Forms of the branch committee's duty pages (groups/duty_views.py): leader reviews and interviews
(R-28), leader training (R-35), cultivation (R-22), posts and commitments (R-32), points (R-33).

A form only types the input (a date is a date, a member is one of those offered); every rule — a
review for someone who was not leader that year, a year not yet open for review, stages out of
order, contacts who are not full members, a second post in a year, points while the module is off —
is the service's to refuse, with its Chinese message, saving nothing. So the choices offered are
deliberately wide (every leader the branch ever had, every member of the branch): the service, not
a narrowed list, says why a choice is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.enums import AppointmentMode, CultivationStageKind, LeaderGrade, LeaderRole
from groups.forms import DATE_WIDGET, MemberField, MembersField
from groups.models import LeaderAppointment, PartyGroup
from members.enums import Gender, PointsGrade
from members.models import Member, Unit

MIN_YEAR = 2000


def _textarea(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class YearForm(forms.Form):
    """``?year=`` of a yearly page; an absent or malformed year falls back to the page's default."""

    year = forms.IntegerField(label=_("年度"), min_value=MIN_YEAR, max_value=2100, required=False)

    @classmethod
    def year_from(cls, data, default: int) -> int:
        form = cls(data)
        if form.is_valid() and form.cleaned_data["year"]:
            return min(form.cleaned_data["year"], timezone.localdate().year + 1)
        return default


# --- Leaders (R-28, R-35) --------------------------------------------------------------------------


def leader_key(group_id: int, member_id: int) -> str:
    return f"{group_id}:{member_id}"


class LeaderPickForm(forms.Form):
    """Chooses a (group, person) pair among every leader or deputy the branch has had.

    ``appointments``: the branch's appointments with ``group`` and ``member`` loaded; one choice per
    group and person (several terms of the same person collapse into one).
    """

    leader = forms.ChoiceField(label=_("组长、副组长"))

    def __init__(self, *args, appointments: Iterable[LeaderAppointment], **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self._pairs: dict[str, tuple[PartyGroup, Member]] = {}
        labels: dict[str, list[str]] = {}
        current: set[str] = set()
        for a in appointments:
            key = leader_key(a.group_id, a.member_id)
            self._pairs.setdefault(key, (a.group, a.member))
            role = str(a.get_role_display())
            if role not in labels.setdefault(key, []):
                labels[key].append(role)
            if a.covers(today):
                current.add(key)
        choices = []
        for key, (group, member) in self._pairs.items():
            state = "" if key in current else _("，已离任")
            choices.append((key, f"{group.name} · {member.name}（{'、'.join(labels[key])}{state}）"))
        choices.sort(key=lambda c: (c[0] not in current, c[1]))
        self.fields["leader"].choices = [("", _("请选择")), *choices]

    @property
    def picked(self) -> tuple[PartyGroup, Member]:
        return self._pairs[self.cleaned_data["leader"]]


class ReviewForm(LeaderPickForm):
    """R-28: the yearly assessment of a leader or deputy (优秀 / 称职 / 不称职)."""

    year = forms.IntegerField(label=_("考核年度"), min_value=MIN_YEAR, max_value=2100)
    grade = forms.ChoiceField(label=_("考核等次"), choices=LeaderGrade.choices, widget=forms.RadioSelect)
    reviewed_on = forms.DateField(label=_("考核日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    notes = forms.CharField(label=_("考核意见"), required=False, widget=_textarea())


class InterviewForm(LeaderPickForm):
    """R-28: the branch interviews (约谈) a leader or deputy."""

    interviewed_on = forms.DateField(label=_("约谈日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    interviewer = forms.CharField(label=_("约谈人"), max_length=100, help_text=_("如：支部书记 张三"))
    content = forms.CharField(label=_("约谈内容"), widget=_textarea(4))


class TrainingForm(forms.Form):
    """R-35: a training a leader, deputy or leader candidate of the branch attended."""

    member = MemberField(label=_("党员"), queryset=Member.objects.none(), empty_label=_("请选择党员"))
    trained_on = forms.DateField(label=_("培训日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    title = forms.CharField(label=_("培训名称"), max_length=200)
    hours = forms.DecimalField(label=_("学时"), max_digits=5, decimal_places=1)
    organiser = forms.CharField(label=_("主办单位"), max_length=120)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class ReplacementAppointForm(forms.Form):
    """R-28 → R-24…R-26: appoint a new leader where replacement is due. The fields are those of
    ``groups.forms.AppointLeaderForm``: the form posts to ``groups:appoint``, which validates it with
    that form and the service (R-24 full member, R-25 attestations). The roster is given as choices
    (loaded once for every flagged group), not as a queryset per group."""

    member = forms.ChoiceField(label=_("新任人选"))
    role = forms.ChoiceField(choices=LeaderRole.choices, widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        label=_("产生方式"), choices=AppointmentMode.choices, initial=AppointmentMode.DESIGNATED
    )
    started_on = forms.DateField(label=_("任职日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    decision_number = forms.CharField(label=_("支部决定编号"), max_length=60, required=False)
    attests_political_quality = forms.BooleanField(
        label=LeaderAppointment._meta.get_field("attests_political_quality").verbose_name, required=False
    )
    attests_dedication = forms.BooleanField(
        label=LeaderAppointment._meta.get_field("attests_dedication").verbose_name, required=False
    )
    attests_organising_ability = forms.BooleanField(
        label=LeaderAppointment._meta.get_field("attests_organising_ability").verbose_name, required=False
    )
    attestation_note = forms.CharField(label=_("考察意见"), required=False, widget=_textarea())

    def __init__(self, *args, roster: Sequence[Member], role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", _("请选择党员")), *((m.pk, m.name) for m in roster)]
        self.fields["role"].initial = role


# --- Cultivation (R-22) ----------------------------------------------------------------------------


def _contacts_field(**kwargs) -> MembersField:
    return MembersField(
        label=_("培养联系人"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("1至2名本支部正式党员；入党积极分子阶段起必须确定（R-22）。"),
        **kwargs,
    )


class CandidateCreateForm(forms.Form):
    """R-22: a person who applied to join (入党申请人) and whom a group of the branch cultivates."""

    group = forms.ModelChoiceField(
        label=_("培养的党小组"), queryset=PartyGroup.objects.none(), empty_label=_("请选择党小组")
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("出生日期"), widget=DATE_WIDGET)
    applied_on = forms.DateField(
        label=_("递交入党申请日期"), widget=DATE_WIDGET, help_text=_("“入党申请人”阶段自该日开始。")
    )
    unit = forms.ModelChoiceField(
        label=_("所在单位"), queryset=Unit.objects.none(), required=False, empty_label=_("（不填）")
    )
    contacts = _contacts_field()
    decided_by_note = forms.CharField(
        label=_("依据"), max_length=200, required=False, help_text=_("如：入党申请书，2025年3月5日递交")
    )
    note = forms.CharField(label=_("备注"), required=False, widget=_textarea())

    def __init__(self, *args, groups, units, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.fields["unit"].queryset = units
        self.fields["contacts"].queryset = members


class AdvanceStageForm(forms.Form):
    """R-22: the candidate enters the next stage (the service refuses any other, with the reason)."""

    stage = forms.ChoiceField(label=_("进入阶段"), choices=CultivationStageKind.choices)
    started_on = forms.DateField(label=_("开始日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    decided_by_note = forms.CharField(
        label=_("确定依据"), max_length=200, required=False, help_text=_("如：支委会2025年3月研究确定")
    )
    contacts = _contacts_field()
    member = MemberField(
        label=_("关联党员记录"),
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("（暂不关联）"),
        help_text=_("成为预备党员时，可关联已登记的党员记录。"),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = members
        self.fields["contacts"].help_text = _("不选择则保持现有培养联系人；入党积极分子阶段起须有1至2名。")
        self.fields["member"].queryset = members

    def contacts_or_none(self) -> list[Member] | None:
        chosen = list(self.cleaned_data["contacts"])
        return chosen or None


class ContactsForm(forms.Form):
    contacts = _contacts_field()

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = members


class LinkMemberForm(forms.Form):
    member = MemberField(label=_("党员记录"), queryset=Member.objects.none(), empty_label=_("请选择党员"))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


# --- Posts and commitments, points rating (R-33) --------------------------------------------


class MemberPostForm(forms.Form):
    member = MemberField(label=_("党员"), queryset=Member.objects.none(), empty_label=_("请选择党员"))
    year = forms.IntegerField(label=_("年度"), min_value=MIN_YEAR, max_value=2100)
    title = forms.CharField(label=_("岗位"), max_length=100, help_text=_("如：政策宣传岗、联系群众岗"))
    commitment = forms.CharField(label=_("承诺内容"), widget=_textarea(3))
    publicised_on = forms.DateField(label=_("公开承诺日期"), widget=DATE_WIDGET, required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class PointsRatingForm(forms.Form):
    member = MemberField(label=_("党员"), queryset=Member.objects.none(), empty_label=_("请选择党员"))
    year = forms.IntegerField(label=_("年度"), min_value=MIN_YEAR, max_value=2100)
    points = forms.DecimalField(label=_("积分"), max_digits=5, decimal_places=1)
    grade = forms.ChoiceField(label=_("等次"), choices=PointsGrade.choices)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


def review_year_default(today: dt.date) -> int:
    """R-28: the assessment is made at the year's end — from 1 December the current year is open,
    before that the page opens on last year."""
    return today.year if today >= dt.date(today.year, 12, 1) else today.year - 1
