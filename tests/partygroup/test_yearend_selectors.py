"""Tests of partygroup/yearend/selectors.py: safe names, the plan of an export, who sees which job
(organisation staff whose subtree holds every branch of the job, superusers), and the progress.
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from partygroup.models import ExportJob, ExportPart
from partygroup.yearend.enums import ExportState, PartKind, PartState
from partygroup.yearend.selectors import (
    STALE_AFTER,
    export_branches_for,
    export_jobs_visible_to,
    export_organisations_for,
    export_plan,
    export_progress,
    safe_name,
)
from tests.org_tree import ROLES, fresh_user
from tests.partygroup.yearend_support import last_year, tree  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("第一党小组", "第一党小组"),
        ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
        ("  ..隐藏.. ", "隐藏"),
        ("..", "后备"),
        ("", "后备"),
        ("CON", "后备"),
        ("换\n行\t符", "换_行_符"),
        ("长" * 80, "长" * 60),
    ],
)
def test_safe_name(raw, expected):
    assert safe_name(raw, fallback="后备") == expected


def test_plan_orders_branches_by_tree_and_groups_by_name(tree):
    y = last_year()
    plan = export_plan(
        organisation=tree.top,
        branch_ids=[tree.branches["B"].pk, tree.branches["A"].pk],
        year=y,
        as_of=dt.date(y, 12, 31),
    )
    assert [b.name for b in plan.branches] == ["财政局办公室党支部", "国库处党支部"]
    assert [g.name for g in plan.groups] == ["办公室第一党小组", "办公室第二党小组", "国库党小组"]
    assert plan.branches[1].organisation_label == "市直机关工委 / 市财政局机关党委 / 国库处党总支"
    assert not plan.is_draft


def test_plan_leaves_out_branches_outside_the_organisation(tree):
    y = last_year()
    plan = export_plan(
        organisation=tree.leaf,
        branch_ids=[tree.branches["A"].pk, tree.branches["B"].pk, tree.branches["C"].pk],
        year=y,
        as_of=dt.date(y, 12, 31),
    )
    assert [b.name for b in plan.branches] == ["国库处党支部"]
    assert plan.branches[0].organisation_label == "国库处党总支"


def _job(tree, organisation, *branch_keys) -> ExportJob:
    job = ExportJob.objects.create(
        organisation=organisation, year=last_year(), as_of=dt.date(last_year(), 12, 31)
    )
    job.branches.set([tree.branches[k] for k in branch_keys])
    return job


VISIBLE_JOBS = {
    "superuser": {"top", "a_only", "leaf", "other"},
    "staff_top": {"top", "a_only", "leaf"},
    "staff_mid": {"top", "a_only", "leaf"},  # every branch of "top" lies in 机关党委's subtree
    "staff_leaf": {"leaf"},
    "staff_other": {"other"},
    "secretary_a": set(),
    "propaganda_a": set(),
    "secretary_c": set(),
    "leader_a1": set(),
    "leader_a2": set(),
    "member_a1": set(),
    "anonymous": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_jobs_visible_only_to_staff_who_see_all_their_branches(tree, role):
    jobs = {
        "top": _job(tree, tree.top, "A", "B"),
        "a_only": _job(tree, tree.top, "A"),
        "leaf": _job(tree, tree.leaf, "B"),
        "other": _job(tree, tree.other_root, "C"),
    }
    names = {pk: name for name, job in jobs.items() for pk in [job.pk]}
    seen = {names[j.pk] for j in export_jobs_visible_to(fresh_user(tree, role))}
    assert seen == VISIBLE_JOBS[role]


def test_staff_choose_organisations_and_branches_of_their_subtree_only(tree):
    staff_mid = fresh_user(tree, "staff_mid")
    assert [o.name for o in export_organisations_for(staff_mid)] == [
        "市财政局机关党委",
        "国库处党总支",
        "国库处联络组",
    ]
    assert [b.name for b in export_branches_for(staff_mid)] == ["财政局办公室党支部", "国库处党支部"]
    secretary = fresh_user(tree, "secretary_a")
    assert list(export_organisations_for(secretary)) == []
    assert list(export_branches_for(secretary)) == []
    assert export_branches_for(fresh_user(tree, "superuser")).count() == 3


def _parts(job, specs):
    now = timezone.now()
    ExportPart.objects.bulk_create(
        [
            ExportPart(
                job=job,
                index=i,
                kind=kind,
                state=state,
                done_count=done,
                group_ids=list(range(groups)),
                heartbeat_at=now,
            )
            for i, (kind, state, done, groups) in enumerate(specs)
        ]
    )


def test_progress_weighs_reports_workbook_and_bundle(tree):
    job = _job(tree, tree.top, "A", "B")
    ExportJob.objects.filter(pk=job.pk).update(group_count=40, state=ExportState.RUNNING)
    job.refresh_from_db()
    _parts(
        job,
        [
            (PartKind.WORKBOOK, PartState.DONE, 40, 0),  # weight 2
            (PartKind.REPORTS, PartState.RUNNING, 10, 20),  # 10 of 20
            (PartKind.REPORTS, PartState.QUEUED, 0, 20),
            (PartKind.BUNDLE, PartState.PENDING, 0, 0),  # weight 1
        ],
    )
    progress = export_progress(job)
    assert progress.percent == int(100 * 12 / 43)
    assert (progress.reports_done, progress.reports_total) == (10, 40)
    assert (progress.parts_done, progress.parts_total) == (1, 4)
    assert progress.step == "正在生成各党小组年度工作报告"
    assert (progress.workbook_label, progress.bundle_label) == ("已完成", "未开始")
    assert progress.polling and not progress.interrupted and not progress.can_resume


def test_progress_is_interrupted_after_silence_and_100_only_when_done(tree):
    job = _job(tree, tree.top, "A", "B")
    ExportJob.objects.filter(pk=job.pk).update(group_count=2, state=ExportState.RUNNING)
    job.refresh_from_db()
    _parts(
        job,
        [
            (PartKind.WORKBOOK, PartState.DONE, 2, 0),
            (PartKind.REPORTS, PartState.DONE, 2, 2),
            (PartKind.BUNDLE, PartState.RUNNING, 2, 0),
        ],
    )
    later = timezone.now() + STALE_AFTER + dt.timedelta(seconds=1)
    assert export_progress(job).percent == 99
    silent = export_progress(job, now=later)
    assert silent.interrupted and silent.can_resume and silent.step == "已中断：后台任务长时间没有进展"
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.DONE)
    job.refresh_from_db()
    done = export_progress(job, now=later)
    assert (done.percent, done.step, done.interrupted, done.polling) == (100, "已完成", False, False)
