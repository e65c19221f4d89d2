"""Tests of partygroup/yearend/tasks.py on the real task backends: django-tasks-db with
``manage.py db_worker --batch`` (including a worker that dies mid-part and the deployment's
``export_annual_report --resume-interrupted``), and django-tasks-rq on the local Redis with an
in-process burst worker (mark "redis"; skipped only when Redis at 127.0.0.1:6379 is unreachable).

These tests are transactional: a worker sees only what was committed, and the tasks queue the
bundle in ``transaction.on_commit``.
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import io
import signal
import uuid

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus, default_task_backend

from partygroup.models import ExportPart
from partygroup.yearend import services
from partygroup.yearend.enums import ExportState, PartKind, PartState
from partygroup.yearend.selectors import BUNDLE_FILE, export_progress, job_directory
from tests.org_tree import build_tree, fresh_user
from tests.partygroup.yearend_support import (  # noqa: F401  (fixtures)
    DB_TASKS,
    age_heartbeats,
    export_root,
    fake_reports,
    last_year,
    zip_names,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def restore_signals():
    """db_worker installs SIGINT/SIGTERM handlers for its graceful shutdown: put ours back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _db_worker(*args: str) -> None:
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", *args, verbosity=0, stdout=io.StringIO()
    )


def _expected_names(tree) -> set[str]:
    y = last_year()
    return {
        f"财政局办公室党支部/办公室第一党小组-{y}年度工作报告.pdf",
        f"财政局办公室党支部/办公室第二党小组-{y}年度工作报告.pdf",
        f"国库处党支部/国库党小组-{y}年度工作报告.pdf",
    }


@pytest.mark.django_db(transaction=True)
def test_db_backend_runs_the_export_with_db_worker_batch(
    settings, export_root, fake_reports, restore_signals
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS
    tree = build_tree()
    job = services.export_start(by=fresh_user(tree, "staff_top"), organisation=tree.top, year=last_year())
    queued = list(DBTaskResult.objects.values_list("status", "task_path"))
    assert (
        queued == [(TaskResultStatus.READY, "partygroup.yearend.tasks.run_export_part")] * 2
    )  # workbook, reports
    assert export_progress(job).percent == 0

    _db_worker()

    job.refresh_from_db()
    assert (job.state, export_progress(job).percent) == (ExportState.DONE, 100)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert DBTaskResult.objects.count() == 3  # workbook, reports, bundle
    for part in job.parts.all():
        assert default_task_backend.get_result(part.task_id).status == TaskResultStatus.SUCCESSFUL
    assert set(zip_names(job_directory(job) / BUNDLE_FILE)) == _expected_names(tree)


@pytest.mark.django_db(transaction=True)
def test_db_worker_dying_mid_part_then_resume_interrupted_completes_without_duplicates(
    settings, export_root, fake_reports, monkeypatch, restore_signals
):
    """Worker 1 builds the workbook, then dies after the first report of the next part (the part
    stays "running"; db_worker records its task as failed). The deployment's start-up command
    ``export_annual_report --resume-interrupted --stale-after 0`` queues the part again, worker 2
    finishes: every group rendered once, in the zip once, 100 %."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS
    monkeypatch.setattr(services, "CHUNK_GROUPS", 3)
    tree = build_tree()
    job = services.export_start(by=fresh_user(tree, "staff_top"), organisation=tree.top, year=last_year())
    _db_worker("--max-tasks", "1")  # the workbook
    fake_reports.fail_after, fake_reports.fail_with = 1, KeyboardInterrupt
    _db_worker("--max-tasks", "1")  # dies inside the reports part
    reports = job.parts.get(kind=PartKind.REPORTS)
    assert (reports.state, reports.runs, len(fake_reports.rendered)) == (PartState.RUNNING, 1, 1)
    assert 0 < export_progress(job).percent < 100
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 0  # nothing left to run

    out = io.StringIO()
    call_command("export_annual_report", "--resume-interrupted", "--stale-after", "0", stdout=out)
    assert f"已继续导出任务 #{job.pk}" in out.getvalue()
    _db_worker()

    job.refresh_from_db()
    reports.refresh_from_db()
    assert (job.state, job.resume_count, export_progress(job).percent) == (ExportState.DONE, 1, 100)
    assert (reports.state, reports.attempt, reports.runs) == (PartState.DONE, 2, 2)
    expected_ids = sorted(g.pk for k, g in tree.groups.items() if k != "c1")
    assert sorted(fake_reports.rendered) == expected_ids
    names = zip_names(job_directory(job) / BUNDLE_FILE)
    assert len(names) == len(set(names)) and set(names) == _expected_names(tree)


# --- django-tasks-rq on Redis -----------------------------------------------------------------------------
@pytest.fixture
def rq_queue(settings):
    """A queue of its own on the local Redis (other test runs may share the server), deleted after."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis 127.0.0.1:6379 不可达，跳过 django-tasks-rq 测试（{exc}）")
    import django_rq
    from django_tasks_rq.backend import Job

    name = f"yearend-test-{uuid.uuid4().hex[:12]}"
    # django-tasks-rq looks results up through the queue named "default" (django_rq.get_connection()).
    settings.RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}, "default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [name]}}
    settings.EXPORT_TASK_QUEUE = name
    queue = django_rq.get_queue(name, job_class=Job)
    yield queue
    for registry in (queue.finished_job_registry, queue.failed_job_registry, queue.started_job_registry):
        for job_id in registry.get_job_ids():
            connection.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
        connection.delete(registry.key)
    queue.delete(delete_jobs=True)
    connection.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rq_backend_runs_the_export_with_a_burst_worker(rq_queue, export_root, fake_reports):
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    tree = build_tree()
    job = services.export_start(by=fresh_user(tree, "staff_top"), organisation=tree.top, year=last_year())
    assert rq_queue.count == 2  # workbook, reports; the bundle is queued by the last part
    worker = SimpleWorker([rq_queue], connection=rq_queue.connection, job_class=Job)
    assert worker.work(burst=True, with_scheduler=False)

    job.refresh_from_db()
    assert (job.state, export_progress(job).percent) == (ExportState.DONE, 100)
    parts = list(ExportPart.objects.filter(job=job).order_by("index"))
    assert [p.state for p in parts] == [PartState.DONE] * 3
    for part in parts:
        assert default_task_backend.get_result(part.task_id).status == TaskResultStatus.SUCCESSFUL
    assert rq_queue.count == 0
    assert set(zip_names(job_directory(job) / BUNDLE_FILE)) == _expected_names(tree)
