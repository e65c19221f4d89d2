"""Writes of the year-end export: start a job, resume an interrupted or failed one, and the same
export run synchronously into a directory (``manage.py export_annual_report``).

Who may export (R-34, issue 5): organisation staff for their own organisation subtree, and
superusers. A branch committee member, group leader or member is refused with a Chinese message and
nothing is saved. Which year: a finished year, or the current year as a draft "截至今日"; a year that
has not started is refused. Branches: by default every branch of the chosen organisation's subtree;
a chosen branch outside it is refused.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.selectors import roles_of
from members.models import Branch, Organisation
from partygroup.audit import audited_save
from partygroup.models import ExportJob, ExportPart
from partygroup.yearend import bundle, tasks, workbook
from partygroup.yearend.enums import UNFINISHED_JOB_STATES, ExportState, PartKind, PartState
from partygroup.yearend.selectors import (
    BUNDLE_FILE,
    WORKBOOK_FILE,
    export_jobs_visible_to,
    export_plan,
    export_progress,
    last_progress_at,
    safe_name,
)

MIN_YEAR = 2000
# Groups per report part (one background task): small enough that a restarted part repeats little
# and that two workers share the work evenly, large enough to amortise the per-part queries.
CHUNK_GROUPS = getattr(settings, "EXPORT_CHUNK_GROUPS", 20)

REFUSED_ROLE = gettext_lazy(
    "只有上级党组织的组织部门人员可以导出本组织范围内的年度汇总；党支部、党小组的用户不能导出。"
)


def export_as_of(year: int, *, today: dt.date) -> dt.date:
    """The cut-off day of an export of ``year``: 31 December of a finished year, today for the
    current year (a draft). A year not started yet, or before ``MIN_YEAR``, is refused."""
    if not isinstance(year, int) or isinstance(year, bool):
        raise ValidationError({"year": _("年度必须是四位数的年份。")})
    if year > today.year:
        raise ValidationError(
            {
                "year": _("%(year)s年度尚未开始，不能导出（只能导出已结束的年度或截至今日的本年度）。")
                % {"year": year}
            }
        )
    if year < MIN_YEAR:
        raise ValidationError({"year": _("只能导出%(min)s年及以后的年度。") % {"min": MIN_YEAR}})
    return today if year == today.year else dt.date(year, 12, 31)


def resolve_branches(organisation: Organisation, branches: Iterable[Branch] | None) -> tuple[list[int], bool]:
    """The branch ids of an export and whether they are all of the organisation's subtree."""
    chosen = list(branches or [])
    if chosen:
        outside = [b for b in chosen if not b.organisation.path.startswith(organisation.path)]
        if outside:
            raise ValidationError(
                {
                    "branches": [
                        _("党支部“%(branch)s”不属于“%(org)s”，不能导出。")
                        % {"branch": b.name, "org": organisation.name}
                        for b in outside
                    ]
                }
            )
        return sorted({b.pk for b in chosen}), False
    ids = list(
        Branch.objects.filter(organisation__path__startswith=organisation.path)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise ValidationError(
            {"branches": _("“%(org)s”下没有党支部，没有可导出的内容。") % {"org": organisation.name}}
        )
    return ids, True


def _require_exporter(by, organisation: Organisation) -> None:
    roles = roles_of(by)
    if not (roles.is_superuser or roles.in_org_subtree(organisation.path)):
        raise PermissionDenied(REFUSED_ROLE)


def export_start(
    *,
    by,
    organisation: Organisation,
    year: int,
    branches: Iterable[Branch] | None = None,
    today: dt.date | None = None,
) -> ExportJob:
    """Create the job and its parts and queue them (after commit). The same export (organisation,
    year, cut-off day, branches) still unfinished is returned instead of starting a second one."""
    _require_exporter(by, organisation)
    today = today or timezone.localdate()
    as_of = export_as_of(year, today=today)
    branch_ids, all_branches = resolve_branches(organisation, branches)

    for candidate in ExportJob.objects.filter(
        organisation=organisation, year=year, as_of=as_of, state__in=list(UNFINISHED_JOB_STATES)
    ):
        if sorted(candidate.branches.values_list("pk", flat=True)) == branch_ids and not (
            export_progress(candidate).interrupted
        ):
            return candidate

    return export_job_create(
        organisation=organisation,
        year=year,
        as_of=as_of,
        branch_ids=branch_ids,
        all_branches=all_branches,
        by=by,
    )


def export_job_create(
    *, organisation: Organisation, year: int, as_of: dt.date, branch_ids: list[int], all_branches: bool, by
) -> ExportJob:
    """Create a job with its parts and queue them after commit. Trusted: no user check (``export_start``
    checks; the benchmark calls this directly); ``by`` may be None."""
    plan = export_plan(organisation=organisation, branch_ids=branch_ids, year=year, as_of=as_of)
    group_ids = [g.id for g in plan.groups]
    now = timezone.now()
    with transaction.atomic():
        job = audited_save(
            ExportJob(
                organisation=organisation,
                year=year,
                as_of=as_of,
                all_branches=all_branches,
                requested_by=by,
                branch_count=len(plan.branches),
                group_count=len(group_ids),
            ),
            by=by,
        )
        job.branches.set(branch_ids)
        parts = [ExportPart(job=job, index=0, kind=PartKind.WORKBOOK)]
        for start in range(0, len(group_ids), CHUNK_GROUPS):
            parts.append(
                ExportPart(
                    job=job,
                    index=len(parts),
                    kind=PartKind.REPORTS,
                    group_ids=group_ids[start : start + CHUNK_GROUPS],
                )
            )
        for part in parts:
            part.state = PartState.QUEUED
            part.attempt = 1
            part.queued_at = part.heartbeat_at = now
        parts.append(ExportPart(job=job, index=len(parts), kind=PartKind.BUNDLE, state=PartState.PENDING))
        created = ExportPart.objects.bulk_create(parts)
        tasks.enqueue_on_commit([(p.pk, p.attempt) for p in created if p.kind != PartKind.BUNDLE])
    return job


def export_resume(*, by, job: ExportJob) -> ExportJob:
    """Queue again every unfinished part of a failed or interrupted job (``ExportProgress.can_resume``).
    Parts already done are kept, and report files on disk are not rendered again."""
    if not export_jobs_visible_to(by).filter(pk=job.pk).exists():
        raise PermissionDenied(REFUSED_ROLE)
    job.refresh_from_db()
    if job.state == ExportState.DONE:
        raise ValidationError(_("该导出已完成，无需继续。"))
    if not export_progress(job).can_resume:
        raise ValidationError(_("该导出仍在正常进行中，无需继续；请稍候。"))
    return requeue_unfinished(job)


def requeue_unfinished(job: ExportJob, *, now: dt.datetime | None = None) -> ExportJob:
    """Queue every unfinished part of ``job`` under a new attempt (the bundle only once every other
    part is done); older tasks of those parts become no-ops."""
    now = now or timezone.now()
    to_queue: list[tuple[int, int]] = []
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.state == ExportState.DONE:
            return job
        parts = list(ExportPart.objects.filter(job=job).order_by("index"))
        others_done = all(p.state == PartState.DONE for p in parts if p.kind != PartKind.BUNDLE)
        for part in parts:
            if part.state == PartState.DONE:
                continue
            if part.kind == PartKind.BUNDLE and not others_done:
                if part.state != PartState.PENDING:
                    part.state = PartState.PENDING
                    part.error = ""
                    part.save(update_fields=["state", "error"])
                continue
            to_queue.append(tasks.requeue(part, now))
        job.state = ExportState.RUNNING if job.started_at else ExportState.QUEUED
        job.error = ""
        job.finished_at = None
        job.resume_count += 1
        job.save(update_fields=["state", "error", "finished_at", "resume_count"])
        tasks.enqueue_on_commit(to_queue)
    return job


def resume_interrupted(*, stale_after: dt.timedelta, now: dt.datetime | None = None) -> list[ExportJob]:
    """Re-queue the unfinished jobs with no progress for ``stale_after`` (for a worker's start-up:
    with a single worker, ``stale_after=0`` re-queues everything a dead worker left running)."""
    now = now or timezone.now()
    resumed = []
    for job in ExportJob.objects.filter(state__in=list(UNFINISHED_JOB_STATES)).order_by("pk"):
        last = last_progress_at(job)
        if last is None or now - last >= stale_after:
            resumed.append(requeue_unfinished(job, now=now))
    return resumed


# --- The same export, synchronously into a directory (manage.py export_annual_report) -----------------
@dataclass(frozen=True)
class ExportFiles:
    workbook: Path
    bundle: Path
    branches: int
    groups: int


def export_file_names(organisation: Organisation, year: int, as_of: dt.date) -> tuple[str, str]:
    """The names users get: ``<organisation><year>年度党小组工作汇总[（截至M月D日）].xlsx`` and
    ``…年度党小组工作报告….zip``."""
    stem = safe_name(f"{organisation.name}{year}年度", fallback=f"{year}年度")
    draft = f"（截至{as_of.month}月{as_of.day}日）" if as_of < dt.date(year, 12, 31) else ""
    return f"{stem}党小组工作汇总{draft}.xlsx", f"{stem}党小组工作报告{draft}.zip"


def export_to_directory(
    *,
    organisation: Organisation,
    year: int,
    out_dir: Path,
    branches: Iterable[Branch] | None = None,
    progress: Callable[[float, str], None] | None = None,
    today: dt.date | None = None,
) -> ExportFiles:
    """Build the workbook and the .zip into ``out_dir`` in this process (no job, no worker). Work
    files go to a temporary directory inside ``out_dir``; the two results are moved into place
    atomically at the end, so ``out_dir`` never holds a half-written file. For the command line
    (trusted: no user check)."""
    today = today or timezone.localdate()
    as_of = export_as_of(year, today=today)
    branch_ids, _all = resolve_branches(organisation, branches)
    plan = export_plan(organisation=organisation, branch_ids=branch_ids, year=year, as_of=as_of)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = max(1, len(plan.groups))
    weights = {"workbook": max(1, groups // 20), "reports": groups, "bundle": max(1, groups // 50)}
    total = sum(weights.values())

    def report(step: str, before: float, done: int, label: str) -> None:
        if progress is not None:
            progress(min(1.0, (before + weights[step] * done / groups) / total), label)

    work = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    try:
        workbook_path = work / WORKBOOK_FILE
        workbook.write_workbook(
            plan,
            workbook_path,
            report_as_of=today,
            progress=lambda n: report("workbook", 0, n, _("汇总工作簿")),
        )
        before = weights["workbook"]
        for start in range(0, len(plan.groups), CHUNK_GROUPS):
            chunk = [g.id for g in plan.groups[start : start + CHUNK_GROUPS]]
            bundle.render_reports(
                chunk,
                year=year,
                as_of=as_of,
                report_as_of=today,
                directory=work,
                progress=lambda n, s=start, b=before: report("reports", b, s + n, _("年度工作报告")),
            )
        before += weights["reports"]
        bundle_path = work / BUNDLE_FILE
        bundle.write_bundle(
            plan, work, bundle_path, progress=lambda n: report("bundle", before, n, _("打包"))
        )
        xlsx_name, zip_name = export_file_names(organisation, year, as_of)
        final_workbook, final_bundle = out_dir / xlsx_name, out_dir / zip_name
        os.replace(workbook_path, final_workbook)
        os.replace(bundle_path, final_bundle)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if progress is not None:
        progress(1.0, _("完成"))
    return ExportFiles(
        workbook=final_workbook, bundle=final_bundle, branches=len(plan.branches), groups=len(plan.groups)
    )
