"""Tests of partygroup/yearend/workbook.py: the sheets, the figures per group as the annual report
computes them (R-34), the 合计 rows (each the sum of the rows above it; the attendance rate recomputed),
findings by rule, neutralised text cells, and a query count that does not grow with the groups.
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from meetings.annual_report import annual_report_data_many
from meetings.enums import MeetingKind
from partygroup.findings import Severity, collect_findings
from partygroup.yearend import workbook
from partygroup.yearend.selectors import export_plan
from tests import factories as f
from tests.meetings.factories import make_meeting
from tests.partygroup.yearend_support import last_year, tree  # noqa: F401  (fixtures)

SHEETS = ["说明", "组织汇总", "支部汇总", "党小组汇总", "问题汇总（按规则）", "问题明细"]
FIGURE_HEADERS = [c.header for c in workbook.FIGURE_COLUMNS]


def _plan(tree, year=None, branches=("A", "B")):
    year = year or last_year()
    return export_plan(
        organisation=tree.top,
        branch_ids=[tree.branches[k].pk for k in branches],
        year=year,
        as_of=dt.date(year, 12, 31),
    )


def _build(tree, tmp_path, **kwargs):
    plan = _plan(tree)
    path = tmp_path / "book.xlsx"
    size = workbook.write_workbook(plan, path, report_as_of=dt.date(last_year() + 1, 1, 5), **kwargs)
    assert size == path.stat().st_size
    return plan, load_workbook(path)


def _rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def year_of_meetings(tree):
    """Last year's meetings: a1 held group meetings in March (two) and June and a life meeting;
    b1 one group meeting in May; a2 nothing."""
    y = last_year()
    leader_a1 = tree.users["leader_a1"]
    for day in (dt.date(y, 3, 5), dt.date(y, 3, 20), dt.date(y, 6, 10)):
        make_meeting(tree.groups["a1"], leader_a1, held_on=day)
    make_meeting(tree.groups["a1"], leader_a1, kind=MeetingKind.LIFE_MEETING, held_on=dt.date(y, 7, 1))
    leader_b1 = f.user_for(tree.members["组长丙"], "leader_b1")
    make_meeting(tree.groups["b1"], leader_b1, held_on=dt.date(y, 5, 8))
    return tree


def test_workbook_has_its_sheets_in_order_with_headers(tree, tmp_path):
    _plan, book = _build(tree, tmp_path)
    assert book.sheetnames == SHEETS
    assert _rows(book["组织汇总"])[0] == ["上级党组织", "党支部数", "党小组数", *FIGURE_HEADERS]
    assert _rows(book["支部汇总"])[0] == ["上级党组织", "党支部", "党小组数", *FIGURE_HEADERS]
    assert _rows(book["党小组汇总"])[0] == ["上级党组织", "党支部", "党小组", "组长", *FIGURE_HEADERS]
    assert _rows(book["问题汇总（按规则）"])[0] == ["规则", "内容", "违规", "提醒", "合计"]
    info = {r[0]: r[1] for r in _rows(book["说明"])[1:]}
    assert info["标题"] == f"市直机关工委{last_year()}年度党小组工作汇总"
    assert (info["党支部数"], info["党小组数"]) == (2, 3)


def test_group_rows_carry_the_annual_report_figures(year_of_meetings, tmp_path):
    tree = year_of_meetings
    y = last_year()
    _plan, book = _build(tree, tmp_path)
    rows = _rows(book["党小组汇总"])
    header = rows[0]
    by_name = {r[2]: dict(zip(header, r, strict=True)) for r in rows[1:-1]}
    assert list(by_name) == ["办公室第一党小组", "办公室第二党小组", "国库党小组"]
    a1 = by_name["办公室第一党小组"]
    assert (a1["上级党组织"], a1["党支部"], a1["组长"]) == (
        "市直机关工委 / 市财政局机关党委",
        "财政局办公室党支部",
        "组长甲（组长）",
    )
    assert [a1[f"{m}月党小组会"] for m in range(1, 13)] == [0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert (a1["党小组会（次）"], a1["组织生活会（次）"], a1["召开党小组会的月数"]) == (3, 1, 2)
    data = annual_report_data_many([tree.groups["a1"]], y, as_of=dt.date(y + 1, 1, 5))[tree.groups["a1"].pk]
    assert (a1["应参会人次"], a1["实参会人次"]) == (data.expected, data.present) and data.expected > 0
    assert a1["参会率"] == pytest.approx(round(data.present / data.expected, 4))
    assert a1["议定事项（项）"] == data.actions.decided > 0
    assert by_name["国库党小组"]["5月党小组会"] == 1
    assert (
        by_name["办公室第二党小组"]["党小组会（次）"] == 0 and by_name["办公室第二党小组"]["参会率"] is None
    )
    assert by_name["国库党小组"]["上级党组织"] == "市直机关工委 / 市财政局机关党委 / 国库处党总支"


@pytest.mark.parametrize("sheet_name", ["组织汇总", "支部汇总", "党小组汇总"])
def test_totals_rows_equal_the_sums_of_the_rows(year_of_meetings, tmp_path, sheet_name):
    _plan, book = _build(year_of_meetings, tmp_path)
    rows = _rows(book[sheet_name])
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert total[0] == "合计" and body
    first_figure = header.index(FIGURE_HEADERS[0])
    rate = header.index("参会率")
    checked = 0
    for index in range(1, len(header)):
        if index == rate or all(isinstance(r[index], str) or r[index] is None for r in body):
            continue
        assert total[index] == sum(r[index] for r in body), header[index]
        checked += 1
    leading_counts = {"组织汇总": 2, "支部汇总": 1, "党小组汇总": 0}[sheet_name]
    assert checked == len(FIGURE_HEADERS) - 1 + leading_counts
    assert first_figure == len(header) - len(FIGURE_HEADERS)
    expected, present = header.index("应参会人次"), header.index("实参会人次")
    assert total[expected] > 0
    assert total[rate] == pytest.approx(round(total[present] / total[expected], 4))


def test_branch_rows_are_sums_of_their_groups_and_totals_agree_across_sheets(year_of_meetings, tmp_path):
    _plan, book = _build(year_of_meetings, tmp_path)
    groups, branches, orgs = (_rows(book[s]) for s in ("党小组汇总", "支部汇总", "组织汇总"))
    header = groups[0]
    key = header.index("党小组会（次）")
    for branch_row in branches[1:-1]:
        members = [r for r in groups[1:-1] if r[1] == branch_row[1]]
        assert branch_row[2] == len(members)
        assert branch_row[branches[0].index("党小组会（次）")] == sum(r[key] for r in members)
    assert (
        groups[-1][key]
        == branches[-1][branches[0].index("党小组会（次）")]
        == orgs[-1][orgs[0].index("党小组会（次）")]
        == 4
    )
    assert [r[0] for r in orgs[1:]] == [
        "市直机关工委 / 市财政局机关党委",
        "市直机关工委 / 市财政局机关党委 / 国库处党总支",
        "合计",
    ]
    assert orgs[-1][1:3] == [2, 3]


def test_findings_by_rule_count_every_finding_and_total(tree, tmp_path):
    y = last_year()
    f.PartyGroupFactory(branch=tree.branches["B"], name="两人党小组")  # fewer than 3 members
    _plan, book = _build(tree, tmp_path)
    findings = collect_findings([tree.branches["A"], tree.branches["B"]], dt.date(y + 1, 1, 1))
    assert findings
    rows = _rows(book["问题汇总（按规则）"])
    body, total = rows[1:-1], rows[-1]
    assert {r[0]: r[2] + r[3] for r in body} == {
        rule: sum(1 for x in findings if x.rule_id == rule) for rule in {x.rule_id for x in findings}
    }
    assert all(r[4] == r[2] + r[3] for r in body)
    assert total == [
        "合计",
        None,
        sum(r[2] for r in body),
        sum(r[3] for r in body),
        len(findings),
    ]
    assert sum(1 for x in findings if x.severity == Severity.VIOLATION) == total[2]
    details = _rows(book["问题明细"])
    assert len(details) - 1 == len(findings)
    assert {(r[2], r[5]) for r in details[1:]} == {(x.rule_id, x.message) for x in findings}


def test_text_cells_are_neutralised(tree, tmp_path):
    tree.branches["A"].name = '=HYPERLINK("http://x")党支部'
    tree.branches["A"].save()
    f.PartyGroupFactory(branch=tree.branches["B"], name="+cmd|' /C calc'!A0")
    f.PartyGroupFactory(branch=tree.branches["B"], name="@SUM(1)")
    f.PartyGroupFactory(branch=tree.branches["B"], name="-2+3")
    f.PartyGroupFactory(branch=tree.branches["B"], name="\t制表符")
    _plan, book = _build(tree, tmp_path)
    texts = [c for r in _rows(book["党小组汇总"]) + _rows(book["支部汇总"]) for c in r if isinstance(c, str)]
    assert '\'=HYPERLINK("http://x")党支部' in texts
    assert {"'+cmd|' /C calc'!A0", "'@SUM(1)", "'-2+3", "'\t制表符"} <= set(texts)
    dangerous = [t for t in texts if t[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    assert dangerous == []
    for name in book.sheetnames:
        for row in book[name].iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate)


def test_money_and_rate_cells_are_formatted(year_of_meetings, tmp_path):
    _plan, book = _build(year_of_meetings, tmp_path)
    sheet = book["党小组汇总"]
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(row=2, column=header.index("参会率") + 1)
    money = sheet.cell(row=2, column=header.index("已交党费（元）") + 1)
    assert rate.number_format == "0.0%"
    assert money.number_format == "#,##0.00" and Decimal(str(money.value)) == Decimal("0")
    assert sheet.freeze_panes == "A2"


def test_batches_cut_between_branches_only(tree):
    for n in range(4):
        f.PartyGroupFactory(branch=tree.branches["A"], name=f"追加党小组{n}")
    plan = _plan(tree)
    batches = list(workbook._batches(plan, 2))
    assert [len(b) for b in batches] == [6, 1]
    assert [g.id for b in batches for g in b] == [g.id for g in plan.groups]


def test_workbook_queries_do_not_grow_with_groups(tree, tmp_path):
    plan_small = _plan(tree, branches=("B",))
    with CaptureQueriesContext(connection) as small:
        workbook.write_workbook(plan_small, tmp_path / "a.xlsx", report_as_of=dt.date.today())
    for n in range(20):
        group = f.PartyGroupFactory(branch=tree.branches["B"], name=f"大党小组{n:02d}")
        f.GroupMembershipFactory(group=group)
    plan_big = _plan(tree, branches=("B",))
    assert len(plan_big.groups) == 21
    with CaptureQueriesContext(connection) as big:
        workbook.write_workbook(plan_big, tmp_path / "b.xlsx", report_as_of=dt.date.today())
    assert len(big) == len(small)


def test_progress_is_reported_per_batch(tree, tmp_path):
    seen = []
    workbook.write_workbook(
        _plan(tree), tmp_path / "p.xlsx", report_as_of=dt.date.today(), progress=seen.append
    )
    assert seen == [3]
