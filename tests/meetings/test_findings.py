"""Tests of meetings/findings.py: the cadence collector (R-10, R-17, R-18, R-19, R-20) over the database.

Most facts are meeting rows written directly (the collector reads only group, kind, state and
held_on); one test walks real meetings through the services to show they count the same way.
Check day ON = 2025-03-15: the R-10 window is March 2024 … February 2025.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import rules, services
from meetings.enums import MeetingKind, MeetingState
from meetings.findings import collect_meeting_findings, speaker_order_findings
from meetings.models import AnnualPlan, Meeting, Talk
from members.models import Organisation, RuleSet
from partygroup import findings as findings_module
from tests import factories as f
from tests.meetings.factories import make_meeting, minutes_kwargs

D = dt.date
ON = D(2025, 3, 15)
WINDOW = rules.months_between(D(2024, 3, 1), D(2025, 2, 1))
CENTRAL = "《中央和国家机关党小组工作规则（试行）》"


def held(group, held_on, kind=MeetingKind.GROUP_MEETING, state=MeetingState.ARCHIVED, user=None) -> Meeting:
    return Meeting.objects.create(
        group=group,
        kind=kind,
        state=state,
        title="会议",
        planned_date=held_on,
        held_on=held_on if state in {"held", "reported", "archived"} else None,
        agenda="学习",
        created_by=user or f.UserFactory(username="author"),
    )


def monthly(group, months=WINDOW, skip=()):
    for month in months:
        if month not in skip:
            held(group, month.replace(day=10))


def talk(group, a, b, on):
    Talk.objects.create(
        group=group,
        talked_on=on,
        initiator=a,
        partner=b,
        topic="谈心",
        summary="要点",
        recorded_by=f.UserFactory(username="author"),
    )


def collect(world, on=ON, branches=None):
    return collect_meeting_findings(branches or [world.branch], on)


def about_group(finding, world) -> bool:
    """The finding concerns world.group or one of its members."""
    if finding.object_type == "group":
        return finding.object_id == world.group.pk
    return finding.object_type == "member" and finding.object_id in {m.pk for m in world.members}


def by_rule(findings, rule_id, object_id=None):
    return [x for x in findings if x.rule_id == rule_id and (object_id is None or x.object_id == object_id)]


def keep_all_but(world, *rule_ids):
    """Give world.group everything it needs except the facts for ``rule_ids``."""
    group = world.group
    if "R-10" not in rule_ids:
        monthly(group)
    if "R-17" not in rule_ids:
        AnnualPlan.objects.create(group=group, year=ON.year, created_by=f.UserFactory(username="author"))
    if "R-18" not in rule_ids:
        held(group, D(2024, 12, 5), MeetingKind.LIFE_MEETING)
    if "R-19" not in rule_ids:
        held(group, D(2024, 12, 6), MeetingKind.EVALUATION)
    if "R-20" not in rule_ids:
        m = world.members
        talk(group, m[0], m[1], D(2025, 1, 10))
        talk(group, m[2], m[0], D(2025, 1, 11))
        talk(group, m[3], m[2], D(2025, 1, 12))


def custom_rule_set(world, **intervals) -> RuleSet:
    rule_set = RuleSet.objects.create(
        code="custom",
        name="自定义",
        document_title="《测试党小组工作细则》",
        effective_date=D(2019, 1, 1),
        **intervals,
    )
    Organisation.objects.filter(pk=world.branch.organisation_id).update(rule_set=rule_set)
    return rule_set


# --- A group with everything passes --------------------------------------------------------------
def test_group_with_all_records_has_no_findings(world):
    keep_all_but(world)
    assert [x for x in collect(world) if about_group(x, world)] == []
    assert {x.object_label for x in collect(world) if x.object_type == "group"} == {"第二党小组"}


def test_collector_registered_with_partygroup_findings():
    assert collect_meeting_findings in findings_module._COLLECTORS


# --- R-10 ------------------------------------------------------------------------------------------
def test_missing_month_r10(world):
    keep_all_but(world, "R-10")
    monthly(world.group, skip=[D(2024, 7, 1), D(2025, 2, 1)])
    [finding] = by_rule(collect(world), "R-10", world.group.pk)
    assert finding.extra["months"] == ["2024-07-01", "2025-02-01"]
    assert finding.message == "党小组“第一党小组”在2024年7月、2025年2月没有召开党小组会（一般每月召开1次）。"
    assert (finding.severity, finding.branch_id, finding.article) == (
        "advisory",
        world.branch.pk,
        f"{CENTRAL}第五条",
    )


def test_every_month_held_passes_r10(world):
    keep_all_but(world, "R-10")
    monthly(world.group)
    held(world.group, D(2025, 3, 2))  # the current month is not complete and does not matter
    assert by_rule(collect(world), "R-10", world.group.pk) == []


def test_group_without_meetings_lists_all_twelve_months_r10(world):
    [finding] = by_rule(collect(world), "R-10", world.other_group.pk)
    assert finding.extra["months"] == [m.isoformat() for m in WINDOW]


def test_month_with_only_cancelled_or_unheld_meeting_is_missing_r10(world):
    monthly(world.group, skip=[D(2024, 9, 1), D(2024, 10, 1), D(2024, 11, 1)])
    held(world.group, D(2024, 9, 10), state=MeetingState.CANCELLED)
    held(world.group, D(2024, 10, 10), state=MeetingState.DRAFT)
    held(world.group, D(2024, 11, 10), state=MeetingState.NOTIFIED)
    held(world.group, D(2024, 11, 12), kind=MeetingKind.PARTY_DAY)  # another kind does not count for R-10
    [finding] = by_rule(collect(world), "R-10", world.group.pk)
    assert finding.extra["months"] == ["2024-09-01", "2024-10-01", "2024-11-01"]


def test_founding_month_not_counted_r10(world):
    group = f.PartyGroupFactory(branch=world.branch, name="新党小组", established_on=D(2024, 12, 20))
    f.GroupMembershipFactory(group=group, started_on=D(2024, 12, 20))
    monthly(group, months=[D(2025, 1, 1), D(2025, 2, 1)])
    assert by_rule(collect(world), "R-10", group.pk) == []
    Meeting.objects.filter(group=group, held_on__month=2).delete()
    [finding] = by_rule(collect(world), "R-10", group.pk)
    assert finding.extra["months"] == ["2025-02-01"]


def test_meetings_walked_through_services_count_r10(world):
    monthly(world.group, skip=[D(2024, 6, 1)])
    assert by_rule(collect(world), "R-10", world.group.pk)[0].extra["months"] == ["2024-06-01"]
    make_meeting(world.group, world.leader, state=MeetingState.REPORTED, held_on=D(2024, 6, 18))
    assert by_rule(collect(world), "R-10", world.group.pk) == []


def test_custom_interval_quarterly_r10(world):
    custom_rule_set(world, group_meeting_interval_months=3)
    monthly(world.group, months=[D(2024, 5, 1), D(2024, 8, 1), D(2025, 1, 1)])  # nothing Oct–Dec 2024
    [finding] = by_rule(collect(world), "R-10", world.group.pk)
    assert finding.extra["months"] == ["2024-10-01", "2024-11-01", "2024-12-01"]
    assert finding.article == "《测试党小组工作细则》第五条"


# --- R-17 ------------------------------------------------------------------------------------------
def test_no_annual_plan_after_january_r17(world):
    keep_all_but(world, "R-17")
    AnnualPlan.objects.create(
        group=world.group, year=ON.year - 1, created_by=f.UserFactory(username="author")
    )
    [finding] = by_rule(collect(world), "R-17", world.group.pk)
    assert finding.message == "党小组“第一党小组”尚未制定2025年度计划（应在年初制定）。"
    assert by_rule(collect(world, on=D(2025, 1, 31)), "R-17") == []


def test_annual_plan_made_passes_r17(world):
    keep_all_but(world)
    assert by_rule(collect(world), "R-17", world.group.pk) == []


# --- R-18 ------------------------------------------------------------------------------------------
def test_life_meeting_overdue_r18(world):
    keep_all_but(world, "R-18")
    held(world.group, D(2024, 8, 30), MeetingKind.LIFE_MEETING)  # due by the end of February 2025
    held(world.group, D(2024, 12, 1), MeetingKind.LIFE_MEETING, state=MeetingState.CANCELLED)
    [finding] = by_rule(collect(world), "R-18", world.group.pk)
    assert finding.message == "党小组“第一党小组”已超过6个月未召开组织生活会（上次召开于2024-08-30）。"


def test_life_meeting_within_interval_passes_r18(world):
    keep_all_but(world, "R-18")
    held(world.group, D(2024, 9, 1), MeetingKind.LIFE_MEETING)  # due by the end of March 2025
    assert by_rule(collect(world), "R-18", world.group.pk) == []


def test_life_meeting_custom_interval_r18(world):
    keep_all_but(world, "R-18")
    held(world.group, D(2024, 11, 20), MeetingKind.LIFE_MEETING)
    assert by_rule(collect(world), "R-18", world.group.pk) == []
    custom_rule_set(world, life_meeting_interval_months=3)  # due by the end of February 2025
    [finding] = by_rule(collect(world), "R-18", world.group.pk)
    assert "已超过3个月" in finding.message


# --- R-19 ------------------------------------------------------------------------------------------
def test_evaluation_overdue_r19(world):
    keep_all_but(world, "R-19")
    held(world.group, D(2024, 2, 28), MeetingKind.EVALUATION)
    [finding] = by_rule(collect(world), "R-19", world.group.pk)
    assert finding.message == "党小组“第一党小组”已超过12个月未开展民主评议党员（上次评议于2024-02-28）。"
    assert finding.article == f"{CENTRAL}第七条"


def test_evaluation_within_interval_passes_r19(world):
    keep_all_but(world, "R-19")
    held(world.group, D(2024, 3, 1), MeetingKind.EVALUATION)
    assert by_rule(collect(world), "R-19", world.group.pk) == []


def test_evaluation_custom_interval_r19(world):
    keep_all_but(world, "R-19")
    held(world.group, D(2024, 2, 28), MeetingKind.EVALUATION)
    custom_rule_set(world, evaluation_interval_months=18)
    assert by_rule(collect(world), "R-19", world.group.pk) == []


# --- R-20 ------------------------------------------------------------------------------------------
def test_members_without_talk_r20(world):
    keep_all_but(world, "R-20")
    m = world.members
    talk(world.group, m[1], m[2], D(2024, 12, 1))
    talk(world.group, m[0], m[3], D(2024, 8, 31))  # due by the end of February 2025
    findings = by_rule(collect(world), "R-20")
    flagged = {x.object_id for x in findings if x.object_id in {p.pk for p in m}}
    assert flagged == {m[0].pk, m[3].pk}
    [finding] = [x for x in findings if x.object_id == m[0].pk]
    assert finding.message == f"党员“{m[0].name}”已超过6个月没有谈心谈话记录（上次谈话于2024-08-31）。"
    assert (finding.object_type, finding.branch_id) == ("member", world.branch.pk)


def test_members_with_talks_pass_r20(world):
    keep_all_but(world)
    assert [x for x in by_rule(collect(world), "R-20") if about_group(x, world)] == []


def test_talk_custom_interval_r20(world):
    keep_all_but(world, "R-20")
    m = world.members
    talk(world.group, m[0], m[1], D(2024, 12, 1))
    talk(world.group, m[2], m[3], D(2025, 1, 5))
    custom_rule_set(world, talk_interval_months=2)  # December's talk was due again by the end of February
    flagged = {x.object_id for x in by_rule(collect(world), "R-20")} & {p.pk for p in m}
    assert flagged == {m[0].pk, m[1].pk}


def test_member_who_left_or_future_talk_not_counted_r20(world):
    keep_all_but(world, "R-20")
    m = world.members
    talk(world.group, m[0], m[1], D(2025, 3, 20))  # after the check day
    flagged = {x.object_id for x in by_rule(collect(world), "R-20")} & {p.pk for p in m}
    assert flagged == {p.pk for p in m}


# --- Performance shape ----------------------------------------------------------------------------
def _branch_with_groups(n: int):
    branch = f.BranchFactory(organisation=f.OrganisationFactory(rule_set=f.rule_set()))
    user = f.UserFactory(username="author")
    for _ in range(n):
        group = f.PartyGroupFactory(branch=branch)
        a = f.GroupMembershipFactory(group=group).member
        b = f.GroupMembershipFactory(group=group).member
        held(group, D(2024, 10, 10), user=user)
        held(group, D(2024, 10, 11), MeetingKind.LIFE_MEETING, user=user)
        talk(group, a, b, D(2024, 10, 12))
    return branch


def test_query_count_flat_for_1_and_20_groups(db):
    one, twenty = _branch_with_groups(1), _branch_with_groups(20)
    counts = []
    for branch in (one, twenty):
        with CaptureQueriesContext(connection) as ctx:
            findings = collect_meeting_findings([branch], ON)
        counts.append(len(ctx.captured_queries))
        assert len({x.object_id for x in findings if x.rule_id == "R-10"}) == branch.groups.count()
    assert counts[0] == counts[1] <= 10


def test_no_branches_no_queries(db):
    with CaptureQueriesContext(connection) as ctx:
        assert collect_meeting_findings([], ON) == []
    assert len(ctx.captured_queries) == 0


# --- manage.py check_rules -------------------------------------------------------------------------
def test_check_rules_command_shows_meeting_findings(world, monkeypatch):
    monkeypatch.setattr(findings_module, "_COLLECTORS", list(findings_module._COLLECTORS))
    keep_all_but(world, "R-10", "R-17", "R-18", "R-19")
    out = StringIO()
    with contextlib.suppress(SystemExit):  # violations of other rules exit 1; the output is complete
        call_command("check_rules", "--branch", str(world.branch.pk), "--date", ON.isoformat(), stdout=out)
    text = out.getvalue()
    for rule_id in ("R-10", "R-17", "R-18", "R-19", "R-20"):
        assert f"  {rule_id} [提醒] " in text, rule_id
    assert "党小组“第一党小组”在2024年3月、2024年4月" in text
    assert f"党员“{world.secretary.member.name}”已超过6个月没有谈心谈话记录" in text  # other group: no talks


# --- R-15 for one meeting --------------------------------------------------------------------------
def test_speaker_order_findings_r15(world):
    good = make_meeting(world.group, world.leader, state=MeetingState.HELD)
    assert speaker_order_findings(good) == []
    bad = make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=D(2025, 3, 3))
    kwargs = minutes_kwargs(bad, world.leader_member)
    first = kwargs["agenda_items"][0]
    first.speeches = [first.speeches[-1], *first.speeches[:-1]]  # the leader speaks first
    services.minutes_save(meeting=bad, by=world.leader, mark_held=True, **kwargs)
    [finding] = speaker_order_findings(bad)
    assert (finding.rule_id, finding.object_type, finding.object_id) == ("R-15", "meeting", bad.pk)
    assert (
        finding.message
        == "议题“学习党的二十大精神”的发言顺序：一般的党小组会应由党员先发言，党小组组长末尾发言。"
    )
