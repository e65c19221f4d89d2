"""Forms of the meeting pages: they read and type the user's input, the services decide (STYLE.md).

A form checks only what a field can know by itself (a date is a date, a required field is filled,
a member is one of the offered ones). Every rule of the domain — absentee without reason, a person
twice, end before start, a future meeting marked held, an archived record — is checked by
``meetings.services``, which refuses with Chinese messages and saves nothing; the pages show those
messages above the form and keep what the user typed.

``MinutesEntry`` bundles the minutes page (R-14 … R-19): the minutes' head, attendance prefilled
from the roster, observers, numbered agenda items each with its speeches in speaking order, decided
matters, follow-ups of earlier decided matters, and — by kind — the life-meeting record (R-18) or
the members' evaluations (R-19). ``MinutesEntry.save`` hands it all to ONE service,
``services.minutes_page_save`` (one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from groups.enums import CultivationStageKind
from groups.models import CultivationCandidate, PartyGroup
from meetings import services
from meetings.enums import (
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    HalfDay,
    MeetingKind,
    MeetingState,
    Recommendation,
    TopicCategory,
)
from meetings.models import (
    ActionItem,
    AgendaItem,
    AnnualPlan,
    LifeMeetingRecord,
    Meeting,
    Minutes,
)
from members.models import Member
from partygroup.widgets import QuickSelect

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


# --- Members offered in a form ------------------------------------------------------------------


def member_label(member: Member) -> str:
    return f"{member.name}（{member.post}）" if member.post else member.name


class MemberChoiceField(forms.ChoiceField):
    """A choice among members loaded once by the page (no query per row, unlike ModelChoiceField).

    ``clean`` returns the ``Member`` (or ``None`` when empty and not required). Initial values are
    member ids as strings so that ``has_changed`` compares like with like.
    """

    def __init__(self, *, members: Iterable[Member] = (), empty_label: str = "——", **kwargs):
        self.members = {str(m.pk): m for m in members}
        choices = [("", empty_label), *((pk, member_label(m)) for pk, m in self.members.items())]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.members.get(value) if value else None

    def label_for(self, value) -> str:
        member = self.members.get(str(value or ""))
        return member.name if member else ""


def _pk(member: Member | None) -> str:
    return str(member.pk) if member is not None else ""


class MembersMixin:
    """Forms that offer members receive them through ``members=`` (formsets: ``form_kwargs``)."""

    member_fields: tuple[str, ...] = ()

    def __init__(self, *args, members: Sequence[Member] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.member_fields:
            field = self.fields[name]
            replacement = MemberChoiceField(
                members=members,
                required=field.required,
                label=field.label,
                widget=field.widget if isinstance(field.widget, forms.HiddenInput) else forms.Select,
                help_text=field.help_text,
            )
            self.fields[name] = replacement


def _placeholder_member_field(label, *, required=True, hidden=False) -> forms.CharField:
    """Declares a member field; ``MembersMixin`` replaces it with a ``MemberChoiceField``."""
    return forms.CharField(label=label, required=required, widget=forms.HiddenInput if hidden else None)


# --- Meeting request (R-11) ---------------------------------------------------------------------


class MeetingRequestForm(forms.ModelForm):
    """The request for approval (请示): what the leader asks the branch to fix before the meeting."""

    class Meta:
        model = Meeting
        fields = list(services.REQUEST_FIELDS)
        widgets = {
            "planned_date": DATE_WIDGET,
            "planned_start": TIME_WIDGET,
            "agenda": _textarea(6),
            "request_note": _textarea(3),
        }


class AgendaPrefillForm(forms.Form):
    """GET form: which month's annual plan the new request's agenda is copied from (R-17)."""

    planned_date = forms.DateField(label=_("拟召开日期"), widget=DATE_WIDGET)


def prefill_agenda(
    *, plan: AnnualPlan | None, month: int, open_items: Sequence[ActionItem]
) -> tuple[str, str | None]:
    """The agenda lines of a new request: the plan's topics for ``month`` (R-17) and the open decided
    matters of earlier meetings (R-16); and the kind the plan gives for that month (or ``None``)."""
    lines: list[str] = []
    kind = None
    if plan is not None:
        for item in plan.items.all():
            if item.month == month:
                lines.append(item.topic)
                kind = kind or item.kind
    for action in open_items:
        lines.append(
            str(_("跟进议定事项：%(text)s（责任人：%(owner)s，时限：%(due)s）"))
            % {
                "text": action.description.splitlines()[0][:80],
                "owner": action.owner.name,
                "due": action.due_on,
            }
        )
    return "\n".join(lines), kind


# --- Workflow comment, addendum, talk -----------------------------------------------------------


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("意见"), required=False, widget=_textarea(2), max_length=2000)


class AddendumForm(forms.Form):
    """R-12: a correction of an archived record is a new, linked addendum."""

    text = forms.CharField(label=_("更正/补充内容"), widget=_textarea(5), max_length=5000)
    reason = forms.CharField(label=_("原因"), max_length=200)


class TalkForm(MembersMixin, forms.Form):
    """R-20: a heart-to-heart talk between two members of the group."""

    member_fields = ("initiator", "partner")

    talked_on = forms.DateField(label=_("谈话日期"), widget=DATE_WIDGET)
    initiator = _placeholder_member_field(_("谈话人"))
    partner = _placeholder_member_field(_("谈话对象"))
    place = forms.CharField(label=_("地点"), max_length=200, required=False)
    topic = forms.CharField(label=_("谈话主题"), max_length=200)
    summary = forms.CharField(label=_("谈话要点"), widget=_textarea(5))


class TalkFilterForm(forms.Form):
    group = forms.ModelChoiceField(label=_("党小组"), queryset=PartyGroup.objects.none(), required=False)

    def __init__(self, *args, groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        if groups is not None:
            self.fields["group"].queryset = groups


# --- Meeting list filters -----------------------------------------------------------------------


def _blank(choices) -> list[tuple[str, str]]:
    return [("", _("全部")), *choices]


class MeetingFilterForm(forms.Form):
    group = forms.ModelChoiceField(
        label=_("党小组"),
        queryset=PartyGroup.objects.none(),
        required=False,
        empty_label=_("全部"),
        widget=QuickSelect,  # organisation staff: thousands of groups, no template per option
    )
    kind = forms.ChoiceField(label=_("会议类别"), choices=_blank(MeetingKind.choices), required=False)
    state = forms.ChoiceField(label=_("状态"), choices=_blank(MeetingState.choices), required=False)
    year = forms.IntegerField(label=_("年度"), required=False, min_value=1949, max_value=2200)

    def __init__(self, *args, groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        if groups is not None:
            self.fields["group"].queryset = groups

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["group"]:
            queryset = queryset.filter(group=data["group"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["state"]:
            queryset = queryset.filter(state=data["state"])
        if data["year"]:
            queryset = queryset.filter(planned_date__year=data["year"])
        return queryset


# --- Annual plan (R-17) -------------------------------------------------------------------------


class AnnualPlanForm(forms.Form):
    summary = forms.CharField(label=_("总体安排"), widget=_textarea(3), required=False)
    meetings_per_year = forms.IntegerField(
        label=_("计划党小组会次数"), min_value=0, max_value=366, initial=12
    )


class PlanItemForm(forms.Form):
    month = forms.TypedChoiceField(
        label=_("月份"), coerce=int, choices=[(m, format_lazy(_("{}月"), m)) for m in range(1, 13)]
    )
    kind = forms.ChoiceField(
        label=_("活动类别"), choices=MeetingKind.choices, initial=MeetingKind.GROUP_MEETING
    )
    topic = forms.CharField(label=_("主题"), max_length=200, required=False)
    category = forms.ChoiceField(
        label=_("议题类别"), choices=TopicCategory.choices, initial=TopicCategory.STUDY
    )


PlanItemFormSet = forms.formset_factory(
    PlanItemForm, extra=0, can_delete=True, max_num=120, validate_max=True, absolute_max=120
)


def plan_item_inputs(formset) -> list[services.PlanItemInput]:
    """Rows with a topic that are not ticked for deletion; a row with an empty topic is left out."""
    return [
        services.PlanItemInput(
            month=form.cleaned_data["month"],
            topic=form.cleaned_data["topic"],
            kind=form.cleaned_data["kind"],
            category=form.cleaned_data["category"],
        )
        for form in formset.forms
        if form.cleaned_data
        and not form.cleaned_data.get("DELETE")
        and form.cleaned_data.get("topic", "").strip()
    ]


# --- Minutes (R-14 … R-19) ----------------------------------------------------------------------


class MinutesHeadForm(MembersMixin, forms.Form):
    """Time, place, host, recorder, opening and the chair's summary (R-14, R-16)."""

    member_fields = ("host", "recorder")

    held_on = forms.DateField(label=_("日期"), widget=DATE_WIDGET)
    half_day = forms.ChoiceField(label=_("上午/下午"), choices=HalfDay.choices)
    start_time = forms.TimeField(label=_("开始时间"), widget=TIME_WIDGET)
    end_time = forms.TimeField(label=_("结束时间"), widget=TIME_WIDGET)
    place = forms.CharField(label=_("地点"), max_length=200)
    host = _placeholder_member_field(_("主持人"))
    recorder = _placeholder_member_field(_("记录人"))
    opening = forms.CharField(
        label=_("开场说明"),
        required=False,
        widget=_textarea(2),
        help_text=_("主持人说明会议召开依据、到会情况和议题"),
    )
    chair_summary = forms.CharField(
        label=_("主持人总结"), widget=_textarea(4), help_text=_("R-16：会议结束前归纳小结，明确议定事项")
    )


class RosterAttendanceForm(MembersMixin, forms.Form):
    """One member of the group's roster: present, or absent with a reason (R-14)."""

    member_fields = ("member",)

    member = _placeholder_member_field(_("党员"), hidden=True)
    role = forms.ChoiceField(
        label=_("出席情况"),
        choices=[
            (AttendanceRole.PRESENT, AttendanceRole.PRESENT.label),
            (AttendanceRole.ABSENT, AttendanceRole.ABSENT.label),
        ],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial=AttendanceRole.PRESENT,
    )
    absence_reason = forms.CharField(label=_("缺席原因"), max_length=200, required=False)

    @property
    def member_name(self) -> str:
        return self.fields["member"].label_for(self["member"].value())


class ObserverForm(MembersMixin, forms.Form):
    """An observer (列席): a member of the branch, or a person outside it by name and title."""

    member_fields = ("member",)

    member = _placeholder_member_field(_("本支部党员"), required=False)
    person_name = forms.CharField(label=_("或：姓名（系统外人员）"), max_length=50, required=False)
    person_title = forms.CharField(label=_("职务"), max_length=60, required=False, help_text=_("如：副局长"))

    def clean(self):
        data = super().clean()
        if not data.get("member") and not (data.get("person_name") or "").strip() and not data.get("DELETE"):
            raise ValidationError(_("列席人员：请选择本支部党员，或填写系统外人员的姓名。"))
        return data


class SpeechForm(MembersMixin, forms.Form):
    """A speaker's main views; rows are kept in speaking order (R-15)."""

    member_fields = ("speaker",)

    speaker = _placeholder_member_field(_("发言人"), required=False)
    speaker_name = forms.CharField(label=_("或：发言人姓名（系统外人员）"), max_length=50, required=False)
    views = forms.CharField(label=_("主要观点"), widget=_textarea(2), required=False)


class BaseSpeechFormSet(forms.BaseFormSet):
    """Nested in an agenda item; its row template uses ``__speech__`` so that the agenda item's own
    ``__prefix__`` can be replaced first when an agenda item is added in the browser."""

    placeholder = "__speech__"

    @property
    def empty_form(self):
        form = self.form(
            **self.get_form_kwargs(None),
            auto_id=self.auto_id,
            prefix=self.add_prefix(self.placeholder),
            empty_permitted=True,
            use_required_attribute=False,
            renderer=self.form_renderer,
        )
        self.add_fields(form, None)
        return form


SpeechFormSet = forms.formset_factory(
    SpeechForm,
    formset=BaseSpeechFormSet,
    extra=1,
    can_delete=True,
    max_num=100,
    validate_max=True,
    absolute_max=100,
)


class AgendaItemForm(forms.Form):
    """A numbered agenda item (议题一、议题二 …) with its record (R-14); ``speeches`` is nested."""

    title = forms.CharField(label=_("议题"), max_length=200)
    category = forms.ChoiceField(
        label=_("议题类别"), choices=TopicCategory.choices, initial=TopicCategory.STUDY
    )
    record = forms.CharField(label=_("议题记录"), widget=_textarea(3), required=False)

    speeches = None  # set by BaseAgendaFormSet

    def has_changed(self) -> bool:
        # An added item whose only input is a speech is not "empty": its missing title must be reported.
        return super().has_changed() or bool(self.speeches is not None and self.speeches.has_changed())


class BaseAgendaFormSet(forms.BaseFormSet):
    def __init__(self, *args, members: Sequence[Member] = (), speech_initial=None, **kwargs):
        self.members = list(members)
        self.speech_initial = speech_initial or {}
        super().__init__(*args, **kwargs)

    def _speeches(self, form, index):
        return SpeechFormSet(
            self.data if self.is_bound else None,
            prefix=f"{form.prefix}-sp",
            initial=self.speech_initial.get(index) if index is not None else None,
            form_kwargs={"members": self.members},
        )

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.speeches = self._speeches(form, i)
        return form

    @property
    def empty_form(self):
        form = super().empty_form
        form.speeches = SpeechFormSet(prefix=f"{form.prefix}-sp", form_kwargs={"members": self.members})
        return form

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for form in self.forms:
            if form.speeches is not None and not self._should_delete_form(form):
                valid = form.speeches.is_valid() and valid
        return valid


AgendaItemFormSet = forms.formset_factory(
    AgendaItemForm,
    formset=BaseAgendaFormSet,
    extra=0,
    can_delete=True,
    max_num=50,
    validate_max=True,
    absolute_max=50,
)


class ActionItemForm(MembersMixin, forms.Form):
    """A decided matter with measures, owner and due date (R-16)."""

    member_fields = ("owner",)

    item_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(label=_("议定事项"), widget=_textarea(2))
    measures = forms.CharField(label=_("落实措施"), widget=_textarea(2), required=False)
    owner = _placeholder_member_field(_("责任人"))
    due_on = forms.DateField(label=_("完成时限"), widget=DATE_WIDGET)
    agenda_number = forms.IntegerField(label=_("所属议题序号"), required=False, min_value=1, max_value=50)
    is_rectification = forms.BooleanField(
        label=_("整改措施"), required=False, help_text=_("R-18：组织生活会后的整改措施")
    )


class FollowUpForm(forms.Form):
    """The follow-up of an open decided matter of an earlier meeting (R-16)."""

    action_item = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("进展情况"), widget=_textarea(2), required=False)
    status_after = forms.ChoiceField(label=_("跟进后状态"), choices=ActionItemStatus.choices)
    completed_on = forms.DateField(label=_("完成日期"), widget=DATE_WIDGET, required=False)

    def __init__(self, *args, items: dict[int, ActionItem] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items or {}

    @property
    def item(self) -> ActionItem | None:
        value = self["action_item"].value()
        try:
            return self.items.get(int(value))
        except (TypeError, ValueError):
            return None

    def clean_action_item(self):
        item = self.items.get(self.cleaned_data["action_item"])
        if item is None:
            raise ValidationError(_("该议定事项不存在或不属于本党小组。"))
        return item

    def clean(self):
        data = super().clean()
        if self.has_changed() and not (data.get("note") or "").strip():
            self.add_error("note", _("跟进议定事项时请填写进展情况。"))
        return data


class EvaluationForm(MembersMixin, forms.Form):
    """R-19: one member's party-spirit self-analysis and the peer-evaluation result."""

    member_fields = ("member",)

    member = _placeholder_member_field(_("党员"), hidden=True)
    self_evaluation = forms.CharField(label=_("党性分析和个人自评"), widget=_textarea(2), required=False)
    peer_result = forms.ChoiceField(
        label=_("党员互评结果"), choices=[("", "——"), *EvaluationGrade.choices], required=False
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    @property
    def member_name(self) -> str:
        return self.fields["member"].label_for(self["member"].value())

    def clean(self):
        data = super().clean()
        if (data.get("self_evaluation") or "").strip() and not data.get("peer_result"):
            self.add_error("peer_result", _("请选择互评结果。"))
        return data


class LifeRecordForm(forms.ModelForm):
    """R-18: the before / during / after steps of an organisational life meeting."""

    class Meta:
        model = LifeMeetingRecord
        fields = [
            "theme",
            "before_study",
            "before_talks",
            "before_opinions",
            "during_problems",
            "during_criticism",
            "during_direction",
            "after_followup",
        ]
        widgets = {name: _textarea(2) for name in fields if name != "theme"}


def _formset(factory, prefix, data, initial, members, **kwargs):
    return factory(data, prefix=prefix, initial=initial, form_kwargs={"members": members}, **kwargs)


RosterFormSet = forms.formset_factory(
    RosterAttendanceForm, extra=0, max_num=500, validate_max=True, absolute_max=500
)
ObserverFormSet = forms.formset_factory(
    ObserverForm, extra=1, can_delete=True, max_num=100, validate_max=True, absolute_max=100
)
ActionItemFormSet = forms.formset_factory(
    ActionItemForm, extra=1, can_delete=True, max_num=100, validate_max=True, absolute_max=100
)
FollowUpFormSet = forms.formset_factory(
    FollowUpForm, extra=0, max_num=500, validate_max=True, absolute_max=500
)
EvaluationFormSet = forms.formset_factory(
    EvaluationForm, extra=0, max_num=500, validate_max=True, absolute_max=500
)


def _default_half_day(start: dt.time | None) -> str:
    if start is None or start < dt.time(12, 0):
        return HalfDay.MORNING
    if start < dt.time(18, 0):
        return HalfDay.AFTERNOON
    return HalfDay.EVENING


class MinutesEntry:
    """Every form of the minutes page, prefilled from the meeting (GET) or bound to the POST.

    ``roster`` is the group's roster on the attendance date; ``members`` every member the page may
    name (the branch's active members and the roster); ``open_items`` the decided matters of
    earlier meetings to follow up (R-16).
    """

    def __init__(
        self,
        meeting: Meeting,
        *,
        roster: Sequence[Member],
        members: Sequence[Member],
        open_items: Sequence[ActionItem],
        data=None,
        attendance_date: dt.date | None = None,
        default_host: Member | None = None,
    ):
        self.meeting = meeting
        self.is_bound = data is not None
        self.kind = meeting.kind
        minutes = _existing_minutes(meeting)
        self.minutes = minutes
        items = {item.pk: item for item in open_items if item.meeting_id != meeting.pk}

        head_initial = self._head_initial(minutes, attendance_date, default_host)
        self.head = MinutesHeadForm(data, prefix="m", initial=head_initial, members=members)

        existing = {a.member_id: a for a in meeting.attendances.all() if a.member_id}
        roster_initial = []
        for member in roster:
            previous = existing.get(member.pk)
            role = previous.role if previous and previous.role != AttendanceRole.OBSERVER else None
            roster_initial.append(
                {
                    "member": _pk(member),
                    "role": role or AttendanceRole.PRESENT,
                    "absence_reason": previous.absence_reason if previous else "",
                }
            )
        self.roster = _formset(RosterFormSet, "att", data, roster_initial, members)
        observers = [
            {"member": _pk(a.member), "person_name": a.person_name, "person_title": a.person_title}
            for a in meeting.attendances.all()
            if a.role == AttendanceRole.OBSERVER
        ]
        self.observers = _formset(ObserverFormSet, "obs", data, observers, members)

        agenda_initial, speech_initial = self._agenda_initial(meeting)
        self.agenda = AgendaItemFormSet(
            data,
            prefix="agenda",
            initial=agenda_initial,
            members=members,
            speech_initial=speech_initial,
        )
        if not agenda_initial:
            self.agenda.extra = 1

        actions = [
            {
                "item_id": a.pk,
                "description": a.description,
                "measures": a.measures,
                "owner": _pk(a.owner),
                "due_on": a.due_on,
                "agenda_number": a.agenda_item.number if a.agenda_item_id and a.agenda_item else None,
                "is_rectification": a.is_rectification,
            }
            for a in meeting.action_items.all()
        ]
        self.actions = _formset(ActionItemFormSet, "act", data, actions, members)

        earlier = {f.action_item_id: f for f in meeting.follow_ups.all()}
        for follow_up in earlier.values():
            items.setdefault(follow_up.action_item_id, follow_up.action_item)
        follow_initial = [
            {
                "action_item": item.pk,
                "note": earlier[item.pk].note if item.pk in earlier else "",
                "status_after": earlier[item.pk].status_after if item.pk in earlier else item.status,
                "completed_on": item.completed_on,
            }
            for item in items.values()
        ]
        self.follow_ups = FollowUpFormSet(
            data, prefix="fu", initial=follow_initial, form_kwargs={"items": items}
        )

        self.life = None
        if self.kind == MeetingKind.LIFE_MEETING:
            record = _existing_life_record(meeting)
            self.life = LifeRecordForm(
                data, prefix="life", instance=record, empty_permitted=True, use_required_attribute=False
            )
        self.evaluations = None
        if self.kind == MeetingKind.EVALUATION:
            results = {e.member_id: e for e in meeting.evaluations.all()}
            evaluation_initial = [
                {
                    "member": _pk(m),
                    "self_evaluation": results[m.pk].self_evaluation if m.pk in results else "",
                    "peer_result": results[m.pk].peer_result if m.pk in results else "",
                    "note": results[m.pk].note if m.pk in results else "",
                }
                for m in roster
            ]
            self.evaluations = _formset(EvaluationFormSet, "ev", data, evaluation_initial, members)

    # -- initial values --------------------------------------------------------------------------

    def _head_initial(self, minutes: Minutes | None, attendance_date, default_host) -> dict:
        meeting = self.meeting
        if minutes is not None:
            initial = {
                "held_on": minutes.held_on,
                "half_day": minutes.half_day,
                "start_time": minutes.start_time,
                "end_time": minutes.end_time,
                "place": minutes.place,
                "host": _pk(minutes.host),
                "recorder": _pk(minutes.recorder),
                "opening": minutes.opening,
                "chair_summary": minutes.chair_summary,
            }
        else:
            initial = {
                "held_on": meeting.planned_date,
                "half_day": _default_half_day(meeting.planned_start),
                "start_time": meeting.planned_start,
                "place": meeting.planned_place,
                "host": _pk(default_host),
            }
        if attendance_date is not None:
            initial["held_on"] = attendance_date
        return initial

    @staticmethod
    def _agenda_initial(meeting: Meeting):
        items = list(meeting.agenda_items.all())
        if not items:
            return [{"title": line[:200]} for line in meeting.agenda_lines()], {}
        agenda = [{"title": i.title, "category": i.category, "record": i.record} for i in items]
        speeches = {
            index: [
                {"speaker": _pk(s.speaker), "speaker_name": s.speaker_name, "views": s.views}
                for s in item.speeches.all()
            ]
            for index, item in enumerate(items)
        }
        return agenda, speeches

    # -- validation ------------------------------------------------------------------------------

    def formsets(self) -> list:
        result = [self.roster, self.observers, self.agenda, self.actions, self.follow_ups]
        if self.evaluations is not None:
            result.append(self.evaluations)
        return result

    def is_valid(self) -> bool:
        valid = self.head.is_valid()
        for formset in self.formsets():
            valid = formset.is_valid() and valid
        if self.life is not None:
            valid = self.life.is_valid() and valid
        return valid

    # -- saving through the services -------------------------------------------------------------

    def attendance_inputs(self) -> list[services.AttendanceInput]:
        result = [
            services.AttendanceInput(
                role=form.cleaned_data["role"],
                member=form.cleaned_data["member"],
                absence_reason=form.cleaned_data.get("absence_reason", ""),
            )
            for form in self.roster.forms
        ]
        for form in _kept(self.observers):
            member = form.cleaned_data.get("member")
            result.append(
                services.AttendanceInput(
                    role=AttendanceRole.OBSERVER,
                    member=member,
                    person_name="" if member else form.cleaned_data["person_name"].strip(),
                    person_title=form.cleaned_data.get("person_title", "").strip(),
                )
            )
        return result

    def agenda_inputs(self) -> list[services.AgendaItemInput]:
        items = []
        for form in _kept(self.agenda):
            speeches = [
                services.SpeechInput(
                    views=s.cleaned_data.get("views", ""),
                    speaker=s.cleaned_data.get("speaker"),
                    speaker_name=s.cleaned_data.get("speaker_name", ""),
                )
                for s in _kept(form.speeches)
            ]
            items.append(
                services.AgendaItemInput(
                    title=form.cleaned_data["title"],
                    record=form.cleaned_data.get("record", ""),
                    category=form.cleaned_data["category"],
                    speeches=speeches,
                )
            )
        return items

    def action_inputs(self) -> list[services.ActionItemInput]:
        return [
            services.ActionItemInput(
                description=form.cleaned_data["description"],
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
                measures=form.cleaned_data.get("measures", ""),
                agenda_number=form.cleaned_data.get("agenda_number"),
                is_rectification=form.cleaned_data.get("is_rectification", False),
                item_id=form.cleaned_data.get("item_id"),
            )
            for form in _kept(self.actions)
        ]

    def follow_up_inputs(self) -> list[services.FollowUpInput]:
        return [
            services.FollowUpInput(
                action_item=form.cleaned_data["action_item"],
                note=form.cleaned_data["note"].strip(),
                status_after=form.cleaned_data["status_after"],
                completed_on=form.cleaned_data.get("completed_on"),
            )
            for form in self.follow_ups.forms
            if form.has_changed() or (form.cleaned_data.get("note") or "").strip()
        ]

    def evaluation_inputs(self) -> list[services.EvaluationInput]:
        return [
            services.EvaluationInput(
                member=form.cleaned_data["member"],
                self_evaluation=form.cleaned_data["self_evaluation"],
                peer_result=form.cleaned_data["peer_result"],
                note=form.cleaned_data.get("note", ""),
            )
            for form in self.evaluations.forms
            if (form.cleaned_data.get("self_evaluation") or "").strip()
            or form.cleaned_data.get("peer_result")
        ]

    def minutes_input(self) -> services.MinutesInput:
        head = self.head.cleaned_data
        return services.MinutesInput(
            held_on=head["held_on"],
            half_day=head["half_day"],
            start_time=head["start_time"],
            end_time=head["end_time"],
            place=head["place"],
            host=head["host"],
            recorder=head["recorder"],
            chair_summary=head["chair_summary"],
            opening=head.get("opening", ""),
            attendance=self.attendance_inputs(),
            agenda_items=self.agenda_inputs(),
            action_items=self.action_inputs(),
            follow_ups=self.follow_up_inputs(),
        )

    def save(self, *, by, mark_held: bool) -> Minutes:
        """Hand the typed input of the whole page to ``services.minutes_page_save`` (one transaction:
        minutes, life record / evaluations, held). Its ``ValidationError`` carries every refusal at
        once (nothing saved); ``PermissionDenied`` propagates (403)."""
        changed_life = self.life is not None and self.life.has_changed()
        return services.minutes_page_save(
            meeting=self.meeting,
            by=by,
            minutes=self.minutes_input(),
            life_record=_life_fields(self.life.cleaned_data) if changed_life else None,
            evaluations=self.evaluation_inputs() if self.evaluations is not None else None,
            mark_held=mark_held,
        )


def _life_fields(cleaned: dict) -> dict:
    return {name: cleaned.get(name, "") for name in LifeRecordForm.Meta.fields}


def _kept(formset) -> list:
    """Forms of ``formset`` that carry input and are not ticked for deletion (blank rows are left out)."""
    return [form for form in formset.forms if _filled(form)]


def _filled(form) -> bool:
    data = getattr(form, "cleaned_data", None) or {}
    if data.get("DELETE"):
        return False
    return any(value not in (None, "", False) for name, value in data.items() if name != "DELETE")


def _existing_minutes(meeting: Meeting) -> Minutes | None:
    try:
        return meeting.minutes
    except Minutes.DoesNotExist:
        return None


def _existing_life_record(meeting: Meeting) -> LifeMeetingRecord | None:
    try:
        return meeting.life_record
    except LifeMeetingRecord.DoesNotExist:
        return None


def attendance_date_from(value: str | None) -> dt.date | None:
    """The ``?date=`` of the minutes page (roster on that day); ``None`` when absent or malformed."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# --- The group's opinion on a person it cultivates (R-22; seed 002's second agenda item) ----------


class CultivationOpinionForm(forms.Form):
    """R-22: “讨论对入党申请人的意见、推荐吸收入党积极分子人选” — recorded on a held meeting's page.

    Whether the meeting, the person and the proposed stage fit is ``services.cultivation_opinion_record``'s
    answer (a meeting not held or archived, a stage other than the next one: refused, nothing saved).
    """

    candidate = forms.ModelChoiceField(
        label=_("培养对象"), queryset=CultivationCandidate.objects.none(), empty_label=_("请选择")
    )
    recommendation = forms.ChoiceField(
        label=_("推荐意见"), choices=Recommendation.choices, widget=forms.RadioSelect
    )
    proposed_stage = forms.ChoiceField(
        label=_("推荐为"),
        choices=[("", _("（下一培养阶段）")), *CultivationStageKind.choices],
        required=False,
    )
    agenda_item = forms.ModelChoiceField(
        label=_("所属议题"), queryset=AgendaItem.objects.none(), required=False, empty_label=_("（不指定）")
    )
    opinion = forms.CharField(label=_("党小组意见"), widget=_textarea(3))

    def __init__(self, *args, candidates, agenda_items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidate"].queryset = candidates
        self.fields["agenda_item"].queryset = agenda_items
