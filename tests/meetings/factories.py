"""Meetings in any workflow state, built through the services (never by writing rows directly).

``make_meeting(group, leader_user, kind=..., state=...)`` walks the real workflow: create → submit →
approve → notify (e-mail + .ics, R-11) → minutes (R-14…R-16) marked held → report (R-13) → archive
(R-12). The minutes are valid and complete: the roster's members present except one absentee with a
reason, an observer from outside the group (列席), two numbered agenda items with speeches in the
R-15 order, the chair's summary and a decided matter with owner and due date (R-16). Life meetings
get their before/during/after record (R-18), evaluations every member's result (R-19).

Reused by the views, PDF and services tests::

    from tests.meetings.factories import make_meeting
    meeting = make_meeting(world.group, world.leader, kind=MeetingKind.PARTY_DAY, state=MeetingState.ARCHIVED)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from meetings import services
from meetings.enums import (
    HELD_STATES,
    AttendanceRole,
    EvaluationGrade,
    MeetingKind,
    MeetingState,
    TopicCategory,
)
from meetings.models import Meeting
from meetings.selectors import roster_on
from members.enums import APPROVING_POSTS, CommitteePost
from members.models import CommitteeMembership, Member
from tests import factories as f

OUTSIDE_OBSERVER = {"person_name": "赵建国", "person_title": "副局长"}
LIFE_RECORD = {
    "theme": "对照党章党规，查找差距不足",
    "before_study": "会前组织学习党章和《中国共产党纪律处分条例》。",
    "before_talks": "组长与每名党员开展了谈心谈话。",
    "before_opinions": "通过座谈和意见箱征求群众意见5条。",
    "during_problems": "理论学习不够系统，联系群众不够紧密。",
    "during_criticism": "组长带头开展批评和自我批评，党员逐一发言，相互批评。",
    "during_direction": "加强理论学习，每月开展一次集中学习。",
}


def approver_for(branch) -> Any:
    """A user on the branch committee who may approve (R-11): an existing one, else a new 组织委员."""
    existing = (
        CommitteeMembership.objects.current(timezone.localdate())
        .filter(branch=branch, post__in=list(APPROVING_POSTS), member__user__isnull=False)
        .select_related("member__user")
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing.member.user
    member = f.MemberFactory(branch=branch, name="组织委员乙")
    f.CommitteeMembershipFactory(member=member, branch=branch, post=CommitteePost.ORGANISATION)
    return f.user_for(member, f"approver{branch.pk}")


def default_planned_date(state: str) -> dt.date:
    """Held meetings happened ten days ago; the others are planned a week ahead."""
    today = timezone.localdate()
    if state in HELD_STATES:
        return today - dt.timedelta(days=10)
    return today + dt.timedelta(days=7)


def minutes_kwargs(
    meeting: Meeting,
    leader_member: Member,
    *,
    held_on: dt.date | None = None,
    observer_members: tuple[Member, ...] = (),
    with_action_items: bool = True,
    **overrides,
) -> dict[str, Any]:
    """Valid keyword arguments for ``services.minutes_save`` of ``meeting`` (override any of them)."""
    held_on = held_on or meeting.planned_date
    roster = roster_on(meeting.group, held_on)
    others = [m for m in roster if m.pk != leader_member.pk]
    absentee = others[-1] if len(others) >= 2 else None
    present_others = [m for m in others if m != absentee]
    recorder = present_others[0] if present_others else leader_member
    attendance = [
        services.AttendanceInput(role=AttendanceRole.PRESENT, member=m) for m in roster if m != absentee
    ]
    if absentee is not None:
        attendance.append(
            services.AttendanceInput(role=AttendanceRole.ABSENT, member=absentee, absence_reason="出差")
        )
    attendance.append(services.AttendanceInput(role=AttendanceRole.OBSERVER, **OUTSIDE_OBSERVER))
    attendance += [services.AttendanceInput(role=AttendanceRole.OBSERVER, member=m) for m in observer_members]

    def speeches(topic: str) -> list[services.SpeechInput]:
        members = [
            services.SpeechInput(speaker=m, views=f"{m.name}谈了对{topic}的体会。") for m in present_others
        ]
        leader = services.SpeechInput(speaker=leader_member, views=f"组长对{topic}作了总结发言。")
        # members first and the leader last; in a life meeting the leader speaks first.
        return [leader, *members] if meeting.kind == MeetingKind.LIFE_MEETING else [*members, leader]

    agenda_items = [
        services.AgendaItemInput(
            title="学习党的二十大精神",
            record="集体学习党的二十大报告第三部分。",
            category=TopicCategory.STUDY,
            speeches=speeches("学习"),
        ),
        services.AgendaItemInput(
            title="研究落实支部年度工作安排",
            record="传达支部委员会关于年度工作的决议，讨论本组分工。",
            category=TopicCategory.RESOLUTION,
            speeches=speeches("支部工作"),
        ),
    ]
    action_items = []
    if with_action_items:
        action_items = [
            services.ActionItemInput(
                description="整理学习心得，下次党小组会交流",
                owner=recorder,
                due_on=held_on + dt.timedelta(days=30),
                measures="每人撰写一篇心得体会",
                agenda_number=1,
                is_rectification=meeting.kind == MeetingKind.LIFE_MEETING,
            )
        ]
    kwargs: dict[str, Any] = {
        "held_on": held_on,
        "half_day": "pm",
        "start_time": dt.time(15, 0),
        "end_time": dt.time(16, 30),
        "place": meeting.planned_place or "三楼会议室",
        "host": leader_member,
        "recorder": recorder,
        "opening": "应到党员按名单，实到过半数，符合召开条件。",
        "chair_summary": "本次会议学习深入、讨论充分，会后抓好议定事项落实。",
        "attendance": attendance,
        "agenda_items": agenda_items,
        "action_items": action_items,
    }
    kwargs.update(overrides)
    return kwargs


def evaluation_inputs(meeting: Meeting, day: dt.date | None = None) -> list[services.EvaluationInput]:
    """R-19: every member of the roster with a self-evaluation and a peer result."""
    roster = roster_on(meeting.group, day or meeting.planned_date)
    grades = [EvaluationGrade.EXCELLENT, EvaluationGrade.QUALIFIED]
    return [
        services.EvaluationInput(
            member=m,
            self_evaluation=f"{m.name}对照合格党员标准进行了党性分析。",
            peer_result=grades[i % len(grades)],
        )
        for i, m in enumerate(roster)
    ]


_ORDER = [
    MeetingState.DRAFT,
    MeetingState.SUBMITTED,
    MeetingState.APPROVED,
    MeetingState.NOTIFIED,
    MeetingState.HELD,
    MeetingState.REPORTED,
    MeetingState.ARCHIVED,
]


def make_meeting(
    group,
    leader_user,
    *,
    kind: str = MeetingKind.GROUP_MEETING,
    state: str = MeetingState.ARCHIVED,
    planned_date: dt.date | None = None,
    held_on: dt.date | None = None,
    title: str | None = None,
    agenda: str = "学习党的二十大精神\n研究落实支部年度工作安排",
    approver=None,
    observer_members: tuple[Member, ...] = (),
    with_action_items: bool = True,
) -> Meeting:
    """A meeting of ``group`` in ``state``, walked there through the services by its leader.

    ``leader_user`` must be the group's current leader or deputy (a user with a ``member``);
    ``approver`` defaults to a branch committee member (see ``approver_for``). Held meetings are
    held on ``held_on`` (default: the planned date, by default ten days ago).
    """
    state = MeetingState(state)
    planned_date = planned_date or held_on or default_planned_date(state)
    leader_member = leader_user.member
    meeting = services.meeting_create(
        group=group,
        kind=kind,
        title=title or f"{MeetingKind(kind).label}：{planned_date:%Y年%m月}",
        planned_date=planned_date,
        planned_start=dt.time(15, 0),
        planned_place="三楼会议室",
        agenda=agenda,
        request_note="请支部审定会议内容。",
        by=leader_user,
    )
    if state == MeetingState.CANCELLED:
        return services.meeting_cancel(meeting=meeting, by=leader_user, comment="工作冲突，会议取消")
    target = MeetingState.SUBMITTED if state == MeetingState.RETURNED else state
    reached = _ORDER[: _ORDER.index(target) + 1]
    approver = approver or approver_for(group.branch)
    if MeetingState.SUBMITTED in reached:
        meeting = services.meeting_submit(meeting=meeting, by=leader_user, comment="请审定")
    if state == MeetingState.RETURNED:
        return services.meeting_return(meeting=meeting, by=approver, comment="请补充学习篇目")
    if MeetingState.APPROVED in reached:
        meeting = services.meeting_approve(meeting=meeting, by=approver, comment="同意")
    if MeetingState.NOTIFIED in reached:
        services.meeting_notify(meeting=meeting, by=leader_user)
    if MeetingState.HELD in reached:
        day = held_on or planned_date
        if kind == MeetingKind.LIFE_MEETING:
            services.life_record_save(meeting=meeting, by=leader_user, **LIFE_RECORD)
        if kind == MeetingKind.EVALUATION:
            services.evaluations_save(
                meeting=meeting, results=evaluation_inputs(meeting, day), by=leader_user
            )
        services.minutes_save(
            meeting=meeting,
            by=leader_user,
            mark_held=True,
            **minutes_kwargs(
                meeting,
                leader_member,
                held_on=day,
                observer_members=observer_members,
                with_action_items=with_action_items,
            ),
        )
    if MeetingState.REPORTED in reached:
        meeting = services.meeting_report(meeting=meeting, by=leader_user, comment="已按要求召开")
    if MeetingState.ARCHIVED in reached:
        meeting = services.meeting_archive(meeting=meeting, by=approver, comment="存档备查")
    meeting.refresh_from_db()
    return meeting
