"""Tests of members/dues_importing.py: one month's dues payments from .xlsx/.csv (R-31).

A good file is written completely (one transaction, history), a dry run writes nothing, and a file
with any bad row writes NOTHING while every bad cell is reported with its row, column and reason.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from members.dues_importing import dues_template_xlsx, import_dues_file
from members.importing import ImportFileError, RowError
from members.models import DuesPayment
from members.validators import id_check_digit
from tests import factories as f
from tests.import_files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

D = dt.date
LAST4_HEADERS = ("姓名", "身份证号后四位", "月份", "应交金额", "实交金额", "交纳日期")
FULL_HEADERS = ("姓名", "身份证号", "月份", "应交金额", "实交金额", "交纳日期")


@pytest.fixture
def branch():
    return f.BranchFactory(name="办公室党支部")


@pytest.fixture
def user():
    return f.UserFactory(username="secretary")


@pytest.fixture
def people(branch):
    names = ["王芳", "李强", "赵敏"]
    return {name: f.MemberFactory(branch=branch, name=name, joined_on=D(2010, 7, 1)) for name in names}


def row(member, **overrides):
    values = {
        "姓名": member.name,
        "身份证号后四位": member.id_number[-4:],
        "身份证号": member.id_number,
        "月份": "2025-03",
        "应交金额": "50.00",
        "实交金额": "50.00",
        "交纳日期": "2025-03-10",
    }
    values.update(overrides)
    return values


def run(branch, user, rows, headers=LAST4_HEADERS, *, dry_run=False, **kwargs):
    data = xlsx_bytes(rows, headers, like_excel=False)
    return import_dues_file(
        path_or_file=data, filename="党费.xlsx", branch=branch, by=user, dry_run=dry_run, **kwargs
    )


def test_good_file_is_written_with_history(branch, user, people):
    rows = [
        row(people["王芳"], 应交金额=50, 实交金额=50.0, 交纳日期=dt.datetime(2025, 3, 10)),  # Excel cells
        row(people["李强"], 月份="2025年3月", 应交金额="8.5", 实交金额="8.50", 交纳日期="2025/3/11"),
        row(people["赵敏"], 月份=dt.datetime(2025, 3, 1), 实交金额="30"),  # part-paid: recorded
    ]
    report = run(branch, user, rows)
    assert report.errors == []
    assert report.written
    assert report.summary() == "导入完成：已登记2025年3月党费3笔，应交合计108.50元，实交合计88.50元。"
    assert set(
        DuesPayment.objects.values_list("member__name", "month", "amount_due", "amount_paid", "paid_on")
    ) == {
        ("王芳", D(2025, 3, 1), Decimal("50.00"), Decimal("50.00"), D(2025, 3, 10)),
        ("李强", D(2025, 3, 1), Decimal("8.50"), Decimal("8.50"), D(2025, 3, 11)),
        ("赵敏", D(2025, 3, 1), Decimal("50.00"), Decimal("30.00"), D(2025, 3, 10)),
    }
    assert set(DuesPayment.history.values_list("history_user__username", "history_change_reason")) == {
        ("secretary", "导入党费（2025年3月）")
    }


def test_dry_run_reports_and_writes_nothing(branch, user, people):
    report = run(branch, user, [row(p) for p in people.values()], dry_run=True)
    assert report.ok and not report.written
    assert (
        report.summary() == "预检通过（未写入）：将登记2025年3月党费3笔，应交合计150.00元，实交合计150.00元。"
    )
    assert not DuesPayment.objects.exists()


def test_full_id_number_column_and_csv(branch, user, people):
    rows = [row(p) for p in people.values()]
    report = import_dues_file(
        path_or_file=csv_bytes(rows, FULL_HEADERS, encoding="gb18030"),
        filename="党费.csv",
        branch=branch,
        by=user,
        dry_run=False,
    )
    assert report.errors == []
    assert DuesPayment.objects.count() == 3


def test_every_bad_row_is_reported_and_nothing_is_written(branch, user, people):
    wang, li, zhao = people["王芳"], people["李强"], people["赵敏"]
    late = f.MemberFactory(
        branch=branch, name="孙静", joined_on=D(2025, 4, 1), status="probationary", full_member_on=None
    )
    other_branch = f.MemberFactory(name="周涛")
    f.DuesPaymentFactory(member=li, month=D(2025, 3, 1), paid_on=D(2025, 3, 5))
    rows = [
        row(zhao),  # 2: good
        row(li),  # 3: paying twice
        row(zhao, 实交金额="-5"),  # 4: second row of the same member; negative
        row(other_branch),  # 5: not of this branch
        row(late),  # 6: month before joining
        row(wang, 身份证号后四位="12"),  # 7: last four malformed
        row(wang, 月份="2025-04", 应交金额="abc", 实交金额="10001", 交纳日期="2099-01-01"),  # 8
        row(wang, 月份="三月", 交纳日期=""),  # 9: 王芳 again (row 8)
    ]
    report = run(branch, user, rows)
    assert not report.written
    assert report.errors == [
        RowError(3, "月份", "“李强”2025年3月的党费已于2025-03-05交纳，不能重复交纳（R-31）。"),
        RowError(4, "姓名", "与第2行是同一名党员，同一月份只能交纳一次。"),
        RowError(4, "实交金额", "实交金额不能为负数。"),
        RowError(
            5,
            "身份证号后四位",
            f"本支部没有姓名为“周涛”、身份证号后四位为{other_branch.id_number[-4:]}的党员。",
        ),
        RowError(6, "月份", "2025年3月在该党员入党（2025-04-01）之前，不能登记党费。"),
        RowError(
            7,
            "身份证号后四位",
            "身份证号后四位应为4位（数字，最后一位可为X）；请将该列设为文本格式，以免丢失开头的0。",
        ),
        RowError(8, "月份", "一个文件只能导入同一个月份的党费，本文件为2025年3月的党费，本行为2025年4月。"),
        RowError(8, "应交金额", "应交金额“abc”不是有效的数字。"),
        RowError(9, "姓名", "与第8行是同一名党员，同一月份只能交纳一次。"),
        RowError(9, "月份", "月份格式不正确，应为YYYY-MM（也可为YYYY年M月或该月的任一日期）。"),
        RowError(9, "交纳日期", "交纳日期不能为空。"),
    ]
    assert report.summary() == "共8行数据，其中7行有错误（11处），未登记任何党费。"
    assert list(DuesPayment.objects.values_list("member__name", flat=True)) == ["李强"]


def test_amount_and_date_checks_of_the_ledger_apply_to_each_row(branch, user, people):
    wang, li, zhao = people["王芳"], people["李强"], people["赵敏"]
    rows = [
        row(wang, 实交金额="10000.01"),
        row(li, 交纳日期="2099-01-01"),
        row(zhao, 实交金额="0"),
    ]
    report = run(branch, user, rows)
    assert [(e.row, e.column) for e in report.errors] == [(2, "实交金额"), (3, "交纳日期"), (4, "实交金额")]
    assert "超过每月上限10,000.00元" in report.errors[0].message
    assert report.errors[1].message == "交纳日期不能晚于今天。"
    assert report.errors[2].message == "实交金额为0：未交纳的月份不必登记，系统会自动列为欠交（R-31）。"
    assert not DuesPayment.objects.exists()


def same_last_four_id_numbers() -> tuple[str, str]:
    """Two valid ID numbers (different regions) ending in the same four characters."""
    seen: dict[str, str] = {}
    for k in range(200):
        first17 = f"{110100 + k}19800101123"
        number = first17 + id_check_digit(first17)
        if number[-4:] in seen:
            return seen[number[-4:]], number
        seen[number[-4:]] = number
    raise AssertionError("no pair found")


def test_ambiguous_last_four_and_name_mismatch_are_refused(branch, user, people):
    wang = people["王芳"]
    twin = f.MemberFactory(branch=branch, name="王芳", joined_on=D(2012, 7, 1))
    for person, number in zip((wang, twin), same_last_four_id_numbers(), strict=True):
        person.id_number, person.birth_date = number, D(1980, 1, 1)
        person.save()
    report = run(branch, user, [row(wang)])
    assert report.errors == [
        RowError(
            2,
            "身份证号后四位",
            f"本支部有2名“王芳”的身份证号后四位都是{wang.id_number[-4:]}，请改填完整身份证号。",
        )
    ]
    mismatch = run(branch, user, [row(people["李强"], 姓名="李刚")], FULL_HEADERS)
    assert mismatch.errors == [RowError(2, "姓名", "姓名与身份证号不符（该身份证号登记的党员是“李强”）。")]
    assert not DuesPayment.objects.exists()


def test_group_scope_and_given_month(branch, user, people):
    wang, li = people["王芳"], people["李强"]
    report = run(
        branch,
        user,
        [row(wang), row(li, 月份="2025-04")],
        month=D(2025, 3, 1),
        member_ids=[li.pk],
        scope_label="党小组“第一党小组”2025年3月",
    )
    assert report.errors == [
        RowError(2, "姓名", "“王芳”不是党小组“第一党小组”2025年3月的党员。"),
        RowError(3, "月份", "本次导入的是2025年3月的党费，本行为2025年4月。"),
    ]
    assert not DuesPayment.objects.exists()


def test_file_level_refusals(branch, user, people, settings):
    with pytest.raises(ImportFileError, match="只能有一列"):
        run(branch, user, [row(people["王芳"])], (*LAST4_HEADERS, "身份证号"))
    with pytest.raises(ImportFileError, match="缺少列：实交金额"):
        run(branch, user, [row(people["王芳"])], ("姓名", "身份证号后四位", "月份", "应交金额", "交纳日期"))
    settings.UPLOAD_MAX_BYTES = 1024
    big = [row(people["王芳"], 备注="很长的备注" * 200)] * 3
    with pytest.raises(ImportFileError, match="超过上限1 KB"):
        run(branch, user, big, (*LAST4_HEADERS, "备注"))
    assert not DuesPayment.objects.exists()


def test_template_lists_the_members_and_imports_back_once_filled(branch, user, people):
    members = list(people.values())
    f.DuesPaymentFactory(member=people["王芳"], month=D(2025, 2, 1), amount_due="66.00")
    data = dues_template_xlsx(members, D(2025, 3, 20))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == ["姓名", "身份证号后四位", "月份", "应交金额", "实交金额", "交纳日期", "备注"]
    assert [r[:4] for r in values[1:]] == [
        ["王芳", people["王芳"].id_number[-4:], "2025-03", 66],
        ["李强", people["李强"].id_number[-4:], "2025-03", None],
        ["赵敏", people["赵敏"].id_number[-4:], "2025-03", None],
    ]
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, 4).value = sheet.cell(r, 4).value or 50
        sheet.cell(r, 5).value = sheet.cell(r, 4).value
        sheet.cell(r, 6).value = dt.datetime(2025, 3, 12)
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    report = import_dues_file(
        path_or_file=buffer.getvalue(), filename="x.xlsx", branch=branch, by=user, dry_run=False
    )
    assert report.errors == []
    assert dict(
        DuesPayment.objects.filter(month=D(2025, 3, 1)).values_list("member__name", "amount_paid")
    ) == {
        "王芳": Decimal("66.00"),
        "李强": Decimal("50.00"),
        "赵敏": Decimal("50.00"),
    }
