"""Tests of partygroup/yearend/services.py and tasks.py: starting an export (who, which year, which
branches — refusals save nothing), the parts of a job, running it to 100 %, resuming after a worker
died mid-part without duplicating a file, and the synchronous export into a directory.

Tasks run on the immediate backend (tests' default) unless a test says otherwise; the dummy backend
keeps them queued without running them.
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partygroup.models import ExportJob, ExportPart
from partygroup.yearend import services, tasks
from partygroup.yearend.enums import ExportState, PartKind, PartState
from partygroup.yearend.selectors import BUNDLE_FILE, WORKBOOK_FILE, export_progress, job_directory
from tests import factories as f
from tests.org_tree import fresh_user
from tests.partygroup.yearend_support import (  # noqa: F401  (fixtures)
    DUMMY_TASKS,
    age_heartbeats,
    export_root,
    fake_reports,
    last_year,
    tree,
    zip_names,
)

TREE_GROUPS = {"A": ["办公室第一党小组", "办公室第二党小组"], "B": ["国库党小组"]}
EXPECTED_TOP = {
    "财政局办公室党支部/办公室第一党小组-{y}年度工作报告.pdf",
    "财政局办公室党支部/办公室第二党小组-{y}年度工作报告.pdf",
    "国库处党支部/国库党小组-{y}年度工作报告.pdf",
}


def _expected(year: int) -> set[str]:
    return {name.format(y=year) for name in EXPECTED_TOP}


def _start(tree, role="staff_top", organisation=None, **kwargs):
    return services.export_start(
        by=fresh_user(tree, role),
        organisation=organisation or tree.top,
        year=kwargs.pop("year", last_year()),
        **kwargs,
    )


# --- Who may export (issue 5: "an export asked for by a branch user — refused, nothing saved") ------
@pytest.mark.parametrize("role", ["secretary_a", "propaganda_a", "leader_a1", "member_a1", "secretary_c"])
def test_export_start_refused_for_branch_users_nothing_saved(tree, export_root, role):
    with pytest.raises(PermissionDenied) as refused:
        _start(tree, role)
    assert "组织部门人员" in str(refused.value)
    assert ExportJob.objects.count() == 0
    assert ExportPart.objects.count() == 0
    assert not export_root.exists()


@pytest.mark.parametrize(
    ("role", "org"), [("staff_other", "top"), ("staff_leaf", "mid"), ("staff_mid", "top")]
)
def test_export_start_refused_for_staff_outside_the_organisation(tree, export_root, role, org):
    with pytest.raises(PermissionDenied):
        _start(tree, role, organisation=getattr(tree, org))
    assert ExportJob.objects.count() == 0


def test_export_start_refuses_a_future_year_nothing_saved(
    tree, export_root, django_capture_on_commit_callbacks
):
    next_year = timezone.localdate().year + 1
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        _start(tree, year=next_year)
    assert refused.value.message_dict == {
        "year": [f"{next_year}年度尚未开始，不能导出（只能导出已结束的年度或截至今日的本年度）。"]
    }
    assert ExportJob.objects.count() == 0


def test_export_start_refuses_a_year_before_2000(tree, export_root):
    with pytest.raises(ValidationError) as refused:
        _start(tree, year=1999)
    assert refused.value.message_dict == {"year": ["只能导出2000年及以后的年度。"]}
    assert ExportJob.objects.count() == 0


def test_export_start_refuses_a_branch_outside_the_organisation_nothing_saved(tree, export_root):
    with pytest.raises(ValidationError) as refused:
        _start(tree, organisation=tree.leaf, branches=[tree.branches["B"], tree.branches["A"]])
    assert refused.value.message_dict == {
        "branches": ["党支部“财政局办公室党支部”不属于“国库处党总支”，不能导出。"]
    }
    assert ExportJob.objects.count() == 0


def test_export_start_refuses_an_organisation_without_branches(tree, export_root):
    with pytest.raises(ValidationError) as refused:
        _start(tree, organisation=tree.leaf_child)
    assert refused.value.message_dict == {"branches": ["“国库处联络组”下没有党支部，没有可导出的内容。"]}
    assert ExportJob.objects.count() == 0


# --- A job and its parts ----------------------------------------------------------------------------
def test_export_start_creates_workbook_report_chunks_and_pending_bundle(
    tree, export_root, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    monkeypatch.setattr(services, "CHUNK_GROUPS", 2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = _start(tree)
    assert len(callbacks) == 1
    assert (job.state, job.year, job.as_of, job.all_branches) == (
        ExportState.QUEUED,
        last_year(),
        dt.date(last_year(), 12, 31),
        True,
    )
    assert set(job.branches.all()) == {tree.branches["A"], tree.branches["B"]}
    assert (job.branch_count, job.group_count, job.requested_by.username) == (2, 3, "staff_top")
    parts = list(job.parts.order_by("index").values_list("index", "kind", "state", "attempt", "group_ids"))
    a1, a2, b1 = tree.groups["a1"].pk, tree.groups["a2"].pk, tree.groups["b1"].pk
    assert parts == [
        (0, PartKind.WORKBOOK, PartState.QUEUED, 1, []),
        (1, PartKind.REPORTS, PartState.QUEUED, 1, [a1, a2]),
        (2, PartKind.REPORTS, PartState.QUEUED, 1, [b1]),
        (3, PartKind.BUNDLE, PartState.PENDING, 0, []),
    ]
    # every part but the bundle was handed to the backend, with its attempt
    assert all(p.task_id for p in job.parts.exclude(kind=PartKind.BUNDLE))
    assert job.parts.get(kind=PartKind.BUNDLE).task_id == ""
    assert len(job.token) == 32 and job_directory(job) == export_root / job.token


def test_export_start_returns_the_same_unfinished_export_instead_of_a_second(
    tree, export_root, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        first = _start(tree)
        again = _start(tree)
        other = _start(tree, branches=[tree.branches["A"]])
    assert again.pk == first.pk
    assert other.pk != first.pk and other.all_branches is False
    assert ExportJob.objects.count() == 2


def test_export_of_the_current_year_is_a_draft_as_of_today(
    tree, export_root, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree, year=today.year)
    assert job.as_of == today
    assert job.is_draft is (today != dt.date(today.year, 12, 31))


def test_export_runs_to_done_with_one_report_per_group(
    tree, export_root, fake_reports, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    job.refresh_from_db()
    assert job.state == ExportState.DONE
    assert set(job.parts.values_list("state", flat=True)) == {PartState.DONE}
    assert sorted(fake_reports.rendered) == sorted(g.pk for k, g in tree.groups.items() if k != "c1")
    directory = job_directory(job)
    assert set(zip_names(directory / BUNDLE_FILE)) == _expected(last_year())
    assert (directory / WORKBOOK_FILE).stat().st_size == job.workbook_size > 0
    assert (directory / BUNDLE_FILE).stat().st_size == job.bundle_size > 0
    progress = export_progress(job)
    assert (progress.percent, progress.reports_done, progress.reports_total, progress.interrupted) == (
        100,
        3,
        3,
        False,
    )
    # no temporary file is left behind
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


# --- Failures, interruptions, resuming ----------------------------------------------------------------------
def test_failed_part_fails_the_job_with_its_message_and_retry_finishes_it(
    tree, export_root, fake_reports, django_capture_on_commit_callbacks
):
    fake_reports.fail_after = 1  # the second report raises
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    job.refresh_from_db()
    failed = job.parts.get(state=PartState.FAILED)
    assert job.state == ExportState.FAILED
    assert failed.kind == PartKind.REPORTS and "模拟：渲染进程中断" in failed.error
    assert job.error.startswith("导出未完成：第1批年度工作报告（3个党小组）生成失败：RuntimeError: 模拟")
    assert export_progress(job).can_resume
    assert not (job_directory(job) / BUNDLE_FILE).exists()
    rendered_before = list(fake_reports.rendered)

    with django_capture_on_commit_callbacks(execute=True):
        services.export_resume(by=fresh_user(tree, "staff_top"), job=job)
    job.refresh_from_db()
    assert (job.state, job.resume_count, job.error) == (ExportState.DONE, 1, "")
    # the report written before the failure was not rendered again
    assert sorted(fake_reports.rendered) == sorted(g.pk for k, g in tree.groups.items() if k != "c1")
    assert fake_reports.rendered[: len(rendered_before)] == rendered_before
    assert set(zip_names(job_directory(job) / BUNDLE_FILE)) == _expected(last_year())


def test_resume_refused_while_the_export_is_progressing(
    tree, export_root, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    attempts = list(job.parts.values_list("attempt", flat=True))
    with pytest.raises(ValidationError) as refused:
        services.export_resume(by=fresh_user(tree, "staff_top"), job=job)
    assert refused.value.messages == ["该导出仍在正常进行中，无需继续；请稍候。"]
    assert list(job.parts.values_list("attempt", flat=True)) == attempts


@pytest.mark.parametrize("role", ["staff_other", "staff_leaf", "secretary_a", "leader_a1"])
def test_resume_refused_for_users_who_cannot_see_the_job(
    tree, export_root, settings, role, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    age_heartbeats(job)
    with pytest.raises(PermissionDenied):
        services.export_resume(by=fresh_user(tree, role), job=job)
    assert set(job.parts.values_list("attempt", flat=True)) == {0, 1}


def test_worker_killed_mid_part_resumes_without_duplicating_files(
    tree, export_root, settings, fake_reports, monkeypatch, django_capture_on_commit_callbacks
):
    """The worker dies after writing the first report of a chunk (KeyboardInterrupt escapes the part,
    as a SIGKILL would stop it: the part stays "running"). After the heartbeat goes stale the job is
    interrupted; resuming queues the part again under a new attempt, the old task is a no-op, and the
    final zip holds each group exactly once; the job reaches 100 %."""
    settings.TASKS = DUMMY_TASKS
    monkeypatch.setattr(services, "CHUNK_GROUPS", 3)
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    workbook_part, reports_part, bundle_part = job.parts.order_by("index")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.part_run(part_id=workbook_part.pk, attempt=1) == "done"
    fake_reports.fail_after, fake_reports.fail_with = 1, KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        tasks.part_run(part_id=reports_part.pk, attempt=1)
    reports_part.refresh_from_db()
    assert reports_part.state == PartState.RUNNING  # nobody recorded the death
    assert len(fake_reports.rendered) == 1
    assert not export_progress(job).interrupted  # not yet: the heartbeat is fresh
    age_heartbeats(job)
    assert export_progress(job).interrupted and export_progress(job).can_resume

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        services.export_resume(by=fresh_user(tree, "staff_top"), job=job)
    # the dead worker's task, delivered late, does nothing
    assert tasks.part_run(part_id=reports_part.pk, attempt=1) == "skipped"
    job.refresh_from_db()
    reports_part.refresh_from_db()
    bundle_part.refresh_from_db()
    assert (job.state, export_progress(job).percent) == (ExportState.DONE, 100)
    assert (reports_part.state, reports_part.attempt, reports_part.runs) == (PartState.DONE, 2, 2)
    assert bundle_part.state == PartState.DONE
    expected_ids = sorted(g.pk for k, g in tree.groups.items() if k != "c1")
    assert sorted(fake_reports.rendered) == expected_ids  # each report rendered exactly once
    names = zip_names(job_directory(job) / BUNDLE_FILE)
    assert len(names) == len(set(names)) == 3
    assert set(names) == _expected(last_year())
    assert sorted(p.name for p in (job_directory(job) / "pdf").iterdir()) == sorted(
        f"{pk}.pdf" for pk in expected_ids
    )


def test_advance_requeues_a_stale_running_part_when_another_finishes(
    tree, export_root, settings, fake_reports, monkeypatch, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    monkeypatch.setattr(services, "CHUNK_GROUPS", 2)
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    _workbook_part, first, second, _bundle = job.parts.order_by("index")
    ExportPart.objects.filter(pk=first.pk).update(
        state=PartState.RUNNING, heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        tasks.part_run(part_id=second.pk, attempt=1)
    first.refresh_from_db()
    assert (first.state, first.attempt) == (PartState.QUEUED, 2)


def test_resume_interrupted_requeues_only_silent_jobs(
    tree, export_root, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        silent = _start(tree)
        busy = _start(tree, branches=[tree.branches["A"]])
    age_heartbeats(silent)
    with django_capture_on_commit_callbacks(execute=True):
        resumed = services.resume_interrupted(stale_after=dt.timedelta(minutes=2))
    assert [j.pk for j in resumed] == [silent.pk]
    assert set(silent.parts.exclude(kind=PartKind.BUNDLE).values_list("attempt", flat=True)) == {2}
    assert set(busy.parts.exclude(kind=PartKind.BUNDLE).values_list("attempt", flat=True)) == {1}


def test_enqueue_failure_fails_the_job_with_a_message(
    tree, export_root, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise ConnectionError("Redis 不可用")

    monkeypatch.setattr(tasks.run_export_part.__class__, "enqueue", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    job.refresh_from_db()
    assert job.state == ExportState.FAILED
    assert "无法提交后台任务（ConnectionError: Redis 不可用）" in job.error
    assert export_progress(job).can_resume


# --- The synchronous export (manage.py export_annual_report) ------------------------------------------
def test_export_to_directory_writes_both_files_and_nothing_else(tree, tmp_path, fake_reports):
    out = tmp_path / "out"
    seen = []
    files = services.export_to_directory(
        organisation=tree.top, year=last_year(), out_dir=out, progress=lambda frac, label: seen.append(frac)
    )
    y = last_year()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"市直机关工委{y}年度党小组工作报告.zip", f"市直机关工委{y}年度党小组工作汇总.xlsx"]
    )
    assert (files.branches, files.groups) == (2, 3)
    assert set(zip_names(files.bundle)) == _expected(y)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert ExportJob.objects.count() == 0


def test_export_file_names_mark_a_draft():
    org = type("Org", (), {"name": "市直/机关:工委"})()
    assert services.export_file_names(org, 2025, dt.date(2025, 12, 31)) == (
        "市直_机关_工委2025年度党小组工作汇总.xlsx",
        "市直_机关_工委2025年度党小组工作报告.zip",
    )
    assert (
        services.export_file_names(org, 2026, dt.date(2026, 6, 9))[1]
        == "市直_机关_工委2026年度党小组工作报告（截至6月9日）.zip"
    )


def test_groups_dissolved_before_the_year_are_left_out(
    tree, export_root, fake_reports, django_capture_on_commit_callbacks
):
    y = last_year()
    f.PartyGroupFactory(
        branch=tree.branches["A"],
        name="旧党小组",
        established_on=dt.date(2015, 1, 1),
        dissolved_on=dt.date(y, 1, 1),
    )
    late = f.PartyGroupFactory(
        branch=tree.branches["A"],
        name="年中撤销党小组",
        established_on=dt.date(2015, 1, 1),
        dissolved_on=dt.date(y, 6, 30),
    )
    f.PartyGroupFactory(branch=tree.branches["A"], name="明年新建党小组", established_on=dt.date(y + 1, 1, 2))
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tree)
    job.refresh_from_db()
    assert job.group_count == 4
    assert late.pk in fake_reports.rendered
    assert f"财政局办公室党支部/年中撤销党小组-{y}年度工作报告.pdf" in zip_names(
        job_directory(job) / BUNDLE_FILE
    )
