"""Choices and the workflow table of the annual work report (R-34, 年度工作情况报告).

Kept apart from ``meetings.enums`` (the meeting workflow) so the two state machines do not mix:
draft → submitted → (returned with a comment → submitted) → archived. Every step is one row of
``REPORT_TRANSITIONS`` (who may take it, from which states, whether a comment is required).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class AnnualReportState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送党支部")
    RETURNED = "returned", _("已退回修改")
    ARCHIVED = "archived", _("已存档")


# States in which the leader may still change the narrative sections.
EDITABLE_REPORT_STATES = frozenset({AnnualReportState.DRAFT, AnnualReportState.RETURNED})
# States whose figures are frozen (the JSON snapshot taken at the last submission).
FROZEN_REPORT_STATES = frozenset({AnnualReportState.SUBMITTED, AnnualReportState.ARCHIVED})


class ReportAction(models.TextChoices):
    CREATE = "create", _("起草")
    SUBMIT = "submit", _("报送党支部")
    RETURN = "return", _("退回修改")
    ARCHIVE = "archive", _("存档")


class ReportActor(models.TextChoices):
    LEADER = "leader", _("党小组组长或副组长")
    COMMITTEE = "committee", _("支委会成员（书记、副书记、组织委员、纪检委员）")


@dataclass(frozen=True)
class ReportTransition:
    action: str
    sources: frozenset[str]
    target: str
    actor: str
    comment_required: bool = False


# The whole workflow in one table (STYLE.md): action → allowed source states, target, who.
REPORT_TRANSITIONS: dict[str, ReportTransition] = {
    t.action: t
    for t in [
        ReportTransition(
            ReportAction.SUBMIT,
            frozenset({AnnualReportState.DRAFT, AnnualReportState.RETURNED}),
            AnnualReportState.SUBMITTED,
            ReportActor.LEADER,
        ),
        ReportTransition(
            ReportAction.RETURN,
            frozenset({AnnualReportState.SUBMITTED}),
            AnnualReportState.RETURNED,
            ReportActor.COMMITTEE,
            comment_required=True,
        ),
        ReportTransition(
            ReportAction.ARCHIVE,
            frozenset({AnnualReportState.SUBMITTED}),
            AnnualReportState.ARCHIVED,
            ReportActor.COMMITTEE,
        ),
    ]
}

# The narrative sections the leader writes (field name, heading), in the printed order.
NARRATIVE_SECTIONS: tuple[tuple[str, object], ...] = (
    ("basic_situation", _("一、基本情况")),
    ("main_work", _("二、主要工作")),
    ("problems", _("三、存在问题")),
    ("next_year_plans", _("四、下一年打算")),
)
