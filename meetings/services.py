"""Writes of the meetings app: the meeting workflow (R-11, R-13, R-21), minutes (R-14 … R-16),
life meetings (R-18), evaluations (R-19), talks (R-20), annual plans (R-17) and addenda (R-12).

Every service is keyword-only, runs in one transaction, checks who may act (``PermissionDenied``
with a Chinese reason → 403) and what may be done (``ValidationError`` with a Chinese reason; nothing
is saved), and leaves an audit record. Archived meetings are read-only for everyone (R-12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from groups.enums import CULTIVATION_ORDER, CultivationStageKind
from groups.models import CultivationCandidate, PartyGroup
from groups.rules import next_stage
from groups.selectors import roles_of
from meetings import notices, rules
from meetings.enums import (
    EDITABLE_REQUEST_STATES,
    HELD_STATES,
    MINUTES_EDITABLE_STATES,
    OPEN_ACTION_STATUSES,
    TRANSITIONS,
    Action,
    ActionItemStatus,
    Actor,
    AttendanceRole,
    EvaluationGrade,
    MeetingKind,
    MeetingState,
    Recommendation,
    TopicCategory,
)
from meetings.models import (
    ActionFollowUp,
    ActionItem,
    AgendaItem,
    AnnualPlan,
    AnnualPlanItem,
    Attendance,
    CultivationOpinion,
    EvaluationResult,
    LifeMeetingRecord,
    Meeting,
    MeetingAddendum,
    MeetingNotice,
    MeetingTransition,
    Minutes,
    Speech,
    Talk,
)
from meetings.selectors import roster_on
from members.models import Member
from partygroup.audit import audited_save

# --- Who may act ---------------------------------------------------------------------------------


def is_leader_of(user, group: PartyGroup) -> bool:
    roles = roles_of(user)
    return roles.is_superuser or group.pk in roles.led_group_ids


def is_approver_of(user, group: PartyGroup) -> bool:
    roles = roles_of(user)
    return roles.is_superuser or group.branch_id in roles.approving_branch_ids


def _require_actor(meeting: Meeting, actor: str, by) -> None:
    if actor == Actor.LEADER and not is_leader_of(by, meeting.group):
        raise PermissionDenied("只有本党小组的组长或副组长可以进行此操作。")
    if actor == Actor.COMMITTEE and not is_approver_of(by, meeting.group):
        raise PermissionDenied("只有本支部的书记、组织委员或纪检委员可以进行此操作（R-11）。")


def _require_not_archived(meeting: Meeting) -> None:
    if meeting.state == MeetingState.ARCHIVED:
        raise ValidationError("会议已存档，记录只读（R-12）；如需更正，请添加补正记录。")


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("group", "group__branch").get(pk=meeting.pk)


# --- The workflow --------------------------------------------------------------------------------


def _refusal(meeting: Meeting, action: str) -> str:
    """Why ``action`` is not possible in the meeting's state, in Chinese."""
    transition = TRANSITIONS[action]
    state_label = MeetingState(meeting.state).label
    if meeting.state == MeetingState.ARCHIVED:
        return "会议已存档，记录只读（R-12）。"
    if action == Action.HOLD and meeting.state in {
        MeetingState.DRAFT,
        MeetingState.SUBMITTED,
        MeetingState.RETURNED,
    }:
        if meeting.kind == MeetingKind.PARTY_DAY:
            return "主题党日须报党支部同意后方可开展，尚未批准的主题党日不能记录为已召开（R-21）。"
        return "会议尚未经党支部批准，不能记录为已召开（R-11：会前应向党支部请示，经批准后通知全体党员）。"
    if action == Action.HOLD and meeting.state == MeetingState.APPROVED:
        return "会议已批准但尚未通知全体党员，请先发送会议通知（R-11）。"
    allowed = "、".join(str(MeetingState(s).label) for s in sorted(transition.sources))
    return f"会议当前状态为“{state_label}”，不能“{Action(action).label}”（仅限：{allowed}）。"


def meeting_transition(*, meeting: Meeting, action: str, by, comment: str = "") -> Meeting:
    """Apply one step of the workflow table (meetings.enums.TRANSITIONS) and record it.

    The NOTIFY step always sends the notice too (``meeting_notify``): it cannot be taken silently.
    """
    if action == Action.NOTIFY:
        return meeting_notify(meeting=meeting, by=by, comment=comment).meeting
    return _transition(meeting=meeting, action=action, by=by, comment=comment)


def _transition(*, meeting: Meeting, action: str, by, comment: str = "") -> Meeting:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError(f"未知的操作“{action}”。")
    with transaction.atomic():
        meeting = _locked(meeting)
        _require_actor(meeting, transition.actor, by)
        if meeting.state not in transition.sources:
            raise ValidationError(_refusal(meeting, action))
        if transition.comment_required and not comment.strip():
            raise ValidationError({"comment": f"“{Action(action).label}”时必须填写意见。"})
        if action == Action.HOLD:
            _check_ready_to_hold(meeting)
        if action == Action.CANCEL and Minutes.objects.filter(meeting=meeting).exists():
            raise ValidationError("会议已填写会议记录，不能取消；已召开的会议请记录为已召开（R-12）。")
        previous = meeting.state
        meeting.state = transition.target
        if action == Action.HOLD:
            meeting.held_on = meeting.minutes.held_on
        if action == Action.ARCHIVE:
            meeting.archive_number = _next_archive_number(meeting)
            meeting.archived_at = timezone.now()
        audited_save(meeting, by=by, reason=str(Action(action).label))
        MeetingTransition.objects.create(
            meeting=meeting,
            action=action,
            from_state=previous,
            to_state=meeting.state,
            by=by,
            comment=comment.strip(),
        )
        return meeting


def meeting_submit(*, meeting: Meeting, by, comment: str = "") -> Meeting:
    """R-11: the leader asks the branch (请示) to fix the content."""
    return meeting_transition(meeting=meeting, action=Action.SUBMIT, by=by, comment=comment)


def meeting_approve(*, meeting: Meeting, by, comment: str = "") -> Meeting:
    return meeting_transition(meeting=meeting, action=Action.APPROVE, by=by, comment=comment)


def meeting_return(*, meeting: Meeting, by, comment: str) -> Meeting:
    return meeting_transition(meeting=meeting, action=Action.RETURN, by=by, comment=comment)


def meeting_notify(*, meeting: Meeting, by, comment: str = "") -> MeetingNotice:
    """R-11: notify every member of the approved agenda — the step approved → notified, the e-mails
    with the .ics invitation and the record of the notice and its recipients, in one service."""
    with transaction.atomic():
        meeting = _transition(meeting=meeting, action=Action.NOTIFY, by=by, comment=comment)
        return notices.notice_send(meeting=meeting, by=by)


def meeting_hold(*, meeting: Meeting, by, comment: str = "") -> Meeting:
    """R-12: mark the meeting held once its minutes are complete (R-21: never without approval)."""
    return meeting_transition(meeting=meeting, action=Action.HOLD, by=by, comment=comment)


def meeting_report(*, meeting: Meeting, by, comment: str = "") -> Meeting:
    """R-13: report the result to the branch promptly after the meeting."""
    return meeting_transition(meeting=meeting, action=Action.REPORT, by=by, comment=comment)


def meeting_archive(*, meeting: Meeting, by, comment: str = "") -> Meeting:
    """R-12: the branch files the record for inspection (存档备查); read-only from then on."""
    return meeting_transition(meeting=meeting, action=Action.ARCHIVE, by=by, comment=comment)


def meeting_cancel(*, meeting: Meeting, by, comment: str) -> Meeting:
    return meeting_transition(meeting=meeting, action=Action.CANCEL, by=by, comment=comment)


def _next_archive_number(meeting: Meeting) -> str:
    year = meeting.held_on.year
    prefix = f"{year}-{meeting.group_id:05d}-"
    PartyGroup.objects.select_for_update().filter(
        pk=meeting.group_id
    ).first()  # serialise numbering per group
    count = Meeting.objects.filter(group_id=meeting.group_id, archive_number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


def _check_ready_to_hold(meeting: Meeting) -> None:
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None:
        raise ValidationError("请先填写会议记录，再标记为已召开（R-12）。")
    errors = rules.validate_minutes_times(
        held_on=minutes.held_on,
        start=minutes.start_time,
        end=minutes.end_time,
        today=timezone.localdate(),
        marking_held=True,
    )
    if not meeting.agenda_items.exists():
        errors.append("会议记录至少应有一个议题（R-14）。")
    if not meeting.attendances.filter(role=AttendanceRole.PRESENT).exists():
        errors.append("会议记录应登记参加人员（R-14）。")
    if (
        meeting.kind == MeetingKind.LIFE_MEETING
        and not LifeMeetingRecord.objects.filter(meeting=meeting).exists()
    ):
        errors.append("组织生活会须记录会前、会上、会后各环节（R-18）。")
    if meeting.kind == MeetingKind.EVALUATION and not meeting.evaluations.exists():
        errors.append("民主评议党员须记录每名党员的自评和互评结果（R-19）。")
    if errors:
        raise ValidationError(errors)


# --- Creating and editing the request ------------------------------------------------------------


def meeting_create(
    *,
    group: PartyGroup,
    kind: str,
    title: str,
    planned_date: dt.date,
    agenda: str,
    by,
    planned_start: dt.time | None = None,
    planned_place: str = "",
    request_note: str = "",
) -> Meeting:
    """A draft meeting of ``group``; only its leader or deputy may create it."""
    if not is_leader_of(by, group):
        raise PermissionDenied("只有本党小组的组长或副组长可以安排会议。")
    _check_request(group=group, title=title, planned_date=planned_date, agenda=agenda)
    with transaction.atomic():
        meeting = Meeting(
            group=group,
            kind=kind,
            title=title.strip(),
            planned_date=planned_date,
            planned_start=planned_start,
            planned_place=planned_place,
            agenda=agenda.strip(),
            request_note=request_note,
            created_by=by,
        )
        return audited_save(meeting, by=by, reason="新建会议")


def _check_request(*, group: PartyGroup, title: str, planned_date: dt.date, agenda: str) -> None:
    errors: dict[str, list[str]] = {}
    if group.dissolved_on and group.dissolved_on <= planned_date:
        errors.setdefault("planned_date", []).append(f"党小组已于{group.dissolved_on:%Y-%m-%d}撤销。")
    if planned_date < group.established_on:
        errors.setdefault("planned_date", []).append(
            f"拟召开日期不能早于党小组建立日期（{group.established_on:%Y-%m-%d}）。"
        )
    if not title.strip():
        errors.setdefault("title", []).append("请填写会议主题。")
    elif notices.single_line(title) != title.strip():
        errors.setdefault("title", []).append("会议主题不能包含换行或控制字符。")
    if not agenda.strip():
        errors.setdefault("agenda", []).append("请填写拟定议题（R-11）。")
    if errors:
        raise ValidationError(errors)


REQUEST_FIELDS = ("kind", "title", "planned_date", "planned_start", "planned_place", "agenda", "request_note")


def meeting_update_request(*, meeting: Meeting, by, **changes) -> Meeting:
    """Edit the request while it is a draft or returned for changes."""
    unknown = set(changes) - set(REQUEST_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改字段：{', '.join(sorted(unknown))}。")
    with transaction.atomic():
        meeting = _locked(meeting)
        _require_actor(meeting, Actor.LEADER, by)
        _require_not_archived(meeting)
        if meeting.state not in EDITABLE_REQUEST_STATES:
            raise ValidationError(
                f"会议当前状态为“{meeting.get_state_display()}”，请示内容已提交，不能修改（仅草稿或退回时可修改）。"
            )
        for name, value in changes.items():
            setattr(meeting, name, value.strip() if name in {"title", "agenda"} else value)
        _check_request(
            group=meeting.group, title=meeting.title, planned_date=meeting.planned_date, agenda=meeting.agenda
        )
        return audited_save(meeting, by=by, reason="修改请示内容")


# --- Minutes -------------------------------------------------------------------------------------


@dataclass
class SpeechInput:
    views: str
    speaker: Member | None = None
    speaker_name: str = ""


@dataclass
class AgendaItemInput:
    title: str
    record: str = ""
    category: str = TopicCategory.STUDY
    speeches: list[SpeechInput] = field(default_factory=list)


@dataclass
class AttendanceInput:
    role: str
    member: Member | None = None
    person_name: str = ""
    person_title: str = ""
    absence_reason: str = ""

    @property
    def name(self) -> str:
        return self.member.name if self.member else self.person_name


@dataclass
class ActionItemInput:
    """A decided matter (R-16). ``item_id`` names an existing one of this meeting when the minutes are
    rewritten; without it an existing one with the same description and owner is updated in place."""

    description: str
    owner: Member
    due_on: dt.date
    measures: str = ""
    agenda_number: int | None = None
    is_rectification: bool = False
    item_id: int | None = None


@dataclass
class FollowUpInput:
    action_item: ActionItem
    note: str
    status_after: str
    completed_on: dt.date | None = None


def minutes_save(
    *,
    meeting: Meeting,
    by,
    held_on: dt.date,
    half_day: str,
    start_time: dt.time,
    end_time: dt.time,
    place: str,
    host: Member,
    recorder: Member,
    chair_summary: str,
    attendance: Sequence[AttendanceInput],
    agenda_items: Sequence[AgendaItemInput],
    action_items: Sequence[ActionItemInput] = (),
    follow_ups: Sequence[FollowUpInput] = (),
    opening: str = "",
    mark_held: bool = False,
) -> Minutes:
    """Write (or rewrite) the minutes of a notified or held meeting; optionally mark it held.

    Refuses, with every reason at once and nothing saved: end before start, a future date marked
    held, an absentee without reason, a person twice, an observer also present, a group member not
    accounted for, a host/recorder/speaker not at the meeting, no agenda item, speeches without
    speaker, a decided matter already followed up in a later meeting that the rewrite would drop.

    Rewriting keeps the identity of decided matters (R-16): one named by ``item_id`` or with the same
    description and owner is updated in place (its status and follow-ups are kept); the others of
    this meeting are deleted unless a later meeting has followed them up. Follow-ups recorded in this
    meeting and left out of the rewrite are removed and the matter's status is restored.
    """
    with transaction.atomic():
        meeting = _locked(meeting)
        _require_actor(meeting, Actor.LEADER, by)
        _require_not_archived(meeting)
        if meeting.state not in MINUTES_EDITABLE_STATES:
            if meeting.state in {
                MeetingState.DRAFT,
                MeetingState.SUBMITTED,
                MeetingState.RETURNED,
                MeetingState.APPROVED,
            }:
                raise ValidationError(_refusal(meeting, Action.HOLD))
            raise ValidationError(f"会议当前状态为“{meeting.get_state_display()}”，不能修改会议记录。")
        roster = roster_on(meeting.group, held_on)
        errors = rules.validate_minutes_times(
            held_on=held_on,
            start=start_time,
            end=end_time,
            today=timezone.localdate(),
            marking_held=mark_held or meeting.state in HELD_STATES,
        )
        errors += rules.validate_attendance(
            [
                rules.AttendanceEntry(
                    member_id=a.member.pk if a.member else None,
                    name=a.name,
                    role=a.role,
                    absence_reason=a.absence_reason,
                )
                for a in attendance
            ],
            roster_ids={m.pk for m in roster},
            roster_names={m.pk: m.name for m in roster},
        )
        at_meeting = {
            a.member.pk for a in attendance if a.member and a.role != AttendanceRole.ABSENT
        }  # present or observer
        for label, person in (("主持人", host), ("记录人", recorder)):
            if person.pk not in at_meeting:
                errors.append(f"{label}“{person.name}”应登记为参加或列席人员。")
        if not place.strip():
            errors.append("请填写会议地点（R-14）。")
        if not chair_summary.strip():
            errors.append("请填写主持人总结（R-16）。")
        if not agenda_items:
            errors.append("会议记录至少应有一个议题（R-14）。")
        for number, item in enumerate(agenda_items, 1):
            if not item.title.strip():
                errors.append(f"议题{number}缺少标题。")
            if item.category not in TopicCategory.values:
                errors.append(f"议题{number}的议题类别“{item.category}”无效（R-23）。")
            for speech in item.speeches:
                if speech.speaker is None and not speech.speaker_name.strip():
                    errors.append(f"议题{number}有发言缺少发言人。")
                if speech.speaker is not None and speech.speaker.pk not in at_meeting:
                    errors.append(f"议题{number}的发言人“{speech.speaker.name}”未登记为参加或列席人员。")
                if not speech.views.strip():
                    errors.append(f"议题{number}有发言缺少主要观点。")
        existing = {
            a.pk: a for a in ActionItem.objects.select_for_update().filter(meeting=meeting).order_by("pk")
        }
        followed_later = set(  # decided matters of this meeting followed up by a later meeting
            ActionFollowUp.objects.filter(action_item__meeting=meeting)
            .exclude(meeting=meeting)
            .values_list("action_item_id", flat=True)
        )
        matched = _match_action_items(action_items, existing, errors)
        for action in action_items:
            short = action.description.strip()[:20]
            if not action.description.strip():
                errors.append("议定事项缺少内容。")
            if action.agenda_number is not None and not 1 <= action.agenda_number <= len(agenda_items):
                errors.append(f"议定事项“{short}”对应的议题编号无效。")
            if action.owner.branch_id != meeting.group.branch_id:
                errors.append(f"议定事项“{short}”的责任人应为本支部党员。")
            if action.due_on < held_on:
                errors.append(f"议定事项“{short}”的完成时限不能早于会议日期。")
        dropped = [a for pk, a in existing.items() if pk not in matched.values()]
        for item in dropped:
            if item.pk in followed_later:
                errors.append(
                    f"议定事项“{item.description[:20]}”已在后续会议中跟进，不能删除；"
                    "如不再推进，请在后续会议中标记为“已撤销”（R-16）。"
                )
        errors += _follow_up_errors(meeting, follow_ups, held_on)
        if errors:
            raise ValidationError(errors)

        minutes = Minutes.objects.filter(meeting=meeting).first() or Minutes(meeting=meeting)
        for name, value in {
            "held_on": held_on,
            "half_day": half_day,
            "start_time": start_time,
            "end_time": end_time,
            "place": place.strip(),
            "host": host,
            "recorder": recorder,
            "chair_summary": chair_summary,
            "opening": opening,
            "written_by": by,
        }.items():
            setattr(minutes, name, value)
        audited_save(minutes, by=by, reason="填写会议记录")

        # Rewrite attendance and agenda (one record; history keeps the old rows); decided matters
        # keep their identity (see above).
        meeting.attendances.all().delete()
        for item in dropped:
            item._history_user = by
            item.delete()
        meeting.agenda_items.all().delete()
        for a in attendance:
            audited_save(
                Attendance(
                    meeting=meeting,
                    member=a.member,
                    person_name=a.person_name.strip() if not a.member else "",
                    person_title=a.person_title.strip(),
                    role=a.role,
                    absence_reason=a.absence_reason.strip() if a.role == AttendanceRole.ABSENT else "",
                ),
                by=by,
            )
        saved_items: list[AgendaItem] = []
        for number, item in enumerate(agenda_items, 1):
            agenda_item = audited_save(
                AgendaItem(
                    meeting=meeting,
                    number=number,
                    title=item.title.strip(),
                    category=item.category,
                    record=item.record,
                ),
                by=by,
            )
            saved_items.append(agenda_item)
            for order, speech in enumerate(item.speeches, 1):
                audited_save(
                    Speech(
                        agenda_item=agenda_item,
                        order=order,
                        speaker=speech.speaker,
                        speaker_name="" if speech.speaker else speech.speaker_name.strip(),
                        views=speech.views,
                    ),
                    by=by,
                )
        for index, action in enumerate(action_items):
            pk = matched.get(index)
            item = existing[pk] if pk is not None else ActionItem(meeting=meeting)
            item.agenda_item = saved_items[action.agenda_number - 1] if action.agenda_number else None
            item.description = action.description.strip()
            item.measures = action.measures
            item.owner = action.owner
            item.due_on = action.due_on
            item.is_rectification = action.is_rectification
            audited_save(item, by=by, reason="会议议定事项")
        _sync_follow_ups(meeting=meeting, follow_ups=follow_ups, by=by)
        if mark_held and meeting.state == MeetingState.NOTIFIED:
            meeting_transition(meeting=meeting, action=Action.HOLD, by=by)
        elif meeting.state in HELD_STATES and meeting.held_on != held_on:
            meeting.held_on = held_on
            audited_save(meeting, by=by, reason="更正召开日期")
        return minutes


def _match_action_items(
    action_items: Sequence[ActionItemInput], existing: dict[int, ActionItem], errors: list[str]
) -> dict[int, int]:
    """Input index → pk of the existing decided matter it rewrites (``item_id``, else description + owner)."""
    matched: dict[int, int] = {}
    for index, action in enumerate(action_items):
        if action.item_id is None:
            continue
        if action.item_id not in existing:
            errors.append(f"议定事项“{action.description.strip()[:20]}”不是本次会议的议定事项。")
        elif action.item_id in matched.values():
            errors.append(f"议定事项“{action.description.strip()[:20]}”重复。")
        else:
            matched[index] = action.item_id
    for index, action in enumerate(action_items):
        if action.item_id is not None:
            continue
        for pk, item in existing.items():
            same = item.description.strip() == action.description.strip() and item.owner_id == action.owner.pk
            if same and pk not in matched.values():
                matched[index] = pk
                break
    return matched


def _follow_up_errors(meeting: Meeting, follow_ups: Sequence[FollowUpInput], held_on: dt.date) -> list[str]:
    errors: list[str] = []
    ids = [f.action_item.pk for f in follow_ups]
    items = {
        a.pk: a
        for a in ActionItem.objects.filter(pk__in=ids)
        .select_related("meeting")
        .annotate(followed_here=Count("follow_ups", filter=Q(follow_ups__meeting=meeting)))
    }
    seen: set[int] = set()
    today = timezone.localdate()
    statuses = set(ActionItemStatus.values)
    for follow_up in follow_ups:
        item = items.get(follow_up.action_item.pk)
        if item is None:
            errors.append("跟进的议定事项不存在。")
            continue
        label = f"议定事项“{item.description[:20]}”"
        if item.meeting.group_id != meeting.group_id:
            errors.append("只能跟进本党小组的议定事项。")
            continue
        if item.meeting_id == meeting.pk:
            errors.append(f"{label}是本次会议议定的，应在以后的会议中跟进。")
        elif item.meeting.held_on is None or item.meeting.held_on > held_on:
            errors.append(f"{label}只能在议定它的会议召开之后跟进。")
        if item.pk in seen:
            errors.append(f"{label}在本次会议中跟进了两次。")
        seen.add(item.pk)
        if item.status not in OPEN_ACTION_STATUSES and not item.followed_here:
            errors.append(f"{label}的状态为“{item.get_status_display()}”，无需再跟进。")
        if follow_up.status_after not in statuses:
            errors.append(f"{label}的跟进后状态无效。")
        if not follow_up.note.strip():
            errors.append(f"{label}缺少进展情况。")
        if follow_up.status_after == ActionItemStatus.DONE:
            if not follow_up.completed_on:
                errors.append(f"{label}标记完成时须填写完成日期。")
            elif follow_up.completed_on > today:
                errors.append(f"{label}的完成日期不能晚于今天。")
    return errors


def _sync_follow_ups(*, meeting: Meeting, follow_ups: Sequence[FollowUpInput], by) -> None:
    keep = {f.action_item.pk for f in follow_ups}
    for stale in ActionFollowUp.objects.filter(meeting=meeting).exclude(action_item_id__in=keep):
        item = ActionItem.objects.select_for_update().get(pk=stale.action_item_id)
        stale._history_user = by
        stale.delete()
        previous = (
            ActionFollowUp.objects.filter(action_item=item).order_by("-meeting__held_on", "-pk").first()
        )
        item.status = previous.status_after if previous else ActionItemStatus.OPEN
        if item.status != ActionItemStatus.DONE:
            item.completed_on = None
        audited_save(item, by=by, reason=f"撤回会议跟进：{meeting.title}")
    for follow_up in follow_ups:
        _record_follow_up(meeting=meeting, follow_up=follow_up, by=by)


def _record_follow_up(*, meeting: Meeting, follow_up: FollowUpInput, by) -> ActionFollowUp:
    item = ActionItem.objects.select_for_update().get(pk=follow_up.action_item.pk)
    record = ActionFollowUp.objects.filter(action_item=item, meeting=meeting).first() or ActionFollowUp(
        action_item=item, meeting=meeting
    )
    record.note = follow_up.note.strip()
    record.status_after = follow_up.status_after
    audited_save(record, by=by, reason="跟进议定事项")
    item.status = follow_up.status_after
    item.completed_on = follow_up.completed_on if follow_up.status_after == ActionItemStatus.DONE else None
    audited_save(item, by=by, reason=f"会议跟进：{meeting.title}")
    return record


def open_action_items(group: PartyGroup, *, exclude_meeting: Meeting | None = None) -> list[ActionItem]:
    """R-16: decided matters of the group's held meetings not yet done, carried into the next meeting
    until done (``exclude_meeting``: leave out that meeting's own matters)."""
    qs = ActionItem.objects.filter(
        meeting__group=group, meeting__state__in=list(HELD_STATES), status__in=list(OPEN_ACTION_STATUSES)
    )
    if exclude_meeting is not None:
        qs = qs.exclude(meeting=exclude_meeting)
    return list(qs.select_related("owner", "meeting").order_by("due_on", "pk"))


# --- Life meetings, evaluations ------------------------------------------------------------------


LIFE_RECORD_FIELDS = (
    "theme",
    "before_study",
    "before_talks",
    "before_opinions",
    "during_problems",
    "during_criticism",
    "during_direction",
    "after_followup",
)


def life_record_save(*, meeting: Meeting, by, **fields) -> LifeMeetingRecord:
    """R-18: the before / during / after steps of an organisational life meeting.

    Written while the meeting is notified or held; once reported to the branch only the "after"
    step (``after_followup``: how the rectification measures are carried out) may still be added.
    """
    unknown = set(fields) - set(LIFE_RECORD_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改字段：{', '.join(sorted(unknown))}。")
    with transaction.atomic():
        meeting = _locked(meeting)
        _require_actor(meeting, Actor.LEADER, by)
        _require_not_archived(meeting)
        if meeting.kind != MeetingKind.LIFE_MEETING:
            raise ValidationError("只有组织生活会需要记录会前、会上、会后环节。")
        if meeting.state not in MINUTES_EDITABLE_STATES | {MeetingState.REPORTED}:
            raise ValidationError(_refusal(meeting, Action.HOLD))
        if meeting.state == MeetingState.REPORTED and set(fields) - {"after_followup"}:
            raise ValidationError("会议已上报党支部，只能补充“会后：整改落实情况”（R-18）。")
        record = LifeMeetingRecord.objects.filter(meeting=meeting).first() or LifeMeetingRecord(
            meeting=meeting
        )
        for name, value in fields.items():
            setattr(record, name, (value or "").strip())
        missing = [
            str(LifeMeetingRecord._meta.get_field(name).verbose_name)
            for name in LIFE_RECORD_FIELDS
            if name != "after_followup" and not getattr(record, name)
        ]
        if missing:
            raise ValidationError([f"请填写“{label}”（R-18）。" for label in missing])
        return audited_save(record, by=by, reason="组织生活会记录")


@dataclass
class EvaluationInput:
    member: Member
    self_evaluation: str
    peer_result: str
    note: str = ""


def evaluations_save(*, meeting: Meeting, results: Sequence[EvaluationInput], by) -> list[EvaluationResult]:
    """R-19: each member's self-evaluation and peer-evaluation result."""
    with transaction.atomic():
        meeting = _locked(meeting)
        _require_actor(meeting, Actor.LEADER, by)
        _require_not_archived(meeting)
        if meeting.kind != MeetingKind.EVALUATION:
            raise ValidationError("只有民主评议党员会议需要记录评议结果。")
        if meeting.state not in MINUTES_EDITABLE_STATES:
            raise ValidationError(_refusal(meeting, Action.HOLD))
        day = meeting.minutes.held_on if hasattr(meeting, "minutes") else meeting.planned_date
        roster_ids = {m.pk for m in roster_on(meeting.group, day)}
        errors = []
        seen = set()
        grades = set(EvaluationGrade.values)
        if not results:
            errors.append("请至少填写一名党员的评议结果（R-19）。")
        for result in results:
            if result.peer_result not in grades:
                errors.append(f"“{result.member.name}”的党员互评结果无效。")
            if result.member.pk not in roster_ids:
                errors.append(f"“{result.member.name}”不是本党小组党员。")
            if result.member.pk in seen:
                errors.append(f"“{result.member.name}”的评议结果重复。")
            seen.add(result.member.pk)
            if not result.self_evaluation.strip():
                errors.append(f"“{result.member.name}”缺少党性分析和个人自评。")
        if errors:
            raise ValidationError(errors)
        meeting.evaluations.all().delete()
        return [
            audited_save(
                EvaluationResult(
                    meeting=meeting,
                    member=r.member,
                    self_evaluation=r.self_evaluation.strip(),
                    peer_result=r.peer_result,
                    note=r.note.strip(),
                ),
                by=by,
            )
            for r in results
        ]


# --- The whole minutes page (R-12, R-14 … R-19) -------------------------------------------------


@dataclass
class MinutesInput:
    """The minutes' head and rows (R-14 … R-16), exactly the arguments of ``minutes_save``."""

    held_on: dt.date
    half_day: str
    start_time: dt.time
    end_time: dt.time
    place: str
    host: Member
    recorder: Member
    chair_summary: str
    attendance: Sequence[AttendanceInput]
    agenda_items: Sequence[AgendaItemInput]
    action_items: Sequence[ActionItemInput] = ()
    follow_ups: Sequence[FollowUpInput] = ()
    opening: str = ""

    def as_kwargs(self) -> dict:
        # Not dataclasses.asdict: that would deep-copy the members and the nested inputs.
        return {f.name: getattr(self, f.name) for f in fields(self)}


def minutes_page_save(
    *,
    meeting: Meeting,
    by,
    minutes: MinutesInput,
    life_record: dict[str, str] | None = None,
    evaluations: Sequence[EvaluationInput] | None = None,
    mark_held: bool = False,
) -> Minutes:
    """Everything the minutes page records, in ONE transaction: the minutes (R-14 … R-16), the life
    meeting's before / during / after record (R-18, when ``life_record`` is given), the members'
    evaluations (R-19, when ``evaluations`` is given), then — with ``mark_held`` on a notified
    meeting — the step to held (R-12).

    Each step validates its own part; every message of every step is collected (in order, without
    repeats) and, if there is any, everything is rolled back and ``ValidationError`` carries them
    all: nothing is saved. ``PermissionDenied`` propagates (403).
    """
    errors: list[str] = []
    saved: Minutes | None = None
    with transaction.atomic():
        try:
            with transaction.atomic():
                saved = minutes_save(meeting=meeting, by=by, mark_held=False, **minutes.as_kwargs())
        except ValidationError as exc:
            errors += exc.messages
        if life_record is not None:
            errors += _collected(lambda: life_record_save(meeting=meeting, by=by, **life_record))
        if evaluations is not None:
            errors += _collected(lambda: evaluations_save(meeting=meeting, results=evaluations, by=by))
        if mark_held and not errors and meeting.state == MeetingState.NOTIFIED:
            errors += _collected(lambda: meeting_hold(meeting=meeting, by=by))
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
    return saved


def _collected(step) -> list[str]:
    """Run ``step`` in a savepoint; its refusal's messages (the savepoint rolled back), else none."""
    try:
        with transaction.atomic():
            step()
    except ValidationError as exc:
        return list(exc.messages)
    return []


# --- Addenda -------------------------------------------------------------------------------------


def addendum_add(*, meeting: Meeting, text: str, reason: str, by) -> MeetingAddendum:
    """R-12: a correction to an archived record is a new linked addendum, never an edit."""
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.state != MeetingState.ARCHIVED:
            raise ValidationError("只有已存档的会议记录需要补正；未存档的记录可直接修改。")
        if not (is_leader_of(by, meeting.group) or is_approver_of(by, meeting.group)):
            raise PermissionDenied("只有本党小组组长或支委会成员可以补正会议记录。")
        if not text.strip() or not reason.strip():
            raise ValidationError("请填写补正内容和原因。")
        number = (meeting.addenda.aggregate(last=Max("number"))["last"] or 0) + 1
        addendum = MeetingAddendum(
            meeting=meeting, number=number, text=text.strip(), reason=reason.strip(), created_by=by
        )
        return audited_save(addendum, by=by)


# --- Talks (R-20) --------------------------------------------------------------------------------


def talk_record(
    *,
    group: PartyGroup,
    talked_on: dt.date,
    initiator: Member,
    partner: Member,
    topic: str,
    summary: str,
    by,
    place: str = "",
) -> Talk:
    """R-20: a heart-to-heart talk between two members of the group (leader–member or member–member)."""
    if not is_leader_of(by, group):
        raise PermissionDenied("只有本党小组的组长或副组长可以登记谈心谈话。")
    errors = []
    if talked_on > timezone.localdate():
        errors.append("谈话日期不能晚于今天。")
    if not topic.strip():
        errors.append("请填写谈话主题。")
    if not summary.strip():
        errors.append("请填写谈话要点。")
    if initiator.pk == partner.pk:
        errors.append("谈心谈话须在两人之间进行。")
    roster_ids = {m.pk for m in roster_on(group, talked_on)}
    for person in (initiator, partner):
        if person.pk not in roster_ids:
            errors.append(f"“{person.name}”在{talked_on:%Y-%m-%d}不是本党小组党员。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        talk = Talk(
            group=group,
            talked_on=talked_on,
            initiator=initiator,
            partner=partner,
            topic=topic.strip(),
            summary=summary.strip(),
            place=place.strip(),
            recorded_by=by,
        )
        return audited_save(talk, by=by, reason="登记谈心谈话")


# --- Annual plan (R-17) --------------------------------------------------------------------------


@dataclass
class PlanItemInput:
    month: int
    topic: str
    kind: str = MeetingKind.GROUP_MEETING
    category: str = TopicCategory.STUDY


def annual_plan_save(
    *,
    group: PartyGroup,
    year: int,
    items: Sequence[PlanItemInput],
    by,
    summary: str = "",
    meetings_per_year: int = 12,
) -> AnnualPlan:
    """R-17: the group's plan for ``year`` (months, topics, meeting frequency); replaces earlier items."""
    if not is_leader_of(by, group):
        raise PermissionDenied("只有本党小组的组长或副组长可以制定年度计划。")
    errors = [
        f"第{i}项的月份“{item.month}”无效（应为1至12）。"
        for i, item in enumerate(items, 1)
        if not 1 <= item.month <= 12
    ]
    errors += [f"第{i}项缺少主题。" for i, item in enumerate(items, 1) if not item.topic.strip()]
    errors += [
        f"第{i}项的活动类别或议题类别无效。"
        for i, item in enumerate(items, 1)
        if item.kind not in MeetingKind.values or item.category not in TopicCategory.values
    ]
    this_year = timezone.localdate().year
    if not group.established_on.year <= year <= this_year + 1:
        errors.append(f"年度“{year}”无效（应在{group.established_on.year}年至{this_year + 1}年之间）。")
    if not 1 <= meetings_per_year <= 366:
        errors.append("计划党小组会次数应在1至366之间。")
    if not items:
        errors.append("年度计划至少应有一项安排。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = AnnualPlan.objects.select_for_update().filter(group=group, year=year).first() or AnnualPlan(
            group=group, year=year, created_by=by
        )
        plan.summary = summary
        plan.meetings_per_year = meetings_per_year
        audited_save(plan, by=by, reason="制定年度计划")
        plan.items.all().delete()
        for item in items:
            audited_save(
                AnnualPlanItem(
                    plan=plan,
                    month=item.month,
                    topic=item.topic.strip(),
                    kind=item.kind,
                    category=item.category,
                ),
                by=by,
            )
        return plan


# --- Cultivation opinions (R-22; seed 002's second agenda item) -----------------------------------


def cultivation_opinion_record(
    *,
    candidate: CultivationCandidate,
    meeting: Meeting,
    recommendation: str,
    opinion: str,
    by,
    agenda_item: AgendaItem | None = None,
    proposed_stage: str | None = None,
) -> CultivationOpinion:
    """R-22: the group's opinion on a person it cultivates and its recommendation (推荐 / 暂缓 / 不推荐),
    as discussed in ``meeting`` (“讨论对入党申请人的意见、推荐吸收入党积极分子人选”).

    Only the leader or deputy of the meeting's group (``PermissionDenied``). Refused, nothing saved:
    a meeting of another group, a meeting not (yet) held, an archived meeting (R-12: read-only — use
    an addendum), a meeting held before the person applied, an agenda item of another meeting, a
    second opinion on the same person in the same meeting, a proposed stage other than the person's
    next one. ``proposed_stage`` defaults to the next stage (none after the probationary stage)."""
    if not is_leader_of(by, meeting.group):
        raise PermissionDenied("只有本党小组的组长或副组长可以登记党小组对培养对象的意见。")
    with transaction.atomic():
        meeting = _locked(meeting)
        errors: list[str] = []
        if candidate.group_id != meeting.group_id:
            errors.append(
                f"“{candidate.name}”由党小组“{candidate.group.name}”培养，不能在其他党小组的会议上登记意见。"
            )
        if meeting.state == MeetingState.ARCHIVED:
            errors.append("会议已存档，记录只读（R-12）；如需补充，请添加补正记录。")
        elif meeting.state not in HELD_STATES:
            errors.append(
                f"会议尚未召开（当前状态：{meeting.get_state_display()}），召开后才能登记党小组的意见。"
            )
        first_stage = (
            candidate.stages.order_by("started_on", "pk").values_list("started_on", flat=True).first()
        )
        if meeting.held_on and first_stage and meeting.held_on < first_stage:
            errors.append(f"会议召开时（{meeting.held_on:%Y-%m-%d}）“{candidate.name}”尚未递交入党申请。")
        if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
            errors.append("所选议题不属于本次会议。")
        if recommendation not in Recommendation.values:
            errors.append(f"推荐意见“{recommendation}”无效（应为推荐、暂缓或不推荐）。")
        if not opinion.strip():
            errors.append("请填写党小组的意见。")
        expected = next_stage(candidate.stage)
        if proposed_stage is None:
            proposed_stage = expected or ""
        elif proposed_stage and proposed_stage != expected:
            known = proposed_stage in CULTIVATION_ORDER
            what = CultivationStageKind(proposed_stage).label if known else proposed_stage
            allowed = f"“{CultivationStageKind(expected).label}”" if expected else "（已是最后阶段）"
            errors.append(
                f"“{candidate.name}”目前是“{candidate.get_stage_display()}”，只能推荐进入下一阶段{allowed}，"
                f"不能推荐为“{what}”（R-22：培养阶段须依次经过）。"
            )
        if CultivationOpinion.objects.filter(candidate=candidate, meeting=meeting).exists():
            errors.append(f"本次会议已登记对“{candidate.name}”的意见。")
        if errors:
            raise ValidationError(errors)
        record = CultivationOpinion(
            candidate=candidate,
            meeting=meeting,
            agenda_item=agenda_item,
            proposed_stage=proposed_stage,
            recommendation=recommendation,
            opinion=opinion.strip(),
            recorded_by=by,
        )
        return audited_save(record, by=by, reason="登记党小组对培养对象的意见")
