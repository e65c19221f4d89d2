"""Tests of members/findings.py: the duty collector over the database (R-30 thought reports, R-31 dues).

Check day ON = 2025-06-15; the branches keep their ledgers from 1 January 2025 (``ledger_start_on``),
so dues are due for January … May and a report is due at least every three months.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.enums import MemberState
from members.findings import collect_member_findings
from partygroup.findings import collect_findings
from tests import factories as f

pytestmark = pytest.mark.django_db

D = dt.date
ON = D(2025, 6, 15)
LEDGER_START = D(2025, 1, 1)
PAID_MONTHS = [D(2025, m, 1) for m in range(1, 6)]


def make_branch(ledger_start_on=LEDGER_START, **kwargs):
    return f.BranchFactory(ledger_start_on=ledger_start_on, **kwargs)


def make_member(branch, name="王芳", **kwargs):
    kwargs.setdefault("joined_on", D(2010, 7, 1))
    return f.MemberFactory(branch=branch, name=name, **kwargs)


def pay(member, months=PAID_MONTHS, **kwargs):
    for month in months:
        f.DuesPaymentFactory(member=member, month=month, **kwargs)


def about(findings, rule_id):
    return [(x.object_label, x.message) for x in findings if x.rule_id == rule_id]


# --- R-31 ------------------------------------------------------------------------------------------
def test_r31_member_with_unpaid_months_is_reported_naming_the_months():
    branch = make_branch()
    member = make_member(branch)
    make_member(branch, "李强")  # pays everything
    pay(member, [D(2025, 1, 1), D(2025, 2, 1), D(2025, 4, 1)])
    pay(member, [D(2025, 5, 1)], amount_due="50.00", amount_paid="20.00")
    pay(branch.members.get(name="李强"))
    f.ThoughtReportFactory(member=member, received_on=D(2025, 6, 1))
    f.ThoughtReportFactory(member=branch.members.get(name="李强"), received_on=D(2025, 6, 1))
    findings = collect_member_findings([branch], ON)
    assert about(findings, "R-31") == [
        ("王芳", "党员“王芳”2025年3月、2025年5月的党费未交齐（共2个月），其中少交30.00元。")
    ]
    [finding] = [x for x in findings if x.rule_id == "R-31"]
    assert (finding.object_type, finding.object_id, finding.branch_id) == ("member", member.pk, branch.pk)
    assert finding.extra["months"] == ["2025-03-01", "2025-05-01"]


def test_r31_member_who_paid_every_month_passes_the_current_month_is_open():
    branch = make_branch()
    member = make_member(branch)
    pay(member)  # January … May; June is still being collected
    f.ThoughtReportFactory(member=member, received_on=D(2025, 6, 1))
    assert collect_member_findings([branch], ON) == []


def test_r31_months_before_joining_and_before_the_ledger_start_are_not_due():
    branch = make_branch(ledger_start_on=D(2025, 3, 10))
    newcomer = make_member(
        branch, "李强", joined_on=D(2025, 4, 20), status="probationary", full_member_on=None
    )
    veteran = make_member(branch, "王芳")
    findings = collect_member_findings([branch], ON)
    assert about(findings, "R-31") == [
        ("李强", "党员“李强”2025年4月至5月的党费未交齐（共2个月）。"),
        ("王芳", "党员“王芳”2025年3月至5月的党费未交齐（共3个月）。"),
    ]
    assert {x.object_id for x in findings if x.rule_id == "R-31"} == {newcomer.pk, veteran.pk}


def test_r30_r31_branch_without_a_ledger_start_is_not_tracked():
    branch = make_branch(ledger_start_on=None)
    make_member(branch)
    assert collect_member_findings([branch], ON) == []


def test_r30_r31_members_who_left_are_not_reported():
    branch = make_branch()
    make_member(branch, state=MemberState.LEFT, left_on=D(2025, 2, 1))
    assert collect_member_findings([branch], ON) == []


# --- R-30 ------------------------------------------------------------------------------------------
def test_r30_member_without_a_report_for_three_months_is_reported():
    branch = make_branch()
    late = make_member(branch, "王芳")
    never = make_member(branch, "李强")
    fine = make_member(branch, "赵敏")
    for m in (late, never, fine):
        pay(m)
    f.ThoughtReportFactory(member=late, received_on=D(2025, 2, 27), kind="oral")
    f.ThoughtReportFactory(member=fine, received_on=D(2025, 3, 2), kind="oral")
    f.ThoughtReportFactory(member=never, received_on=D(2025, 6, 16))  # after the check day: not counted
    findings = collect_member_findings([branch], ON)
    assert about(findings, "R-30") == [
        ("李强", "党员“李强”已超过3个月没有向党小组汇报思想和工作情况（尚无思想汇报记录）。"),
        ("王芳", "党员“王芳”已超过3个月没有向党小组汇报思想和工作情况（上次汇报于2025-02-27）。"),
    ]
    assert findings[0].article == "《关于深入发挥党小组作用的实施意见》“健全规范党小组活动”"


def test_r30_probationary_member_needs_a_written_report_each_quarter():
    branch = make_branch(ledger_start_on=D(2024, 10, 1))
    oral_only = make_member(
        branch, "王芳", status="probationary", joined_on=D(2024, 9, 1), full_member_on=None
    )
    written = make_member(branch, "李强", status="probationary", joined_on=D(2024, 9, 1), full_member_on=None)
    for m in (oral_only, written):
        pay(m, [D(2024, 10, 1), D(2024, 11, 1), D(2024, 12, 1), *PAID_MONTHS])
    f.ThoughtReportFactory(member=oral_only, received_on=D(2025, 5, 20), kind="oral")
    f.ThoughtReportFactory(member=oral_only, received_on=D(2024, 12, 20), kind="written")
    f.ThoughtReportFactory(member=written, received_on=D(2025, 3, 28), kind="written")
    f.ThoughtReportFactory(member=written, received_on=D(2025, 5, 20), kind="oral")
    findings = collect_member_findings([branch], ON)
    assert about(findings, "R-30") == [
        (
            "王芳",
            "预备党员“王芳”2025年第一季度没有书面思想汇报（预备党员每季度一次书面汇报；上次书面汇报于2024-12-20）。",
        )
    ]


def test_r30_member_who_became_full_is_no_longer_held_to_the_written_quarterly_report():
    branch = make_branch(ledger_start_on=D(2024, 10, 1))
    member = make_member(branch, status="full", joined_on=D(2024, 1, 10), full_member_on=D(2025, 1, 10))
    pay(member, [D(2024, 10, 1), D(2024, 11, 1), D(2024, 12, 1), *PAID_MONTHS])
    f.ThoughtReportFactory(member=member, received_on=D(2025, 5, 20), kind="oral")
    assert collect_member_findings([branch], ON) == []
    # On a day while still probationary, the quarter before was checked.
    assert [x.rule_id for x in collect_member_findings([branch], D(2025, 1, 5))] == ["R-30"]


def test_the_collector_is_registered_and_uses_each_organisations_rule_set():
    loudi = f.OrganisationFactory(rule_set=f.rule_set("loudi-2023"))
    branch = make_branch(organisation=loudi)
    make_member(branch)
    rules = {x.rule_id for x in collect_findings([branch], ON)}
    assert {"R-30", "R-31"} <= rules
    [r31] = [x for x in collect_findings([branch], ON) if x.rule_id == "R-31"]
    assert r31.article == "《关于进一步规范娄底市直机关党小组工作的实施意见》第十二条第（七）项"


# --- Query count ---------------------------------------------------------------------------------
def _populate(count: int) -> list:
    branches = []
    for i in range(count):
        branch = make_branch(name=f"党支部{i}")
        late = make_member(branch, f"王{chr(0x4E00 + i)}")
        pay(late, PAID_MONTHS[:2])
        f.ThoughtReportFactory(member=late, received_on=D(2025, 1, 10))
        paid_up = make_member(
            branch,
            f"李{chr(0x4E00 + i)}",
            status="probationary",
            joined_on=D(2024, 9, 1),
            full_member_on=None,
        )
        pay(paid_up)
        f.ThoughtReportFactory(member=paid_up, received_on=D(2025, 5, 10), kind="written")
        branches.append(branch)
    return branches


def _count(branches) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        findings = collect_member_findings(branches, ON)
    return len(ctx.captured_queries), len(findings)


def test_query_count_is_flat_for_1_and_20_branches():
    one = _populate(1)
    twenty = _populate(20)
    one_queries, one_findings = _count(one)
    twenty_queries, twenty_findings = _count(twenty)
    assert one_queries == twenty_queries <= 6
    # each branch: for its late member only
    assert (one_findings, twenty_findings) == (2, 40)
