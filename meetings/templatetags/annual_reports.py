"""Small cards of the annual work report (R-34) for pages owned by other screens: the leader's
workspace (``{% group_annual_report group as annual %}``) and the secretary's dashboard
(``{% branch_reports_awaiting branch as awaiting %}``). One query each, whatever the page's size."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils import timezone

from meetings.annual_enums import AnnualReportState
from meetings.models import AnnualReport

register = template.Library()


@dataclass(frozen=True)
class GroupAnnualReport:
    year: int  # the last finished year
    report: AnnualReport | None


@register.simple_tag
def group_annual_report(group) -> GroupAnnualReport:
    """The group's report of the last finished year (or None: not yet drafted)."""
    year = timezone.localdate().year - 1
    return GroupAnnualReport(year=year, report=AnnualReport.objects.filter(group=group, year=year).first())


@register.simple_tag
def branch_reports_awaiting(branch) -> list[AnnualReport]:
    """The branch's reports submitted and awaiting archive (oldest year first)."""
    return list(
        AnnualReport.objects.filter(group__branch=branch, state=AnnualReportState.SUBMITTED)
        .select_related("group")
        .order_by("year", "group__name", "pk")
    )
