"""Database-level tests of groups/findings.py: what ``collect_group_findings`` loads and reports.

Each rule it runs (R-01, R-03, R-04, R-07, R-08, R-09, R-24) gets a failing and a passing case built
in the database, and the number of queries stays flat however many branches are checked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.enums import LeaderRole
from groups.findings import collect_group_findings, collect_leader_findings
from members.enums import MemberState
from tests import factories as f

pytestmark = pytest.mark.django_db

ON = dt.date(2024, 9, 1)
CENTRAL_ART1 = "《中央和国家机关党小组工作规则（试行）》第一条"
LOUDI_ART1 = "《关于进一步规范娄底市直机关党小组工作的实施意见》第一条"
DOC_003_ART = "《最新党小组工作操作方法与创新实务》第一章“党小组的建立与划分”"
DOC_004_ART = "《关于深入发挥党小组作用的实施意见》“调整和优化党小组设置”"


def make_branch(code: str = "central-2019", name: str = "办公室党支部", organisation=None):
    organisation = organisation or f.OrganisationFactory(rule_set=f.rule_set(code))
    return f.BranchFactory(organisation=organisation, name=name)


def make_group(branch, size: int, *, full: int | None = None, name: str | None = None, unit=None):
    """A group with ``size`` current members, the first ``full`` of them full members."""
    full = size if full is None else full
    group = f.PartyGroupFactory(branch=branch, **({"name": name} if name else {}))
    for i in range(size):
        extra = {} if i < full else {"probationary": True}
        member = f.MemberFactory(branch=branch, unit=unit, **extra)
        f.GroupMembershipFactory(group=group, member=member, started_on=dt.date(2020, 1, 1))
    return group


def summary(findings):
    return [(x.rule_id, x.severity, x.object_type, x.object_id, x.message, x.article) for x in findings]


# --- R-01 ----------------------------------------------------------------------------------------
def test_r01_branch_of_20_members_without_groups_is_reported():
    branch = make_branch()
    f.MemberFactory.create_batch(20, branch=branch)
    assert summary(collect_group_findings([branch], ON)) == [
        (
            "R-01",
            "advisory",
            "branch",
            branch.pk,
            "党支部“办公室党支部”有党员20名，达到20人，一般应当划分若干党小组（现有0个）。",
            CENTRAL_ART1,
        )
    ]


def test_r01_branch_of_19_active_members_passes_members_who_left_do_not_count():
    branch = make_branch()
    f.MemberFactory.create_batch(19, branch=branch)
    f.MemberFactory(branch=branch, state=MemberState.LEFT, left_on=dt.date(2024, 1, 1))
    assert collect_group_findings([branch], ON) == []


def test_r01_branch_of_20_divided_into_two_groups_passes():
    branch = make_branch()
    make_group(branch, 10)
    make_group(branch, 10)
    assert collect_group_findings([branch], ON) == []


def test_r01_dissolved_groups_do_not_count():
    branch = make_branch()
    f.MemberFactory.create_batch(20, branch=branch)
    f.PartyGroupFactory(branch=branch, dissolved_on=dt.date(2023, 1, 1))
    f.PartyGroupFactory(branch=branch, dissolved_on=dt.date(2023, 1, 1))
    assert [x.rule_id for x in collect_group_findings([branch], ON)] == ["R-01"]


# --- R-03 / R-04 ---------------------------------------------------------------------------------
def test_r03_group_of_two_is_reported_with_the_loudi_citation():
    branch = make_branch("loudi-2023")
    group = make_group(branch, 2, name="第一党小组")
    assert summary(collect_group_findings([branch], ON)) == [
        ("R-03", "violation", "group", group.pk, "党小组“第一党小组”现有党员2名，少于3名。", LOUDI_ART1)
    ]


def test_r03_group_of_exactly_three_passes():
    branch = make_branch()
    make_group(branch, 3)
    assert collect_group_findings([branch], ON) == []


def test_r03_counts_only_memberships_current_on_the_day():
    branch = make_branch()
    group = make_group(branch, 3, name="第一党小组")
    later = f.MemberFactory(branch=branch)
    f.GroupMembershipFactory(group=group, member=later, started_on=dt.date(2024, 10, 1))
    ended = group.memberships.exclude(member=later).order_by("pk").first()  # one of the first three
    ended.ended_on = ON
    ended.save()
    # On ON: the member who left on ON is out (half-open), the one joining in October not yet in.
    assert {(x.rule_id, x.object_id, x.message) for x in collect_group_findings([branch], ON)} == {
        ("R-03", group.pk, "党小组“第一党小组”现有党员2名，少于3名。"),
        ("R-09", ended.member_id, f"党员“{ended.member.name}”未编入任何党小组（本支部已划分党小组）。"),
        ("R-09", later.pk, f"党员“{later.name}”未编入任何党小组（本支部已划分党小组）。"),
    }


def test_r04_group_of_probationary_members_is_reported():
    branch = make_branch()
    group = make_group(branch, 3, full=0, name="第一党小组")
    assert summary(collect_group_findings([branch], ON)) == [
        (
            "R-04",
            "violation",
            "group",
            group.pk,
            "党小组“第一党小组”没有足够的正式党员（现有0名，至少1名），预备党员不能单独组成党小组。",
            CENTRAL_ART1,
        )
    ]


def test_r04_member_who_became_full_after_the_day_checked_was_not_full_then():
    branch = make_branch()
    group = make_group(branch, 3, full=0)
    member = group.memberships.first().member
    member.status = "full"
    member.full_member_on = dt.date(2024, 10, 1)
    member.save()
    assert [x.rule_id for x in collect_group_findings([branch], ON)] == ["R-04"]
    assert collect_group_findings([branch], dt.date(2024, 10, 1)) == []


def test_r04_group_with_one_full_member_passes():
    branch = make_branch()
    make_group(branch, 3, full=1)
    assert collect_group_findings([branch], ON) == []


# --- R-08 ----------------------------------------------------------------------------------------
def test_r08_loudi_group_of_nine_is_advised():
    branch = make_branch("loudi-2023")
    group = make_group(branch, 9, name="第一党小组")
    assert summary(collect_group_findings([branch], ON)) == [
        (
            "R-08",
            "advisory",
            "group",
            group.pk,
            "党小组“第一党小组”现有党员9名，不在10-20人的指导范围内。",
            DOC_004_ART,
        )
    ]


def test_r08_loudi_group_of_ten_passes():
    branch = make_branch("loudi-2023")
    make_group(branch, 10)
    assert collect_group_findings([branch], ON) == []


def test_r08_central_group_of_nine_passes():
    branch = make_branch("central-2019")
    make_group(branch, 9)
    assert collect_group_findings([branch], ON) == []


def test_r08_child_organisation_inherits_the_loudi_rule_set():
    # a child node without its own rule set works under its parent's.
    parent = f.OrganisationFactory(rule_set=f.rule_set("loudi-2023"))
    child = f.OrganisationFactory(parent=parent, rule_set=None)
    branch = make_branch(organisation=child)
    make_group(branch, 9)
    assert [(x.rule_id, x.article) for x in collect_group_findings([branch], ON)] == [("R-08", DOC_004_ART)]


def test_r08_custom_threshold_of_an_organisations_own_rule_set():
    custom = f.rule_set("central-2019")
    custom.pk = None
    custom.code = "custom"
    custom.size_guideline_enabled = True
    custom.size_guideline_min = 4
    custom.size_guideline_max = 6
    custom.save()
    branch = make_branch(organisation=f.OrganisationFactory(rule_set=custom))
    make_group(branch, 7, name="甲组")
    make_group(branch, 6, name="乙组")
    assert [(x.rule_id, x.message) for x in collect_group_findings([branch], ON)] == [
        ("R-08", "党小组“甲组”现有党员7名，不在4-6人的指导范围内。")
    ]


# --- R-07 ----------------------------------------------------------------------------------------
def test_r07_unit_split_over_two_groups_is_advised():
    branch = make_branch()
    unit = f.UnitFactory(branch=branch, name="综合处")
    first = make_group(branch, 3, name="第一党小组", unit=unit)
    second = make_group(branch, 3, name="第二党小组")
    moved = second.memberships.first().member
    moved.unit = unit
    moved.save()
    assert summary(collect_group_findings([branch], ON)) == [
        (
            "R-07",
            "advisory",
            "unit",
            unit.pk,
            "单位“综合处”的4名党员分在2个党小组（第一党小组、第二党小组），党小组宜与处室、科室、车间对应。",
            DOC_003_ART,
        )
    ]
    assert first.pk != second.pk


def test_r07_each_unit_in_its_own_group_passes():
    branch = make_branch()
    make_group(branch, 3, unit=f.UnitFactory(branch=branch))
    make_group(branch, 3, unit=f.UnitFactory(branch=branch))
    assert collect_group_findings([branch], ON) == []


# --- R-09 ----------------------------------------------------------------------------------------
def test_r09_member_in_no_group_of_a_divided_branch_is_reported():
    branch = make_branch()
    make_group(branch, 3)
    loose = f.MemberFactory(branch=branch, name="赵鑫")
    assert summary(collect_group_findings([branch], ON)) == [
        (
            "R-09",
            "violation",
            "member",
            loose.pk,
            "党员“赵鑫”未编入任何党小组（本支部已划分党小组）。",
            DOC_003_ART,
        )
    ]


def test_r09_overlapping_memberships_are_reported():
    branch = make_branch()
    first = make_group(branch, 3)
    second = make_group(branch, 3)
    member = first.memberships.first().member
    # A closed membership of the second group overlapping the open one of the first (direct data).
    f.GroupMembershipFactory(
        group=second, member=member, started_on=dt.date(2023, 1, 1), ended_on=dt.date(2023, 6, 1)
    )
    assert [(x.rule_id, x.object_id, x.message) for x in collect_group_findings([branch], ON)] == [
        ("R-09", member.pk, f"党员“{member.name}”自2023-01-01起同时编入两个党小组。")
    ]


def test_r09_member_moved_on_the_day_passes():
    branch = make_branch()
    first = make_group(branch, 3)
    second = make_group(branch, 3)
    membership = first.memberships.first()
    membership.ended_on = ON
    membership.save()
    f.GroupMembershipFactory(group=second, member=membership.member, started_on=ON)
    first_extra = f.MemberFactory(branch=branch)
    f.GroupMembershipFactory(group=first, member=first_extra)  # first keeps 3 members
    assert collect_group_findings([branch], ON) == []


def test_r09_member_in_a_group_of_another_branch_is_reported():
    branch = make_branch()
    other = make_branch(name="另一党支部")
    foreign_group = make_group(other, 3)
    member = f.MemberFactory(branch=branch, name="钱琰")
    f.GroupMembershipFactory(group=foreign_group, member=member)
    findings = collect_group_findings([branch], ON)
    assert [(x.rule_id, x.branch_id, x.message) for x in findings] == [
        ("R-09", branch.pk, "党员“钱琰”编入了其他党支部的党小组。")
    ]


def test_r09_undivided_branch_passes():
    branch = make_branch()
    f.MemberFactory.create_batch(5, branch=branch)
    assert collect_group_findings([branch], ON) == []


# --- R-24 ----------------------------------------------------------------------------------------
def test_r24_probationary_current_leader_is_reported():
    branch = make_branch()
    group = make_group(branch, 3, full=2, name="第一党小组")
    probationary = group.memberships.get(member__status="probationary").member
    f.LeaderAppointmentFactory(group=group, member=probationary, role=LeaderRole.DEPUTY)
    assert summary(collect_group_findings([branch], ON)) == [
        (
            "R-24",
            "violation",
            "group",
            group.pk,
            f"党小组“第一党小组”的副组长“{probationary.name}”不是正式党员。",
            "《中央和国家机关党小组工作规则（试行）》第十条第（一）项",
        )
    ]


def test_r24_full_member_leader_and_former_leaders_pass():
    branch = make_branch()
    group = make_group(branch, 3, full=2)
    full = group.memberships.filter(member__status="full").order_by("pk").first().member
    probationary = group.memberships.get(member__status="probationary").member
    f.LeaderAppointmentFactory(group=group, member=full, started_on=dt.date(2022, 1, 1))
    # A former (ended) appointment of a probationary member is history, not a standing violation.
    f.LeaderAppointmentFactory(
        group=group,
        member=probationary,
        role=LeaderRole.DEPUTY,
        started_on=dt.date(2021, 1, 1),
        ended_on=dt.date(2021, 6, 1),
    )
    assert collect_group_findings([branch], ON) == []


# --- all rules together, and the query count ------------------------------------------------------
def test_no_branches_no_findings_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert collect_group_findings([], ON) == []


def test_findings_of_two_branches_are_kept_apart():
    good = make_branch(name="甲支部")
    make_group(good, 3)
    bad = make_branch(name="乙支部")
    group = make_group(bad, 2)
    findings = collect_group_findings([good, bad], ON)
    assert [(x.rule_id, x.branch_id, x.object_id) for x in findings] == [("R-03", bad.pk, group.pk)]


def _populate(count: int):
    branches = []
    for i in range(count):
        branch = make_branch("loudi-2023" if i % 2 else "central-2019", name=f"第{i}支部")
        group = make_group(branch, 3, full=2)
        f.LeaderAppointmentFactory(group=group, member=group.memberships.order_by("pk")[0].member)
        f.MemberFactory(branch=branch)  # unplaced: an R-09 finding per branch
        branches.append(branch)
    return branches


def _count_queries(branches) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        findings = collect_group_findings(branches, ON)
    return len(ctx.captured_queries), len(findings)


def test_query_count_is_flat_for_1_and_20_branches():
    one = _populate(1)
    twenty = _populate(20)
    one_queries, one_findings = _count_queries(one)
    twenty_queries, twenty_findings = _count_queries(twenty)
    assert one_queries == twenty_queries
    assert one_queries <= 8
    # each branch: R-08 (Loudi, a group of 3) or nothing, plus R-09 for the unplaced member
    assert twenty_findings == 20 + 10
    assert one_findings == 1


# --- R-28 replacement due, R-35 leader training (collect_leader_findings) ---------------------------
LEADER_ON = dt.date(2025, 6, 15)


def led_group(
    branch, leader_name="张伟", *, started_on=dt.date(2022, 1, 1), role=LeaderRole.LEADER, name=None
):
    group = make_group(branch, 3, name=name)
    leader = group.memberships.order_by("pk")[0].member
    leader.name = leader_name
    leader.save()
    appointment = f.LeaderAppointmentFactory(group=group, member=leader, role=role, started_on=started_on)
    return group, leader, appointment


def review(appointment, year, grade):
    return f.LeaderReviewFactory(appointment=appointment, year=year, grade=grade)


def test_r28_current_leader_with_two_consecutive_incompetent_reviews_is_reported():
    branch = make_branch()
    group, leader, appointment = led_group(branch)
    f.LeaderTrainingFactory(member=leader, trained_on=dt.date(2025, 3, 1))
    review(appointment, 2022, "incompetent")
    review(appointment, 2023, "competent")
    review(appointment, 2024, "incompetent")
    assert collect_leader_findings([branch], LEADER_ON) == []
    appointment.ended_on = dt.date(2025, 1, 1)
    appointment.save()
    again = f.LeaderAppointmentFactory(group=group, member=leader, started_on=dt.date(2025, 1, 1))
    review(again, 2025, "incompetent")
    findings = collect_leader_findings([branch], dt.date(2026, 1, 10))
    assert [(x.rule_id, x.object_type, x.object_id, x.message) for x in findings if x.rule_id == "R-28"] == [
        (
            "R-28",
            "group",
            group.pk,
            f"党小组“{group.name}”的组长“张伟”2024年、2025年连续两次年度考核为“不称职”，"
            "应予调整（党支部应对工作开展不力的组长进行约谈或者调整）。",
        )
    ]


def test_r28_replaced_leader_is_no_longer_reported():
    branch = make_branch()
    group, _leader, appointment = led_group(branch)
    review(appointment, 2023, "incompetent")
    review(appointment, 2024, "incompetent")
    assert [x.rule_id for x in collect_leader_findings([branch], LEADER_ON)].count("R-28") == 1
    successor = group.memberships.order_by("pk")[1].member
    appointment.ended_on = dt.date(2025, 3, 1)
    appointment.save()
    f.LeaderAppointmentFactory(group=group, member=successor, started_on=dt.date(2025, 3, 1))
    assert [x for x in collect_leader_findings([branch], LEADER_ON) if x.rule_id == "R-28"] == []


def test_r35_leaders_and_deputies_without_training_in_the_past_year_are_advised():
    branch = make_branch()
    group, leader, _ = led_group(branch, "张伟")
    deputy = group.memberships.order_by("pk")[1].member
    deputy.name = "李娜"
    deputy.save()
    f.LeaderAppointmentFactory(
        group=group, member=deputy, role=LeaderRole.DEPUTY, started_on=dt.date(2023, 1, 1)
    )
    f.LeaderTrainingFactory(member=leader, trained_on=dt.date(2024, 6, 15))
    f.LeaderTrainingFactory(member=deputy, trained_on=dt.date(2025, 7, 1))  # after the day: not counted
    _new_group, newcomer, _ = led_group(branch, "王新", started_on=dt.date(2025, 1, 1), name="第二党小组")
    findings = collect_leader_findings([branch], LEADER_ON)
    assert [(x.rule_id, x.object_label, x.message) for x in findings] == [
        ("R-35", "张伟", f"党小组“{group.name}”的组长“张伟”近一年没有参加培训（上次培训于2024-06-15）。"),
        ("R-35", "李娜", f"党小组“{group.name}”的副组长“李娜”近一年没有参加培训（尚无培训记录）。"),
    ]
    assert newcomer.pk not in {x.object_id for x in findings}


def test_r35_leader_trained_within_the_year_passes():
    branch = make_branch()
    _group, leader, _ = led_group(branch)
    f.LeaderTrainingFactory(member=leader, trained_on=dt.date(2024, 6, 16))
    assert collect_leader_findings([branch], LEADER_ON) == []


def _populate_leaders(count: int):
    branches = []
    for i in range(count):
        branch = make_branch("loudi-2023" if i % 2 else "central-2019", name=f"第{i}支部")
        _group, _leader, appointment = led_group(branch, f"张{chr(0x4E00 + i)}")
        review(appointment, 2023, "incompetent")
        review(appointment, 2024, "incompetent")
        _other, trained, _ = led_group(branch, f"李{chr(0x4E00 + i)}", name=f"第{i}组乙")
        f.LeaderTrainingFactory(member=trained, trained_on=dt.date(2025, 1, 1))
        branches.append(branch)
    return branches


def test_leader_findings_query_count_is_flat_for_1_and_20_branches():
    one = _populate_leaders(1)
    twenty = _populate_leaders(20)
    counts = []
    for branches in (one, twenty):
        with CaptureQueriesContext(connection) as ctx:
            findings = collect_leader_findings(branches, LEADER_ON)
        counts.append((len(ctx.captured_queries), len(findings)))
    (one_queries, one_findings), (twenty_queries, twenty_findings) = counts
    assert one_queries == twenty_queries <= 7
    # each branch: for the reviewed, untrained leader
    assert (one_findings, twenty_findings) == (2, 40)
