"""Tests of members/importing.py (with groups/importing.py, its 所在党小组 column) and the
``import_members`` command: what a good file writes, and that a file with any bad row writes
nothing — members, units, memberships or history rows.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import zipfile
from unittest import mock

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.models import GroupMembership
from members import importing
from members.enums import Gender, MemberState, MemberStatus
from members.importing import (
    ImportFileError,
    RowError,
    import_members_file,
    parse_date,
    read_table,
)
from members.management.commands.import_members import Command
from members.models import Member, Unit
from tests import factories as f
from tests.import_files import (
    HEADERS,
    csv_bytes,
    id_number_for,
    member_row,
    member_rows,
    write_members_csv,
    write_members_xlsx,
    xlsx_bytes,
)

D = dt.date


def db_counts() -> dict[str, int]:
    """Rows and history rows of everything an import may write."""
    return {
        "members": Member.objects.count(),
        "member_history": Member.history.count(),
        "units": Unit.objects.count(),
        "unit_history": Unit.history.count(),
        "memberships": GroupMembership.objects.count(),
        "membership_history": GroupMembership.history.count(),
    }


def run(world, path, *, dry_run=False, by=None):
    return import_members_file(
        path_or_file=path, branch=world.branch, by=by or world.secretary, dry_run=dry_run
    )


# --- A good file -----------------------------------------------------------------------------------
def test_import_xlsx_creates_members_units_and_group_placements_with_history(world, tmp_path):
    rows = [
        member_row(0, 姓名="张喆", group="第一党小组", unit="综合处"),
        member_row(1, 姓名="王𠇔", group="第二党小组", unit="财务处"),
        member_row(2, 姓名="李秀英", group="", unit="综合处", 党员类别="预备党员", 转正日期=""),
    ]
    path = write_members_xlsx(tmp_path / "members.xlsx", rows)

    report = run(world, path)

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert report.new_units == ["综合处", "财务处"]
    assert dict(report.counts) == {"编入党小组": 2}
    imported = {
        m.name: m
        for m in Member.objects.filter(id_number__in=[r["身份证号"] for r in rows]).select_related("unit")
    }
    assert set(imported) == {"张喆", "王𠇔", "李秀英"}
    zhang = imported["张喆"]
    assert (zhang.gender, zhang.birth_date, zhang.status, zhang.phone, zhang.unit.name, zhang.branch) == (
        Gender.FEMALE,
        D(1960, 1, 1),
        MemberStatus.FULL,
        "13900000000",
        "综合处",
        world.branch,
    )
    assert (zhang.joined_on, zhang.full_member_on) == (D(1985, 7, 1), D(1986, 7, 1))
    assert imported["李秀英"].status == MemberStatus.PROBATIONARY
    assert imported["李秀英"].full_member_on is None
    assert set(Unit.objects.filter(branch=world.branch).values_list("name", flat=True)) == {
        "综合处",
        "财务处",
    }
    today = timezone.localdate()
    placed = set(
        GroupMembership.objects.filter(member__in=imported.values()).values_list(
            "member__name", "group__name", "started_on", "ended_on"
        )
    )
    assert placed == {("张喆", "第一党小组", today, None), ("王𠇔", "第二党小组", today, None)}
    # History: one creation row per member, unit and membership, by the importing user.
    assert set(
        Member.history.filter(id__in=[m.pk for m in imported.values()]).values_list(
            "name", "history_type", "history_user__username", "history_change_reason"
        )
    ) == {(n, "+", "secretary", "导入党员名单") for n in imported}
    assert Unit.history.filter(branch=world.branch, history_type="+").count() == 2
    assert set(
        GroupMembership.history.filter(member_id__in=[m.pk for m in imported.values()]).values_list(
            "history_type", "history_user__username", "history_change_reason"
        )
    ) == {("+", "secretary", "导入党员名单：编入党小组")}


def test_import_csv_utf8_and_gbk_encodings_read_the_same(world, tmp_path):
    rows = [member_row(10, 姓名="赵𠇔"), member_row(11, 姓名="钱喆")]
    utf8 = write_members_csv(tmp_path / "utf8.csv", rows)
    gbk = write_members_csv(tmp_path / "gbk.csv", rows, encoding="gb18030")

    first = run(world, utf8, dry_run=True)
    second = run(world, gbk, dry_run=True)

    assert first.errors == second.errors == []
    assert [p.values for p in first.rows] == [p.values for p in second.rows]
    assert [p.values["姓名"] for p in first.rows] == ["赵𠇔", "钱喆"]


def test_import_reads_the_excel_layout_and_the_openpyxl_layout_the_same(world, tmp_path):
    rows = member_rows(3, groups=["第一党小组"])
    excel = write_members_xlsx(tmp_path / "excel.xlsx", rows)  # shared strings, like Excel and WPS
    inline = write_members_xlsx(tmp_path / "inline.xlsx", rows, like_excel=False)  # openpyxl's inline strings

    first = run(world, excel, dry_run=True)
    second = run(world, inline, dry_run=True)

    assert first.errors == second.errors == []
    assert [p.values for p in first.rows] == [p.values for p in second.rows]
    assert [p.values["姓名"] for p in first.rows] == [r["姓名"] for r in rows]


def test_import_dry_run_reports_new_units_and_writes_nothing(world, tmp_path):
    path = write_members_xlsx(
        tmp_path / "m.xlsx", member_rows(4, groups=["第一党小组"], units=["新处", "旧处"])
    )
    f.UnitFactory(branch=world.branch, name="旧处")
    before = db_counts()

    report = run(world, path, dry_run=True)

    assert report.errors == []
    assert report.new_units == ["新处"]
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    assert report.summary() == (
        "预检通过（未写入）：共4行，将新增党员4名，更新0名，无变化0名，新建单位1个（新处），编入党小组4名。"
    )
    assert db_counts() == before


def test_import_accepts_excel_date_cells_and_chinese_and_slash_dates(world, tmp_path):
    rows = [
        member_row(20, 出生日期=dt.datetime(1960, 1, 21), 入党日期="1985/7/1", 转正日期="1986年7月1日"),
    ]
    path = write_members_xlsx(tmp_path / "dates.xlsx", rows)

    report = run(world, path)

    assert report.errors == []
    member = Member.objects.get(id_number=rows[0]["身份证号"])
    assert (member.birth_date, member.joined_on, member.full_member_on) == (
        D(1960, 1, 21),
        D(1985, 7, 1),
        D(1986, 7, 1),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-09", D(2020, 3, 9)),
        ("2020/3/9", D(2020, 3, 9)),
        ("2020.03.09", D(2020, 3, 9)),
        ("2020年3月9日", D(2020, 3, 9)),
        ("2020-03-09 00:00:00", D(2020, 3, 9)),
        (dt.datetime(2020, 3, 9, 0, 0), D(2020, 3, 9)),
        (D(2020, 3, 9), D(2020, 3, 9)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date_accepts_the_documented_formats(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("09/03/2020", importing.DATE_FORMAT_MESSAGE),
        ("2020-02-30", "日期“2020-02-30”不存在，请核对。"),
        (43899, importing.DATE_FORMAT_MESSAGE),
    ],
)
def test_parse_date_refuses_other_formats_with_a_chinese_message(value, message):
    with pytest.raises(ValueError) as exc:
        parse_date(value)
    assert str(exc.value) == message


def test_import_strips_the_exports_neutralising_apostrophe(world, tmp_path):
    rows = [member_row(30, 手机号码="'+8613900000030", 所在单位="'-研发部")]
    path = write_members_xlsx(tmp_path / "apostrophe.xlsx", rows)

    report = run(world, path)

    assert report.errors == []
    member = Member.objects.select_related("unit").get(id_number=rows[0]["身份证号"])
    assert (member.phone, member.unit.name) == ("+8613900000030", "-研发部")


def test_apostrophe_before_a_non_formula_character_is_kept(world, tmp_path):
    row = member_row(31, 所在单位="'综合处")

    report = run(world, write_members_xlsx(tmp_path / "kept.xlsx", [row]))

    assert report.errors == []
    assert report.new_units == ["'综合处"]


# --- Re-importing ----------------------------------------------------------------------------------
def test_reimport_of_the_same_file_updates_instead_of_duplicating(world, tmp_path):
    path = write_members_xlsx(tmp_path / "m.xlsx", member_rows(6, groups=["第一党小组", "第二党小组"]))
    run(world, path)
    after_first = db_counts()

    report = run(world, path)

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 6)
    assert dict(report.counts) == {}
    assert db_counts() == after_first  # no new member, unit, membership or history row


def test_reimport_with_changed_cells_updates_the_matched_members(world, tmp_path):
    rows = member_rows(3, groups=["第一党小组"])
    run(world, write_members_xlsx(tmp_path / "a.xlsx", rows))
    rows[0] = {**rows[0], "手机号码": "13800000000", "所在单位": "新单位"}
    rows[1] = {**rows[1], "姓名": "吴喆"}

    report = run(world, write_members_xlsx(tmp_path / "b.xlsx", rows))

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    assert report.new_units == ["新单位"]
    assert dict(report.counts) == {}
    first = Member.objects.select_related("unit").get(id_number=rows[0]["身份证号"])
    assert (first.phone, first.unit.name) == ("13800000000", "新单位")
    assert list(first.history.values_list("history_type", "phone", "history_change_reason")[:1]) == [
        ("~", "13800000000", "导入党员名单")
    ]
    assert Member.objects.get(id_number=rows[1]["身份证号"]).name == "吴喆"
    assert Member.objects.filter(id_number__in=[r["身份证号"] for r in rows]).count() == 3


def test_moving_a_member_placed_today_again_is_refused(world, tmp_path):
    rows = member_rows(1, groups=["第一党小组"])
    run(world, write_members_xlsx(tmp_path / "a.xlsx", rows))
    before = db_counts()

    report = run(world, write_members_xlsx(tmp_path / "b.xlsx", [{**rows[0], "所在党小组": "第二党小组"}]))

    today = timezone.localdate()
    assert report.errors == [
        RowError(
            2,
            "所在党小组",
            f"该党员自{today:%Y-%m-%d}起在党小组“第一党小组”，今天不能再调整，请在党小组管理中处理。",
        )
    ]
    assert db_counts() == before


def test_reimport_moves_a_member_placed_earlier_into_the_new_group(world, tmp_path):
    member = world.members[1]  # in 第一党小组 since 2020-01-01
    row = member_row(
        40,
        姓名=member.name,
        性别="男" if member.gender == Gender.MALE else "女",
        出生日期=member.birth_date.isoformat(),
        身份证号=member.id_number,
        入党日期=member.joined_on.isoformat(),
        转正日期=member.full_member_on.isoformat(),
        手机号码=member.phone,
        所在单位="",
        所在党小组="第二党小组",
    )

    report = run(world, write_members_xlsx(tmp_path / "move.xlsx", [row]))

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    today = timezone.localdate()
    assert list(
        GroupMembership.objects.filter(member=member)
        .order_by("started_on", "pk")
        .values_list("group__name", "started_on", "ended_on")
    ) == [("第一党小组", D(2020, 1, 1), today), ("第二党小组", today, None)]
    assert list(
        GroupMembership.history.filter(member_id=member.pk, history_type="~").values_list(
            "ended_on", "history_user__username", "history_change_reason"
        )
    ) == [(today, "secretary", "导入党员名单：调整党小组")]


def test_empty_cells_keep_group_id_number_phone_and_birth_date_but_clear_dates_and_unit(world, tmp_path):
    member = world.members[2]
    member.unit = f.UnitFactory(branch=world.branch, name="旧单位")
    member.save()
    row = member_row(
        41,
        姓名=member.name,
        性别="男" if member.gender == Gender.MALE else "女",
        出生日期="",
        身份证号=member.id_number,
        入党日期="",
        转正日期="",
        手机号码="",
        所在单位="",
        所在党小组="",
    )
    kept = (member.id_number, member.phone, member.birth_date)

    report = run(world, write_members_xlsx(tmp_path / "keep.xlsx", [row]))

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    member.refresh_from_db()
    assert (member.id_number, member.phone, member.birth_date) == kept
    assert (member.joined_on, member.full_member_on, member.unit) == (None, None, None)
    assert list(GroupMembership.objects.filter(member=member).values_list("group__name", "ended_on")) == [
        ("第一党小组", None)
    ]


def test_row_without_id_number_matches_on_name_and_birth_date(world, tmp_path):
    rows = [member_row(50, 身份证号=""), member_row(51, 身份证号="")]
    run(world, write_members_xlsx(tmp_path / "a.xlsx", rows))
    rows[0] = {**rows[0], "手机号码": "13700000000"}

    report = run(world, write_members_xlsx(tmp_path / "b.xlsx", rows))

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert (
        Member.objects.filter(name=rows[0]["姓名"], birth_date=D.fromisoformat(rows[0]["出生日期"])).count()
        == 1
    )


def test_row_with_new_id_number_completes_the_member_imported_without_one(world, tmp_path):
    row = member_row(52)
    run(world, write_members_xlsx(tmp_path / "a.xlsx", [{**row, "身份证号": ""}]))

    report = run(world, write_members_xlsx(tmp_path / "b.xlsx", [row]))

    assert report.errors == []
    assert (report.created, report.updated) == (0, 1)
    assert list(Member.objects.filter(name=row["姓名"]).values_list("id_number", flat=True)) == [
        row["身份证号"]
    ]


def test_row_without_id_number_is_refused_when_two_members_match(world, tmp_path):
    twin = {"name": "周建华", "birth_date": D(1980, 5, 5), "branch": world.branch, "id_number": None}
    f.MemberFactory(**twin)
    f.MemberFactory(**twin)
    row = member_row(53, 姓名="周建华", 出生日期="1980-05-05", 身份证号="")
    before = db_counts()

    report = run(world, write_members_xlsx(tmp_path / "twins.xlsx", [row]))

    assert report.errors == [
        RowError(2, "身份证号", "本支部有2名姓名、出生日期都相同的党员，无法确定是哪一名，请填写身份证号。")
    ]
    assert db_counts() == before


def test_rows_without_id_number_and_same_name_and_birth_date_are_refused(world, tmp_path):
    row = member_row(54, 身份证号="")
    report = run(world, write_members_xlsx(tmp_path / "dup.xlsx", [row, member_row(55), row]))

    assert report.errors == [
        RowError(
            2, "身份证号", "与第4行的姓名、出生日期相同，本行未填写身份证号，无法区分，请填写身份证号。"
        ),
        RowError(
            4, "身份证号", "与第2行的姓名、出生日期相同，本行未填写身份证号，无法区分，请填写身份证号。"
        ),
    ]


def test_row_without_id_number_and_birth_date_is_refused(world, tmp_path):
    report = run(world, write_members_xlsx(tmp_path / "x.xlsx", [member_row(56, 身份证号="", 出生日期="")]))

    assert report.errors == [
        RowError(2, "出生日期", "未填写身份证号时必须填写出生日期（用于识别党员，避免重复导入）。")
    ]


# --- Bad rows: the message, and nothing written ---------------------------------------------------
def _other_branch_id(world) -> dict:
    other = world.other_branch.members.get()
    return {
        "姓名": other.name,
        "性别": "男" if other.gender == Gender.MALE else "女",
        "出生日期": other.birth_date.isoformat(),
        "身份证号": other.id_number,
        "入党日期": other.joined_on.isoformat(),
        "转正日期": other.full_member_on.isoformat(),
    }


def _future_birth(world) -> dict:
    birth = timezone.localdate() + dt.timedelta(days=1)
    return {
        "出生日期": birth.isoformat(),
        "身份证号": id_number_for(birth, 1, "男"),
        "性别": "男",
        "入党日期": "",
        "转正日期": "",
    }


def _bad_checksum(world) -> dict:
    good = member_row(101)["身份证号"]
    return {"身份证号": good[:17] + ("0" if good[17] != "0" else "1")}


BAD_ROWS = {
    "duplicate_id_number_within_file": (
        lambda world: {k: v for k, v in member_row(100).items() if k != "所在党小组"},
        ("身份证号", "与第2行的身份证号重复。"),
    ),
    "id_number_of_another_branch": (
        _other_branch_id,
        ("身份证号", "该身份证号已登记在其他党支部的党员名下，不能导入到本支部（请先办理组织关系转接）。"),
    ),
    "invalid_id_number_checksum": (_bad_checksum, ("身份证号", "身份证号校验位错误，请核对。")),
    "unknown_group": (
        lambda world: {"所在党小组": "不存在的小组"},
        ("所在党小组", "本支部没有名为“不存在的小组”的现有党小组（已撤销或尚未建立的党小组不能编入）。"),
    ),
    "full_membership_before_join_date": (
        lambda world: {"入党日期": "1990-07-01", "转正日期": "1990-06-30"},
        ("转正日期", "转正日期不能早于入党日期。"),
    ),
    "birth_date_in_future": (_future_birth, ("出生日期", "出生日期不能晚于今天。")),
    "probationary_without_join_date": (
        lambda world: {"党员类别": "预备党员", "入党日期": "", "转正日期": ""},
        ("入党日期", "预备党员必须填写入党日期。"),
    ),
    "bad_gender": (lambda world: {"性别": "男性"}, ("性别", "性别只能填写“男”或“女”。")),
    "bad_category": (
        lambda world: {"党员类别": "党员"},
        ("党员类别", "党员类别只能填写“正式党员”或“预备党员”。"),
    ),
    "missing_name": (lambda world: {"姓名": ""}, ("姓名", "姓名不能为空。")),
    "bad_phone": (
        lambda world: {"手机号码": "1380013800"},
        ("手机号码", "手机号码应为11位中国大陆手机号（可带+86）。"),
    ),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_file_with_one_bad_row_reports_it_and_writes_nothing(world, tmp_path, kind):
    overrides, (column, message) = BAD_ROWS[kind]
    rows = [
        member_row(100, group="第一党小组", unit="新单位甲"),
        member_row(101, group="第二党小组", unit="新单位乙", **overrides(world)),
        member_row(102, group="第一党小组", unit="新单位甲"),
    ]
    path = write_members_xlsx(tmp_path / f"{kind}.xlsx", rows)
    before = db_counts()

    report = run(world, path)

    assert report.errors == [RowError(3, column, message)]
    assert report.summary() == "共3行数据，其中1行有错误（1处），未导入任何数据。"
    assert db_counts() == before
    assert not Unit.objects.filter(name__in=["新单位甲", "新单位乙"]).exists()


def test_masked_id_number_and_phone_from_a_masked_export_are_refused(world, tmp_path):
    row = member_row(110, 身份证号="110101********0012", 手机号码="139****0110")

    report = run(world, write_members_xlsx(tmp_path / "masked.xlsx", [row]))

    assert report.errors == [
        RowError(
            2, "手机号码", "手机号码是脱敏值（含*），不能导入：请填写完整号码，或留空（留空则不修改）。"
        ),
        RowError(
            2,
            "身份证号",
            "身份证号是脱敏值（含*），不能导入：请使用显示完整身份证号的导出文件，或留空（留空则不修改）。",
        ),
    ]


def test_id_number_stored_as_a_number_cell_is_refused(world, tmp_path):
    row = member_row(111)
    row["身份证号"] = float(row["身份证号"][:17] + "0")

    report = run(world, write_members_xlsx(tmp_path / "number.xlsx", [row]))

    assert report.errors == [
        RowError(
            2, "身份证号", "身份证号必须以文本格式填写（数字格式会丢失末几位），请将该列设为文本后重新填写。"
        )
    ]


def test_dissolved_group_is_an_unknown_group(world, tmp_path):
    f.PartyGroupFactory(branch=world.branch, name="旧党小组", dissolved_on=D(2021, 1, 1))

    report = run(world, write_members_xlsx(tmp_path / "old.xlsx", [member_row(112, group="旧党小组")]))

    assert report.errors == [
        RowError(
            2, "所在党小组", "本支部没有名为“旧党小组”的现有党小组（已撤销或尚未建立的党小组不能编入）。"
        )
    ]


def test_member_who_left_cannot_be_placed_in_a_group(world, tmp_path):
    member = f.MemberFactory(branch=world.branch, state=MemberState.LEFT, left_on=D(2023, 1, 1))
    row = member_row(
        113,
        姓名=member.name,
        性别="男" if member.gender == Gender.MALE else "女",
        出生日期=member.birth_date.isoformat(),
        身份证号=member.id_number,
        所在党小组="第一党小组",
        入党日期="",
        转正日期="",
    )

    report = run(world, write_members_xlsx(tmp_path / "left.xlsx", [row]))

    assert report.errors == [RowError(2, "所在党小组", "该党员已离册，不能编入党小组。")]


def test_all_bad_rows_are_reported_in_row_and_column_order(world, tmp_path):
    rows = [
        member_row(120),
        member_row(121, 性别="", 手机号码="12"),
        member_row(122),
        member_row(123, 姓名="", 出生日期="2020-13-01", group="无此小组"),
    ]

    report = run(world, write_members_xlsx(tmp_path / "many.xlsx", rows), dry_run=True)

    assert report.errors == [
        RowError(3, "性别", "性别不能为空。"),
        RowError(3, "手机号码", "手机号码应为11位中国大陆手机号（可带+86）。"),
        RowError(5, "姓名", "姓名不能为空。"),
        RowError(5, "出生日期", "日期“2020-13-01”不存在，请核对。"),
        RowError(
            5, "所在党小组", "本支部没有名为“无此小组”的现有党小组（已撤销或尚未建立的党小组不能编入）。"
        ),
    ]


def test_blank_rows_keep_the_spreadsheet_row_numbers(world, tmp_path):
    rows = [member_row(130), dict.fromkeys(HEADERS), member_row(131, 性别="?")]

    report = run(world, write_members_xlsx(tmp_path / "blank.xlsx", rows), dry_run=True)

    assert report.total_rows == 2
    assert report.errors == [RowError(4, "性别", "性别只能填写“男”或“女”。")]


# --- The file as a whole -------------------------------------------------------------------------
def test_header_must_hold_exactly_the_documented_columns(world, tmp_path):
    headers = [h for h in HEADERS if h != "手机号码"] + ["备注"]
    path = write_members_xlsx(tmp_path / "header.xlsx", [member_row(140)], headers=headers)

    with pytest.raises(ImportFileError) as exc:
        run(world, path)

    assert exc.value.message == (
        "表头（第1行）不正确：缺少列：手机号码；无法识别的列：备注。表头应为："
        "姓名、性别、出生日期、党员类别、入党日期、转正日期、所在单位、手机号码、身份证号、所在党小组。"
    )


def test_file_over_the_size_limit_is_refused_before_reading(world, tmp_path, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    path = write_members_xlsx(tmp_path / "big.xlsx", member_rows(200))
    before = db_counts()

    with (
        mock.patch.object(importing.openpyxl, "load_workbook") as load,
        pytest.raises(ImportFileError) as exc,
    ):
        run(world, path)

    assert re.fullmatch(r"文件大小为\d+ KB，超过上限2 KB，请拆分后分批导入。", exc.value.message)
    assert load.call_count == 0
    assert db_counts() == before


def test_file_over_the_row_limit_is_refused_with_a_chinese_message(world, tmp_path, settings):
    settings.UPLOAD_MAX_ROWS = 3
    path = write_members_xlsx(tmp_path / "rows.xlsx", member_rows(4))

    with pytest.raises(ImportFileError) as exc:
        run(world, path)

    assert exc.value.message == "文件的数据行超过3行（单次导入上限），请拆分后分批导入。"


def test_row_limit_stops_reading_without_consuming_the_rest():
    pulled = 0

    def endless():
        nonlocal pulled
        yield HEADERS
        for n in itertools.count():
            pulled += 1
            yield tuple(member_row(n).values())

    with pytest.raises(ImportFileError):
        importing._collect(endless(), max_rows=5)

    assert pulled == 6  # the sixth data row is refused; nothing after it is read


def test_xlsx_is_read_in_read_only_data_only_mode(world, tmp_path):
    path = write_members_xlsx(tmp_path / "ro.xlsx", member_rows(2))

    with mock.patch.object(importing.openpyxl, "load_workbook", wraps=openpyxl.load_workbook) as load:
        read_table(path)

    assert load.call_count == 1
    assert load.call_args.kwargs == {"read_only": True, "data_only": True}


def test_openpyxl_parses_xml_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_xlsx_that_unpacks_too_far_is_refused(tmp_path, settings):
    settings.UPLOAD_MAX_BYTES = 40 * 1024
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(xlsx_bytes(member_rows(1)))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.bin", b"\0" * (settings.UPLOAD_MAX_BYTES * importing.XLSX_MAX_EXPANSION))

    with pytest.raises(ImportFileError) as exc:
        read_table(path)

    assert exc.value.message == "该 .xlsx 文件解压后超过1.2 MB，疑似异常文件，已拒绝导入。"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "a.xls",
            b"\xd0\xcf\x11\xe0",
            "不支持旧版 .xls 等格式，请在 Excel/WPS 中另存为 .xlsx 或 .csv 后再导入。",
        ),
        ("a.xlsx", b"not a zip", "无法读取该 .xlsx 文件：文件已损坏或不是 Excel 工作簿。"),
        ("a.csv", "姓名\n".encode(), "文件中没有党员数据（数据应从第2行开始）。"),
        ("a.csv", b"", "文件第1行应为表头（姓名、性别……），但第1行是空的。"),
        ("a.pdf", b"%PDF", "不支持“.pdf”格式的文件，请上传 .xlsx 或 .csv 文件。"),
    ],
)
def test_unreadable_files_are_refused_with_a_chinese_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ImportFileError) as exc:
        read_table(path)

    assert exc.value.message == message


def test_read_table_accepts_bytes_and_file_objects(tmp_path):
    data = csv_bytes(member_rows(2))

    from_bytes = read_table(data, fmt="csv")
    from_file = read_table(io.BytesIO(data), filename="x.csv")

    assert from_bytes == from_file
    assert from_bytes.headers == list(HEADERS)
    assert len(from_bytes.rows) == 2


# --- Performance shape: no per-row queries ---------------------------------------------------------
@pytest.fixture
def one_batch_per_statement():
    """Django assumes SQLite's old limit of 999 parameters per statement, so 50 history rows
    (23 columns each) would be inserted in two batches there: batching, not per-row queries.
    SQLite ≥ 3.32 allows 32766; use that so both databases show the same flat count."""
    if connection.vendor != "sqlite":
        yield
        return
    with mock.patch.object(connection.features, "max_query_params", 32766):
        yield


def _import_queries(world, tmp_path, count: int, start: int) -> int:
    rows = member_rows(count, start=start, groups=["第一党小组", "第二党小组"], units=[f"处室{start}"])
    path = write_members_xlsx(tmp_path / f"q{count}.xlsx", rows)
    with CaptureQueriesContext(connection) as queries:
        report = run(world, path)
    assert report.ok and report.created == count
    return len(queries.captured_queries)


def test_import_query_count_is_flat_with_5_and_50_rows(world, tmp_path, one_batch_per_statement):
    _import_queries(world, tmp_path, 2, start=900)  # warm caches (content types, rule sets)

    assert _import_queries(world, tmp_path, 5, start=1000) == _import_queries(world, tmp_path, 50, start=2000)


def test_reimport_query_count_is_flat_with_5_and_50_changed_rows(world, tmp_path, one_batch_per_statement):
    few = member_rows(5, start=3000, groups=["第一党小组"])
    many = member_rows(50, start=4000, groups=["第一党小组"])
    run(world, write_members_xlsx(tmp_path / "few.xlsx", few))
    run(world, write_members_xlsx(tmp_path / "many.xlsx", many))

    def changed(rows):
        path = write_members_xlsx(
            tmp_path / f"c{len(rows)}.xlsx",
            [{**r, "手机号码": "137" + r["手机号码"][3:], "所在单位": f"新处{len(rows)}"} for r in rows],
        )
        with CaptureQueriesContext(connection) as queries:
            report = run(world, path)
        assert report.ok and report.updated == len(rows)
        return len(queries.captured_queries)

    assert changed(few) == changed(many)


# --- The command -----------------------------------------------------------------------------------
def test_command_dry_run_prints_every_bad_row_with_row_column_and_reason(world, tmp_path):
    rows = [
        member_row(200, unit="新处"),
        member_row(201, 性别="M"),
        member_row(202),
        member_row(203, 姓名="", 手机号码="1"),
    ]
    path = write_members_xlsx(tmp_path / "bad.xlsx", rows)
    out = io.StringIO()
    before = db_counts()

    with pytest.raises(CommandError) as exc:
        call_command("import_members", str(path), "--branch", str(world.branch.pk), "--dry-run", stdout=out)

    assert str(exc.value) == "文件中有3处错误，未导入任何数据。"
    assert exc.value.returncode == 1
    assert out.getvalue().splitlines() == [
        f"党支部：办公室党支部（ID {world.branch.pk}）；文件：bad.xlsx",
        "第3行【性别】性别只能填写“男”或“女”。",
        "第5行【姓名】姓名不能为空。",
        "第5行【手机号码】手机号码应为11位中国大陆手机号（可带+86）。",
        "将新建单位：新处、综合处",
        "共4行数据，其中2行有错误（3处），未导入任何数据。",
    ]
    assert db_counts() == before


def test_command_dry_run_of_a_good_file_reports_and_writes_nothing(world, tmp_path):
    path = write_members_csv(tmp_path / "good.csv", member_rows(3, groups=["第一党小组"], units=["新处"]))
    out = io.StringIO()
    before = db_counts()

    call_command("import_members", str(path), "--branch", str(world.branch.pk), "--dry-run", stdout=out)

    assert out.getvalue().splitlines()[1:] == [
        "将新建单位：新处",
        "预检通过（未写入）：共3行，将新增党员3名，更新0名，无变化0名，新建单位1个（新处），编入党小组3名。",
    ]
    assert db_counts() == before


def test_command_imports_a_good_file_as_the_given_user(world, tmp_path):
    path = write_members_xlsx(tmp_path / "good.xlsx", member_rows(2, groups=["第二党小组"]))
    out = io.StringIO()

    call_command(
        "import_members", str(path), "--branch", str(world.branch.pk), "--user", "secretary", stdout=out
    )

    assert out.getvalue().splitlines()[-1] == (
        "导入完成：共2行，已新增党员2名，更新0名，无变化0名，新建单位2个（综合处、财务处），编入党小组2名。"
    )
    assert set(
        Member.history.filter(history_type="+", history_change_reason="导入党员名单").values_list(
            "history_user__username", flat=True
        )
    ) == {"secretary"}


def test_command_real_import_with_a_bad_row_exits_non_zero_and_writes_nothing(world, tmp_path, capsys):
    path = write_members_xlsx(tmp_path / "bad.xlsx", [member_row(210), member_row(211, 党员类别="x")])
    before = db_counts()

    # run_from_argv is what manage.py runs; it closes connections at the end (not in a test).
    with mock.patch("django.core.management.base.connections.close_all"), pytest.raises(SystemExit) as exc:
        Command().run_from_argv(["manage.py", "import_members", str(path), "--branch", str(world.branch.pk)])

    assert exc.value.code == 1
    captured = capsys.readouterr()
    assert "第3行【党员类别】党员类别只能填写“正式党员”或“预备党员”。" in captured.out
    assert captured.err.strip() == "CommandError: 文件中有1处错误，未导入任何数据。"
    assert db_counts() == before


def test_command_refuses_a_missing_file(db):
    with pytest.raises(CommandError) as exc:
        call_command("import_members", "/nonexistent/m.xlsx", "--branch", "1")
    assert str(exc.value) == "找不到文件：/nonexistent/m.xlsx"


def test_command_refuses_an_unknown_branch_and_user(world, tmp_path):
    path = write_members_xlsx(tmp_path / "m.xlsx", member_rows(1))

    with pytest.raises(CommandError) as no_branch:
        call_command("import_members", str(path), "--branch", "999999")
    with pytest.raises(CommandError) as no_user:
        call_command("import_members", str(path), "--branch", str(world.branch.pk), "--user", "nobody")

    assert str(no_branch.value) == "党支部 ID 999999 不存在。"
    assert str(no_user.value) == "用户“nobody”不存在。"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("UPLOAD_MAX_ROWS", 1, "文件的数据行超过1行（单次导入上限），请拆分后分批导入。未导入任何数据。"),
        ("UPLOAD_MAX_BYTES", 1024, r"文件大小为\d+ KB，超过上限1 KB，请拆分后分批导入。未导入任何数据。"),
    ],
)
def test_command_refuses_a_file_over_the_limits(world, tmp_path, settings, setting, value, message):
    setattr(settings, setting, value)
    path = write_members_xlsx(tmp_path / "m.xlsx", member_rows(2))
    before = db_counts()

    with pytest.raises(CommandError) as exc:
        call_command("import_members", str(path), "--branch", str(world.branch.pk))

    assert re.fullmatch(message, str(exc.value))
    assert db_counts() == before
