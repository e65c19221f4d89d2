#!/usr/bin/env python
"""Benchmark section "import": a 10,000-row member list (.xlsx) imported into one city branch.

The parent (``run``) writes the file with ``tests.import_files`` (valid ID numbers, Chinese names
with rare characters, the branch's own units and groups in the 所在党小组 column) and starts one
fresh child process per measurement::

    .venv/bin/python bench/import_bench.py --child FILE --branch ID [--dry-run] [--profile]

The child calls ``members.importing.import_members_file`` — the service ``manage.py
import_members`` calls — inside an outer transaction, then ``SET CONSTRAINTS ALL IMMEDIATE`` (so
the deferred foreign-key checks PostgreSQL would run at COMMIT are run and timed too), then rolls
back: the city data set is the same before and after every run. Its peak memory is the child's
``ru_maxrss`` from ``wait4`` (``bench.common.run_child``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (the project root goes on sys.path first)
    Aim,
    BenchContext,
    Row,
    SectionResult,
    code_block,
    count_queries,
    format_number,
    measured,
    median,
    peak_rss_self_mib,
    run_child,
    setup_django,
    top_functions,
    vm_hwm_mib,
)

ROWS = 10_000
RUNS = 3
AIM_SECONDS = Aim(10, "s")
AIM_MEMORY = Aim(200, "MiB")
CHILD_TIMEOUT = 900

METHOD = f"""\
A {ROWS:,}-row .xlsx written with `tests/import_files.py` (valid ID numbers, Chinese names with 喆 and 𠇔,
the target branch's units and its five groups in 所在党小组) is imported into the first city branch through
`members.importing.import_members_file`, the service `manage.py import_members` calls. Each measurement is a
fresh process (`bench/import_bench.py --child`); the time is the service call plus `SET CONSTRAINTS ALL
IMMEDIATE` (PostgreSQL's deferred foreign-key checks, otherwise run at COMMIT), inside an outer transaction
that is then rolled back, so the data set never changes. Peak memory is the child's `ru_maxrss` (from
`wait4`). {RUNS} runs each of the dry run and of the real import: median time, largest peak. The CPU time
(the child's own, not PostgreSQL's) and the time inside SQL statements (round trips, counted with an
`execute_wrapper`) split the wall time: roughly, what is left is waiting for a CPU on a busy machine."""


# --- Parent -------------------------------------------------------------------------------------------
def run(ctx: BenchContext) -> SectionResult:
    from tests.import_files import member_rows, write_members_xlsx

    branch_id, branch_name, groups, units, members_before = _target()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        path = write_members_xlsx(
            Path(tmp) / f"members-{ROWS}.xlsx", member_rows(ROWS, groups=groups, units=units)
        )
        size_kib = path.stat().st_size / 1024
        dry = [_child(ctx, path, branch_id, dry_run=True) for _ in range(RUNS)]
        real = [_child(ctx, path, branch_id, dry_run=False) for _ in range(RUNS)]
        profile = None
        if not AIM_SECONDS.met_by(median(r["seconds"] for r in real)):
            ctx.log("  import missed its time aim: profiling one more run")
            profile = _child(ctx, path, branch_id, dry_run=False, profile=True)["profile"]
    members_after = _target()[4]

    rows = [
        measured(
            f"Import {ROWS:,} rows (median of {RUNS})", median(r["seconds"] for r in real), "s", AIM_SECONDS
        ),
        measured(
            "Peak RSS of the import process (largest)", max(r["peak_mib"] for r in real), "MiB", AIM_MEMORY
        ),
        measured(
            f"Dry run {ROWS:,} rows (median of {RUNS})", median(r["seconds"] for r in dry), "s", AIM_SECONDS
        ),
        measured(
            "Peak RSS of the dry-run process (largest)", max(r["peak_mib"] for r in dry), "MiB", AIM_MEMORY
        ),
        measured("Import: CPU time of the process (median)", median(r["cpu_s"] for r in real), "s"),
        measured("Import: time inside SQL statements (median)", median(r["db_s"] for r in real), "s"),
        measured("Dry run: CPU time of the process (median)", median(r["cpu_s"] for r in dry), "s"),
        measured("Dry run: time inside SQL statements (median)", median(r["db_s"] for r in dry), "s"),
        measured("Queries of one import", real[0]["queries"], ""),
        measured("Queries of one dry run", dry[0]["queries"], ""),
        measured("Whole import process incl. start-up (median)", median(r["wall_s"] for r in real), "s"),
        measured(
            "RSS after start-up, before the import (median)", median(r["rss_before_mib"] for r in real), "MiB"
        ),
    ]
    notes = [
        f"Target: branch “{branch_name}” (ID {branch_id}, {members_before} members; "
        f"{members_after} after the runs — every import is rolled back). File: {size_kib:,.0f} KiB; "
        f"each run created {format_number(real[0]['created'])} members and placed them in "
        f"{len(groups)} groups.",
        "Cross-check of the peak: VmHWM reported by the children "
        f"{_span(r['vm_hwm_mib'] for r in real)} MiB (import), {_span(r['vm_hwm_mib'] for r in dry)} MiB "
        "(dry run).",
    ]
    if members_after != members_before:
        rows.append(Row("Data set unchanged after the runs", "no", ok=False))
    if profile:
        notes += [
            "The time aim was missed; where one import spends its time (cProfile, which slows it down):",
            code_block(profile),
        ]
    return SectionResult(rows=rows, notes=notes)


def _target() -> tuple[int, str, list[str], list[str], int]:
    from django.utils import timezone

    from groups.models import PartyGroup
    from members.models import Branch, Member, Unit

    branch = Branch.objects.order_by("pk").first()
    if branch is None:
        raise RuntimeError("no branch in the bench database (seed_demo --scale city)")
    groups = list(
        PartyGroup.objects.active(timezone.localdate())
        .filter(branch=branch)
        .order_by("name")
        .values_list("name", flat=True)
    )
    units = list(Unit.objects.filter(branch=branch).order_by("name").values_list("name", flat=True))
    return branch.pk, branch.name, groups, units, Member.objects.filter(branch=branch).count()


def _child(ctx: BenchContext, path: Path, branch_id: int, *, dry_run: bool, profile: bool = False) -> dict:
    cmd = [ctx.python, str(Path(__file__).resolve()), "--child", str(path), "--branch", str(branch_id)]
    cmd += ["--dry-run"] * dry_run + ["--profile"] * profile
    result = run_child(cmd, timeout=CHILD_TIMEOUT, cwd=ctx.root, env=ctx.env).check()
    data = json.loads(result.stdout.strip().splitlines()[-1])
    if data["errors"]:
        raise RuntimeError(f"the bench file has bad rows: {data['first_errors']}")
    if data["created"] != ROWS:
        raise RuntimeError(f"expected {ROWS} new members, the import reported {data['created']}")
    kind = "dry run" if dry_run else "import"
    ctx.log(
        f"  {kind}: {data['seconds']:.2f} s, peak {result.peak_rss_mib:.0f} MiB, {data['queries']} queries"
    )
    return {**data, "peak_mib": result.peak_rss_mib, "wall_s": result.wall_s}


def _span(values) -> str:
    values = sorted(values)
    low, high = format_number(values[0]), format_number(values[-1])
    return low if low == high else f"{low}–{high}"


# --- Child ---------------------------------------------------------------------------------------------
def child(path: Path, branch_id: int, *, dry_run: bool, profile: bool) -> dict:
    import cProfile

    setup_django()
    from django.db import connection, transaction

    from members.importing import import_members_file
    from members.models import Branch
    from partygroup.demo.base import system_user

    branch = Branch.objects.select_related("organisation").get(pk=branch_id)
    by = system_user()
    rss_before = peak_rss_self_mib()
    profiler = cProfile.Profile() if profile else None
    with transaction.atomic():
        with count_queries() as counter:
            start, start_cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            report = import_members_file(path_or_file=path, branch=branch, by=by, dry_run=dry_run)
            if not dry_run:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if profiler:
                profiler.disable()
            seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        transaction.set_rollback(True)  # the data set stays as seeded
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "queries": counter.count,
        "db_s": counter.seconds,
        "created": report.created,
        "errors": len(report.errors),
        "first_errors": report.error_lines()[:5],
        "rss_before_mib": rss_before,
        "vm_hwm_mib": vm_hwm_mib() or peak_rss_self_mib(),
        "profile": top_functions(profiler) if profiler else [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=Path, required=True, help="the .xlsx file to import")
    parser.add_argument("--branch", type=int, required=True)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    result = child(args.child, args.branch, dry_run=args.dry_run, profile=args.profile)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
