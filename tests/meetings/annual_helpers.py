"""Shared builders of the annual report tests (R-34): a finished year of one group, meetings held on
chosen days with chosen absentees, through the services (tests/meetings/factories.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from meetings import services
from meetings.enums import AttendanceRole, MeetingKind, MeetingState, TopicCategory
from meetings.models import Meeting
from meetings.selectors import roster_on
from members.models import Member
from tests import factories as f
from tests.meetings.factories import (
    LIFE_RECORD,
    approver_for,
    evaluation_inputs,
    make_meeting,
    minutes_kwargs,
)

# The last finished year (R-34: a report only for a year that has ended).
YEAR = timezone.localdate().year - 1


def day(month: int, day_of_month: int = 10, year: int = YEAR) -> dt.date:
    return dt.date(year, month, day_of_month)


def hold(
    group,
    leader_user,
    held_on: dt.date,
    *,
    absent: tuple[Member, ...] = (),
    kind: str = MeetingKind.GROUP_MEETING,
    topics: tuple[tuple[str, str], ...] = (("学习党章", TopicCategory.STUDY),),
    action_items: tuple[services.ActionItemInput, ...] = (),
    state: str = MeetingState.HELD,
) -> Meeting:
    """A meeting of ``group`` held on ``held_on``: every member of the roster present except ``absent``."""
    meeting = make_meeting(group, leader_user, kind=kind, state=MeetingState.NOTIFIED, planned_date=held_on)
    leader = leader_user.member
    if kind == MeetingKind.LIFE_MEETING:
        services.life_record_save(meeting=meeting, by=leader_user, **LIFE_RECORD)
    if kind == MeetingKind.EVALUATION:
        services.evaluations_save(
            meeting=meeting, results=evaluation_inputs(meeting, held_on), by=leader_user
        )
    attendance = [
        services.AttendanceInput(
            role=AttendanceRole.ABSENT if m in absent else AttendanceRole.PRESENT,
            member=m,
            absence_reason="出差" if m in absent else "",
        )
        for m in roster_on(group, held_on)
    ]
    services.minutes_save(
        meeting=meeting,
        by=leader_user,
        mark_held=True,
        **minutes_kwargs(
            meeting,
            leader,
            held_on=held_on,
            attendance=attendance,
            recorder=leader,
            agenda_items=[services.AgendaItemInput(title=t, category=c) for t, c in topics],
            action_items=list(action_items),
        ),
    )
    if state in {MeetingState.REPORTED, MeetingState.ARCHIVED}:
        services.meeting_report(meeting=meeting, by=leader_user)
    if state == MeetingState.ARCHIVED:
        services.meeting_archive(meeting=meeting, by=approver_for(group.branch))
    meeting.refresh_from_db()
    return meeting


@dataclass
class YearScene:
    """world.group through YEAR: the leader and A all year, B joined on 15 June, C moved to
    world.other_group on 1 September."""

    joiner: Member
    mover: Member
    meetings: list[Meeting]


def build_year(world) -> YearScene:
    """Six group meetings (Jan, Mar, Jun, Jul, Sep, Nov; the 10th) in world.group; the mover absent in
    March, the joiner absent in September; one meeting of world.other_group in October with the mover."""
    group, other = world.group, world.other_group
    joiner = f.MemberFactory(branch=world.branch, name="孙六月")
    f.GroupMembershipFactory(group=group, member=joiner, started_on=day(6, 15))
    mover = world.members[3]
    membership = mover.memberships.get(group=group)
    membership.ended_on = day(9, 1)
    membership.save()
    f.GroupMembershipFactory(group=other, member=mover, started_on=day(9, 1))
    meetings = [
        hold(group, world.leader, day(1)),
        hold(group, world.leader, day(3), absent=(mover,)),
        hold(group, world.leader, day(6)),
        hold(group, world.leader, day(7)),
        hold(group, world.leader, day(9), absent=(joiner,)),
        hold(group, world.leader, day(11)),
    ]
    hold(other, world.other_leader, day(10))
    return YearScene(joiner=joiner, mover=mover, meetings=meetings)


# Every heading of the annual report's PDF (narrative sections, then the figures), in order.
SECTIONS = [
    "一、基本情况",
    "二、主要工作",
    "三、存在问题",
    "四、下一年打算",
    "会议召开情况",
    "党员参加党小组会情况",
    "党员领导干部参加党小组活动情况",
    "学习讨论的议题",
    "议定事项落实情况",
    "谈心谈话",
    "民主评议党员",
    "党费收缴情况",
    "思想汇报",
    "培养入党积极分子和考察预备党员",
    "发现的问题",
]
