"""Tests of members/rules.py: the pure checks of members' duties (R-30 thought reports, R-31 dues,
R-33 points rating). No database: rule sets are unsaved instances of the seeded values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from members import rules
from members.enums import MemberStatus
from members.models import RuleSet
from members.rule_set_defaults import RULE_SETS

D = dt.date
CENTRAL = RuleSet(**RULE_SETS[0])
LOUDI = RuleSet(**RULE_SETS[1])
TODAY = D(2025, 6, 15)


def member(**overrides) -> rules.MemberDutyFacts:
    values = {
        "id": 1,
        "name": "王芳",
        "branch_id": 7,
        "joined_on": D(2010, 7, 1),
        "left_on": None,
        "is_probationary": False,
        "tracked_from": D(2025, 1, 1),
    }
    values.update(overrides)
    return rules.MemberDutyFacts(**values)


def dues(**overrides) -> dict[str, list[str]]:
    values = {
        "month": D(2025, 3, 1),
        "amount_due": Decimal("50.00"),
        "amount_paid": Decimal("50.00"),
        "paid_on": D(2025, 3, 10),
        "is_lump_sum": False,
        "joined_on": D(2010, 7, 1),
        "left_on": None,
        "today": TODAY,
    }
    values.update(overrides)
    return rules.dues_problems(**values)


# --- Tracking ------------------------------------------------------------------------------------
def test_tracking_start_is_the_later_of_joining_month_and_ledger_start():
    assert rules.tracking_start(D(2010, 7, 1), D(2025, 1, 15)) == D(2025, 1, 1)
    assert rules.tracking_start(D(2025, 4, 20), D(2025, 1, 15)) == D(2025, 4, 1)
    assert rules.tracking_start(None, D(2025, 1, 15)) == D(2025, 1, 1)


def test_tracking_start_without_ledger_start_is_not_tracked():
    assert rules.tracking_start(D(2010, 7, 1), None) is None


def test_is_probationary_on_follows_the_dates():
    kwargs = {"status": MemberStatus.FULL, "joined_on": D(2024, 3, 1), "full_member_on": D(2025, 3, 1)}
    assert rules.is_probationary_on(on=D(2024, 12, 31), **kwargs) is True
    assert rules.is_probationary_on(on=D(2025, 3, 1), **kwargs) is False
    assert rules.is_probationary_on(on=D(2024, 2, 1), **kwargs) is False  # not yet a member
    assert (
        rules.is_probationary_on(
            status=MemberStatus.PROBATIONARY, joined_on=D(2024, 3, 1), full_member_on=None, on=TODAY
        )
        is True
    )


# --- R-31 bad input ------------------------------------------------------------------------------
def test_dues_problems_good_payment_passes():
    assert dues() == {}


def test_dues_problems_negative_amounts_are_refused_r31():
    assert dues(amount_due=Decimal("-1.00"), amount_paid=Decimal("-0.01")) == {
        "amount_due": ["应交金额不能为负数。"],
        "amount_paid": ["实交金额不能为负数。"],
    }


def test_dues_problems_absurd_amount_is_refused_unless_lump_sum_r31():
    refused = dues(amount_paid=Decimal("10000.01"))
    assert list(refused) == ["amount_paid"]
    assert "超过每月上限10,000.00元" in refused["amount_paid"][0]
    assert "一次性交纳大额党费" in refused["amount_paid"][0]
    assert dues(amount_paid=Decimal("10000.00")) == {}
    assert dues(amount_paid=Decimal("50000.00"), is_lump_sum=True) == {}


def test_dues_problems_absurd_amount_due_is_refused_even_for_a_lump_sum_r31():
    assert list(dues(amount_due=Decimal("10000.01"), is_lump_sum=True)) == ["amount_due"]


def test_dues_problems_zero_paid_for_a_month_due_is_refused_but_an_exemption_passes():
    assert list(dues(amount_paid=Decimal("0.00"))) == ["amount_paid"]
    assert dues(amount_due=Decimal("0.00"), amount_paid=Decimal("0.00")) == {}


def test_dues_problems_month_before_joining_is_refused_joining_month_passes_r31():
    assert dues(month=D(2025, 2, 1), joined_on=D(2025, 3, 20)) == {
        "month": ["2025年2月在该党员入党（2025-03-20）之前，不能登记党费。"]
    }
    assert dues(month=D(2025, 3, 1), joined_on=D(2025, 3, 20)) == {}


def test_dues_problems_month_after_leaving_is_refused_leaving_month_passes_r31():
    assert dues(month=D(2025, 3, 1), left_on=D(2025, 3, 15)) == {}
    assert dues(month=D(2025, 3, 1), left_on=D(2025, 3, 1)) == {
        "month": ["该党员已于2025-03-01离册，不能登记2025年3月的党费。"]
    }


def test_dues_problems_future_payment_day_and_prepayment_over_a_year_are_refused():
    assert dues(paid_on=D(2025, 6, 16)) == {"paid_on": ["交纳日期不能晚于今天。"]}
    assert dues(month=D(2026, 3, 1), paid_on=D(2025, 3, 10)) == {}  # 12 months ahead
    assert dues(month=D(2026, 4, 1), paid_on=D(2025, 3, 10)) == {
        "month": ["预交党费一般不超过一年：2025-03-10交纳的党费最多预交至2026年3月。"]
    }


def test_dues_problems_month_not_on_the_first_day_is_refused():
    assert dues(month=D(2025, 3, 5)) == {"month": ["月份应记为该月的第一天。"]}


# --- R-31 arrears ---------------------------------------------------------------------------------
def paid(*months, due="50.00", amount=None):
    return {m: (Decimal(due), Decimal(amount or due)) for m in months}


def test_dues_arrears_lists_unpaid_and_part_paid_months_up_to_the_month_before_the_day():
    payments = paid(D(2025, 1, 1), D(2025, 3, 1)) | paid(D(2025, 4, 1), amount="30.00")
    arrears = rules.dues_arrears(
        member_id=1, start=D(2025, 1, 1), joined_on=D(2010, 7, 1), left_on=None, on=TODAY, payments=payments
    )
    assert arrears.months == (D(2025, 2, 1), D(2025, 4, 1), D(2025, 5, 1))
    assert arrears.shortfall == Decimal("20.00")
    assert (arrears.first, arrears.last, arrears.due_months) == (D(2025, 1, 1), D(2025, 5, 1), 5)
    assert arrears.label == "2025年2月、2025年4月至5月"


def test_dues_arrears_all_paid_passes_and_the_current_month_is_not_due():
    payments = paid(*[D(2025, m, 1) for m in range(1, 6)])
    arrears = rules.dues_arrears(
        member_id=1, start=D(2025, 1, 1), joined_on=None, left_on=None, on=TODAY, payments=payments
    )
    assert arrears.months == ()
    assert arrears.count == 0


def test_dues_arrears_counts_only_membership_months():
    arrears = rules.dues_arrears(
        member_id=1,
        start=D(2025, 1, 1),
        joined_on=D(2025, 2, 10),
        left_on=D(2025, 4, 1),
        on=TODAY,
        payments={},
    )
    assert arrears.months == (D(2025, 2, 1), D(2025, 3, 1))


def test_dues_arrears_without_start_is_empty():
    assert (
        rules.dues_arrears(
            member_id=1, start=None, joined_on=None, left_on=None, on=TODAY, payments={}
        ).months
        == ()
    )


def test_check_dues_arrears_names_the_months_r31():
    arrears = rules.dues_arrears(
        member_id=1,
        start=D(2024, 11, 1),
        joined_on=None,
        left_on=None,
        on=TODAY,
        payments=paid(D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)) | paid(D(2025, 4, 1), amount="45.50"),
    )
    [finding] = rules.check_dues_arrears(member=member(), arrears=arrears, rule_set=CENTRAL)
    assert finding.rule_id == "R-31"
    assert finding.severity == "advisory"
    assert (finding.object_type, finding.object_id, finding.branch_id) == ("member", 1, 7)
    assert (
        finding.message
        == "党员“王芳”2024年11月至12月、2025年4月至5月的党费未交齐（共4个月），其中少交4.50元。"
    )
    assert finding.article == "《中央和国家机关党小组工作规则（试行）》第十二条第（七）项"
    assert finding.extra["months"] == ["2024-11-01", "2024-12-01", "2025-04-01", "2025-05-01"]


def test_check_dues_arrears_without_arrears_passes_r31():
    arrears = rules.dues_arrears(
        member_id=1, start=D(2025, 5, 1), joined_on=None, left_on=None, on=TODAY, payments=paid(D(2025, 5, 1))
    )
    assert rules.check_dues_arrears(member=member(), arrears=arrears, rule_set=CENTRAL) == []


# --- R-30 thought reports --------------------------------------------------------------------------
def reports(m, last=None, written=None, on=TODAY, rule_set=CENTRAL):
    return rules.check_thought_reports(
        member=m, last_report=last, last_written=written, on=on, rule_set=rule_set
    )


def test_r30_member_with_a_report_within_three_months_passes():
    # A report in March is due again by the end of June.
    assert reports(member(), last=D(2025, 3, 1)) == []


def test_r30_member_overdue_after_the_interval_r30():
    [finding] = reports(member(), last=D(2025, 2, 20))
    assert finding.rule_id == "R-30"
    assert finding.message == "党员“王芳”已超过3个月没有向党小组汇报思想和工作情况（上次汇报于2025-02-20）。"
    assert finding.article == "《关于深入发挥党小组作用的实施意见》“健全规范党小组活动”"


def test_r30_counts_from_the_tracking_start_when_nothing_was_received():
    assert reports(member(tracked_from=D(2025, 3, 1))) == []
    [finding] = reports(member(tracked_from=D(2025, 2, 1)))
    assert finding.message.endswith("（尚无思想汇报记录）。")


def test_r30_member_not_tracked_is_not_reported():
    assert reports(member(tracked_from=None)) == []


def test_r30_interval_comes_from_the_rule_set():
    monthly = RuleSet(**(RULE_SETS[0] | {"thought_report_interval_months": 1}))
    [finding] = reports(member(), last=D(2025, 4, 30), rule_set=monthly)
    assert "已超过1个月" in finding.message
    assert reports(member(), last=D(2025, 5, 1), rule_set=monthly) == []


def test_r30_probationary_member_without_a_written_report_last_quarter_r30():
    probationary = member(is_probationary=True, tracked_from=D(2025, 1, 1))
    # An oral report in May keeps the general interval but not the quarterly written report.
    [finding] = reports(probationary, last=D(2025, 5, 10), written=D(2024, 12, 20))
    assert finding.message == (
        "预备党员“王芳”2025年第一季度没有书面思想汇报（预备党员每季度一次书面汇报；上次书面汇报于2024-12-20）。"
    )


def test_r30_probationary_member_with_a_written_report_in_the_quarter_or_since_passes():
    probationary = member(is_probationary=True, tracked_from=D(2025, 1, 1))
    assert reports(probationary, last=D(2025, 3, 31), written=D(2025, 3, 31)) == []
    assert reports(probationary, last=D(2025, 4, 2), written=D(2025, 4, 2)) == []  # handed in late


def test_r30_probationary_member_tracked_during_the_quarter_is_not_yet_checked():
    probationary = member(is_probationary=True, tracked_from=D(2025, 2, 1))
    assert reports(probationary, last=D(2025, 5, 1)) == []


def test_r30_status_gives_the_day_the_next_report_is_due():
    status = rules.thought_report_status(
        member=member(is_probationary=True),
        last_report=D(2025, 1, 15),
        last_written=None,
        on=TODAY,
        rule_set=LOUDI,
    )
    assert status.due_by == D(2025, 4, 30)
    assert status.overdue is True
    assert status.written_block == (D(2025, 1, 1), D(2025, 3, 1))
    assert status.written_overdue is True


# --- R-33 -----------------------------------------------------------------------------------------
def test_r33_points_rating_refused_where_the_rule_set_does_not_enable_it():
    [finding] = rules.points_rating_refusal(rule_set=CENTRAL, member_id=1, member_name="王芳", branch_id=7)
    assert (finding.rule_id, finding.severity) == ("R-33", "violation")
    assert "未启用党员积分定等" in finding.message


def test_r33_points_rating_allowed_where_enabled():
    assert rules.points_rating_refusal(rule_set=LOUDI, member_id=1, member_name="王芳", branch_id=7) == []


def test_year_problems_refuse_a_future_year_and_a_year_outside_membership():
    kwargs = {"joined_on": D(2020, 7, 1), "left_on": D(2024, 5, 1), "today": TODAY, "what": "积分定等"}
    assert rules.year_problems(year=2022, **kwargs) == []
    assert rules.year_problems(year=2019, **kwargs) == ["2019年该党员尚未入党（2020-07-01入党）。"]
    assert rules.year_problems(year=2025, **kwargs) == [
        "该党员已于2024-05-01离册，不能登记2025年的积分定等。"
    ]
    assert rules.year_problems(year=2026, joined_on=None, left_on=None, today=TODAY, what="积分定等") == [
        "积分定等的年度（2026年）不能晚于今年。"
    ]
