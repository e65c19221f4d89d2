"""The export's background work (django-tasks): one task runs one ``ExportPart`` of a job.

Backends (settings ``TASKS_BACKEND``): django-tasks-db by default (worker ``manage.py db_worker``),
django-tasks-rq on Redis (worker ``manage.py rqworker default --job-class django_tasks_rq.Job``), the
immediate backend in tests. Neither retries a task whose worker died, so the job keeps its own
bookkeeping (docs/export.md):

- A task carries ``(part_id, attempt)``. It runs only if the part is still queued with that attempt
  (``part_run``): a part queued again (``attempt + 1``) leaves any older task a no-op, so a part is
  never run twice at once by design, and a late duplicate does nothing.
- Files are written atomically and existing files are skipped, so a part run again after its worker
  died (it stayed "running" with an old heartbeat) repeats nothing that was finished.
- When a part finishes, ``advance`` (under a lock on the job row) queues the bundle once every other
  part is done, re-queues parts whose worker stopped reporting (``STALE_AFTER``), and marks the job
  done when the bundle is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_QUEUE_NAME, task

from partygroup.models import ExportJob, ExportPart
from partygroup.yearend import bundle, workbook
from partygroup.yearend.enums import ExportState, PartKind, PartState
from partygroup.yearend.selectors import (
    BUNDLE_FILE,
    STALE_AFTER,
    WORKBOOK_FILE,
    job_directory,
    plan_for_job,
)

logger = logging.getLogger(__name__)

# Progress is written at most this often (and always at the end of a part).
BEAT_INTERVAL_S = 0.5


def queue_name() -> str:
    """The task queue of the export (setting ``EXPORT_TASK_QUEUE``, default "default")."""
    return getattr(settings, "EXPORT_TASK_QUEUE", DEFAULT_TASK_QUEUE_NAME)


@task()
def run_export_part(part_id: int, attempt: int) -> str:
    """Run one part of an export job; see ``part_run``."""
    return part_run(part_id=part_id, attempt=attempt)


# --- Queuing -------------------------------------------------------------------------------------------
def enqueue_parts(parts: Iterable[tuple[int, int]]) -> None:
    """Hand ``(part_id, attempt)`` pairs to the task backend; a backend that refuses (e.g. Redis down)
    fails the part and the job with a Chinese message instead of leaving them queued forever."""
    task = run_export_part.using(queue_name=queue_name())
    for part_id, attempt in parts:
        try:
            result = task.enqueue(part_id, attempt)
        except Exception as exc:  # the queue is unavailable: say so on the page, allow a retry
            logger.exception("export part %s could not be queued", part_id)
            _fail(part_id, f"无法提交后台任务（{type(exc).__name__}: {exc}）。请确认后台任务队列可用后重试。")
            continue
        ExportPart.objects.filter(pk=part_id, attempt=attempt).update(task_id=str(result.id)[:64])


def enqueue_on_commit(parts: list[tuple[int, int]]) -> None:
    if parts:
        transaction.on_commit(lambda: enqueue_parts(parts))


def requeue(part: ExportPart, now: dt.datetime) -> tuple[int, int]:
    """Queue ``part`` again under a new attempt (the caller holds the job's lock and saves nothing
    else of the part); returns the pair to enqueue after commit."""
    part.attempt += 1
    part.state = PartState.QUEUED
    part.queued_at = now
    part.heartbeat_at = now
    part.error = ""
    part.save(update_fields=["attempt", "state", "queued_at", "heartbeat_at", "error"])
    return (part.pk, part.attempt)


# --- Running a part --------------------------------------------------------------------------------------
class _Beat:
    """Records a running part's progress (``done_count``, ``heartbeat_at``), at most every
    ``BEAT_INTERVAL_S`` seconds; ``flush`` writes the last value."""

    def __init__(self, part_id: int):
        self.part_id = part_id
        self.last = 0.0
        self.value: int | None = None

    def __call__(self, done: int) -> None:
        self.value = done
        if time.monotonic() - self.last >= BEAT_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        if self.value is not None:
            ExportPart.objects.filter(pk=self.part_id, state=PartState.RUNNING).update(
                done_count=self.value, heartbeat_at=timezone.now()
            )
            self.last = time.monotonic()


def part_run(*, part_id: int, attempt: int) -> str:
    """Claim the part (queued with this attempt), do its work, then ``advance`` the job.

    Returns "done", or "skipped" when the part is missing, done, or superseded by a newer attempt.
    An exception marks the part and the job failed (with the message) and is raised again so the
    task backend records it too. A worker killed mid-part leaves the part "running": its heartbeat
    stops and ``advance`` / ``services.export_resume`` queue it again.
    """
    now = timezone.now()
    with transaction.atomic():
        part = ExportPart.objects.select_for_update().filter(pk=part_id).first()
        if part is None or part.attempt != attempt or part.state != PartState.QUEUED:
            return "skipped"
        part.state = PartState.RUNNING
        part.runs += 1
        part.started_at = now
        part.heartbeat_at = now
        part.error = ""
        part.save(update_fields=["state", "runs", "started_at", "heartbeat_at", "error"])
        ExportJob.objects.filter(pk=part.job_id, state=ExportState.QUEUED).update(
            state=ExportState.RUNNING, started_at=now
        )
    job = ExportJob.objects.select_related("organisation").get(pk=part.job_id)
    beat = _Beat(part.pk)
    try:
        total = _work(part, job, beat)
    except Exception as exc:
        label = _part_label(part)
        _fail(part.pk, f"{label}生成失败：{type(exc).__name__}: {exc}")
        raise
    beat.flush()
    ExportPart.objects.filter(pk=part.pk).exclude(state=PartState.DONE).update(
        state=PartState.DONE, done_count=total, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    advance(job.pk)
    return "done"


def report_as_of(job: ExportJob) -> dt.date:
    """The day the report figures are "as of" (decided matters done by the report date): the day
    the job was asked for, the same for every part."""
    return timezone.localdate(job.created_at)


def _work(part: ExportPart, job: ExportJob, beat: _Beat) -> int:
    directory = job_directory(job)
    if part.kind == PartKind.REPORTS:
        bundle.render_reports(
            part.group_ids,
            year=job.year,
            as_of=job.as_of,
            report_as_of=report_as_of(job),
            directory=directory,
            progress=beat,
        )
        return len(part.group_ids)
    plan = plan_for_job(job)
    if part.kind == PartKind.WORKBOOK:
        size = workbook.write_workbook(
            plan, directory / WORKBOOK_FILE, report_as_of=report_as_of(job), progress=beat
        )
        ExportJob.objects.filter(pk=job.pk).update(workbook_size=size)
        return max(1, len(plan.groups))
    # The bundle: any report file lost since its part finished is rendered again first.
    missing = bundle.missing_reports(directory, [g.id for g in plan.groups])
    if missing:
        bundle.render_reports(
            missing, year=job.year, as_of=job.as_of, report_as_of=report_as_of(job), directory=directory
        )
    size = bundle.write_bundle(plan, directory, directory / BUNDLE_FILE, progress=beat)
    ExportJob.objects.filter(pk=job.pk).update(bundle_size=size)
    return max(1, len(plan.groups))


def _part_label(part: ExportPart) -> str:
    if part.kind == PartKind.REPORTS:
        return f"第{part.index}批年度工作报告（{len(part.group_ids)}个党小组）"
    return str(PartKind(part.kind).label)


def _fail(part_id: int, message: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        part = ExportPart.objects.select_for_update().filter(pk=part_id).first()
        if part is None:
            return
        ExportPart.objects.filter(pk=part_id).update(
            state=PartState.FAILED, error=message[:2000], finished_at=now, heartbeat_at=now
        )
        ExportJob.objects.filter(pk=part.job_id).exclude(state=ExportState.DONE).update(
            state=ExportState.FAILED, error=f"导出未完成：{message}"[:2000], finished_at=now
        )


# --- Moving the job on --------------------------------------------------------------------------------------
def advance(job_id: int, *, now: dt.datetime | None = None) -> None:
    """After a part: re-queue stale running parts, queue the bundle once everything else is done,
    finish the job once the bundle is. Under a lock on the job row, so two workers finishing at the
    same moment queue the bundle once."""
    now = now or timezone.now()
    to_queue: list[tuple[int, int]] = []
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state == ExportState.DONE:
            return
        parts = list(ExportPart.objects.filter(job_id=job_id).order_by("index"))
        bundle_part = next(p for p in parts if p.kind == PartKind.BUNDLE)
        others = [p for p in parts if p.kind != PartKind.BUNDLE]
        for part in others:
            if part.state == PartState.RUNNING and (
                part.heartbeat_at is None or now - part.heartbeat_at > STALE_AFTER
            ):
                to_queue.append(requeue(part, now))
        if bundle_part.state == PartState.DONE:
            job.state = ExportState.DONE
            job.finished_at = now
            job.error = ""
            job.save(update_fields=["state", "finished_at", "error"])
        elif bundle_part.state == PartState.PENDING and all(p.state == PartState.DONE for p in others):
            to_queue.append(requeue(bundle_part, now))
        enqueue_on_commit(to_queue)
