"""Tests of meetings/services.py: the whole workflow for each kind (R-11, R-12, R-13, R-21), the minutes
(R-14…R-16), life meetings (R-18), evaluations (R-19), talks (R-20), annual plans (R-17), addenda.

Every refusal counts the rows (and history rows) of every model of the meetings app before and after,
and checks the meeting's state is unchanged: a refused action saves nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from groups.services import candidate_create
from meetings import services
from meetings.enums import (
    Action,
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    MeetingKind,
    MeetingState,
    TopicCategory,
)
from meetings.models import (
    ActionFollowUp,
    ActionItem,
    AnnualPlan,
    EvaluationResult,
    LifeMeetingRecord,
    Meeting,
    MeetingAddendum,
    MeetingTransition,
    Talk,
)
from meetings.selectors import roster_on
from members.enums import CommitteePost
from tests import factories as f
from tests.meetings.factories import (
    LIFE_RECORD,
    approver_for,
    evaluation_inputs,
    make_meeting,
    minutes_kwargs,
)

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def row_counts() -> dict[str, int]:
    """Rows of every model of the meetings app, historical models included."""
    return {m.__name__: m._default_manager.count() for m in apps.get_app_config("meetings").get_models()}


def assert_refused(call, exc_type=ValidationError, *, contains: str | tuple[str, ...] = ()):
    """Run ``call``; it must raise ``exc_type`` (message containing ``contains``) and change no row."""
    before = row_counts()
    with pytest.raises(exc_type) as info:
        call()
    text = " ".join(info.value.messages) if isinstance(info.value, ValidationError) else str(info.value)
    for part in (contains,) if isinstance(contains, str) else contains:
        assert part in text, text
    assert row_counts() == before
    return text


def transitions(meeting) -> list[tuple[str, str, str, str, str]]:
    return list(
        MeetingTransition.objects.filter(meeting=meeting)
        .order_by("at", "id")
        .values_list("action", "from_state", "to_state", "by__username", "comment")
    )


def history(obj) -> list[tuple[str, str | None, str | None]]:
    """(type, user, reason) of every history row of ``obj``, oldest first."""
    return list(
        obj.history.order_by("history_date", "history_id").values_list(
            "history_type", "history_user__username", "history_change_reason"
        )
    )


def new_meeting(world, kind=MeetingKind.GROUP_MEETING, planned_date=None, **kwargs) -> Meeting:
    return services.meeting_create(
        group=world.group,
        kind=kind,
        title=kwargs.pop("title", "学习党的二十大精神"),
        planned_date=planned_date or TODAY - 10 * DAY,
        planned_start=dt.time(15, 0),
        planned_place="三楼会议室",
        agenda="学习党的二十大精神\n研究落实支部年度工作安排",
        by=world.leader,
        **kwargs,
    )


# --- The whole workflow, each kind ---------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MeetingKind))
def test_workflow_whole_for_each_kind(world, kind):
    """R-11 draft → submitted → approved → notified → held (R-12) → reported (R-13) → archived (R-12)."""
    leader, secretary = world.leader, world.secretary
    meeting = new_meeting(world, kind=kind)
    assert (meeting.state, meeting.held_on, meeting.archive_number) == (MeetingState.DRAFT, None, "")

    meeting = services.meeting_submit(meeting=meeting, by=leader, comment="请审定")
    assert meeting.state == MeetingState.SUBMITTED
    meeting = services.meeting_approve(meeting=meeting, by=secretary, comment="同意")
    assert meeting.state == MeetingState.APPROVED
    notice = services.meeting_notify(meeting=meeting, by=leader)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED
    assert notice.recipients.count() == len(roster_on(world.group, meeting.planned_date))

    held_on = TODAY - 9 * DAY  # held a day after the planned date
    if kind == MeetingKind.LIFE_MEETING:
        services.life_record_save(meeting=meeting, by=leader, **LIFE_RECORD)
    if kind == MeetingKind.EVALUATION:
        services.evaluations_save(meeting=meeting, by=leader, results=evaluation_inputs(meeting, held_on))
    minutes = services.minutes_save(
        meeting=meeting,
        by=leader,
        mark_held=True,
        **minutes_kwargs(meeting, world.leader_member, held_on=held_on),
    )
    meeting.refresh_from_db()
    assert (meeting.state, meeting.held_on, minutes.held_on) == (MeetingState.HELD, held_on, held_on)

    meeting = services.meeting_report(meeting=meeting, by=leader, comment="已按要求召开")
    assert meeting.state == MeetingState.REPORTED
    before_archive = timezone.now()
    meeting = services.meeting_archive(meeting=meeting, by=secretary, comment="存档备查")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.ARCHIVED
    assert meeting.archive_number == f"{held_on.year}-{world.group.pk:05d}-001"
    assert meeting.archived_at >= before_archive

    assert transitions(meeting) == [
        (Action.SUBMIT, "draft", "submitted", "leader", "请审定"),
        (Action.APPROVE, "submitted", "approved", "secretary", "同意"),
        (Action.NOTIFY, "approved", "notified", "leader", ""),
        (Action.HOLD, "notified", "held", "leader", ""),
        (Action.REPORT, "held", "reported", "leader", "已按要求召开"),
        (Action.ARCHIVE, "reported", "archived", "secretary", "存档备查"),
    ]
    times = list(
        MeetingTransition.objects.filter(meeting=meeting).order_by("id").values_list("at", flat=True)
    )
    assert times == sorted(times)
    assert history(meeting) == [
        ("+", "leader", "新建会议"),
        ("~", "leader", "向党支部请示"),
        ("~", "secretary", "批准"),
        ("~", "leader", "通知全体党员"),
        ("~", "leader", "记录召开情况"),
        ("~", "leader", "上报党支部"),
        ("~", "secretary", "存档"),
    ]
    assert history(minutes) == [("+", "leader", "填写会议记录")]

    roster = roster_on(world.group, held_on)
    absentee = roster[-1] if roster[-1] != world.leader_member else roster[-2]
    attendance = {(a.display_name, a.role, a.absence_reason) for a in meeting.attendances.all()}
    assert attendance == {
        *((m.name, AttendanceRole.PRESENT, "") for m in roster if m != absentee),
        (absentee.name, AttendanceRole.ABSENT, "出差"),
        ("赵建国", AttendanceRole.OBSERVER, ""),
    }
    items = list(meeting.agenda_items.order_by("number"))
    assert [(i.number, i.title) for i in items] == [
        (1, "学习党的二十大精神"),
        (2, "研究落实支部年度工作安排"),
    ]
    speakers = [s.speaker for s in items[0].speeches.order_by("order")]
    if kind == MeetingKind.LIFE_MEETING:  # the leader speaks first in a life meeting
        assert speakers[0] == world.leader_member
    else:  # members first, the leader last
        assert speakers[-1] == world.leader_member
    action = ActionItem.objects.get(meeting=meeting)
    assert (action.status, action.due_on, action.agenda_item_id) == (
        ActionItemStatus.OPEN,
        held_on + 30 * DAY,
        items[0].pk,
    )
    assert action.is_rectification == (kind == MeetingKind.LIFE_MEETING)
    if kind == MeetingKind.LIFE_MEETING:  # R-18 before / during / after
        record = LifeMeetingRecord.objects.get(meeting=meeting)
        assert {k: getattr(record, k) for k in LIFE_RECORD} == LIFE_RECORD
    if kind == MeetingKind.EVALUATION:  # R-19 every member's self- and peer-evaluation
        assert {(r.member_id, r.peer_result) for r in EvaluationResult.objects.filter(meeting=meeting)} == {
            (m.pk, [EvaluationGrade.EXCELLENT, EvaluationGrade.QUALIFIED][i % 2])
            for i, m in enumerate(roster)
        }


@pytest.mark.parametrize("kind", list(MeetingKind))
@pytest.mark.parametrize("state", list(MeetingState))
def test_make_meeting_reaches_every_state(world, kind, state):
    """The shared factory walks the services into every state of every kind."""
    meeting = make_meeting(world.group, world.leader, kind=kind, state=state)
    assert meeting.state == state
    assert (meeting.held_on is not None) == (state in {"held", "reported", "archived"})


def test_archive_numbers_count_up_per_group_and_year(world):
    first = make_meeting(world.group, world.leader, held_on=TODAY - 20 * DAY)
    second = make_meeting(world.group, world.leader, held_on=TODAY - 10 * DAY)
    year_of = {first.held_on.year, second.held_on.year}
    if len(year_of) == 1:
        assert [first.archive_number, second.archive_number] == [
            f"{first.held_on.year}-{world.group.pk:05d}-001",
            f"{first.held_on.year}-{world.group.pk:05d}-002",
        ]
    else:  # the two dates straddle New Year: each year starts again at 001
        assert first.archive_number.endswith("-001") and second.archive_number.endswith("-001")


def test_return_with_comment_then_edit_and_resubmit(world):
    meeting = services.meeting_submit(meeting=new_meeting(world), by=world.leader)
    meeting = services.meeting_return(meeting=meeting, by=world.secretary, comment="请补充学习篇目")
    assert meeting.state == MeetingState.RETURNED
    meeting = services.meeting_update_request(meeting=meeting, by=world.leader, agenda="学习党章\n学习党规")
    assert meeting.agenda_lines() == ["学习党章", "学习党规"]
    meeting = services.meeting_submit(meeting=meeting, by=world.leader)
    assert [t[:3] for t in transitions(meeting)] == [
        (Action.SUBMIT, "draft", "submitted"),
        (Action.RETURN, "submitted", "returned"),
        (Action.SUBMIT, "returned", "submitted"),
    ]
    assert transitions(meeting)[1][3:] == ("secretary", "请补充学习篇目")


def test_deputy_leader_may_submit(world):
    deputy = world.members[2]
    f.LeaderAppointmentFactory(group=world.group, member=deputy, role="deputy")
    user = f.user_for(deputy, "deputy")
    meeting = services.meeting_submit(meeting=new_meeting(world), by=user)
    assert meeting.state == MeetingState.SUBMITTED


@pytest.mark.parametrize(
    "post", [CommitteePost.SECRETARY, CommitteePost.ORGANISATION, CommitteePost.DISCIPLINE]
)
def test_approve_by_each_approving_post(world, post):
    """R-11: the secretary, the organisation or the discipline committee member approves."""
    if post == CommitteePost.SECRETARY:
        approver = world.secretary
    else:
        member = f.GroupMembershipFactory(group=world.other_group).member
        f.CommitteeMembershipFactory(member=member, post=post)
        approver = f.user_for(member, f"approver_{post}")
    meeting = services.meeting_submit(meeting=new_meeting(world), by=world.leader)
    assert services.meeting_approve(meeting=meeting, by=approver).state == MeetingState.APPROVED


# --- Refusals: workflow --------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["draft", "submitted", "returned"])
def test_hold_before_approved_refused(world, state):
    """R-11: a meeting not approved by the branch cannot be recorded as held (nothing saved)."""
    meeting = make_meeting(world.group, world.leader, state=state, planned_date=TODAY - 10 * DAY)
    kwargs = minutes_kwargs(meeting, world.leader_member)
    assert_refused(
        lambda: services.minutes_save(meeting=meeting, by=world.leader, mark_held=True, **kwargs),
        contains=("尚未经党支部批准", "R-11"),
    )
    assert_refused(lambda: services.meeting_hold(meeting=meeting, by=world.leader), contains="R-11")
    meeting.refresh_from_db()
    assert (meeting.state, meeting.held_on) == (state, None)


@pytest.mark.parametrize("state", ["draft", "submitted", "returned"])
def test_party_day_held_without_approval_refused_r21(world, state):
    """R-21 (hard): a themed party day cannot be marked held without the branch's approval."""
    meeting = make_meeting(
        world.group, world.leader, kind=MeetingKind.PARTY_DAY, state=state, planned_date=TODAY - 10 * DAY
    )
    kwargs = minutes_kwargs(meeting, world.leader_member)
    text = assert_refused(
        lambda: services.minutes_save(meeting=meeting, by=world.leader, mark_held=True, **kwargs),
        contains=("主题党日须报党支部同意", "R-21"),
    )
    assert "R-11" not in text
    assert_refused(lambda: services.meeting_hold(meeting=meeting, by=world.leader), contains="R-21")
    meeting.refresh_from_db()
    assert meeting.state == state


def test_hold_approved_but_not_notified_refused(world):
    meeting = make_meeting(world.group, world.leader, state="approved", planned_date=TODAY - 10 * DAY)
    kwargs = minutes_kwargs(meeting, world.leader_member)
    assert_refused(
        lambda: services.minutes_save(meeting=meeting, by=world.leader, mark_held=True, **kwargs),
        contains="请先发送会议通知",
    )
    assert_refused(lambda: services.meeting_hold(meeting=meeting, by=world.leader), contains="会议通知")


def test_hold_without_minutes_refused(world):
    meeting = make_meeting(world.group, world.leader, state="notified", planned_date=TODAY - 10 * DAY)
    assert_refused(
        lambda: services.meeting_hold(meeting=meeting, by=world.leader), contains="请先填写会议记录"
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [(MeetingKind.LIFE_MEETING, "R-18"), (MeetingKind.EVALUATION, "R-19")],
)
def test_hold_life_meeting_or_evaluation_without_record_refused(world, kind, message):
    meeting = make_meeting(
        world.group, world.leader, kind=kind, state="notified", planned_date=TODAY - 10 * DAY
    )
    kwargs = minutes_kwargs(meeting, world.leader_member)
    assert_refused(
        lambda: services.minutes_save(meeting=meeting, by=world.leader, mark_held=True, **kwargs),
        contains=message,
    )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED
    assert not hasattr(meeting, "minutes")


def test_approve_by_non_committee_users_refused(world):
    meeting = make_meeting(world.group, world.leader, state="submitted")
    propaganda = f.GroupMembershipFactory(group=world.other_group).member
    f.CommitteeMembershipFactory(member=propaganda, post=CommitteePost.PROPAGANDA)
    propaganda_user = f.user_for(propaganda, "propaganda")
    for user in (world.leader, world.member_user, world.other_leader, world.other_secretary, world.org_staff):
        assert_refused(
            lambda user=user: services.meeting_approve(meeting=meeting, by=user),
            PermissionDenied,
            contains="R-11",
        )
    assert_refused(lambda: services.meeting_approve(meeting=meeting, by=propaganda_user), PermissionDenied)
    assert_refused(
        lambda: services.meeting_return(meeting=meeting, by=world.leader, comment="不同意"), PermissionDenied
    )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SUBMITTED


def test_submit_by_other_groups_leader_refused(world):
    meeting = new_meeting(world)
    for user in (world.other_leader, world.member_user, world.secretary):
        assert_refused(
            lambda user=user: services.meeting_submit(meeting=meeting, by=user),
            PermissionDenied,
            contains="组长或副组长",
        )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.DRAFT


def test_create_by_non_leader_refused(world):
    before = row_counts()
    with pytest.raises(PermissionDenied):
        services.meeting_create(
            group=world.group,
            kind=MeetingKind.GROUP_MEETING,
            title="会议",
            planned_date=TODAY,
            agenda="学习",
            by=world.other_leader,
        )
    assert row_counts() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "学习\r\nBcc: evil@example.org"}, "换行"),
        ({"title": "  "}, "请填写会议主题"),
        ({"agenda": " \n "}, "请填写拟定议题"),
        ({"planned_date": dt.date(2019, 12, 31)}, "不能早于党小组建立日期"),
    ],
)
def test_create_with_bad_request_refused(world, changes, message):
    kwargs = {"title": "学习", "planned_date": TODAY, "agenda": "学习党章", **changes}
    assert_refused(
        lambda: services.meeting_create(
            group=world.group, kind=MeetingKind.GROUP_MEETING, by=world.leader, **kwargs
        ),
        contains=message,
    )


def test_update_request_after_submit_refused(world):
    meeting = make_meeting(world.group, world.leader, state="submitted")
    assert_refused(
        lambda: services.meeting_update_request(meeting=meeting, by=world.leader, title="新主题"),
        contains="请示内容已提交",
    )
    assert_refused(
        lambda: services.meeting_update_request(meeting=meeting, by=world.leader, state="approved"),
        contains="不能修改字段",
    )


def test_return_without_comment_refused(world):
    meeting = make_meeting(world.group, world.leader, state="submitted")
    assert_refused(
        lambda: services.meeting_return(meeting=meeting, by=world.secretary, comment="  "),
        contains="必须填写意见",
    )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SUBMITTED


def test_archive_before_report_refused(world):
    meeting = make_meeting(world.group, world.leader, state="held")
    assert_refused(
        lambda: services.meeting_archive(meeting=meeting, by=world.secretary),
        contains=("已召开", "存档", "已上报"),
    )
    meeting.refresh_from_db()
    assert (meeting.state, meeting.archive_number) == (MeetingState.HELD, "")


def test_report_by_committee_refused_and_archive_by_leader_refused(world):
    meeting = make_meeting(world.group, world.leader, state="held")
    assert_refused(lambda: services.meeting_report(meeting=meeting, by=world.secretary), PermissionDenied)
    meeting = services.meeting_report(meeting=meeting, by=world.leader)
    assert_refused(lambda: services.meeting_archive(meeting=meeting, by=world.leader), PermissionDenied)


def test_cancel_needs_comment_and_is_refused_once_minutes_exist(world):
    meeting = make_meeting(world.group, world.leader, state="notified", planned_date=TODAY - 10 * DAY)
    assert_refused(
        lambda: services.meeting_cancel(meeting=meeting, by=world.leader, comment=""), contains="意见"
    )
    services.minutes_save(meeting=meeting, by=world.leader, **minutes_kwargs(meeting, world.leader_member))
    assert_refused(
        lambda: services.meeting_cancel(meeting=meeting, by=world.leader, comment="临时取消"),
        contains="不能取消",
    )
    cancelled = services.meeting_cancel(
        meeting=make_meeting(world.group, world.leader, state="approved"), by=world.leader, comment="临时取消"
    )
    assert cancelled.state == MeetingState.CANCELLED


def test_unknown_action_refused(world):
    meeting = new_meeting(world)
    assert_refused(
        lambda: services.meeting_transition(meeting=meeting, action="teleport", by=world.leader),
        contains="未知的操作",
    )


# --- Refusals: minutes ---------------------------------------------------------------------------
@pytest.fixture
def notified(world):
    return make_meeting(world.group, world.leader, state="notified", planned_date=TODAY - 10 * DAY)


def _save(world, meeting, mark_held=True, **overrides):
    kwargs = minutes_kwargs(meeting, world.leader_member)
    kwargs.update(overrides)
    return services.minutes_save(meeting=meeting, by=world.leader, mark_held=mark_held, **kwargs)


def _refused_minutes(world, meeting, *, contains, **overrides):
    assert_refused(lambda: _save(world, meeting, **overrides), contains=contains)
    meeting.refresh_from_db()
    assert (meeting.state, meeting.held_on) == (MeetingState.NOTIFIED, None)
    assert not hasattr(meeting, "minutes")


def _attendance(world, meeting, replace: dict | None = None, extra=()):
    """The factory's attendance with entries replaced (by member) and extra entries added."""
    entries = list(minutes_kwargs(meeting, world.leader_member)["attendance"])
    replace = replace or {}
    entries = [replace.get(a.member.pk, a) if a.member else a for a in entries]
    return [*entries, *extra]


def test_minutes_end_before_start_refused(world, notified):
    _refused_minutes(
        world,
        notified,
        contains="结束时间必须晚于开始时间",
        start_time=dt.time(16, 0),
        end_time=dt.time(15, 0),
    )


def test_minutes_future_date_marked_held_refused(world, notified):
    future = TODAY + DAY
    _refused_minutes(world, notified, contains=f"会议日期（{future:%Y-%m-%d}）在今天之后", held_on=future)


def test_minutes_future_date_as_draft_allowed_then_hold_refused(world, notified):
    """Minutes may be drafted ahead; marking them held is refused until the day has come."""
    _save(world, notified, mark_held=False, held_on=TODAY + DAY)
    assert_refused(lambda: services.meeting_hold(meeting=notified, by=world.leader), contains="在今天之后")
    notified.refresh_from_db()
    assert notified.state == MeetingState.NOTIFIED


def test_minutes_absentee_without_reason_refused(world, notified):
    absentee = world.members[3]
    attendance = _attendance(
        world, notified, {absentee.pk: services.AttendanceInput(role=AttendanceRole.ABSENT, member=absentee)}
    )
    _refused_minutes(
        world, notified, contains=f"缺席人员“{absentee.name}”必须注明缺席原因", attendance=attendance
    )


def test_minutes_person_twice_refused(world, notified):
    twice = world.members[1]
    attendance = _attendance(
        world,
        notified,
        extra=[services.AttendanceInput(role=AttendanceRole.ABSENT, member=twice, absence_reason="病假")],
    )
    _refused_minutes(world, notified, contains=f"“{twice.name}”在出席名单中出现了两次", attendance=attendance)


def test_minutes_observer_also_present_refused(world, notified):
    both = minutes_kwargs(notified, world.leader_member)["recorder"]  # listed as present
    attendance = _attendance(
        world, notified, extra=[services.AttendanceInput(role=AttendanceRole.OBSERVER, member=both)]
    )
    _refused_minutes(
        world, notified, contains=f"“{both.name}”不能既是参加人员又是列席人员", attendance=attendance
    )


def test_minutes_group_member_missing_refused_by_name(world, notified):
    missing = world.members[1]
    attendance = [a for a in _attendance(world, notified) if a.member != missing]
    _refused_minutes(
        world,
        notified,
        contains=f"还有1名本党小组党员未登记出席情况（参加或缺席）：{missing.name}",
        attendance=attendance,
    )


def test_minutes_outsider_present_refused(world, notified):
    outsider = world.other_group.memberships.first().member
    attendance = _attendance(
        world, notified, extra=[services.AttendanceInput(role=AttendanceRole.PRESENT, member=outsider)]
    )
    _refused_minutes(
        world,
        notified,
        contains=f"“{outsider.name}”不是本党小组党员，只能作为列席人员",
        attendance=attendance,
    )


def test_minutes_member_as_observer_refused(world, notified):
    member = world.members[1]
    attendance = _attendance(
        world, notified, {member.pk: services.AttendanceInput(role=AttendanceRole.OBSERVER, member=member)}
    )
    _refused_minutes(world, notified, contains="应登记为参加或缺席，而不是列席", attendance=attendance)


def test_minutes_host_absent_refused(world, notified):
    leader = world.leader_member
    attendance = _attendance(
        world,
        notified,
        {
            leader.pk: services.AttendanceInput(
                role=AttendanceRole.ABSENT, member=leader, absence_reason="出差"
            )
        },
    )
    _refused_minutes(
        world, notified, contains=f"主持人“{leader.name}”应登记为参加或列席人员", attendance=attendance
    )


def test_minutes_without_agenda_item_and_summary_refused(world, notified):
    _refused_minutes(
        world, notified, contains=("至少应有一个议题", "请填写主持人总结"), agenda_items=[], chair_summary=" "
    )


def test_minutes_speech_without_speaker_refused(world, notified):
    items = [services.AgendaItemInput(title="学习", speeches=[services.SpeechInput(views="体会")])]
    _refused_minutes(world, notified, contains="议题1有发言缺少发言人", agenda_items=items, action_items=[])


def test_minutes_reports_every_error_at_once(world, notified):
    absentee = world.members[3]
    attendance = _attendance(
        world, notified, {absentee.pk: services.AttendanceInput(role=AttendanceRole.ABSENT, member=absentee)}
    )
    _refused_minutes(
        world,
        notified,
        contains=("结束时间必须晚于开始时间", "必须注明缺席原因"),
        attendance=attendance,
        start_time=dt.time(17, 0),
    )


def test_minutes_observers_from_outside_the_group_kept(world, notified):
    """R-14: an observer may be a member of another group (the secretary) or a person outside the system."""
    secretary_member = world.secretary.member
    attendance = _attendance(
        world,
        notified,
        extra=[services.AttendanceInput(role=AttendanceRole.OBSERVER, member=secretary_member)],
    )
    _save(world, notified, attendance=attendance)
    observers = {
        (a.display_name, a.person_title) for a in notified.attendances.filter(role=AttendanceRole.OBSERVER)
    }
    assert observers == {(secretary_member.name, ""), ("赵建国", "副局长")}


def test_minutes_rewrite_replaces_attendance_and_corrects_held_on(world):
    meeting = make_meeting(world.group, world.leader, state="held", held_on=TODAY - 10 * DAY)
    _save(world, meeting, mark_held=False, held_on=TODAY - 9 * DAY, place="党员活动室")
    meeting.refresh_from_db()
    assert (meeting.state, meeting.held_on, meeting.minutes.place) == ("held", TODAY - 9 * DAY, "党员活动室")
    assert meeting.attendances.count() == len(_attendance(world, meeting))
    assert history(meeting.minutes)[-1] == ("~", "leader", "填写会议记录")
    assert history(meeting)[-1] == ("~", "leader", "更正召开日期")


# --- Archived meetings are read-only (R-12) ------------------------------------------------------
@pytest.mark.parametrize("kind", list(MeetingKind))
def test_archived_meeting_edits_refused(world, kind):
    meeting = make_meeting(world.group, world.leader, kind=kind)
    assert meeting.state == MeetingState.ARCHIVED
    kwargs = minutes_kwargs(meeting, world.leader_member, held_on=meeting.held_on)
    assert_refused(lambda: services.minutes_save(meeting=meeting, by=world.leader, **kwargs), contains="R-12")
    assert_refused(
        lambda: services.meeting_update_request(meeting=meeting, by=world.leader, title="改"), contains="R-12"
    )
    assert_refused(
        lambda: services.life_record_save(meeting=meeting, by=world.leader, after_followup="已整改"),
        contains="R-12",
    )
    assert_refused(
        lambda: services.evaluations_save(
            meeting=meeting, by=world.leader, results=evaluation_inputs(meeting)
        ),
        contains="R-12",
    )
    for action in (Action.CANCEL, Action.HOLD, Action.REPORT, Action.ARCHIVE):
        assert_refused(
            lambda action=action: services.meeting_transition(
                meeting=meeting, action=action, by=world.secretary, comment="x"
            ),
            (ValidationError, PermissionDenied),
        )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.ARCHIVED


def test_archived_meeting_edit_refused_for_superuser(world):
    meeting = make_meeting(world.group, world.leader)
    admin = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    assert_refused(
        lambda: services.meeting_update_request(meeting=meeting, by=admin, title="改"), contains="R-12"
    )


def test_addendum_on_archived_meeting_numbered(world):
    meeting = make_meeting(world.group, world.leader)
    first = services.addendum_add(
        meeting=meeting, text="补充：缺席人员原因应为公出。", reason="笔误", by=world.leader
    )
    second = services.addendum_add(
        meeting=meeting, text="补充议定事项完成时限。", reason="遗漏", by=world.secretary
    )
    assert list(meeting.addenda.values_list("number", "text", "reason", "created_by__username")) == [
        (1, "补充：缺席人员原因应为公出。", "笔误", "leader"),
        (2, "补充议定事项完成时限。", "遗漏", "secretary"),
    ]
    assert (first.number, second.number) == (1, 2)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.ARCHIVED


def test_addendum_refusals(world):
    archived = make_meeting(world.group, world.leader)
    held = make_meeting(world.group, world.leader, state="held")
    assert_refused(
        lambda: services.addendum_add(meeting=held, text="补充", reason="遗漏", by=world.leader),
        contains="只有已存档的会议记录需要补正",
    )
    for user in (world.member_user, world.other_leader, world.other_secretary):
        assert_refused(
            lambda user=user: services.addendum_add(meeting=archived, text="补充", reason="遗漏", by=user),
            PermissionDenied,
        )
    assert_refused(
        lambda: services.addendum_add(meeting=archived, text=" ", reason="遗漏", by=world.leader),
        contains="请填写补正内容和原因",
    )
    assert MeetingAddendum.objects.count() == 0


# --- Decided matters (R-16) ----------------------------------------------------------------------
def _held(world, days_ago: int, state="held", **kwargs) -> Meeting:
    return make_meeting(world.group, world.leader, state=state, held_on=TODAY - days_ago * DAY, **kwargs)


def _notified(world, days_ago: int) -> Meeting:
    return make_meeting(world.group, world.leader, state="notified", planned_date=TODAY - days_ago * DAY)


def _minutes_with(world, meeting, *, follow_ups=(), action_items=None, mark_held=True):
    kwargs = minutes_kwargs(meeting, world.leader_member)
    if action_items is not None:
        kwargs["action_items"] = action_items
    return services.minutes_save(
        meeting=meeting, by=world.leader, mark_held=mark_held, follow_ups=list(follow_ups), **kwargs
    )


def test_action_item_carried_and_followed_up_until_done(world):
    first = _held(world, 40, state="archived")
    item = ActionItem.objects.get(meeting=first)
    owner = world.members[1] if item.owner == world.members[1] else item.owner
    assert (item.description, item.owner, item.due_on, item.status, item.completed_on) == (
        "整理学习心得，下次党小组会交流",
        owner,
        first.held_on + 30 * DAY,
        ActionItemStatus.OPEN,
        None,
    )
    assert services.open_action_items(world.group) == [item]

    second = _notified(world, 20)
    _minutes_with(
        world,
        second,
        action_items=[],
        follow_ups=[services.FollowUpInput(action_item=item, note="已完成一半", status_after="in_progress")],
    )
    item.refresh_from_db()
    assert (item.status, item.completed_on) == (ActionItemStatus.IN_PROGRESS, None)
    assert services.open_action_items(world.group) == [item]  # still carried into the next meeting

    third = _notified(world, 10)
    _minutes_with(
        world,
        third,
        action_items=[],
        follow_ups=[
            services.FollowUpInput(
                action_item=item, note="已全部完成", status_after="done", completed_on=TODAY - 11 * DAY
            )
        ],
    )
    item.refresh_from_db()
    assert (item.status, item.completed_on) == (ActionItemStatus.DONE, TODAY - 11 * DAY)
    assert services.open_action_items(world.group) == []
    assert list(
        item.follow_ups.order_by("meeting__held_on").values_list("meeting", "status_after", "note")
    ) == [
        (second.pk, "in_progress", "已完成一半"),
        (third.pk, "done", "已全部完成"),
    ]
    assert history(item)[-1] == ("~", "leader", f"会议跟进：{third.title}")


def test_open_action_items_excludes_meeting_and_unheld(world):
    held = _held(world, 30)
    notified = _notified(world, 20)
    _minutes_with(world, notified, mark_held=False)  # minutes written, not yet held
    held_item = ActionItem.objects.get(meeting=held)
    assert services.open_action_items(world.group) == [held_item]
    assert services.open_action_items(world.group, exclude_meeting=held) == []
    assert services.open_action_items(world.other_group) == []


def test_follow_up_refusals(world):
    first = _held(world, 40)
    item = ActionItem.objects.get(meeting=first)
    other_item = make_meeting(world.other_group, world.other_leader, state="held", held_on=TODAY - 40 * DAY)
    other_item = ActionItem.objects.get(meeting=other_item)
    second = _notified(world, 20)
    cases = [
        ([services.FollowUpInput(action_item=item, note="完成", status_after="done")], "须填写完成日期"),
        (
            [
                services.FollowUpInput(
                    action_item=item, note="完成", status_after="done", completed_on=TODAY + DAY
                )
            ],
            "完成日期不能晚于今天",
        ),
        ([services.FollowUpInput(action_item=other_item, note="x", status_after="done")], "只能跟进本党小组"),
        ([services.FollowUpInput(action_item=item, note=" ", status_after="in_progress")], "缺少进展情况"),
        (
            [
                services.FollowUpInput(action_item=item, note="a", status_after="in_progress"),
                services.FollowUpInput(action_item=item, note="b", status_after="in_progress"),
            ],
            "跟进了两次",
        ),
    ]
    for follow_ups, message in cases:
        assert_refused(
            lambda follow_ups=follow_ups: _minutes_with(world, second, follow_ups=follow_ups),
            contains=message,
        )
    # a meeting cannot follow up its own decided matters
    assert_refused(
        lambda: _minutes_with(
            world,
            first,
            mark_held=False,
            follow_ups=[services.FollowUpInput(action_item=item, note="x", status_after="in_progress")],
        ),
        contains="是本次会议议定的",
    )
    item.refresh_from_db()
    assert item.status == ActionItemStatus.OPEN


def test_follow_up_of_done_item_refused(world):
    first = _held(world, 40)
    item = ActionItem.objects.get(meeting=first)
    second = _notified(world, 20)
    _minutes_with(
        world,
        second,
        follow_ups=[
            services.FollowUpInput(
                action_item=item, note="完成", status_after="done", completed_on=TODAY - 20 * DAY
            )
        ],
    )
    third = _notified(world, 10)
    assert_refused(
        lambda: _minutes_with(
            world,
            third,
            follow_ups=[services.FollowUpInput(action_item=item, note="再跟进", status_after="in_progress")],
        ),
        contains="的状态为“已完成”，无需再跟进",
    )


def test_rewriting_minutes_keeps_followed_up_action_items(world):
    """Regression: rewriting minutes must not duplicate (or drop) decided matters already followed up."""
    first = _held(world, 40)
    item = ActionItem.objects.get(meeting=first)
    second = _notified(world, 20)
    _minutes_with(
        world,
        second,
        follow_ups=[services.FollowUpInput(action_item=item, note="推进中", status_after="in_progress")],
    )
    # The leader corrects the first meeting's minutes (same decided matter, new measures).
    kwargs = minutes_kwargs(first, world.leader_member, held_on=first.held_on)
    kwargs["action_items"] = [
        dataclasses.replace(kwargs["action_items"][0], measures="每人撰写一篇不少于千字的心得")
    ]
    services.minutes_save(meeting=first, by=world.leader, **kwargs)
    assert list(ActionItem.objects.filter(meeting=first).values_list("pk", "measures", "status")) == [
        (item.pk, "每人撰写一篇不少于千字的心得", ActionItemStatus.IN_PROGRESS)
    ]
    assert ActionFollowUp.objects.filter(action_item=item).count() == 1
    new_agenda_item = first.agenda_items.get(number=1)
    assert ActionItem.objects.get(pk=item.pk).agenda_item == new_agenda_item

    # Dropping it is refused with the reason, and nothing is saved.
    kwargs["action_items"] = []
    assert_refused(
        lambda: services.minutes_save(meeting=first, by=world.leader, **kwargs),
        contains="已在后续会议中跟进，不能删除",
    )


def test_rewriting_minutes_updates_item_by_id_and_drops_unfollowed(world):
    meeting = _held(world, 20)
    item = ActionItem.objects.get(meeting=meeting)
    kwargs = minutes_kwargs(meeting, world.leader_member, held_on=meeting.held_on)
    renamed = dataclasses.replace(kwargs["action_items"][0], description="改写后的议定事项", item_id=item.pk)
    extra = services.ActionItemInput(
        description="新增事项", owner=world.leader_member, due_on=TODAY + 10 * DAY
    )
    services.minutes_save(meeting=meeting, by=world.leader, **{**kwargs, "action_items": [renamed, extra]})
    assert set(ActionItem.objects.filter(meeting=meeting).values_list("description", "pk")) == {
        ("改写后的议定事项", item.pk),
        ("新增事项", ActionItem.objects.get(description="新增事项").pk),
    }
    services.minutes_save(meeting=meeting, by=world.leader, **{**kwargs, "action_items": [extra]})
    assert list(ActionItem.objects.filter(meeting=meeting).values_list("description", flat=True)) == [
        "新增事项"
    ]
    assert_refused(
        lambda: services.minutes_save(
            meeting=meeting,
            by=world.leader,
            **{**kwargs, "action_items": [dataclasses.replace(extra, item_id=item.pk)]},
        ),
        contains="不是本次会议的议定事项",
    )


def test_rewriting_minutes_without_follow_up_restores_status(world):
    first = _held(world, 40)
    item = ActionItem.objects.get(meeting=first)
    second = _notified(world, 20)
    _minutes_with(
        world,
        second,
        follow_ups=[
            services.FollowUpInput(
                action_item=item, note="完成", status_after="done", completed_on=TODAY - 20 * DAY
            )
        ],
    )
    item.refresh_from_db()
    assert item.status == ActionItemStatus.DONE
    _minutes_with(world, second, mark_held=False, follow_ups=[])
    item.refresh_from_db()
    assert (item.status, item.completed_on) == (ActionItemStatus.OPEN, None)
    assert ActionFollowUp.objects.count() == 0


def test_action_item_refusals(world, notified):
    outsider = f.MemberFactory(branch=world.other_branch)
    cases = [
        (
            services.ActionItemInput(description="x", owner=outsider, due_on=TODAY + DAY),
            "责任人应为本支部党员",
        ),
        (
            services.ActionItemInput(description="x", owner=world.leader_member, due_on=TODAY - 30 * DAY),
            "完成时限不能早于会议日期",
        ),
        (
            services.ActionItemInput(
                description="x", owner=world.leader_member, due_on=TODAY, agenda_number=9
            ),
            "议题编号无效",
        ),
    ]
    for action, message in cases:
        _refused_minutes(world, notified, contains=message, action_items=[action])


# --- Life meetings and evaluations -----------------------------------------------------------------
def test_life_record_after_report_only_after_followup(world):
    meeting = make_meeting(world.group, world.leader, kind=MeetingKind.LIFE_MEETING, state="reported")
    record = services.life_record_save(meeting=meeting, by=world.leader, after_followup="整改措施已全部落实")
    assert record.after_followup == "整改措施已全部落实"
    assert_refused(
        lambda: services.life_record_save(meeting=meeting, by=world.leader, theme="新主题"),
        contains="只能补充“会后：整改落实情况”",
    )


def test_life_record_refusals(world):
    meeting = make_meeting(world.group, world.leader, kind=MeetingKind.LIFE_MEETING, state="notified")
    group_meeting = make_meeting(world.group, world.leader, state="notified")
    assert_refused(
        lambda: services.life_record_save(
            meeting=meeting, by=world.leader, **{**LIFE_RECORD, "before_talks": ""}
        ),
        contains="请填写“会前：开展谈心谈话”（R-18）",
    )
    assert_refused(
        lambda: services.life_record_save(meeting=meeting, by=world.leader, meeting_id=group_meeting.pk),
        contains="不能修改字段",
    )
    assert_refused(
        lambda: services.life_record_save(meeting=group_meeting, by=world.leader, **LIFE_RECORD),
        contains="只有组织生活会",
    )
    assert_refused(
        lambda: services.life_record_save(meeting=meeting, by=world.other_leader, **LIFE_RECORD),
        PermissionDenied,
    )


def test_evaluation_refusals(world):
    meeting = make_meeting(world.group, world.leader, kind=MeetingKind.EVALUATION, state="notified")
    outsider = world.other_group.memberships.first().member
    member = world.members[1]
    cases = [
        (
            [services.EvaluationInput(member=outsider, self_evaluation="x", peer_result="qualified")],
            "不是本党小组党员",
        ),
        (
            [services.EvaluationInput(member=member, self_evaluation=" ", peer_result="qualified")],
            "缺少党性分析",
        ),
        (
            [services.EvaluationInput(member=member, self_evaluation="x", peer_result="perfect")],
            "互评结果无效",
        ),
        (
            [services.EvaluationInput(member=member, self_evaluation="x", peer_result="qualified")] * 2,
            "评议结果重复",
        ),
        ([], "请至少填写一名党员的评议结果"),
    ]
    for results, message in cases:
        assert_refused(
            lambda results=results: services.evaluations_save(
                meeting=meeting, by=world.leader, results=results
            ),
            contains=message,
        )


def test_evaluations_resave_replaces_results(world):
    meeting = make_meeting(world.group, world.leader, kind=MeetingKind.EVALUATION, state="held")
    member = world.members[1]
    services.evaluations_save(
        meeting=meeting,
        by=world.leader,
        results=[services.EvaluationInput(member=member, self_evaluation="重新自评", peer_result="basic")],
    )
    assert list(EvaluationResult.objects.filter(meeting=meeting).values_list("member", "peer_result")) == [
        (member.pk, EvaluationGrade.BASICALLY_QUALIFIED)
    ]


# --- Talks (R-20) --------------------------------------------------------------------------------
def test_talk_between_two_group_members(world):
    a, b = world.members[1], world.members[2]
    talk = services.talk_record(
        group=world.group,
        talked_on=TODAY,
        initiator=a,
        partner=b,
        topic="思想交流",
        summary="谈了工作体会",
        by=world.leader,
    )
    assert list(
        Talk.objects.values_list(
            "group", "talked_on", "initiator", "partner", "topic", "recorded_by__username"
        )
    ) == [(world.group.pk, TODAY, a.pk, b.pk, "思想交流", "leader")]
    assert history(talk) == [("+", "leader", "登记谈心谈话")]


def test_talk_refusals(world):
    a = world.members[1]
    outsider = world.other_group.memberships.first().member
    base = {"group": world.group, "talked_on": TODAY, "topic": "交流", "summary": "要点", "by": world.leader}
    cases = [
        ({"initiator": a, "partner": a}, "谈心谈话须在两人之间进行"),
        ({"initiator": a, "partner": outsider}, f"“{outsider.name}”在{TODAY:%Y-%m-%d}不是本党小组党员"),
        ({"initiator": a, "partner": world.leader_member, "talked_on": TODAY + DAY}, "谈话日期不能晚于今天"),
        ({"initiator": a, "partner": world.leader_member, "topic": " "}, "请填写谈话主题"),
    ]
    for extra, message in cases:
        assert_refused(lambda extra=extra: services.talk_record(**{**base, **extra}), contains=message)
    assert_refused(
        lambda: services.talk_record(
            **{**base, "initiator": a, "partner": world.leader_member, "by": world.other_leader}
        ),
        PermissionDenied,
    )


# --- Annual plan (R-17) --------------------------------------------------------------------------
def test_annual_plan_save_and_replace(world):
    year = TODAY.year
    items = [services.PlanItemInput(month=m, topic=f"{m}月学习") for m in (1, 2, 3)]
    plan = services.annual_plan_save(
        group=world.group, year=year, items=items, by=world.leader, summary="全年安排"
    )
    assert list(plan.items.values_list("month", "topic")) == [(1, "1月学习"), (2, "2月学习"), (3, "3月学习")]
    again = services.annual_plan_save(
        group=world.group,
        year=year,
        items=[
            services.PlanItemInput(
                month=6,
                topic="组织生活会",
                kind=MeetingKind.LIFE_MEETING,
                category=TopicCategory.ORGANISATIONAL_LIFE,
            )
        ],
        by=world.leader,
        meetings_per_year=10,
    )
    assert again.pk == plan.pk
    assert AnnualPlan.objects.count() == 1
    assert list(again.items.values_list("month", "kind", "topic")) == [(6, "life_meeting", "组织生活会")]
    assert again.meetings_per_year == 10


def test_annual_plan_refusals(world):
    year = TODAY.year
    good = [services.PlanItemInput(month=1, topic="学习")]
    cases = [
        ({"items": [services.PlanItemInput(month=13, topic="学习")]}, "月份“13”无效"),
        ({"items": [services.PlanItemInput(month=2, topic=" ")]}, "第1项缺少主题"),
        ({"items": []}, "年度计划至少应有一项安排"),
        ({"items": good, "year": 1999}, "年度“1999”无效"),
        ({"items": good, "meetings_per_year": 0}, "计划党小组会次数"),
        ({"items": [services.PlanItemInput(month=1, topic="学习", kind="picnic")]}, "类别无效"),
    ]
    for extra, message in cases:
        kwargs = {"group": world.group, "year": year, "by": world.leader, **extra}
        assert_refused(lambda kwargs=kwargs: services.annual_plan_save(**kwargs), contains=message)
    assert_refused(
        lambda: services.annual_plan_save(group=world.group, year=year, items=good, by=world.other_leader),
        PermissionDenied,
    )


def test_approver_for_uses_existing_secretary(world):
    assert approver_for(world.branch) == world.secretary


def test_notify_sends_to_roster_and_records(world):
    """The NOTIFY step is one service: transition, mail, record (details in test_notices.py)."""
    world.members[1].email = "a@example.org"
    world.members[1].save()
    meeting = make_meeting(world.group, world.leader, state="approved")
    notice = services.meeting_notify(meeting=meeting, by=world.leader)
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert notice.meeting == meeting
    assert_refused(lambda: services.meeting_notify(meeting=meeting, by=world.leader), contains="已通知")
    assert len(mail.outbox) == 1


def test_notify_through_generic_transition_still_sends_the_notice(world):
    """R-11: the NOTIFY step cannot be taken without the notice, whichever service is called."""
    world.members[1].email = "a@example.org"
    world.members[1].save()
    meeting = make_meeting(world.group, world.leader, state="approved")
    meeting = services.meeting_transition(
        meeting=meeting, action=Action.NOTIFY, by=world.leader, comment="请准时"
    )
    assert meeting.state == MeetingState.NOTIFIED
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert meeting.notices.count() == 1
    assert transitions(meeting)[-1] == (Action.NOTIFY, "approved", "notified", "leader", "请准时")


# --- Cultivation opinions (R-22) ----------------------------------------------------------------------
def _candidate(world, **kwargs):
    values = {
        "group": world.group,
        "name": "陈晓东",
        "gender": "M",
        "birth_date": dt.date(2000, 5, 4),
        "applied_on": TODAY - 200 * DAY,
        "by": world.secretary,
    }
    values.update(kwargs)
    return candidate_create(**values)


def test_cultivation_opinion_recorded_for_a_held_meeting_of_the_candidates_group_r22(world):
    candidate = _candidate(world)
    meeting = make_meeting(world.group, world.leader, state=MeetingState.REPORTED)
    item = meeting.agenda_items.get(number=2)
    opinion = services.cultivation_opinion_record(
        candidate=candidate,
        meeting=meeting,
        agenda_item=item,
        recommendation="recommend",
        opinion=" 同意推荐为入党积极分子 ",
        by=world.leader,
    )
    opinion.refresh_from_db()
    assert (
        opinion.meeting,
        opinion.agenda_item,
        opinion.proposed_stage,
        opinion.recommendation,
        opinion.opinion,
    ) == (
        meeting,
        item,
        "activist",
        "recommend",
        "同意推荐为入党积极分子",
    )
    assert list(opinion.history.values_list("history_user__username", "history_change_reason")) == [
        ("leader", "登记党小组对培养对象的意见")
    ]


def test_cultivation_opinion_refusals_save_nothing_r22(world):
    candidate = _candidate(world)
    held = make_meeting(world.group, world.leader, state=MeetingState.HELD)
    other_group = make_meeting(world.other_group, world.other_leader, state=MeetingState.HELD)
    approved = make_meeting(world.group, world.leader, state=MeetingState.APPROVED)
    archived = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)

    def record(meeting, by=world.leader, **kwargs):
        values = {
            "candidate": candidate,
            "meeting": meeting,
            "recommendation": "recommend",
            "opinion": "同意",
        }
        values.update(kwargs)
        return lambda: services.cultivation_opinion_record(by=by, **values)

    assert_refused(record(other_group, by=world.other_leader), contains="不能在其他党小组的会议上登记意见")
    assert_refused(record(approved), contains="会议尚未召开（当前状态：已批准）")
    assert_refused(record(archived), contains="会议已存档，记录只读（R-12）")
    assert_refused(
        record(held, agenda_item=archived.agenda_items.first()), contains="所选议题不属于本次会议。"
    )
    assert_refused(record(held, recommendation="maybe"), contains="推荐意见“maybe”无效")
    assert_refused(record(held, opinion=" "), contains="请填写党小组的意见。")
    assert_refused(
        record(held, proposed_stage="development"),
        contains="只能推荐进入下一阶段“入党积极分子”，不能推荐为“发展对象”（R-22：培养阶段须依次经过）",
    )
    assert_refused(
        record(held, by=world.member_user), PermissionDenied, contains="只有本党小组的组长或副组长"
    )
    services.cultivation_opinion_record(
        by=world.leader,
        **{"candidate": candidate, "meeting": held, "recommendation": "defer", "opinion": "再考察"},
    )
    assert_refused(record(held), contains="本次会议已登记对“陈晓东”的意见。")


def test_cultivation_opinion_on_a_meeting_held_before_the_application_is_refused_r22(world):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.HELD)
    candidate = _candidate(world, applied_on=meeting.held_on + DAY)
    assert_refused(
        lambda: services.cultivation_opinion_record(
            candidate=candidate, meeting=meeting, recommendation="recommend", opinion="同意", by=world.leader
        ),
        contains=f"会议召开时（{meeting.held_on:%Y-%m-%d}）“陈晓东”尚未递交入党申请。",
    )


def test_minutes_agenda_item_of_an_unknown_topic_category_refused_r23(world, notified):
    """R-23: an agenda item's topic is one of the categories the seeds name; anything else is refused."""
    items = [services.AgendaItemInput(title="学习", category="gossip")]
    _refused_minutes(
        world, notified, contains="议题1的议题类别“gossip”无效（R-23）", agenda_items=items, action_items=[]
    )
