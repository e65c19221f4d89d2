"""Tests of partygroup/yearend/bundle.py: reports written atomically and never twice, the real annual
report PDF of a group, the .zip built from the plan (each group once, safe unique names, fixed
order and timestamps) and refused when a report is missing.
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import datetime as dt
import os
import zipfile

import pytest

from partygroup.pdf import pdf_page_count, pdf_text
from partygroup.yearend import bundle
from partygroup.yearend.selectors import export_plan
from tests import factories as f
from tests.partygroup.yearend_support import fake_reports, last_year, tree, zip_names  # noqa: F401  (fixtures)


def _plan(tree, branches=("A", "B")):
    y = last_year()
    return export_plan(
        organisation=tree.top,
        branch_ids=[tree.branches[k].pk for k in branches],
        year=y,
        as_of=dt.date(y, 12, 31),
    )


def _render(tree, tmp_path, group_ids, **kwargs):
    y = last_year()
    return bundle.render_reports(
        group_ids,
        year=y,
        as_of=dt.date(y, 12, 31),
        report_as_of=dt.date(y + 1, 1, 5),
        directory=tmp_path,
        **kwargs,
    )


def test_write_atomically_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "pdf" / "7.pdf"
    bundle.write_atomically(target, b"first")
    bundle.write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["7.pdf"]


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "pdf" / "7.pdf"
    bundle.write_atomically(target, b"complete")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        bundle.write_atomically(target, b"half")
    assert target.read_bytes() == b"complete"
    assert sorted(p.name for p in target.parent.iterdir()) == ["7.pdf"]


def test_render_reports_skips_files_already_written(tree, tmp_path, fake_reports):
    ids = [tree.groups["a1"].pk, tree.groups["a2"].pk, tree.groups["b1"].pk]
    bundle.write_atomically(bundle.report_path(tmp_path, ids[1]), b"%PDF earlier run")
    progress = []
    assert _render(tree, tmp_path, ids, progress=progress.append) == 2
    assert fake_reports.rendered == [ids[0], ids[2]]
    assert progress == [1, 2, 3]
    assert bundle.report_path(tmp_path, ids[1]).read_bytes() == b"%PDF earlier run"
    assert _render(tree, tmp_path, ids) == 0
    assert fake_reports.rendered == [ids[0], ids[2]]
    assert bundle.missing_reports(tmp_path, ids) == []


def test_render_reports_writes_the_real_annual_report_pdf(tree, tmp_path):
    group = tree.groups["a1"]
    assert _render(tree, tmp_path, [group.pk]) == 1
    pdf = bundle.report_path(tmp_path, group.pk).read_bytes()
    text = pdf_text(pdf)
    assert f"党小组{last_year()}年度工作情况报告" in text.replace(" ", "")
    assert "办公室第一党小组" in text
    assert pdf_page_count(pdf) >= 1


def test_bundle_holds_each_group_once_in_plan_order_with_safe_names(tree, tmp_path, fake_reports):
    other_org = f.OrganisationFactory(parent=tree.mid, name="另一个机关党委")
    twin = f.BranchFactory(organisation=other_org, name="财政局办公室党支部")  # same name, other organisation
    f.PartyGroupFactory(branch=twin, name="办公室第一党小组")
    f.PartyGroupFactory(branch=tree.branches["B"], name="国库/资金:党小组*?")
    f.PartyGroupFactory(branch=tree.branches["B"], name="..")
    old = f.PartyGroupFactory(
        branch=tree.branches["B"], name="国库党小组", dissolved_on=dt.date(last_year(), 3, 1)
    )  # the same name as a group of today: dissolved in the year
    plan = export_plan(
        organisation=tree.top,
        branch_ids=[tree.branches["A"].pk, tree.branches["B"].pk, twin.pk],
        year=last_year(),
        as_of=dt.date(last_year(), 12, 31),
    )
    _render(tree, tmp_path, [g.id for g in plan.groups])
    target = tmp_path / "out" / "reports.zip"
    progress = []
    size = bundle.write_bundle(plan, tmp_path, target, progress=progress.append)
    y = last_year()
    names = zip_names(target)
    assert size == target.stat().st_size
    assert progress == list(range(1, len(plan.groups) + 1))
    b1, old_b1 = sorted([tree.groups["b1"].pk, old.pk])
    assert names == [
        f"财政局办公室党支部/办公室第一党小组-{y}年度工作报告.pdf",
        f"财政局办公室党支部/办公室第二党小组-{y}年度工作报告.pdf",
        f"国库处党支部/党小组{plan.groups[2].id}-{y}年度工作报告.pdf",
        f"国库处党支部/国库_资金_党小组_-{y}年度工作报告.pdf",
        f"国库处党支部/国库党小组-{y}年度工作报告.pdf",
        f"国库处党支部/国库党小组（{old_b1}）-{y}年度工作报告.pdf",
        f"另一个机关党委-财政局办公室党支部/办公室第一党小组-{y}年度工作报告.pdf",
    ]
    assert plan.groups[2].name == ".."
    assert b1 < old_b1
    assert len(names) == len(set(names))
    with zipfile.ZipFile(target) as archive:
        assert {i.date_time for i in archive.infolist()} == {(y, 12, 31, 0, 0, 0)}
        assert archive.read(names[0]) == bundle.report_path(tmp_path, plan.groups[0].id).read_bytes()
        assert archive.testzip() is None
    # built from the same files again: the same bytes
    again = tmp_path / "again.zip"
    bundle.write_bundle(plan, tmp_path, again)
    assert again.read_bytes() == target.read_bytes()


def test_bundle_refused_when_a_report_is_missing(tree, tmp_path, fake_reports):
    plan = _plan(tree)
    _render(tree, tmp_path, [g.id for g in plan.groups][:-1])
    target = tmp_path / "reports.zip"
    with pytest.raises(FileNotFoundError, match="缺少 1 个党小组的年度工作报告文件"):
        bundle.write_bundle(plan, tmp_path, target)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
