"""Tests of members/services.py: the ledgers of members' duties (R-30 thought reports, R-31 dues,
R-32 posts and commitments, R-33 points rating). Every refusal leaves the database as it was."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from members import services
from members.enums import MemberState, PointsGrade, ThoughtReportKind
from members.models import DuesPayment, MemberPost, PointsRating, ThoughtReport
from tests import factories as f
from tests.groups.test_services import _race, requires_postgres  # the PostgreSQL race helpers

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def member():
    return f.MemberFactory(name="王芳", joined_on=D(2010, 7, 1), full_member_on=D(2011, 7, 1))


@pytest.fixture
def user():
    return f.UserFactory(username="leader")


def record(member, user, **overrides) -> DuesPayment:
    kwargs = {
        "member": member,
        "month": D(2025, 3, 18),
        "amount_due": "50.00",
        "amount_paid": Decimal("50"),
        "paid_on": D(2025, 3, 20),
        "by": user,
    }
    kwargs.update(overrides)
    return services.dues_record(**kwargs)


def refused(call) -> list[str]:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.messages


# --- R-31 dues -------------------------------------------------------------------------------------
def test_dues_record_saves_the_month_on_its_first_day_with_collector_and_history(member, user):
    payment = record(member, user, note=" 现金 ")
    payment.refresh_from_db()
    assert (payment.month, payment.amount_due, payment.amount_paid, payment.paid_on) == (
        D(2025, 3, 1),
        Decimal("50.00"),
        Decimal("50.00"),
        D(2025, 3, 20),
    )
    assert (payment.collected_by, payment.note, payment.is_settled) == (user, "现金", True)
    [history] = payment.history.all()
    assert (history.history_user, history.history_change_reason) == (user, "登记党费（2025年3月）")


def test_dues_record_collected_by_another_user(member, user):
    collector = f.UserFactory(username="deputy")
    assert record(member, user, collected_by=collector).collected_by == collector


def test_dues_record_paying_twice_for_the_same_month_is_refused_r31(member, user):
    first = record(member, user)
    messages = refused(lambda: record(member, user, month=D(2025, 3, 1), amount_paid="60.00"))
    assert messages == ["“王芳”2025年3月的党费已于2025-03-20交纳（实交50.00元），不能重复交纳（R-31）。"]
    assert list(DuesPayment.objects.values_list("pk", "amount_paid")) == [(first.pk, Decimal("50.00"))]


def test_dues_record_negative_amount_is_refused_and_nothing_saved_r31(member, user):
    assert refused(lambda: record(member, user, amount_paid="-50")) == ["实交金额不能为负数。"]
    assert not DuesPayment.objects.exists()


def test_dues_record_absurd_amount_is_refused_unless_lump_sum_r31(member, user):
    messages = refused(lambda: record(member, user, amount_paid="12000"))
    assert len(messages) == 1 and "超过每月上限10,000.00元" in messages[0]
    assert not DuesPayment.objects.exists()
    lump = record(member, user, amount_paid="12000", is_lump_sum=True, note="一次性交纳大额党费")
    assert list(DuesPayment.objects.values_list("pk", "amount_paid")) == [(lump.pk, Decimal("12000.00"))]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.345", "实交金额最多保留2位小数。"),
        ("abc", "实交金额“abc”不是有效的数字。"),
        (None, "实交金额“None”不是有效的数字。"),
        ("NaN", "实交金额“NaN”不是有效的数字。"),
    ],
)
def test_dues_record_malformed_amount_is_refused(member, user, value, message):
    assert refused(lambda: record(member, user, amount_paid=value)) == [message]
    assert not DuesPayment.objects.exists()


def test_dues_record_month_before_joining_is_refused_r31(member, user):
    member.joined_on = D(2025, 4, 2)
    member.full_member_on = None
    member.status = "probationary"
    member.save()
    assert refused(lambda: record(member, user, paid_on=D(2025, 4, 5))) == [
        "2025年3月在该党员入党（2025-04-02）之前，不能登记党费。"
    ]
    assert not DuesPayment.objects.exists()


def test_dues_record_month_after_leaving_is_refused_r31(member, user):
    member.state = MemberState.LEFT
    member.left_on = D(2025, 3, 1)
    member.save()
    assert refused(lambda: record(member, user)) == ["该党员已于2025-03-01离册，不能登记2025年3月的党费。"]
    assert not DuesPayment.objects.exists()
    assert record(member, user, month=D(2025, 2, 1)).month == D(2025, 2, 1)  # before leaving: fine


def test_dues_record_many_saves_every_entry_with_history(member, user):
    other = f.MemberFactory(branch=member.branch, name="李强")
    payments = services.dues_record_many(
        month=D(2025, 3, 9),
        entries=[
            services.DuesEntry(member=member, amount_due="50", amount_paid="50", paid_on=D(2025, 3, 10)),
            services.DuesEntry(
                member=other, amount_due=Decimal("8.5"), amount_paid=8.5, paid_on=D(2025, 3, 11)
            ),
        ],
        by=user,
    )
    assert {(p.member.name, p.month, p.amount_paid) for p in payments} == {
        ("王芳", D(2025, 3, 1), Decimal("50.00")),
        ("李强", D(2025, 3, 1), Decimal("8.50")),
    }
    assert DuesPayment.objects.count() == 2
    assert (
        DuesPayment.history.filter(history_user=user, history_change_reason="登记党费（2025年3月）").count()
        == 2
    )


def test_dues_record_many_is_all_or_nothing_and_lists_every_bad_entry(member, user):
    other = f.MemberFactory(branch=member.branch, name="李强")
    third = f.MemberFactory(branch=member.branch, name="赵敏")
    record(member, user)
    messages = refused(
        lambda: services.dues_record_many(
            month=D(2025, 3, 1),
            entries=[
                services.DuesEntry(member=member, amount_due="50", amount_paid="50", paid_on=D(2025, 3, 21)),
                services.DuesEntry(member=other, amount_due="50", amount_paid="-1", paid_on=D(2025, 3, 21)),
                services.DuesEntry(member=third, amount_due="50", amount_paid="50", paid_on=D(2025, 3, 21)),
                services.DuesEntry(member=third, amount_due="50", amount_paid="50", paid_on=D(2025, 3, 21)),
            ],
            by=user,
        )
    )
    assert messages == [
        "“赵敏”在本次登记中出现了两次。",
        "“王芳”2025年3月的党费已于2025-03-20交纳（实交50.00元），不能重复交纳（R-31）。",
        "“李强”：实交金额不能为负数。",
    ]
    assert list(DuesPayment.objects.values_list("member__name", flat=True)) == ["王芳"]


def test_dues_record_many_refuses_an_empty_collection(user):
    assert refused(lambda: services.dues_record_many(month=D(2025, 3, 1), entries=[], by=user)) == [
        "没有需要登记的党费。"
    ]


# --- R-30 thought reports -------------------------------------------------------------------------
def test_thought_report_record_saves_the_report_and_its_period(member, user):
    report = services.thought_report_record(
        member=member,
        received_on=D(2025, 4, 3),
        kind=ThoughtReportKind.WRITTEN,
        summary=" 一季度思想汇报 ",
        period_start=D(2025, 1, 15),
        period_end=D(2025, 3, 31),
        by=user,
    )
    report.refresh_from_db()
    assert (report.period_start, report.period_end, report.summary, report.received_by) == (
        D(2025, 1, 1),
        D(2025, 3, 1),
        "一季度思想汇报",
        user,
    )


def test_thought_report_record_period_defaults_to_the_month_received(member, user):
    report = services.thought_report_record(
        member=member, received_on=D(2025, 4, 3), kind=ThoughtReportKind.ORAL, summary="口头汇报", by=user
    )
    assert (report.period_start, report.period_end) == (D(2025, 4, 1), D(2025, 4, 1))


def test_thought_report_record_refusals_save_nothing(member, user):
    future = dt.date.today() + dt.timedelta(days=40)
    assert refused(
        lambda: services.thought_report_record(
            member=member, received_on=future, kind="oral", summary="x", by=user
        )
    ) == ["汇报日期不能晚于今天。"]
    assert refused(
        lambda: services.thought_report_record(
            member=member,
            received_on=D(2025, 4, 3),
            kind="written",
            summary="x",
            period_start=D(2025, 3, 1),
            period_end=D(2025, 5, 1),
            by=user,
        )
    ) == ["汇报期间不能晚于汇报日期所在月份。"]
    assert refused(
        lambda: services.thought_report_record(
            member=member, received_on=D(2009, 4, 3), kind="written", summary="x", by=user
        )
    ) == ["汇报日期早于该党员入党日期（2010-07-01）：入党前的思想汇报请记入培养对象。"]
    assert refused(
        lambda: services.thought_report_record(
            member=member, received_on=D(2025, 4, 3), kind="email", summary="x", by=user
        )
    ) == ["值 'email' 不是有效选项。"]
    assert refused(
        lambda: services.thought_report_record(
            member=member, received_on=D(2025, 4, 3), kind="oral", summary=" ", by=user
        )
    ) == ["请填写汇报的主要内容。"]
    assert not ThoughtReport.objects.exists()


# --- R-32 posts and commitments ------------------------------------------------------------------
def test_member_post_record_saves_one_post_a_year_r32(member, user):
    post = services.member_post_record(
        member=member,
        year=2025,
        title="政策宣传岗",
        commitment="每季度向群众宣讲一次政策",
        publicised_on=D(2025, 3, 1),
        by=user,
    )
    assert (post.title, post.year, post.created_by) == ("政策宣传岗", 2025, user)
    assert refused(
        lambda: services.member_post_record(
            member=member, year=2025, title="联系群众岗", commitment="x", by=user
        )
    ) == ["该党员本年度已设岗承诺（R-32）。"]
    assert list(MemberPost.objects.values_list("title", flat=True)) == ["政策宣传岗"]


def test_member_post_record_refuses_a_future_year_and_empty_text(member, user):
    next_year = dt.date.today().year + 1
    assert refused(
        lambda: services.member_post_record(
            member=member, year=next_year, title="岗", commitment="诺", by=user
        )
    ) == [f"设岗承诺的年度（{next_year}年）不能晚于今年。"]
    assert refused(
        lambda: services.member_post_record(member=member, year=2025, title=" ", commitment=" ", by=user)
    ) == ["请填写岗位。", "请填写承诺内容。"]
    assert not MemberPost.objects.exists()


# --- R-33 points rating ---------------------------------------------------------------------------
def test_points_rating_record_where_the_rule_set_enables_it_r33(user):
    loudi = f.OrganisationFactory(rule_set=f.rule_set("loudi-2023"))
    member = f.MemberFactory(branch=f.BranchFactory(organisation=loudi), joined_on=D(2010, 7, 1))
    rating = services.points_rating_record(
        member=member, year=2024, points="95.5", grade=PointsGrade.EXCELLENT, by=user
    )
    rating.refresh_from_db()
    assert (rating.points, rating.grade, rating.rated_by) == (Decimal("95.5"), "excellent", user)
    assert refused(
        lambda: services.points_rating_record(member=member, year=2024, points=80, grade="qualified", by=user)
    ) == ["该党员本年度已有积分定等（R-33）。"]
    assert PointsRating.objects.count() == 1


def test_points_rating_record_refused_where_the_rule_set_does_not_enable_it_r33(member, user):
    messages = refused(
        lambda: services.points_rating_record(member=member, year=2024, points=90, grade="qualified", by=user)
    )
    assert messages == [
        "本组织适用的规则集“中央和国家机关党小组工作规则（2019）”未启用党员积分定等，不能登记“王芳”的积分。"
        "（R-33，《关于深入发挥党小组作用的实施意见》）"
    ]
    assert not PointsRating.objects.exists()


def test_points_rating_record_refuses_negative_points_and_a_year_before_joining(user):
    loudi = f.OrganisationFactory(rule_set=f.rule_set("loudi-2023"))
    member = f.MemberFactory(branch=f.BranchFactory(organisation=loudi), joined_on=D(2020, 7, 1))
    assert refused(
        lambda: services.points_rating_record(member=member, year=2024, points=-1, grade="qualified", by=user)
    ) == ["积分不能为负数。"]
    assert refused(
        lambda: services.points_rating_record(member=member, year=2019, points=90, grade="qualified", by=user)
    ) == ["2019年该党员尚未入党（2020-07-01入党）。"]
    assert not PointsRating.objects.exists()


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r31_concurrent_payments_of_one_month_leave_one_row():
    member = f.MemberFactory(joined_on=D(2010, 7, 1))
    user = f.UserFactory(username="collector")
    results = _race(
        [
            lambda paid=paid: services.dues_record(
                member=member,
                month=D(2025, 3, 1),
                amount_due="50",
                amount_paid=paid,
                paid_on=D(2025, 3, 9),
                by=user,
            )
            for paid in ("50", "60")
        ]
    )
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1, results
    assert "不能重复交纳（R-31）" in refusals[0].messages[0]
    assert DuesPayment.objects.filter(member=member).count() == 1
