"""The export's bundle: every group's annual work report PDF (R-34) in one .zip.

Two steps, each safe to repeat after a crash:

1. ``render_reports`` renders the reports of some groups into ``<directory>/pdf/<group id>.pdf``.
   Each file is written under a temporary name and then ``os.replace``d, so a file is either
   complete or absent; a group whose file exists is skipped. A chunk run again after a worker died
   therefore renders only what is missing and never writes a file twice.
2. ``write_bundle`` puts the files into the .zip in the plan's order under their names
   ``<branch>/<group>-<year>年度工作报告.pdf`` (``selectors.export_plan``), with a fixed timestamp,
   again through a temporary name. The zip is built from the plan, not from the directory listing:
   each group is in it exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from django.db.models import Case, IntegerField, Value, When

from groups.models import PartyGroup
from members.models import Branch
from partygroup.findings import collect_findings
from partygroup.yearend import sources
from partygroup.yearend.selectors import REPORTS_DIR, ExportPlan

COPY_BUFFER = 1024 * 1024


def report_path(directory: Path, group_id: int) -> Path:
    return directory / REPORTS_DIR / f"{int(group_id)}.pdf"


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so that ``path`` is never seen half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def missing_reports(directory: Path, group_ids: Sequence[int]) -> list[int]:
    return [gid for gid in group_ids if not report_path(directory, gid).is_file()]


def render_reports(
    group_ids: Sequence[int],
    *,
    year: int,
    as_of: dt.date,
    report_as_of: dt.date,
    directory: Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Render the reports of ``group_ids`` that are not on disk yet; returns how many were rendered.

    ``progress(n)`` gets the number of the chunk's files present after each file. The figures of
    the missing groups come from one ``annual_report_data_many`` call (a fixed number of queries),
    with the findings of their branches collected once.
    """
    missing = missing_reports(directory, group_ids)
    present = len(group_ids) - len(missing)
    if progress is not None:
        progress(present)
    if not missing:
        return 0
    order = Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(missing)), output_field=IntegerField())
    groups = list(
        PartyGroup.objects.filter(pk__in=missing)
        .select_related("branch", "branch__organisation", "unit")
        .order_by(order)
    )
    branch_ids = sorted({g.branch_id for g in groups})
    findings = collect_findings(
        Branch.objects.filter(pk__in=branch_ids).select_related("organisation").order_by("pk"),
        sources.findings_day(as_of),
    )
    data = sources.annual_report_data_many(groups, year, as_of=report_as_of, findings=findings)
    rendered = 0
    for group in groups:
        pdf = sources.annual_report_pdf(group, year, data=data[group.pk])
        write_atomically(report_path(directory, group.pk), pdf)
        rendered += 1
        if progress is not None:
            progress(present + rendered)
    return rendered


def write_bundle(
    plan: ExportPlan,
    directory: Path,
    target: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Zip the plan's report files into ``target`` (atomically); returns the size in bytes.

    Every group's file must exist (``missing_reports`` is empty): the caller renders the missing
    ones first. PDFs are already compressed, so entries are stored, not deflated.
    """
    missing = missing_reports(directory, [g.id for g in plan.groups])
    if missing:
        raise FileNotFoundError(
            f"缺少 {len(missing)} 个党小组的年度工作报告文件（党小组编号 {missing[:5]}）。"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    stamp = (plan.year, 12, 31, 0, 0, 0) if not plan.is_draft else plan.as_of.timetuple()[:6]
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for count, group in enumerate(plan.groups, start=1):
                info = zipfile.ZipInfo(group.archive_name, date_time=stamp)
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16
                with (
                    open(report_path(directory, group.id), "rb") as source,
                    archive.open(info, "w") as entry,
                ):
                    shutil.copyfileobj(source, entry, COPY_BUFFER)
                if progress is not None:
                    progress(count)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target.stat().st_size
