"""Models of the project app: the organisation-wide year-end export (``partygroup.yearend``).

An ``ExportJob`` is split into ``ExportPart``s, each run by one background task: the workbook, the
annual reports of a chunk of groups, and the final bundle (the .zip), queued once every other part
is done. Progress lives in these rows, so a web page can show it and a part interrupted by a worker
restart can be queued again: files are written atomically and a part skips what already exists
(docs/export.md).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Branch, Organisation
from partygroup.yearend.enums import ExportState, PartKind, PartState


def new_token() -> str:
    """The name of a job's directory under ``settings.EXPORT_ROOT``: 32 random hex characters."""
    return secrets.token_hex(16)


class ExportJob(models.Model):
    """One export asked for by organisation staff: a year, an organisation, the branches covered."""

    token = models.CharField(_("文件目录"), max_length=64, unique=True, default=new_token, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("上级党组织"), on_delete=models.PROTECT, related_name="export_jobs"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    as_of = models.DateField(_("数据截至"), help_text=_("已结束的年度为12月31日；本年度为导出当日（草稿）"))
    branches = models.ManyToManyField(Branch, verbose_name=_("党支部"), related_name="export_jobs")
    all_branches = models.BooleanField(_("全部党支部"), default=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=ExportState.choices, default=ExportState.QUEUED
    )
    branch_count = models.PositiveIntegerField(_("党支部数"), default=0)
    group_count = models.PositiveIntegerField(_("党小组数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    workbook_size = models.PositiveBigIntegerField(_("工作簿大小（字节）"), null=True, blank=True)
    bundle_size = models.PositiveBigIntegerField(_("压缩包大小（字节）"), null=True, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    resume_count = models.PositiveSmallIntegerField(_("继续次数"), default=0)

    class Meta:
        verbose_name = _("年度汇总导出")
        verbose_name_plural = _("年度汇总导出")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "year"], name="exportjob_org_year")]

    def __str__(self) -> str:
        return f"{self.organisation}·{self.year}年度（#{self.pk}）"

    @property
    def is_draft(self) -> bool:
        """The current year exported before it ends: figures 截至 ``as_of``."""
        return self.as_of < dt.date(self.year, 12, 31)

    @property
    def is_done(self) -> bool:
        return self.state == ExportState.DONE


class ExportPart(models.Model):
    """A unit of work of one task. ``attempt`` is the generation last queued: a task carrying an older
    attempt finds it superseded and does nothing, so queuing a part again never runs it twice."""

    job = models.ForeignKey(
        ExportJob, verbose_name=_("导出任务"), on_delete=models.CASCADE, related_name="parts"
    )
    index = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("类别"), max_length=10, choices=PartKind.choices)
    group_ids = models.JSONField(_("党小组"), default=list, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=PartState.choices, default=PartState.QUEUED)
    attempt = models.PositiveIntegerField(_("排队代次"), default=0)
    runs = models.PositiveIntegerField(_("运行次数"), default=0)
    done_count = models.PositiveIntegerField(_("已完成数"), default=0)
    task_id = models.CharField(_("后台任务编号"), max_length=64, blank=True)
    queued_at = models.DateTimeField(_("排队时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    error = models.TextField(_("错误信息"), blank=True)

    class Meta:
        verbose_name = _("导出分段")
        verbose_name_plural = _("导出分段")
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="exportpart_unique_index"),
            models.UniqueConstraint(fields=["job"], condition=Q(kind="bundle"), name="exportpart_one_bundle"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}-{self.index}（{self.get_kind_display()}）"

    @property
    def size(self) -> int:
        """The units of work of the part: its groups, or one file."""
        return len(self.group_ids) if self.kind == PartKind.REPORTS else 1


class FindingSummary(models.Model):
    """When one branch's findings (R-01 … R-35, every registered collector) were last counted, and
    the totals; the counts per rule are its ``FindingCount`` rows. What the organisation overview
    shows for hundreds of branches at once.

    Derived data, never edited: ``partygroup.summaries.refresh_summaries`` rewrites a branch's rows
    (the overview queues that in the background when they are older than ``MAX_AGE``; ``check_rules
    --save`` does it for every branch). The branch dashboard computes its findings live instead.
    """

    branch = models.OneToOneField(
        Branch, verbose_name=_("党支部"), on_delete=models.CASCADE, related_name="finding_summary"
    )
    checked_on = models.DateField(_("检查日期"))
    computed_at = models.DateTimeField(_("检查时间"))
    violations = models.PositiveIntegerField(_("违规"), default=0)
    advisories = models.PositiveIntegerField(_("提醒"), default=0)

    class Meta:
        verbose_name = _("问题统计")
        verbose_name_plural = _("问题统计")
        ordering = ["branch_id"]

    def __str__(self) -> str:
        return f"{self.branch_id}（{self.computed_at:%Y-%m-%d %H:%M}）"


class FindingCount(models.Model):
    """One rule's open findings in one branch when last counted (only rules with a finding)."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.CASCADE, related_name="finding_counts"
    )
    rule_id = models.CharField(_("规则"), max_length=8)
    violations = models.PositiveIntegerField(_("违规"), default=0)
    advisories = models.PositiveIntegerField(_("提醒"), default=0)

    class Meta:
        verbose_name = _("按规则的问题数")
        verbose_name_plural = _("按规则的问题数")
        ordering = ["branch_id", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "rule_id"], name="findingcount_one_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.rule_id}"
