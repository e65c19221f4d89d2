"""Choices of the year-end export (Chinese labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportState(models.TextChoices):
    QUEUED = "queued", _("等待后台任务")
    RUNNING = "running", _("正在生成")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class PartKind(models.TextChoices):
    """The job's parts: one workbook, the annual reports in chunks of groups, the final bundle."""

    WORKBOOK = "workbook", _("汇总工作簿")
    REPORTS = "reports", _("年度工作报告")
    BUNDLE = "bundle", _("打包")


class PartState(models.TextChoices):
    PENDING = "pending", _("未开始")  # the bundle, until every other part is done
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


UNFINISHED_JOB_STATES = frozenset({ExportState.QUEUED, ExportState.RUNNING})
