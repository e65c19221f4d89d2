"""Reads of the year-end export: what a job covers (the plan), who may see a job, how far it is.

- ``export_plan``: the branches and groups of an export in a fixed order (organisation path, branch
  name, group name, id) with safe, unique names for the .zip, in three queries whatever the size.
- ``export_jobs_visible_to``: a job is seen by superusers and by organisation staff whose subtree
  holds **every** branch of the job (others get 404).
- ``export_progress``: the percentage, the step and the counts the status fragment shows, in two
  queries (the page polls it every second).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import PartyGroup
from groups.selectors import roles_of
from members.models import Branch, Organisation
from partygroup.models import ExportJob, ExportPart
from partygroup.yearend.enums import UNFINISHED_JOB_STATES, ExportState, PartKind, PartState

# A part that has shown no progress for this long while "running" was interrupted (worker killed or
# restarted). Parts report progress after every file (a report takes well under a second).
STALE_AFTER = dt.timedelta(seconds=getattr(settings, "EXPORT_STALE_SECONDS", 120))
# Relative weights of the parts in the percentage: a report PDF counts 1 per group, the workbook
# and the bundle (much cheaper per group) one unit per this many groups.
WORKBOOK_GROUPS_PER_UNIT = 20
BUNDLE_GROUPS_PER_UNIT = 50
MAX_NAME_CHARS = 60

WORKBOOK_FILE = "workbook.xlsx"
BUNDLE_FILE = "reports.zip"
REPORTS_DIR = "pdf"


def job_directory(job: ExportJob) -> Path:
    """``EXPORT_ROOT/<token>``: the token (32 random hex characters) is the only name on disk."""
    return Path(settings.EXPORT_ROOT) / job.token


# --- Names inside the .zip ---------------------------------------------------------------------------
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_name(text: str, *, fallback: str) -> str:
    """A file or folder name that is safe on Windows, macOS and Linux: no path separators, reserved
    or control characters, no leading/trailing dots or spaces, at most ``MAX_NAME_CHARS``."""
    text = unicodedata.normalize("NFC", text or "")
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    text = text[:MAX_NAME_CHARS].strip(" .")
    if not text or text.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}:
        return fallback
    return text


def _unique(name: str, taken: set[str], suffix: str) -> str:
    if name.casefold() not in taken:
        taken.add(name.casefold())
        return name
    candidate = f"{name}（{suffix}）"
    taken.add(candidate.casefold())
    return candidate


# --- The plan of an export ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanBranch:
    id: int
    name: str
    organisation_id: int
    organisation_label: str  # "市直机关工委 / 市财政局机关党委": from the job's organisation down
    folder: str  # the branch's folder in the .zip


@dataclass(frozen=True)
class PlanGroup:
    id: int
    name: str
    branch_id: int
    archive_name: str  # "<branch>/<group>-<year>年度工作报告.pdf"


@dataclass
class ExportPlan:
    organisation: Organisation
    year: int
    as_of: dt.date
    branches: list[PlanBranch]
    groups: list[PlanGroup]
    organisation_labels: dict[int, str] = field(default_factory=dict)  # organisation id → label

    @property
    def is_draft(self) -> bool:
        return self.as_of < dt.date(self.year, 12, 31)

    def branch(self, branch_id: int) -> PlanBranch:
        return self._branches[branch_id]

    def __post_init__(self) -> None:
        self._branches = {b.id: b for b in self.branches}


def groups_of_year(branch_ids, year: int, as_of: dt.date) -> QuerySet[PartyGroup]:
    """Groups of the branches that existed on at least one day of ``year`` up to ``as_of``."""
    return PartyGroup.objects.filter(
        Q(branch_id__in=branch_ids),
        Q(established_on__lte=as_of),
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=dt.date(year, 1, 1)),
    )


def export_plan(*, organisation: Organisation, branch_ids, year: int, as_of: dt.date) -> ExportPlan:
    """The ordered branches and groups of an export with their names in the .zip (three queries)."""
    nodes = {
        o.pk: o
        for o in Organisation.objects.filter(path__startswith=organisation.path).only("id", "name", "path")
    }
    by_path = {o.path: o for o in nodes.values()}
    steplen = Organisation.steplen
    labels: dict[int, str] = {}
    for node in nodes.values():
        names = []
        path = node.path
        while len(path) >= len(organisation.path):  # bounded by the tree's depth
            names.append(by_path[path].name)
            path = path[:-steplen]
        labels[node.pk] = " / ".join(reversed(names))

    branches = list(
        Branch.objects.filter(pk__in=list(branch_ids), organisation__path__startswith=organisation.path)
        .select_related("organisation")
        .order_by("organisation__path", "name", "id")
    )
    taken: set[str] = set()
    plan_branches = []
    for branch in branches:
        folder = safe_name(branch.name, fallback=f"党支部{branch.pk}")
        if folder.casefold() in taken:
            folder = safe_name(f"{branch.organisation.name}-{branch.name}", fallback=f"党支部{branch.pk}")
        folder = _unique(folder, taken, str(branch.pk))
        plan_branches.append(
            PlanBranch(
                id=branch.pk,
                name=branch.name,
                organisation_id=branch.organisation_id,
                organisation_label=labels.get(branch.organisation_id, branch.organisation.name),
                folder=folder,
            )
        )
    order = {b.id: i for i, b in enumerate(plan_branches)}
    rows = sorted(
        groups_of_year(list(order), year, as_of).values_list("pk", "name", "branch_id"),
        key=lambda row: (order[row[2]], row[1], row[0]),
    )
    folders = {b.id: b.folder for b in plan_branches}
    taken_files: dict[int, set[str]] = {}
    plan_groups = []
    for pk, name, branch_id in rows:
        base = safe_name(name, fallback=f"党小组{pk}")
        stem = _unique(base, taken_files.setdefault(branch_id, set()), str(pk))
        plan_groups.append(
            PlanGroup(
                id=pk,
                name=name,
                branch_id=branch_id,
                archive_name=f"{folders[branch_id]}/{stem}-{year}年度工作报告.pdf",
            )
        )
    return ExportPlan(
        organisation=organisation,
        year=year,
        as_of=as_of,
        branches=plan_branches,
        groups=plan_groups,
        organisation_labels=labels,
    )


def plan_for_job(job: ExportJob) -> ExportPlan:
    return export_plan(
        organisation=job.organisation,
        branch_ids=job.branches.values_list("pk", flat=True),
        year=job.year,
        as_of=job.as_of,
    )


# --- Who may see what --------------------------------------------------------------------------------
def _subtree_q(paths, prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def may_start_exports(user) -> bool:
    roles = roles_of(user)
    return roles.is_superuser or roles.is_org_staff


def export_organisations_for(user) -> QuerySet[Organisation]:
    """Organisations the user may export: every node of their subtrees (superusers: all)."""
    roles = roles_of(user)
    if roles.is_superuser:
        return Organisation.objects.order_by("path")
    return Organisation.objects.filter(_subtree_q(roles.org_paths, "")).order_by("path")


def export_branches_for(user) -> QuerySet[Branch]:
    """Branches the user may put in an export: those of their organisation subtrees only (not the
    branch they are a member of)."""
    roles = roles_of(user)
    qs = Branch.objects.select_related("organisation").order_by("organisation__path", "name", "id")
    if roles.is_superuser:
        return qs
    return qs.filter(_subtree_q(roles.org_paths, "organisation__"))


def export_jobs_visible_to(user) -> QuerySet[ExportJob]:
    """Superusers: every job. Organisation staff: jobs none of whose branches lies outside their
    subtrees. Everyone else: none."""
    roles = roles_of(user)
    qs = ExportJob.objects.select_related("organisation", "requested_by")
    if roles.is_superuser:
        return qs
    if not roles.is_org_staff:
        return qs.none()
    outside = Branch.objects.exclude(_subtree_q(roles.org_paths, "organisation__")).values("pk")
    return (
        qs.filter(_subtree_q(roles.org_paths, "organisation__") | Q(branches__isnull=False))
        .exclude(branches__in=outside)
        .distinct()
    )


# --- Progress ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartView:
    kind: str
    state: str
    total: int
    done: int
    weight: int
    heartbeat_at: dt.datetime | None
    error: str

    @property
    def units_done(self) -> float:
        if self.state == PartState.DONE:
            return float(self.weight)
        return self.weight * min(self.done, self.total) / self.total


@dataclass(frozen=True)
class ExportProgress:
    job: ExportJob
    percent: int
    step: str  # what is happening, in Chinese
    reports_done: int
    reports_total: int
    workbook_state: str
    bundle_state: str
    parts_done: int
    parts_total: int
    interrupted: bool  # unfinished and no progress for STALE_AFTER: offer "continue"
    last_progress_at: dt.datetime | None
    errors: list[str]

    @property
    def polling(self) -> bool:
        """The status fragment keeps polling while the job may still move by itself."""
        return self.job.state in UNFINISHED_JOB_STATES

    @property
    def can_resume(self) -> bool:
        return self.job.state == ExportState.FAILED or self.interrupted

    @property
    def workbook_label(self) -> str:
        return str(PartState(self.workbook_state).label) if self.workbook_state else ""

    @property
    def bundle_label(self) -> str:
        return str(PartState(self.bundle_state).label) if self.bundle_state else ""


def last_progress_at(job: ExportJob) -> dt.datetime | None:
    """The latest sign of life of any part of the job (queued, progress, finished)."""
    return ExportPart.objects.filter(job=job).aggregate(last=Max("heartbeat_at"))["last"]


def part_weight(kind: str, total: int, group_count: int) -> int:
    if kind == PartKind.WORKBOOK:
        return max(1, group_count // WORKBOOK_GROUPS_PER_UNIT)
    if kind == PartKind.BUNDLE:
        return max(1, group_count // BUNDLE_GROUPS_PER_UNIT)
    return max(1, total)


def part_total(part: ExportPart, group_count: int) -> int:
    """What ``done_count`` counts up to: the part's groups (reports), every group (workbook, bundle)."""
    if part.kind == PartKind.REPORTS:
        return max(1, len(part.group_ids))
    return max(1, group_count)


def export_progress(job: ExportJob, *, now: dt.datetime | None = None) -> ExportProgress:
    now = now or timezone.now()
    parts = []
    for part in ExportPart.objects.filter(job=job).order_by("index"):
        total = part_total(part, job.group_count)
        parts.append(
            PartView(
                kind=part.kind,
                state=part.state,
                total=total,
                done=part.done_count,
                weight=part_weight(part.kind, total, job.group_count),
                heartbeat_at=part.heartbeat_at,
                error=part.error,
            )
        )
    weights = sum(p.weight for p in parts) or 1
    done_units = sum(p.units_done for p in parts)
    percent = 100 if job.state == ExportState.DONE else min(99, int(100 * done_units / weights))
    reports = [p for p in parts if p.kind == PartKind.REPORTS]
    workbook = next((p for p in parts if p.kind == PartKind.WORKBOOK), None)
    bundle = next((p for p in parts if p.kind == PartKind.BUNDLE), None)
    reports_done = sum(p.total if p.state == PartState.DONE else min(p.done, p.total) for p in reports)
    beats = [p.heartbeat_at for p in parts if p.heartbeat_at is not None]
    last = max(beats) if beats else None
    unfinished = job.state in UNFINISHED_JOB_STATES
    interrupted = unfinished and (last is None or now - last > STALE_AFTER)
    if job.state == ExportState.DONE:
        step = _("已完成")
    elif job.state == ExportState.FAILED:
        step = _("生成失败")
    elif interrupted and any(p.state == PartState.RUNNING for p in parts):
        step = _("已中断：后台任务长时间没有进展")
    elif interrupted:
        step = _("排队时间较长：后台任务程序可能未运行，或正在处理其他任务")
    elif bundle is not None and bundle.state in {PartState.QUEUED, PartState.RUNNING}:
        step = _("正在打包年度工作报告")
    elif any(p.state == PartState.RUNNING for p in parts):
        running = [p for p in parts if p.state == PartState.RUNNING]
        if all(p.kind == PartKind.WORKBOOK for p in running):
            step = _("正在生成汇总工作簿")
        else:
            step = _("正在生成各党小组年度工作报告")
    else:
        step = _("等待后台任务程序处理")
    return ExportProgress(
        job=job,
        percent=percent,
        step=step,
        reports_done=reports_done,
        reports_total=job.group_count,
        workbook_state=workbook.state if workbook else "",
        bundle_state=bundle.state if bundle else "",
        parts_done=sum(1 for p in parts if p.state == PartState.DONE),
        parts_total=len(parts),
        interrupted=interrupted,
        last_progress_at=last,
        errors=list(dict.fromkeys([job.error] * bool(job.error) + [p.error for p in parts if p.error])),
    )
