#!/usr/bin/env python
"""Benchmark section "export" (issue 5): the organisation-wide export on the city data set.

1. **Workbook** for 市直机关工委 (600 branches / 3,000 groups), last calendar year: this file run as a
   child process (``bench/export_bench.py workbook --json``, through ``run_child``, so its own peak
   RSS is measured) builds the plan and times ``partygroup.yearend.workbook.write_workbook`` once —
   findings collected, ``annual_report_data_many`` in batches of whole branches, every sheet written.
2. **PDF bundle with 2 workers**: a real export job (``services.export_job_create``, the database task
   backend) for a sample of whole branches with at least ``SAMPLE_GROUPS`` groups; two
   ``manage.py db_worker --batch`` processes started together drain it (workbook, report parts,
   bundle). Pages are counted with ``pdfinfo``. Throughput = pages ÷ the job's time in the workers
   (first part started → bundle written, from the parts' timestamps); the wall time including the
   workers' start-up is shown as well. Peak RSS of each worker process (``run_child``).

The job, its files and its task rows are deleted afterwards: the bench database keeps the city set.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (the project root goes first)
    Aim,
    BenchContext,
    ChildResult,
    SectionResult,
    code_block,
    count_queries,
    failed,
    format_number,
    measured,
    run_child,
)

ORGANISATION = "市直机关工委"
SAMPLE_GROUPS = 120
WORKERS = 2
WORKBOOK_AIM = Aim(20, "s")
THROUGHPUT_AIM = Aim(8, "pages/s", at_most=False)
MEMORY_AIM = Aim(400, "MiB")
WORKBOOK_TIMEOUT = 900
WORKER_TIMEOUT = 1800
TASK_PATH = "partygroup.yearend.tasks.run_export_part"

METHOD = f"""\
Workbook: `bench/export_bench.py workbook --json` in a child process (`run_child`, its own peak RSS):
`partygroup.yearend.workbook.write_workbook` for every branch of {ORGANISATION} (the city set: 600
branches, 3,000 groups) for last calendar year, run once, cold process (findings of all branches,
`annual_report_data_many` in batches of whole branches, six sheets in openpyxl's write-only mode).
PDF bundle: a real export job for the first whole branches (organisation path, name) with at least
{SAMPLE_GROUPS} groups, created with `services.export_job_create` on the database task backend (report
parts of `EXPORT_CHUNK_GROUPS` = 20 groups); {WORKERS} `manage.py db_worker --batch --no-reload` processes
started together drain the queue (workbook, report parts, bundle). Pages counted with `pdfinfo`;
throughput = pages ÷ (first part started → bundle written), from the parts' timestamps; the wall time
with the workers' start-up (Django, WeasyPrint and fonts loaded) is reported too. Peak memory: each
worker's own `ru_maxrss` (`run_child`). The job, its files and its task rows are deleted afterwards."""


# --- In the child process -------------------------------------------------------------------------------
def workbook_child(year: int | None) -> dict:
    """Time one workbook of the whole city organisation (called in a fresh process)."""
    from bench.common import setup_django

    setup_django()
    import datetime as dt
    import tempfile

    from django.utils import timezone

    from members.models import Branch, Organisation
    from partygroup.yearend import workbook
    from partygroup.yearend.selectors import export_plan

    year = year or timezone.localdate().year - 1
    organisation = Organisation.objects.get(name=ORGANISATION, depth=1)
    branch_ids = list(
        Branch.objects.filter(organisation__path__startswith=organisation.path).values_list("pk", flat=True)
    )
    with tempfile.TemporaryDirectory() as directory, count_queries() as counter:
        start = time.perf_counter()
        plan = export_plan(
            organisation=organisation, branch_ids=branch_ids, year=year, as_of=dt.date(year, 12, 31)
        )
        size = workbook.write_workbook(
            plan, Path(directory) / "workbook.xlsx", report_as_of=timezone.localdate()
        )
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "branches": len(plan.branches),
        "groups": len(plan.groups),
        "bytes": size,
        "queries": counter.count,
        "query_seconds": counter.seconds,
        "year": year,
    }


# --- In the bench process ---------------------------------------------------------------------------------
def children_cpu_seconds() -> float:
    """User + system CPU time of this process's finished children (and their waited-for descendants:
    ``run_child``'s launcher waits for the measured command)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _workbook_rows(ctx: BenchContext) -> tuple[list, list[str]]:
    name = "Workbook for 600 branches / 3,000 groups (issue 5)"
    cpu_before = children_cpu_seconds()
    result = run_child(
        [ctx.python, str(Path(__file__)), "workbook", "--json"],
        timeout=WORKBOOK_TIMEOUT,
        cwd=ctx.root,
        env=ctx.env,
    )
    cpu = children_cpu_seconds() - cpu_before
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (result.stderr.strip() or result.stdout.strip())[-2000:]
        return [failed(name, f"bench/export_bench.py workbook exited with {result.returncode}")], [
            code_block([tail])
        ]
    rows = [
        measured(
            f"Workbook for {data['branches']:,} branches / {data['groups']:,} groups",
            data["seconds"],
            "s",
            WORKBOOK_AIM,
        ),
        measured("Workbook: peak RSS of the process", result.peak_rss_mib, "MiB"),
    ]
    cpu_note = (
        f"the child process used {format_number(cpu)} s of CPU in {format_number(result.wall_s)} s "
        "of wall time (start-up included; PostgreSQL's own work is not counted)"
    )
    notes = [
        f"Workbook: {data['year']}, {format_number(data['bytes'] / 1024 / 1024)} MiB, "
        f"{data['queries']} queries taking {format_number(data['query_seconds'])} s "
        f"of the {format_number(data['seconds'])} s; {cpu_note}."
    ]
    return rows, notes


def _sample_branches(organisation, year: int):
    import datetime as dt

    from django.db.models import Count

    from members.models import Branch
    from partygroup.yearend.selectors import groups_of_year

    ids = []
    total = 0
    branch_ids = list(
        Branch.objects.filter(organisation__path__startswith=organisation.path)
        .order_by("organisation__path", "name", "pk")
        .values_list("pk", flat=True)
    )
    counts = dict(
        groups_of_year(branch_ids, year, dt.date(year, 12, 31))
        .values_list("branch_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for pk in branch_ids:  # bounded by the branches of the organisation
        if total >= SAMPLE_GROUPS:
            break
        if counts.get(pk):
            ids.append(pk)
            total += counts[pk]
    return ids, total


def _run_workers(ctx: BenchContext) -> tuple[list[ChildResult], float, float]:
    results: list[ChildResult | BaseException] = [None] * WORKERS  # type: ignore[list-item]

    def work(index: int) -> None:
        try:
            results[index] = run_child(
                ctx.manage(
                    "db_worker",
                    "--batch",
                    "--no-startup-delay",
                    "--no-reload",
                    "--worker-id",
                    f"bench-export-{index}",
                    "--verbosity",
                    "0",
                ),
                timeout=WORKER_TIMEOUT,
                cwd=ctx.root,
                env=ctx.env,
            )
        except BaseException as exc:  # reported by the caller
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    cpu_before = children_cpu_seconds()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    cpu = children_cpu_seconds() - cpu_before
    for result in results:
        if isinstance(result, BaseException):
            raise result
        result.check()
    return results, wall, cpu  # type: ignore[return-value]


def _bundle_rows(ctx: BenchContext) -> tuple[list, list[str]]:
    import datetime as dt

    from django.db.models import Max, Min
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from members.models import Organisation
    from partygroup.models import ExportJob
    from partygroup.pdf import pdf_page_count
    from partygroup.yearend import services
    from partygroup.yearend.enums import ExportState, PartKind
    from partygroup.yearend.selectors import BUNDLE_FILE, REPORTS_DIR, job_directory

    year = timezone.localdate().year - 1
    organisation = Organisation.objects.get(name=ORGANISATION, depth=1)
    branch_ids, groups = _sample_branches(organisation, year)
    DBTaskResult.objects.filter(task_path=TASK_PATH).delete()  # leftovers of an interrupted run
    job = services.export_job_create(
        organisation=organisation,
        year=year,
        as_of=dt.date(year, 12, 31),
        branch_ids=branch_ids,
        all_branches=False,
        by=None,
    )
    try:
        workers, wall, cpu = _run_workers(ctx)
        job.refresh_from_db()
        if job.state != ExportState.DONE:
            raise RuntimeError(f"the export job ended {job.state}: {job.error}")
        directory = job_directory(job)
        pages = sum(
            pdf_page_count(path.read_bytes()) for path in sorted((directory / REPORTS_DIR).glob("*.pdf"))
        )
        parts = job.parts.exclude(kind=PartKind.BUNDLE).aggregate(
            first=Min("started_at"), last=Max("finished_at")
        )
        bundle = job.parts.get(kind=PartKind.BUNDLE)
        busy = (bundle.finished_at - parts["first"]).total_seconds()
        reports = job.parts.filter(kind=PartKind.REPORTS).aggregate(
            first=Min("started_at"), last=Max("finished_at")
        )
        reports_s = (reports["last"] - reports["first"]).total_seconds()
        zip_mib = (directory / BUNDLE_FILE).stat().st_size / 1024 / 1024
    finally:
        shutil.rmtree(job_directory(job), ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).delete()
        DBTaskResult.objects.filter(task_path=TASK_PATH).delete()
    peak = max(w.peak_rss_mib for w in workers)
    rows = [
        measured(
            f"PDF bundle throughput with {WORKERS} workers ({groups} groups, {pages} pages)",
            pages / busy,
            "pages/s",
            THROUGHPUT_AIM,
        ),
        measured("PDF bundle: pages/s including the workers' start-up", pages / wall, "pages/s"),
        measured(
            f"PDF bundle: pages per CPU-second × {WORKERS} (each worker on a core of its own)",
            WORKERS * pages / cpu,
            "pages/s",
        ),
        measured("Peak memory per bundle worker", peak, "MiB", MEMORY_AIM),
    ]
    notes = [
        f"PDF bundle: {len(branch_ids)} branches, {groups} groups, {pages} pages "
        f"({format_number(pages / max(1, groups))} per report); job in the workers {format_number(busy)} s "
        f"(report parts alone {format_number(reports_s)} s: {format_number(pages / reports_s)} pages/s), "
        f"wall with start-up {format_number(wall)} s; the two workers used {format_number(cpu)} s of CPU; "
        f".zip {format_number(zip_mib)} MiB; worker peaks "
        + ", ".join(f"{format_number(w.peak_rss_mib)} MiB" for w in workers)
        + "."
    ]
    return rows, notes


def run(ctx: BenchContext) -> SectionResult:
    rows, notes = _workbook_rows(ctx)
    bundle_rows, bundle_notes = _bundle_rows(ctx)
    return SectionResult(rows=rows + bundle_rows, notes=notes + bundle_notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="export benchmark child (bench/run.py runs the section)")
    parser.add_argument("what", choices=["workbook"])
    parser.add_argument("--year", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = workbook_child(args.year)
    print(json.dumps(data) if args.json else data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
