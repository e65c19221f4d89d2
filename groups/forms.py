"""Forms of the groups pages: they read and type the user's input; the services decide (STYLE.md).

A form checks only what a field can know by itself (a date is a date, a member is one of those
offered). The rules — R-05 decision data, R-09 one group at a time, R-24 full members lead, R-25 the
three attestations, R-03/R-04 for a split — are checked by ``groups.services`` / ``groups.split``,
which refuse with Chinese messages naming the rule and save nothing; the pages show those messages.

``SplitDraft`` carries a split proposal (R-01/R-03/R-04/R-07) through the page as ordinary form
fields — one name and one leader per proposed group, one group choice per member — so an adjusted
proposal round-trips in a plain POST (and in the htmx re-validation) without any server-side state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.enums import AppointmentMode, FilingStatus, LeaderRole
from groups.models import LeaderAppointment, PartyGroup
from groups.split import ProposedGroup, SplitMember, SplitResult
from members.models import Member, Unit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_PROPOSED_GROUPS = 60  # bounds the parsing of a posted proposal
MAX_REQUESTED_GROUPS = 50


NOT_PLACEABLE = _(
    "该党员已编入党小组或已不在本支部党员名册中，不能再编入（R-09：同一时间只能编入一个党小组）。"
)


def _textarea(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def member_label(member: Member) -> str:
    """姓名（单位，预备党员） — what a secretary needs to tell members apart in a list."""
    parts = [member.unit.name] if member.unit_id else []
    if not member.is_full_member:
        parts.append(str(member.get_status_display()))
    return f"{member.name}（{'，'.join(parts)}）" if parts else member.name


class MemberField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return member_label(obj)


class MembersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return member_label(obj)


def _decision_fields(form: forms.Form) -> None:
    """R-05: a branch decision has a date and a minute/document number."""
    form.fields["decided_on"] = forms.DateField(
        label=_("支部决定日期"), widget=DATE_WIDGET, initial=timezone.localdate
    )
    form.fields["document_number"] = forms.CharField(
        label=_("会议记录/文件编号"),
        max_length=60,
        help_text=_("R-05：党小组的建立、调整和撤销由党支部决定，并报上级党组织备案。"),
    )


# --- Create, place, move, end (R-05, R-06, R-09) -------------------------------------------------


class GroupCreateForm(forms.Form):
    name = forms.CharField(label=_("党小组名称"), max_length=120)
    unit = forms.ModelChoiceField(
        label=_("对应单位"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("（不对应单一单位）"),
        help_text=_("R-07：党小组宜与处室、科室、车间对应"),
    )
    established_on = forms.DateField(label=_("建立日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    members = MembersField(
        label=_("编入党员"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("本支部尚未编入党小组的党员；每个党小组不少于3名党员，至少1名正式党员（R-03、R-04）。"),
    )
    summary = forms.CharField(label=_("决定内容（可选）"), required=False, widget=_textarea())

    def __init__(self, *args, units, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        _decision_fields(self)
        self.fields["unit"].queryset = units
        self.fields["members"].queryset = candidates
        self.order_fields(
            ["name", "unit", "established_on", "decided_on", "document_number", "members", "summary"]
        )


class PlaceMemberForm(forms.Form):
    """编入党小组: a member who is in no group joins one (membership_start)."""

    member = MemberField(
        label=_("党员"),
        queryset=Member.objects.none(),
        empty_label=_("请选择党员"),
        error_messages={"invalid_choice": NOT_PLACEABLE},
    )
    started_on = forms.DateField(label=_("编入日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = candidates


class QuickPlaceForm(forms.Form):
    """The list page's quick "编入党小组" of a member in no group (R-09)."""

    member = forms.ModelChoiceField(
        label=_("党员"),
        queryset=Member.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": NOT_PLACEABLE},
    )
    group = forms.ModelChoiceField(
        label=_("党小组"),
        queryset=PartyGroup.objects.none(),
        error_messages={"invalid_choice": _("请选择本支部现有的党小组。")},
    )
    started_on = forms.DateField(label=_("编入日期"), widget=DATE_WIDGET, initial=timezone.localdate)

    def __init__(self, *args, candidates, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = candidates
        self.fields["group"].queryset = groups


class MoveMembersForm(forms.Form):
    """R-06: move members of this group to another group, as a branch decision filed upwards (R-05)."""

    members = MembersField(
        label=_("调整的党员"), queryset=Member.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    to_group = forms.ModelChoiceField(
        label=_("调整到"), queryset=PartyGroup.objects.none(), empty_label=_("请选择党小组")
    )
    effective_on = forms.DateField(label=_("调整日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    summary = forms.CharField(label=_("决定内容（可选）"), required=False, widget=_textarea())

    def __init__(self, *args, roster, targets, **kwargs):
        super().__init__(*args, **kwargs)
        _decision_fields(self)
        self.fields["members"].queryset = roster
        self.fields["to_group"].queryset = targets
        self.order_fields(["members", "to_group", "effective_on", "decided_on", "document_number", "summary"])

    def summary_for(self, group: PartyGroup) -> str:
        data = self.cleaned_data
        if data["summary"].strip():
            return data["summary"].strip()
        names = "、".join(m.name for m in data["members"])
        return f"将{names}从党小组“{group.name}”调整到党小组“{data['to_group'].name}”。"


class EndMembershipForm(forms.Form):
    ended_on = forms.DateField(label=_("调出日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    reason = forms.CharField(label=_("调出原因"), max_length=100, required=False)


# --- Leaders (R-24, R-25, R-26) --------------------------------------------------------------------


def _attestation_label(name: str) -> str:
    return LeaderAppointment._meta.get_field(name).verbose_name


class AppointLeaderForm(forms.Form):
    """R-24 full member (the service refuses otherwise), R-25 the three attestations, R-26 mode and term.

    The attestations are not required here: the service refuses an incomplete attestation with the
    rule's message (R-25) and saves nothing.
    """

    member = MemberField(label=_("人选"), queryset=Member.objects.none(), empty_label=_("请选择党员"))
    role = forms.ChoiceField(label=_("职务"), choices=LeaderRole.choices, initial=LeaderRole.LEADER)
    mode = forms.ChoiceField(
        label=_("产生方式"),
        choices=AppointmentMode.choices,
        initial=AppointmentMode.DESIGNATED,
        widget=forms.RadioSelect,
        help_text=_("R-26：由党支部指定，也可以由党小组党员推荐产生。"),
    )
    started_on = forms.DateField(label=_("任职日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    term_ends_on = forms.DateField(
        label=_("任期届满日期"),
        widget=DATE_WIDGET,
        required=False,
        help_text=_("R-26：一般与支委会届期相同；留空则按支委会届满日期。"),
    )
    decision_number = forms.CharField(label=_("支部决定编号"), max_length=60, required=False)
    attests_political_quality = forms.BooleanField(
        label=_attestation_label("attests_political_quality"), required=False
    )
    attests_dedication = forms.BooleanField(label=_attestation_label("attests_dedication"), required=False)
    attests_organising_ability = forms.BooleanField(
        label=_attestation_label("attests_organising_ability"), required=False
    )
    attestation_note = forms.CharField(label=_("考察意见"), required=False, widget=_textarea())

    ATTESTATIONS = ("attests_political_quality", "attests_dedication", "attests_organising_ability")

    def __init__(self, *args, roster, term_ends_on: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = roster
        if term_ends_on:
            self.fields["term_ends_on"].initial = term_ends_on


class EndAppointmentForm(forms.Form):
    ended_on = forms.DateField(label=_("离任日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    reason = forms.CharField(label=_("离任原因"), max_length=200)


class DissolveForm(forms.Form):
    dissolved_on = forms.DateField(label=_("撤销日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    summary = forms.CharField(label=_("决定内容（可选）"), required=False, widget=_textarea())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _decision_fields(self)
        self.order_fields(["dissolved_on", "decided_on", "document_number", "summary"])


# --- Filing (R-05) -------------------------------------------------------------------------------


class FileChangeForm(forms.Form):
    filed_on = forms.DateField(label=_("报备日期"), widget=DATE_WIDGET, initial=timezone.localdate)


class AcknowledgeChangeForm(forms.Form):
    on = forms.DateField(label=_("备案日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    comment = forms.CharField(label=_("意见（可选）"), required=False, max_length=2000, widget=_textarea())


class ReturnChangeForm(forms.Form):
    # Required-ness is the service's rule ("退回时必须填写意见。"); the form only types the text.
    comment = forms.CharField(label=_("退回意见"), required=False, max_length=2000, widget=_textarea())


class ChangeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("备案状态"), choices=[("", _("全部")), *FilingStatus.choices], required=False
    )


# --- Split suggestion (R-01, R-03, R-04, R-07; accepted as an R-05 decision) ---------------------


class SplitCountForm(forms.Form):
    """GET: ask for a fresh suggestion with exactly k groups (R-02: a smaller branch divides on request)."""

    groups = forms.IntegerField(
        label=_("指定党小组个数"), min_value=1, max_value=MAX_REQUESTED_GROUPS, required=False
    )


class SplitDecisionForm(forms.Form):
    """The branch decision that adopts the proposal (R-05) and attests the leaders (R-25).

    The document number and the attestations are checked by ``split_accept`` (rule messages).
    """

    decided_on = forms.DateField(label=_("支部决定日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    document_number = forms.CharField(label=_("会议记录/文件编号"), max_length=60, required=False)
    effective_on = forms.DateField(label=_("党小组建立日期"), widget=DATE_WIDGET, initial=timezone.localdate)
    attests_political_quality = forms.BooleanField(
        label=_attestation_label("attests_political_quality"), required=False
    )
    attests_dedication = forms.BooleanField(label=_attestation_label("attests_dedication"), required=False)
    attests_organising_ability = forms.BooleanField(
        label=_attestation_label("attests_organising_ability"), required=False
    )
    attestation_note = forms.CharField(label=_("考察意见"), required=False, widget=_textarea())

    ATTESTATIONS = AppointLeaderForm.ATTESTATIONS


@dataclass
class DraftGroup:
    name: str
    member_ids: list[int] = field(default_factory=list)
    leader_id: int | None = None


@dataclass
class SplitDraft:
    """A proposal as the page shows and posts it.

    Fields: ``count``; per group ``g-<i>-name`` and ``g-<i>-leader``; per member ``m-<id>`` = the
    group's index (empty: not placed). Only the branch's members are read, so a member appears once.
    """

    groups: list[DraftGroup]
    unplaced: list[int] = field(default_factory=list)

    @classmethod
    def from_result(cls, result: SplitResult) -> SplitDraft:
        return cls(
            groups=[DraftGroup(g.name, list(g.member_ids), g.leader_id) for g in result.groups],
        )

    @classmethod
    def from_post(cls, data: Mapping[str, str], members: Sequence[SplitMember]) -> SplitDraft:
        count = _int(data.get("count"), 0)
        count = max(0, min(count, MAX_PROPOSED_GROUPS))
        groups = [
            DraftGroup(
                name=str(data.get(f"g-{i}-name", "")).strip()[:200],
                leader_id=_int(data.get(f"g-{i}-leader"), None),
            )
            for i in range(count)
        ]
        unplaced = []
        for member in members:
            index = _int(data.get(f"m-{member.id}"), None)
            if index is not None and 0 <= index < count:
                groups[index].member_ids.append(member.id)
            else:
                unplaced.append(member.id)
        return cls(groups=groups, unplaced=unplaced)

    def add_group(self) -> None:
        if len(self.groups) < MAX_PROPOSED_GROUPS:
            self.groups.append(DraftGroup(name=f"新党小组{len(self.groups) + 1}"))

    def remove_group(self, index: int) -> None:
        if 0 <= index < len(self.groups):
            self.unplaced.extend(self.groups.pop(index).member_ids)

    def proposal(self) -> list[ProposedGroup]:
        return [ProposedGroup(g.name, tuple(g.member_ids), g.leader_id) for g in self.groups]

    def rows(self, members: Iterable[SplitMember]) -> tuple[list[dict], list[SplitMember]]:
        """Each group with its members (SplitMember) and statistics; and the members not placed."""
        by_id = {m.id: m for m in members}
        rows = []
        for index, group in enumerate(self.groups):
            roster = [by_id[i] for i in group.member_ids if i in by_id]
            units: dict[str, int] = {}
            for m in roster:
                units[m.unit_name or "（未填单位）"] = units.get(m.unit_name or "（未填单位）", 0) + 1
            rows.append(
                {
                    "index": index,
                    "name": group.name,
                    "leader_id": group.leader_id if group.leader_id in set(group.member_ids) else None,
                    "members": roster,
                    "size": len(roster),
                    "full": sum(1 for m in roster if m.is_full),
                    "units": sorted(units.items(), key=lambda u: (-u[1], u[0])),
                }
            )
        return rows, [by_id[i] for i in self.unplaced if i in by_id]


def _int(value, default):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
