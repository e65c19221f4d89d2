"""Tests of meetings/rules.py: pure checks, no database (unsaved RuleSet instances carry the intervals)."""

from __future__ import annotations

import datetime as dt

import pytest

from meetings import rules
from meetings.enums import AttendanceRole, MeetingKind
from members.models import RuleSet

D = dt.date
CENTRAL = "《中央和国家机关党小组工作规则（试行）》"
P = AttendanceRole.PRESENT
A = AttendanceRole.ABSENT
OBS = AttendanceRole.OBSERVER


def rule_set(**overrides) -> RuleSet:
    values = {
        "code": "test",
        "name": "测试",
        "document_title": CENTRAL,
        "effective_date": D(2019, 4, 22),
        **overrides,
    }
    return RuleSet(**values)


def facts(**overrides) -> rules.GroupCadenceFacts:
    values = {
        "group_id": 7,
        "group_name": "第一党小组",
        "branch_id": 3,
        "established_on": D(2020, 1, 1),
        "held_group_meeting_months": frozenset(),
        "last_life_meeting": None,
        "last_evaluation": None,
        "plan_years": frozenset(),
        **overrides,
    }
    return rules.GroupCadenceFacts(**values)


def every_month(first: dt.date, last: dt.date, *, skip=()) -> frozenset[dt.date]:
    return frozenset(m for m in rules.months_between(first, last) if m not in set(skip))


# --- Minutes: attendance (R-14) --------------------------------------------------------------------
def entry(member_id, name, role, reason=""):
    return rules.AttendanceEntry(member_id=member_id, name=name, role=role, absence_reason=reason)


ROSTER = {1, 2, 3}
NAMES = {1: "王伟", 2: "李芳", 3: "张娜"}


def test_validate_attendance_complete_passes():
    entries = [
        entry(1, "王伟", P),
        entry(2, "李芳", P),
        entry(3, "张娜", A, "病假"),
        entry(None, "赵局长", OBS),
    ]
    assert rules.validate_attendance(entries, ROSTER, NAMES) == []


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [entry(1, "王伟", P), entry(2, "李芳", P), entry(3, "张娜", A, " ")],
            ["缺席人员“张娜”必须注明缺席原因（R-14）。"],
        ),
        (
            [entry(1, "王伟", P), entry(2, "李芳", P), entry(3, "张娜", P), entry(3, "张娜", A, "病假")],
            ["“张娜”在出席名单中出现了两次。"],
        ),
        (
            [entry(1, "王伟", P), entry(2, "李芳", P), entry(3, "张娜", P), entry(3, "张娜", OBS)],
            ["“张娜”不能既是参加人员又是列席人员。"],
        ),
        (
            [entry(1, "王伟", P), entry(2, "李芳", P), entry(3, "张娜", OBS)],
            ["“张娜”是本党小组党员，应登记为参加或缺席，而不是列席。"],
        ),
        (
            [entry(1, "王伟", P), entry(2, "李芳", P), entry(3, "张娜", P), entry(9, "刘强", P)],
            ["“刘强”不是本党小组党员，只能作为列席人员。"],
        ),
        (
            [entry(1, "王伟", P), entry(2, "李芳", P), entry(3, "张娜", P), entry(None, "赵局长", A, "出差")],
            ["“赵局长”不是本党小组党员，只能作为列席人员。"],
        ),
        (
            [entry(1, "王伟", P), entry(None, "赵局长", OBS), entry(None, "赵局长", OBS)],
            [
                "“赵局长”在出席名单中出现了两次。",
                "还有2名本党小组党员未登记出席情况（参加或缺席）：张娜、李芳。",
            ],
        ),
        (
            [entry(1, "王伟", A, "出差"), entry(2, "李芳", A, "出差"), entry(3, "张娜", A, "出差")],
            ["至少应有一名参加人员。"],
        ),
    ],
)
def test_validate_attendance_refusals(entries, expected):
    assert rules.validate_attendance(entries, ROSTER, NAMES) == expected


def test_validate_minutes_times():
    today = D(2026, 5, 10)
    ok = {"held_on": today, "start": dt.time(9), "end": dt.time(10), "today": today}
    assert rules.validate_minutes_times(**ok, marking_held=True) == []
    assert rules.validate_minutes_times(**{**ok, "end": dt.time(9)}, marking_held=True) == [
        "结束时间必须晚于开始时间。"
    ]
    future = {**ok, "held_on": D(2026, 5, 11)}
    assert rules.validate_minutes_times(**future, marking_held=True) == [
        "会议日期（2026-05-11）在今天之后，不能标记为已召开。"
    ]
    assert rules.validate_minutes_times(**future, marking_held=False) == []


# --- Speaker order (R-15) -----------------------------------------------------------------------------
def speeches(*ids):
    return [rules.SpeechEntry(speaker_id=i, name=str(i)) for i in ids]


@pytest.mark.parametrize(
    ("kind", "order", "finding"),
    [
        (MeetingKind.GROUP_MEETING, (2, 3, 1), False),
        (MeetingKind.GROUP_MEETING, (1, 2, 3), True),
        (MeetingKind.PARTY_DAY, (2, 1, 3), True),
        (MeetingKind.LIFE_MEETING, (1, 2, 3), False),
        (MeetingKind.LIFE_MEETING, (2, 3, 1), True),
        (MeetingKind.GROUP_MEETING, (2, 3), False),  # the leader did not speak
        (MeetingKind.GROUP_MEETING, (1,), False),  # a single speaker
    ],
)
def test_check_speaker_order_r15(kind, order, finding):
    result = rules.check_speaker_order(
        kind=kind,
        item_title="学习",
        speeches=speeches(*order),
        leader_ids={1},
        meeting_id=5,
        meeting_label="党小组会",
        branch_id=3,
    )
    assert [(f.rule_id, f.severity, f.object_id) for f in result] == (
        [("R-15", "advisory", 5)] if finding else []
    )


# --- Month arithmetic -----------------------------------------------------------------------------
def test_month_helpers():
    assert rules.add_months(D(2024, 11, 15), 3) == D(2025, 2, 1)
    assert rules.add_months(D(2024, 1, 31), -1) == D(2023, 12, 1)
    assert rules.months_between(D(2024, 11, 20), D(2025, 2, 3)) == [
        D(2024, 11, 1),
        D(2024, 12, 1),
        D(2025, 1, 1),
        D(2025, 2, 1),
    ]
    assert rules.cadence_window(D(2025, 3, 15)) == (D(2024, 3, 1), D(2025, 2, 1))
    assert rules.first_full_month(D(2024, 5, 1)) == D(2024, 5, 1)
    assert rules.first_full_month(D(2024, 5, 2)) == D(2024, 6, 1)


# --- R-10 --------------------------------------------------------------------------------------------
ON = D(2025, 3, 15)  # window: March 2024 … February 2025


def test_monthly_meetings_every_month_passes_r10():
    held = every_month(D(2024, 3, 1), D(2025, 2, 1))
    assert (
        rules.check_monthly_meetings(facts(held_group_meeting_months=held), on=ON, rule_set=rule_set()) == []
    )


def test_monthly_meetings_missing_months_r10():
    held = every_month(D(2024, 3, 1), D(2025, 2, 1), skip=[D(2024, 7, 1), D(2025, 1, 1)])
    [finding] = rules.check_monthly_meetings(
        facts(held_group_meeting_months=held), on=ON, rule_set=rule_set()
    )
    assert (finding.rule_id, finding.severity, finding.object_type, finding.object_id, finding.branch_id) == (
        "R-10",
        "advisory",
        "group",
        7,
        3,
    )
    assert finding.message == "党小组“第一党小组”在2024年7月、2025年1月没有召开党小组会（一般每月召开1次）。"
    assert finding.article == f"{CENTRAL}第五条"
    assert finding.extra["months"] == ["2024-07-01", "2025-01-01"]


def test_monthly_meetings_current_month_not_counted_r10():
    """The month of the check is not complete: no finding for it even without a meeting."""
    held = every_month(D(2024, 3, 1), D(2025, 2, 1))
    assert (
        rules.check_monthly_meetings(
            facts(held_group_meeting_months=held), on=D(2025, 3, 31), rule_set=rule_set()
        )
        == []
    )


def test_monthly_meetings_founding_month_not_counted_r10():
    founded = facts(
        established_on=D(2024, 12, 10), held_group_meeting_months=frozenset({D(2025, 1, 1), D(2025, 2, 1)})
    )
    assert rules.check_monthly_meetings(founded, on=ON, rule_set=rule_set()) == []
    [finding] = rules.check_monthly_meetings(
        facts(established_on=D(2024, 12, 10)), on=ON, rule_set=rule_set()
    )
    assert finding.extra["months"] == ["2025-01-01", "2025-02-01"]
    # Founded on the 1st, the group had the whole month: it counts.
    [finding] = rules.check_monthly_meetings(facts(established_on=D(2024, 12, 1)), on=ON, rule_set=rule_set())
    assert finding.extra["months"] == ["2024-12-01", "2025-01-01", "2025-02-01"]


def test_monthly_meetings_before_rule_set_effective_not_counted_r10():
    [finding] = rules.check_monthly_meetings(
        facts(), on=ON, rule_set=rule_set(effective_date=D(2024, 12, 15))
    )
    assert finding.extra["months"] == ["2025-01-01", "2025-02-01"]


def test_monthly_meetings_custom_interval_quarters_r10():
    """A rule set with ``group_meeting_interval_months=3`` asks for one meeting per calendar quarter."""
    quarterly = rule_set(group_meeting_interval_months=3)
    held = frozenset({D(2024, 5, 1), D(2024, 8, 1), D(2025, 2, 1)})  # Q2, Q3, Q1 — nothing in Q4
    [finding] = rules.check_monthly_meetings(
        facts(held_group_meeting_months=held), on=D(2025, 4, 2), rule_set=quarterly
    )
    assert (
        finding.message
        == "党小组“第一党小组”在2024年10月至12月没有召开党小组会（按规定每3个月至少召开1次）。"
    )
    held |= {D(2024, 11, 1)}
    assert (
        rules.check_monthly_meetings(
            facts(held_group_meeting_months=held), on=D(2025, 4, 2), rule_set=quarterly
        )
        == []
    )


# --- R-17 ---------------------------------------------------------------------------------------------
def test_annual_plan_r17():
    rs = rule_set()
    assert rules.check_annual_plan(facts(), on=D(2025, 1, 31), rule_set=rs) == []  # still January
    [finding] = rules.check_annual_plan(facts(), on=D(2025, 2, 1), rule_set=rs)
    assert (finding.rule_id, finding.message) == (
        "R-17",
        "党小组“第一党小组”尚未制定2025年度计划（应在年初制定）。",
    )
    assert rules.check_annual_plan(facts(plan_years=frozenset({2025})), on=D(2025, 2, 1), rule_set=rs) == []
    assert (
        len(rules.check_annual_plan(facts(plan_years=frozenset({2024})), on=D(2025, 2, 1), rule_set=rs)) == 1
    )


def test_annual_plan_custom_due_month_and_late_founding_r17():
    assert (
        rules.check_annual_plan(facts(), on=D(2025, 3, 20), rule_set=rule_set(annual_plan_due_month=3)) == []
    )
    founded = facts(established_on=D(2025, 6, 10))
    assert rules.check_annual_plan(founded, on=D(2025, 6, 20), rule_set=rule_set()) == []
    assert len(rules.check_annual_plan(founded, on=D(2025, 7, 1), rule_set=rule_set())) == 1


# --- R-18, R-19 ---------------------------------------------------------------------------------------
def test_life_meeting_interval_r18():
    rs = rule_set()  # every 6 months
    recent = facts(last_life_meeting=D(2025, 1, 15))
    assert rules.check_life_meeting(recent, on=D(2025, 7, 31), rule_set=rs) == []
    [finding] = rules.check_life_meeting(recent, on=D(2025, 8, 1), rule_set=rs)
    assert finding.message == "党小组“第一党小组”已超过6个月未召开组织生活会（上次召开于2025-01-15）。"
    assert finding.article == f"{CENTRAL}第六条"
    [never] = rules.check_life_meeting(facts(), on=D(2025, 8, 1), rule_set=rs)
    assert never.message.endswith("（尚未召开过）。")


def test_life_meeting_custom_interval_r18():
    recent = facts(last_life_meeting=D(2025, 1, 15))
    assert (
        len(
            rules.check_life_meeting(
                recent, on=D(2025, 5, 1), rule_set=rule_set(life_meeting_interval_months=3)
            )
        )
        == 1
    )
    assert (
        rules.check_life_meeting(recent, on=D(2025, 4, 30), rule_set=rule_set(life_meeting_interval_months=3))
        == []
    )


def test_evaluation_interval_r19():
    rs = rule_set()  # every 12 months
    last = facts(last_evaluation=D(2024, 6, 30))
    assert rules.check_evaluation(last, on=D(2025, 6, 30), rule_set=rs) == []
    [finding] = rules.check_evaluation(last, on=D(2025, 7, 1), rule_set=rs)
    assert (finding.rule_id, finding.article) == ("R-19", f"{CENTRAL}第七条")
    assert (
        rules.check_evaluation(last, on=D(2025, 7, 1), rule_set=rule_set(evaluation_interval_months=24)) == []
    )


def test_new_group_not_overdue_r18_r19():
    new = facts(established_on=D(2025, 2, 10))
    assert rules.check_life_meeting(new, on=D(2025, 8, 31), rule_set=rule_set()) == []
    assert rules.check_evaluation(new, on=D(2026, 2, 28), rule_set=rule_set()) == []


# --- R-20 ---------------------------------------------------------------------------------------------
FOUNDED = D(2020, 1, 1)


def talker(member_id, last_talk, since=FOUNDED):
    return rules.MemberTalkFacts(
        member_id=member_id,
        member_name=f"党员{member_id}",
        branch_id=3,
        in_group_since=since,
        last_talk=last_talk,
    )


def test_talks_interval_r20():
    members = [
        talker(1, D(2025, 2, 3)),
        talker(2, D(2024, 12, 31)),
        talker(3, None),
        talker(4, None, D(2025, 6, 1)),
    ]
    findings = rules.check_talks(members, on=D(2025, 8, 1), rule_set=rule_set())
    assert [(f.rule_id, f.object_type, f.object_id) for f in findings] == [
        ("R-20", "member", 2),
        ("R-20", "member", 3),
    ]
    assert findings[0].message == "党员“党员2”已超过6个月没有谈心谈话记录（上次谈话于2024-12-31）。"
    assert findings[1].message.endswith("（尚无谈话记录）。")


def test_talks_custom_interval_r20():
    members = [talker(1, D(2025, 2, 3))]
    assert len(rules.check_talks(members, on=D(2025, 6, 1), rule_set=rule_set(talk_interval_months=3))) == 1
    assert rules.check_talks(members, on=D(2025, 5, 31), rule_set=rule_set(talk_interval_months=3)) == []
