"""Tests of meetings/forms.py: the forms type and read the input; every domain rule is left to the
services (R-14 … R-19), so what is tested here is what the forms add — members offered without a
query per row, blank rows left out, nested speeches in speaking order, the agenda prefill (R-16, R-17)
and the saving of a whole minutes page in one transaction (nothing saved on refusal)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from meetings import services
from meetings.enums import ActionItemStatus, AttendanceRole, MeetingKind, MeetingState, TopicCategory
from meetings.forms import (
    AgendaItemFormSet,
    FollowUpForm,
    MemberChoiceField,
    MinutesEntry,
    ObserverForm,
    PlanItemFormSet,
    SpeechFormSet,
    TalkForm,
    attendance_date_from,
    plan_item_inputs,
    prefill_agenda,
)
from meetings.models import ActionItem, AnnualPlan, AnnualPlanItem, Meeting, Minutes
from meetings.selectors import roster_on
from tests import factories as f
from tests.meetings.factories import make_meeting

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def row_counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in apps.get_app_config("meetings").get_models()}


# --- MemberChoiceField ----------------------------------------------------------------------------


def test_member_choice_field_returns_the_offered_member_without_queries(world, django_assert_num_queries):
    members = world.members
    field = MemberChoiceField(members=members, required=False)
    with django_assert_num_queries(0):
        assert field.clean(str(members[2].pk)) == members[2]
        assert field.clean("") is None
    assert [value for value, _ in field.choices] == ["", *(str(m.pk) for m in members)]


def test_member_choice_field_refuses_a_member_not_offered(world):
    outsider = f.MemberFactory()
    field = MemberChoiceField(members=world.members)
    for value in (str(outsider.pk), "abc", ""):
        with pytest.raises(Exception) as info:
            field.clean(value)
        assert info.type.__name__ == "ValidationError", value


def test_talk_form_offers_only_the_given_members(world):
    outsider = f.MemberFactory(branch=world.branch)
    data = {
        "talked_on": TODAY.isoformat(),
        "initiator": str(world.members[0].pk),
        "partner": str(outsider.pk),
        "topic": "交流",
        "summary": "要点",
    }
    form = TalkForm(data, members=world.members)
    assert not form.is_valid()
    assert list(form.errors) == ["partner"]
    form = TalkForm({**data, "partner": str(world.members[1].pk)}, members=world.members)
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["initiator"], form.cleaned_data["partner"]) == (
        world.members[0],
        world.members[1],
    )


# --- Observers, speeches, agenda items ------------------------------------------------------------


def test_observer_form_needs_a_member_or_a_name(world):
    form = ObserverForm({"person_title": "副局长"}, members=world.members)
    assert not form.is_valid()
    assert form.non_field_errors() == ["列席人员：请选择本支部党员，或填写系统外人员的姓名。"]
    assert ObserverForm({"person_name": "赵建国"}, members=world.members).is_valid()
    assert ObserverForm({"member": str(world.members[1].pk)}, members=world.members).is_valid()


def test_speech_formset_template_uses_its_own_placeholder(world):
    """Adding an agenda item in the browser replaces ``__prefix__`` first; speeches use ``__speech__``."""
    formset = AgendaItemFormSet(prefix="agenda", members=world.members)
    empty = formset.empty_form
    assert empty.prefix == "agenda-__prefix__"
    assert empty.speeches.prefix == "agenda-__prefix__-sp"
    assert empty.speeches.empty_form.prefix == "agenda-__prefix__-sp-__speech__"
    assert SpeechFormSet(prefix="x").empty_form.prefix == "x-__speech__"


def _agenda_data(**extra) -> dict[str, str]:
    data = {
        "agenda-TOTAL_FORMS": "2",
        "agenda-INITIAL_FORMS": "0",
        "agenda-0-title": "学习党章",
        "agenda-0-category": TopicCategory.STUDY,
        "agenda-0-sp-TOTAL_FORMS": "3",
        "agenda-0-sp-INITIAL_FORMS": "0",
        "agenda-0-sp-0-speaker_name": "张三",
        "agenda-0-sp-0-views": "先发言",
        "agenda-0-sp-2-speaker_name": "李四",
        "agenda-0-sp-2-views": "后发言",
        "agenda-1-title": "",
        "agenda-1-category": TopicCategory.STUDY,
        "agenda-1-sp-TOTAL_FORMS": "1",
        "agenda-1-sp-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_agenda_formset_keeps_speaking_order_and_leaves_blank_rows_out(world):
    formset = AgendaItemFormSet(_agenda_data(), prefix="agenda", members=world.members)
    assert formset.is_valid(), formset.errors
    forms = [form for form in formset.forms if form.cleaned_data]
    assert [form.cleaned_data["title"] for form in forms] == ["学习党章"]
    speeches = [s.cleaned_data for s in forms[0].speeches.forms if s.cleaned_data]
    assert [(s["speaker_name"], s["views"]) for s in speeches] == [("张三", "先发言"), ("李四", "后发言")]


def test_agenda_item_with_only_a_speech_reports_the_missing_title(world):
    data = _agenda_data(**{"agenda-1-sp-0-speaker_name": "王五", "agenda-1-sp-0-views": "观点"})
    formset = AgendaItemFormSet(data, prefix="agenda", members=world.members)
    assert not formset.is_valid()
    assert list(formset.forms[1].errors) == ["title"]


def test_agenda_formset_invalid_when_a_nested_speech_is_invalid(world):
    data = _agenda_data(**{"agenda-0-sp-1-speaker": "999999", "agenda-0-sp-1-views": "x"})
    formset = AgendaItemFormSet(data, prefix="agenda", members=world.members)
    assert not formset.is_valid()
    assert list(formset.forms[0].speeches.forms[1].errors) == ["speaker"]


# --- Follow-ups, plan items, prefill --------------------------------------------------------------


def test_follow_up_needs_a_note_when_changed(world):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    item = ActionItem.objects.get(meeting=meeting)
    initial = {"action_item": item.pk, "note": "", "status_after": item.status}
    unchanged = FollowUpForm(
        {"action_item": str(item.pk), "status_after": item.status}, initial=initial, items={item.pk: item}
    )
    assert unchanged.is_valid() and not unchanged.has_changed()
    changed = FollowUpForm(
        {"action_item": str(item.pk), "status_after": ActionItemStatus.IN_PROGRESS},
        initial=initial,
        items={item.pk: item},
    )
    assert not changed.is_valid()
    assert changed.errors["note"] == ["跟进议定事项时请填写进展情况。"]
    foreign = FollowUpForm(
        {"action_item": "424242", "status_after": "open", "note": "x"}, items={item.pk: item}
    )
    assert foreign.errors["action_item"] == ["该议定事项不存在或不属于本党小组。"]


def test_plan_item_inputs_leave_out_rows_without_topic_and_deleted_rows():
    data = {
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-0-month": "1",
        "items-0-kind": MeetingKind.GROUP_MEETING,
        "items-0-topic": "学习党章",
        "items-0-category": TopicCategory.STUDY,
        "items-1-month": "2",
        "items-1-kind": MeetingKind.GROUP_MEETING,
        "items-1-topic": "  ",
        "items-1-category": TopicCategory.STUDY,
        "items-2-month": "3",
        "items-2-kind": MeetingKind.LIFE_MEETING,
        "items-2-topic": "组织生活会",
        "items-2-category": TopicCategory.ORGANISATIONAL_LIFE,
        "items-2-DELETE": "on",
    }
    formset = PlanItemFormSet(data, prefix="items")
    assert formset.is_valid(), formset.errors
    assert plan_item_inputs(formset) == [
        services.PlanItemInput(
            month=1, topic="学习党章", kind=MeetingKind.GROUP_MEETING, category=TopicCategory.STUDY
        )
    ]


def test_prefill_agenda_takes_the_months_plan_items_and_open_matters(world):
    plan = AnnualPlan.objects.create(group=world.group, year=2026, created_by=world.leader)
    AnnualPlanItem.objects.create(plan=plan, month=4, topic="四月主题一", kind=MeetingKind.EVALUATION)
    AnnualPlanItem.objects.create(plan=plan, month=4, topic="四月主题二")
    AnnualPlanItem.objects.create(plan=plan, month=5, topic="五月主题")
    owner = world.members[1]
    matter = ActionItem(description="整改材料\n第二行", owner=owner, due_on=dt.date(2026, 5, 1))
    agenda, kind = prefill_agenda(plan=plan, month=4, open_items=[matter])
    assert agenda.splitlines() == [
        "四月主题一",
        "四月主题二",
        f"跟进议定事项：整改材料（责任人：{owner.name}，时限：2026-05-01）",
    ]
    assert kind == MeetingKind.EVALUATION
    assert prefill_agenda(plan=None, month=4, open_items=[]) == ("", None)


def test_attendance_date_from_ignores_malformed_values():
    assert attendance_date_from("2026-03-05") == dt.date(2026, 3, 5)
    assert attendance_date_from("2026-13-05") is None
    assert attendance_date_from(None) is None


# --- MinutesEntry: the whole page -----------------------------------------------------------------


def _entry(meeting, data=None) -> MinutesEntry:
    meeting = Meeting.objects.get(pk=meeting.pk)
    roster = roster_on(meeting.group, meeting.planned_date)
    members = list(meeting.group.branch.members.all())
    return MinutesEntry(
        meeting,
        roster=roster,
        members=members,
        open_items=services.open_action_items(meeting.group, exclude_meeting=meeting),
        data=data,
        default_host=roster[0],
    )


def test_minutes_entry_prefills_roster_and_agenda_from_the_request(world):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=TODAY - DAY)
    entry = _entry(meeting)
    roster = roster_on(world.group, meeting.planned_date)
    assert [(form.initial["member"], form.initial["role"]) for form in entry.roster.forms] == [
        (str(m.pk), AttendanceRole.PRESENT) for m in roster
    ]
    assert [form.member_name for form in entry.roster.forms] == [m.name for m in roster]
    assert [form.initial["title"] for form in entry.agenda.forms] == meeting.agenda_lines()
    assert entry.head.initial["held_on"] == meeting.planned_date
    assert entry.head.initial["half_day"] == "pm"  # planned at 15:00
    assert entry.life is None and entry.evaluations is None


def _valid_data(world, meeting) -> dict[str, str]:
    roster = roster_on(world.group, meeting.planned_date)
    data = {
        "m-held_on": meeting.planned_date.isoformat(),
        "m-half_day": "pm",
        "m-start_time": "15:00",
        "m-end_time": "16:00",
        "m-place": "会议室",
        "m-host": str(world.leader_member.pk),
        "m-recorder": str(roster[1].pk if roster[0] == world.leader_member else roster[0].pk),
        "m-chair_summary": "总结",
        "att-TOTAL_FORMS": str(len(roster)),
        "att-INITIAL_FORMS": str(len(roster)),
        "obs-TOTAL_FORMS": "0",
        "obs-INITIAL_FORMS": "0",
        "agenda-TOTAL_FORMS": "1",
        "agenda-INITIAL_FORMS": "1",
        "agenda-0-title": "学习",
        "agenda-0-category": TopicCategory.STUDY,
        "agenda-0-sp-TOTAL_FORMS": "0",
        "agenda-0-sp-INITIAL_FORMS": "0",
        "act-TOTAL_FORMS": "0",
        "act-INITIAL_FORMS": "0",
        "fu-TOTAL_FORMS": "0",
        "fu-INITIAL_FORMS": "0",
    }
    for index, member in enumerate(roster):
        data[f"att-{index}-member"] = str(member.pk)
        data[f"att-{index}-role"] = AttendanceRole.PRESENT
    return data


def test_minutes_entry_saves_through_the_services_and_marks_held(world):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=TODAY - DAY)
    entry = _entry(meeting, _valid_data(world, meeting))
    assert entry.is_valid()
    minutes = entry.save(by=world.leader, mark_held=True)
    meeting.refresh_from_db()
    assert (meeting.state, minutes.place, minutes.chair_summary) == (MeetingState.HELD, "会议室", "总结")
    assert list(meeting.agenda_items.values_list("number", "title")) == [(1, "学习")]


def test_minutes_entry_collects_every_services_refusal_and_saves_nothing(world):
    """Minutes and evaluations are refused together; the transaction leaves no row behind."""
    meeting = make_meeting(
        world.group,
        world.leader,
        kind=MeetingKind.EVALUATION,
        state=MeetingState.NOTIFIED,
        planned_date=TODAY - DAY,
    )
    data = _valid_data(world, meeting)
    data.update({"m-end_time": "14:00", "ev-TOTAL_FORMS": "0", "ev-INITIAL_FORMS": "0"})
    entry = _entry(meeting, data)
    assert entry.is_valid()
    before = row_counts()
    with pytest.raises(Exception) as info:
        entry.save(by=world.leader, mark_held=True)
    assert info.value.messages == ["结束时间必须晚于开始时间。", "请至少填写一名党员的评议结果（R-19）。"]
    assert row_counts() == before
    assert not Minutes.objects.filter(meeting=meeting).exists()
