"""Tests of ``manage.py check_rules`` (groups/management/commands/check_rules.py).

Exit status: 0 without violations (advisories alone → 0), 1 with violations, 2 for bad arguments.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.findings import collect_group_findings
from groups.management.commands.check_rules import Command
from partygroup import findings as findings_module
from partygroup.findings import collect_findings, make_finding
from tests import factories as f

pytestmark = pytest.mark.django_db
ALL_COLLECTORS = list(findings_module._COLLECTORS)  # groups, meetings … as registered by the apps

ON = "2024-09-01"
CENTRAL_ART1 = "《中央和国家机关党小组工作规则（试行）》第一条"
DOC_004_ART = "《关于深入发挥党小组作用的实施意见》“调整和优化党小组设置”"


@pytest.fixture(autouse=True)
def only_group_rules(monkeypatch):
    """Exact-output tests look at the groups collector alone; other apps' rules have their own tests."""
    monkeypatch.setattr(findings_module, "_COLLECTORS", [collect_group_findings])


@pytest.fixture
def all_collectors(monkeypatch):
    monkeypatch.setattr(findings_module, "_COLLECTORS", list(ALL_COLLECTORS))


def run(*args) -> tuple[int, str]:
    """(exit status, stdout) of ``check_rules`` with ``args``."""
    out = StringIO()
    try:
        call_command("check_rules", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def make_branch(name: str, code: str = "central-2019", org_name: str = "市直机关工委"):
    organisation = f.OrganisationFactory(name=org_name, rule_set=f.rule_set(code))
    return f.BranchFactory(organisation=organisation, name=name)


def make_group(branch, size: int, name: str):
    group = f.PartyGroupFactory(branch=branch, name=name)
    for _ in range(size):
        f.GroupMembershipFactory(group=group, member=f.MemberFactory(branch=branch))
    return group


@pytest.fixture
def violating(db):
    """A central branch whose only group has 2 members (R-03 violation)."""
    branch = make_branch("办公室党支部")
    group = make_group(branch, 2, "第一党小组")
    return branch, group


@pytest.fixture
def advised(db):
    """A Loudi branch whose only group has 9 members (R-08 advisory only)."""
    branch = make_branch("财务处党支部", "loudi-2023", org_name="娄底市直机关工委")
    group = make_group(branch, 9, "财务党小组")
    return branch, group


def test_text_output_lists_branch_rule_severity_object_message_and_article(violating):
    branch, _group = violating
    status, out = run("--date", ON)
    assert status == 1
    assert out.splitlines() == [
        "党小组工作规则检查（检查日期 2024-09-01，共 1 个党支部）",
        "",
        f"【办公室党支部】（市直机关工委，ID {branch.pk}）",
        "  R-03 [违规] 党小组“第一党小组”：党小组“第一党小组”现有党员2名，少于3名。",
        f"      依据：{CENTRAL_ART1}",
        "",
        "共发现问题 1 条：违规 1 条，提醒 0 条。",
    ]


def test_advisories_alone_exit_0(advised):
    branch, _group = advised
    status, out = run("--date", ON)
    assert status == 0
    assert out.splitlines()[2:5] == [
        f"【财务处党支部】（娄底市直机关工委，ID {branch.pk}）",
        "  R-08 [提醒] 党小组“财务党小组”：党小组“财务党小组”现有党员9名，不在10-20人的指导范围内。",
        f"      依据：{DOC_004_ART}",
    ]
    assert out.splitlines()[-1] == "共发现问题 1 条：违规 0 条，提醒 1 条。"


def test_no_findings_exit_0_and_say_so(db):
    make_group(make_branch("好支部"), 3, "第一党小组")
    assert run("--date", ON) == (
        0,
        "党小组工作规则检查（检查日期 2024-09-01，共 1 个党支部）\n\n未发现问题。\n",
    )


def test_no_branches_at_all_exit_0(db):
    assert run("--date", ON) == (
        0,
        "党小组工作规则检查（检查日期 2024-09-01，共 0 个党支部）\n\n未发现问题。\n",
    )


def test_json_output_is_the_list_of_findings_of_every_collector(violating, advised, all_collectors):
    status, out = run("--format", "json", "--date", ON)
    assert status == 1
    branches = [violating[0], advised[0]]
    assert json.loads(out) == [x.as_dict() for x in collect_findings(branches, dt.date(2024, 9, 1))]
    assert collect_group_findings in ALL_COLLECTORS


def test_json_output_is_the_list_of_findings_as_dicts(violating, advised):
    status, out = run("--format", "json", "--date", ON)
    assert status == 1
    branches = [violating[0], advised[0]]
    expected = [x.as_dict() for x in collect_findings(branches, dt.date(2024, 9, 1))]
    assert json.loads(out) == expected
    assert [(x["rule_id"], x["severity"], x["object_id"]) for x in expected] == [
        ("R-03", "violation", violating[1].pk),
        ("R-08", "advisory", advised[1].pk),
    ]
    assert set(expected[0]) == {
        "rule_id",
        "severity",
        "object_type",
        "object_id",
        "object",
        "branch_id",
        "message",
        "article",
    }
    assert "党小组“第一党小组”现有党员2名，少于3名。" in out  # not \u-escaped


def test_json_output_without_findings_is_an_empty_list(db):
    assert run("--format", "json", "--date", ON) == (0, "[]\n")


def test_branch_option_checks_only_that_branch(violating, advised):
    status, out = run("--branch", str(advised[0].pk), "--format", "json", "--date", ON)
    assert status == 0
    assert [(x["rule_id"], x["branch_id"]) for x in json.loads(out)] == [("R-08", advised[0].pk)]
    status, out = run("--branch", str(violating[0].pk), "--date", ON)
    assert status == 1
    assert "财务处党支部" not in out
    assert "共 1 个党支部" in out


def test_all_branches_are_checked_in_one_report(violating, advised):
    status, out = run("--date", ON)
    assert status == 1
    assert "共 2 个党支部" in out
    assert out.count("依据：") == 2
    assert out.splitlines()[-1] == "共发现问题 2 条：违规 1 条，提醒 1 条。"


def test_date_option_checks_the_situation_on_that_day(db):
    branch = make_branch("办公室党支部")
    group = make_group(branch, 2, "第一党小组")
    f.GroupMembershipFactory(
        group=group, member=f.MemberFactory(branch=branch), started_on=dt.date(2024, 10, 1)
    )
    assert run("--date", ON)[0] == 1  # 2 members on 1 September
    assert run("--date", "2024-10-01") == (
        0,
        "党小组工作规则检查（检查日期 2024-10-01，共 1 个党支部）\n\n未发现问题。\n",
    )


def test_default_date_is_today(db, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2025, 1, 2))
    assert run()[1].splitlines()[0] == "党小组工作规则检查（检查日期 2025-01-02，共 0 个党支部）"


def test_findings_of_every_registered_collector_are_reported(violating, monkeypatch):
    def meetings_collector(branches, on):
        return [
            make_finding(
                "R-10",
                severity="advisory",
                obj_type="group",
                obj_id=7,
                label="第一党小组",
                message=f"{on:%Y年%m月}未召开党小组会。",
                branch_id=b.pk,
            )
            for b in branches
        ]

    monkeypatch.setattr(findings_module, "_COLLECTORS", [*findings_module._COLLECTORS, meetings_collector])
    status, out = run("--date", ON)
    assert status == 1
    assert "  R-10 [提醒] 党小组“第一党小组”：2024年09月未召开党小组会。" in out.splitlines()
    assert "      依据：《中央和国家机关党小组工作规则（试行）》第五条" in out.splitlines()
    assert out.splitlines()[-1] == "共发现问题 2 条：违规 1 条，提醒 1 条。"


def test_unknown_branch_is_a_chinese_error_with_status_2(db):
    with pytest.raises(CommandError) as excinfo:
        call_command("check_rules", "--branch", "999999", stdout=StringIO())
    assert str(excinfo.value) == "党支部 ID 999999 不存在。"
    assert excinfo.value.returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--branch", "abc"], "党支部 ID“abc”无效，应为数字。"),
        (["--date", "2024-13-01"], "日期“2024-13-01”无效，应为 YYYY-MM-DD，如 2024-09-01。"),
        (["--format", "xml"], "输出格式“xml”无效，可选：text、json。"),
    ],
)
def test_bad_arguments_are_chinese_errors_with_status_2(db, args, message):
    with pytest.raises(CommandError) as excinfo:
        call_command("check_rules", *args, stdout=StringIO())
    assert (str(excinfo.value), excinfo.value.returncode) == (message, 2)


def test_command_line_exit_status_2_for_an_unknown_branch(db, capsys):
    with pytest.raises(SystemExit) as excinfo:
        Command().run_from_argv(["manage.py", "check_rules", "--branch", "999999"])
    assert excinfo.value.code == 2
    assert "党支部 ID 999999 不存在。" in capsys.readouterr().err


def test_command_line_exit_status_1_for_violations(violating, capsys):
    with pytest.raises(SystemExit) as excinfo:
        Command().run_from_argv(["manage.py", "check_rules", "--date", ON])
    assert excinfo.value.code == 1
    assert "R-03 [违规]" in capsys.readouterr().out


def _populate(count: int) -> None:
    for i in range(count):
        branch = make_branch(f"第{i}支部", "loudi-2023" if i % 2 else "central-2019", org_name=f"第{i}工委")
        group = make_group(branch, 2 + i % 3, f"第{i}组")
        f.LeaderAppointmentFactory(group=group, member=group.memberships.first().member)


def _queries(*args) -> int:
    with CaptureQueriesContext(connection) as ctx:
        run(*args)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_query_count_is_flat_for_1_and_20_branches(db, output_format, all_collectors):
    _populate(1)
    one = _queries("--format", output_format, "--date", ON)
    _populate(19)
    twenty = _queries("--format", output_format, "--date", ON)
    assert one == twenty
