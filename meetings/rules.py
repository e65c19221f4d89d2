"""Rule checks for meetings: the minutes' content (R-14, R-15, R-16) and the cadence (R-10, R-17 … R-20).

Pure functions over plain values; no database, no request. ``validate_minutes`` returns the bad-input
messages that make the minutes service refuse (nothing saved); the cadence checks return findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from meetings.enums import AttendanceRole, MeetingKind
from partygroup.findings import Finding, Severity, make_finding

# Month arithmetic is shared (partygroup.months); the names stay importable from here (meetings.findings).
from partygroup.months import add_months, month_start, months_between  # noqa: F401


# --- Minutes (R-14 … R-16) -----------------------------------------------------------------------
@dataclass(frozen=True)
class AttendanceEntry:
    member_id: int | None
    name: str
    role: str
    absence_reason: str = ""


@dataclass(frozen=True)
class SpeechEntry:
    speaker_id: int | None
    name: str


def validate_attendance(
    entries: Sequence[AttendanceEntry], roster_ids: set[int], roster_names: dict[int, str] | None = None
) -> list[str]:
    """R-14: every absentee has a reason; nobody twice; an observer is not also present; roster complete.

    Members of the group (``roster_ids``) are present or absent; anyone else — a member of another
    group, a bureau chief, a person outside the system — can only be an observer (列席).
    """
    errors: list[str] = []
    seen: dict[object, AttendanceEntry] = {}
    for entry in entries:
        key = ("m", entry.member_id) if entry.member_id else ("n", entry.name.strip())
        if key in seen:
            other = seen[key]
            if {other.role, entry.role} == {AttendanceRole.PRESENT, AttendanceRole.OBSERVER}:
                errors.append(f"“{entry.name}”不能既是参加人员又是列席人员。")
            else:
                errors.append(f"“{entry.name}”在出席名单中出现了两次。")
            continue
        seen[key] = entry
        if entry.member_id is None and not entry.name.strip():
            errors.append("列席人员须填写姓名。")
        if entry.role == AttendanceRole.ABSENT and not entry.absence_reason.strip():
            errors.append(f"缺席人员“{entry.name}”必须注明缺席原因（R-14）。")
        in_group = entry.member_id is not None and entry.member_id in roster_ids
        if not in_group and entry.role != AttendanceRole.OBSERVER:
            errors.append(f"“{entry.name}”不是本党小组党员，只能作为列席人员。")
        if in_group and entry.role == AttendanceRole.OBSERVER:
            errors.append(f"“{entry.name}”是本党小组党员，应登记为参加或缺席，而不是列席。")
    listed = {e.member_id for e in entries if e.member_id}
    missing = roster_ids - listed
    if missing:
        names = "、".join(sorted((roster_names or {}).get(pk, str(pk)) for pk in missing))
        errors.append(f"还有{len(missing)}名本党小组党员未登记出席情况（参加或缺席）：{names}。")
    if not any(e.role == AttendanceRole.PRESENT for e in entries):
        errors.append("至少应有一名参加人员。")
    return errors


def validate_minutes_times(
    *, held_on: dt.date, start: dt.time, end: dt.time, today: dt.date, marking_held: bool
) -> list[str]:
    errors = []
    if end <= start:
        errors.append("结束时间必须晚于开始时间。")
    if marking_held and held_on > today:
        errors.append(f"会议日期（{held_on:%Y-%m-%d}）在今天之后，不能标记为已召开。")
    return errors


def check_speaker_order(
    *,
    kind: str,
    item_title: str,
    speeches: Sequence[SpeechEntry],
    leader_ids: set[int],
    meeting_id: int | None,
    meeting_label: str,
    branch_id: int | None,
    rule_set=None,
) -> list[Finding]:
    """R-15 (advisory): ordinary meetings — members first, the leader last; life meetings — leader first."""
    leader_positions = [i for i, s in enumerate(speeches) if s.speaker_id in leader_ids]
    if not leader_positions or len(speeches) < 2:
        return []
    if kind == MeetingKind.LIFE_MEETING:
        ok = leader_positions[0] == 0
        expectation = "组织生活会应由党小组组长带头发言，第一个开展批评和自我批评"
    else:
        ok = leader_positions[-1] == len(speeches) - 1
        expectation = "一般的党小组会应由党员先发言，党小组组长末尾发言"
    if ok:
        return []
    return [
        make_finding(
            "R-15",
            severity=Severity.ADVISORY,
            obj_type="meeting",
            obj_id=meeting_id,
            label=meeting_label,
            message=f"议题“{item_title}”的发言顺序：{expectation}。",
            rule_set=rule_set,
            branch_id=branch_id,
        )
    ]


# --- Cadence (R-10, R-17, R-18, R-19, R-20) --------------------------------------------------------
@dataclass(frozen=True)
class GroupCadenceFacts:
    group_id: int
    group_name: str
    branch_id: int
    established_on: dt.date
    held_group_meeting_months: frozenset[dt.date]  # first days of months with a held group meeting
    last_life_meeting: dt.date | None
    last_evaluation: dt.date | None
    plan_years: frozenset[int]


def cadence_window(on: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """The ``months`` complete months before ``on``'s month: (first day of first, first day of last)."""
    last = add_months(on, -1)
    return add_months(on, -months), last


def first_full_month(day: dt.date) -> dt.date:
    """The first month that ``day`` covers entirely: its own if it is the 1st, else the next one."""
    return day if day.day == 1 else add_months(day, 1)


def _month_range(first: dt.date, last: dt.date) -> str:
    end = f"{last.month}月" if first.year == last.year else f"{last.year}年{last.month}月"
    return f"{first.year}年{first.month}月至{end}"


def check_monthly_meetings(
    facts: GroupCadenceFacts, *, on: dt.date, rule_set, window_months: int = 12
) -> list[Finding]:
    """R-10: a complete month in the window without a held group meeting is a finding (advisory).

    Only complete months count: not ``on``'s month, not the founding month of a group founded after
    the 1st, nothing before the rule set took effect. A month with only a draft, cancelled or not yet
    held meeting is missing. With ``group_meeting_interval_months`` n > 1, the months are taken in
    calendar-aligned blocks of n (n=3: quarters) and each complete block without a meeting is listed.
    """
    first, last = cadence_window(on, window_months)
    start = max(first, first_full_month(facts.established_on), first_full_month(rule_set.effective_date))
    interval = max(1, rule_set.group_meeting_interval_months or 1)
    months = months_between(start, last) if start <= last else []
    missing_blocks: list[list[dt.date]] = []
    block: list[dt.date] = []
    for month in months:
        if (month.year * 12 + month.month - 1) % interval == 0:
            block = []
        block.append(month)
        block_complete = (month.year * 12 + month.month) % interval == 0 and len(block) == interval
        if block_complete and not any(m in facts.held_group_meeting_months for m in block):
            missing_blocks.append(block)
    if not missing_blocks:
        return []
    if interval == 1:
        text = "、".join(f"{b[0].year}年{b[0].month}月" for b in missing_blocks)
        expectation = "一般每月召开1次"
    else:
        text = "、".join(_month_range(b[0], b[-1]) for b in missing_blocks)
        expectation = f"按规定每{interval}个月至少召开1次"
    return [
        make_finding(
            "R-10",
            severity=Severity.ADVISORY,
            obj_type="group",
            obj_id=facts.group_id,
            label=facts.group_name,
            message=f"党小组“{facts.group_name}”在{text}没有召开党小组会（{expectation}）。",
            rule_set=rule_set,
            branch_id=facts.branch_id,
            months=[m.isoformat() for b in missing_blocks for m in b],
        )
    ]


def check_annual_plan(facts: GroupCadenceFacts, *, on: dt.date, rule_set) -> list[Finding]:
    """R-17: no annual plan for the current year after the rule set's due month (January)."""
    if on.month <= rule_set.annual_plan_due_month or on.year in facts.plan_years:
        return []
    founded_late = (
        facts.established_on.year == on.year and facts.established_on.month > rule_set.annual_plan_due_month
    )
    if founded_late and on < add_months(facts.established_on, 1):
        return []  # a group founded after the due month has until the end of its founding month
    return [
        make_finding(
            "R-17",
            severity=Severity.ADVISORY,
            obj_type="group",
            obj_id=facts.group_id,
            label=facts.group_name,
            message=f"党小组“{facts.group_name}”尚未制定{on.year}年度计划（应在年初制定）。",
            rule_set=rule_set,
            branch_id=facts.branch_id,
        )
    ]


def _overdue(last: dt.date | None, since: dt.date, on: dt.date, interval_months: int, rule_set) -> bool:
    """Due within ``interval_months`` months after the month of the last one (or, if none, of joining,
    founding or the rule set taking effect, whichever is latest); overdue from the first day of the
    month after that. A talk in January with a 6-month interval is due by 31 July."""
    base = last or max(since, rule_set.effective_date)
    return on >= add_months(base, interval_months + 1)


def check_life_meeting(facts: GroupCadenceFacts, *, on: dt.date, rule_set) -> list[Finding]:
    """R-18: an organisational life meeting at least every ``life_meeting_interval_months`` (6)."""
    interval = rule_set.life_meeting_interval_months
    if not _overdue(facts.last_life_meeting, facts.established_on, on, interval, rule_set):
        return []
    since = f"上次召开于{facts.last_life_meeting:%Y-%m-%d}" if facts.last_life_meeting else "尚未召开过"
    return [
        make_finding(
            "R-18",
            severity=Severity.ADVISORY,
            obj_type="group",
            obj_id=facts.group_id,
            label=facts.group_name,
            message=f"党小组“{facts.group_name}”已超过{interval}个月未召开组织生活会（{since}）。",
            rule_set=rule_set,
            branch_id=facts.branch_id,
        )
    ]


def check_evaluation(facts: GroupCadenceFacts, *, on: dt.date, rule_set) -> list[Finding]:
    """R-19: a democratic evaluation of members at least every ``evaluation_interval_months`` (12)."""
    interval = rule_set.evaluation_interval_months
    if not _overdue(facts.last_evaluation, facts.established_on, on, interval, rule_set):
        return []
    since = f"上次评议于{facts.last_evaluation:%Y-%m-%d}" if facts.last_evaluation else "尚未开展过"
    return [
        make_finding(
            "R-19",
            severity=Severity.ADVISORY,
            obj_type="group",
            obj_id=facts.group_id,
            label=facts.group_name,
            message=f"党小组“{facts.group_name}”已超过{interval}个月未开展民主评议党员（{since}）。",
            rule_set=rule_set,
            branch_id=facts.branch_id,
        )
    ]


@dataclass(frozen=True)
class MemberTalkFacts:
    member_id: int
    member_name: str
    branch_id: int
    in_group_since: dt.date
    last_talk: dt.date | None


def check_talks(members: Iterable[MemberTalkFacts], *, on: dt.date, rule_set) -> list[Finding]:
    """R-20: a member with no heart-to-heart talk within ``talk_interval_months`` (advisory)."""
    interval = rule_set.talk_interval_months
    findings = []
    for m in members:
        if not _overdue(m.last_talk, m.in_group_since, on, interval, rule_set):
            continue
        since = f"上次谈话于{m.last_talk:%Y-%m-%d}" if m.last_talk else "尚无谈话记录"
        findings.append(
            make_finding(
                "R-20",
                severity=Severity.ADVISORY,
                obj_type="member",
                obj_id=m.member_id,
                label=m.member_name,
                message=f"党员“{m.member_name}”已超过{interval}个月没有谈心谈话记录（{since}）。",
                rule_set=rule_set,
                branch_id=m.branch_id,
            )
        )
    return findings
