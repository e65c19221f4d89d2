"""Tests of partygroup/management/commands/export_annual_report.py: the export from the command line
into a directory, the progress line on the terminal, and refusals in Chinese (nothing written).
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from partygroup.management.commands.export_annual_report import ProgressLine
from partygroup.models import ExportJob
from tests.partygroup.yearend_support import fake_reports, last_year, tree, zip_names  # noqa: F401  (fixtures)


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_annual_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_writes_workbook_and_zip_with_a_progress_line(tree, tmp_path, fake_reports):
    y = last_year()
    out, err = _run("--org", str(tree.top.pk), "--year", str(y), "-o", str(tmp_path / "out"))
    xlsx = tmp_path / "out" / f"市直机关工委{y}年度党小组工作汇总.xlsx"
    bundle = tmp_path / "out" / f"市直机关工委{y}年度党小组工作报告.zip"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([xlsx.name, bundle.name])
    assert "已导出 2 个党支部、3 个党小组" in out and str(xlsx) in out and str(bundle) in out
    assert load_workbook(xlsx).sheetnames[:4] == ["说明", "组织汇总", "支部汇总", "党小组汇总"]
    assert len(zip_names(bundle)) == 3
    # one line rewritten in place: frames separated by carriage returns, a single newline at the end
    assert err.startswith("\r") and err.endswith("\n") and err.count("\n") == 1
    frames = err.rstrip("\n").split("\r")[1:]
    assert frames[-1].startswith("[" + "#" * 30 + "] 100%  完成")
    percents = [int(frame.split("]")[1].split("%")[0]) for frame in frames]
    assert percents == sorted(percents)
    assert ExportJob.objects.count() == 0


def test_command_exports_chosen_branches_only(tree, tmp_path, fake_reports):
    out, _err = _run(
        "--org",
        str(tree.top.pk),
        "--year",
        str(last_year()),
        "-o",
        str(tmp_path),
        "--branch",
        str(tree.branches["B"].pk),
        "--no-progress",
    )
    assert "已导出 1 个党支部、1 个党小组" in out
    assert fake_reports.rendered == [tree.groups["b1"].pk]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2024", "-o", "x"], "缺少参数：--org"),
        (["--org", "999999", "--year", "2024", "-o", "x"], "上级党组织 999999 不存在。"),
        (["--org", "{top}", "--year", "{next}", "-o", "x"], "年度尚未开始，不能导出"),
        (["--org", "{top}", "--year", "2024", "-o", "x", "--branch", "999999"], "党支部 999999 不存在。"),
        (["--org", "{leaf}", "--year", "2024", "-o", "x", "--branch", "{a}"], "不属于“国库处党总支”"),
    ],
)
def test_command_refusals_write_nothing(tree, tmp_path, fake_reports, args, message):
    values = {
        "top": tree.top.pk,
        "leaf": tree.leaf.pk,
        "a": tree.branches["A"].pk,
        "next": timezone.localdate().year + 1,
    }
    args = [a.format(**values) if a.startswith("{") else a for a in args]
    args = [str(tmp_path / "x") if a == "x" else a for a in args]
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []
    assert fake_reports.rendered == []


def test_progress_line_pads_over_a_longer_previous_line():
    stream = io.StringIO()
    line = ProgressLine(stream)
    line(0.5, "年度工作报告")
    line(1.0, "完成")
    line.close()
    _first, second = stream.getvalue().split("\r")[1:]
    assert stream.getvalue().count("\n") == 1
    assert second.rstrip("\n").startswith("[" + "#" * 30 + "] 100%  完成")
    assert len(second.rstrip("\n")) >= len("[" + "#" * 30 + "] 100%  完成")
    assert stream.getvalue().endswith("\n")
