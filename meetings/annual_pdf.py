"""The annual work report (R-34) as an A4 PDF in the house style of the minutes (static/pdf/house.css).

Title "党小组<年度>年度工作情况报告", the four narrative sections (一、基本情况 … 四、下一年打算) with
the year's figures and tables under 二、主要工作, the month-by-month chart (inline SVG from
``meetings.charts``, the same string the web page shows), the findings under 三、存在问题, page
numbers "第 N 页 共 M 页" and, once archived, the archive number. A report not archived carries the
watermark "草稿".

Figures: a submitted or archived report prints its frozen snapshot; a saved draft or returned report
and an unsaved draft print live figures (``data`` when the caller has them, else computed).
The caller (view, command, export) authorises the user before calling.
"""

from __future__ import annotations

import re
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from groups.models import PartyGroup
from meetings.annual_data import AnnualReportData, annual_report_data, draft_sections
from meetings.annual_enums import FROZEN_REPORT_STATES, NARRATIVE_SECTIONS, AnnualReportState
from meetings.charts import monthly_chart_svg
from meetings.models import AnnualReport
from partygroup.pdf import StaticOnlyURLFetcher, render_pdf

TEMPLATE = "meetings/pdf/annual_report.html"
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_NUMERALS = "一二三四五六七八九十"


def report_title(year: int) -> str:
    return f"党小组{year}年度工作情况报告"


def chart_svg(data: AnnualReportData) -> str:
    """The month-by-month chart of the report: meetings held (bars) and attendance rate (line)."""
    return monthly_chart_svg(
        labels=[f"{m.month}月" for m in data.months],
        counts=[m.meetings_held for m in data.months],
        rates=[m.rate for m in data.months],
        title=_("%(year)s年各月会议召开和出勤情况") % {"year": data.year},
        count_label=_("召开会议次数"),
        rate_label=_("党小组会出勤率"),
        description=_("每月召开的各类会议次数（柱）和党员参加党小组会的出勤率（折线）。"),
    )


def report_figures(
    report: AnnualReport | None, *, group: PartyGroup, year: int, data=None
) -> AnnualReportData:
    """The figures a report shows: the frozen snapshot once submitted, else live (``data`` or computed)."""
    if report is not None and report.state in FROZEN_REPORT_STATES and report.snapshot:
        return AnnualReportData.from_json(report.snapshot)
    return data if data is not None else annual_report_data(group, year)


def narrative_of(report: AnnualReport | None, data: AnnualReportData) -> list[dict[str, str]]:
    """The four sections (heading, text): the report's, else the generated draft."""
    drafted = draft_sections(data) if report is None else {}
    return [
        {
            "name": name,
            "heading": str(heading),
            "text": getattr(report, name) if report is not None else drafted[name],
        }
        for name, heading in NARRATIVE_SECTIONS
    ]


def annual_report_context(
    group: PartyGroup, year: int, *, report: AnnualReport | None = None, data: AnnualReportData | None = None
) -> dict[str, Any]:
    figures = report_figures(report, group=group, year=year, data=data)
    state = AnnualReportState(report.state) if report is not None else None
    transitions = list(report.transitions.select_related("by").order_by("at", "id")) if report else []
    return {
        "report": report,
        "data": figures,
        "title": report_title(year),
        "year": year,
        "organisation": f"{figures.branch_name}　{figures.group_name}",
        "sections": narrative_of(report, figures),
        "chart": mark_safe(chart_svg(figures)),  # noqa: S308  (meetings.charts escapes every text)
        "state_label": state.label if state else _("草稿（未保存）"),
        "is_archived": state == AnnualReportState.ARCHIVED,
        "is_draft": state != AnnualReportState.ARCHIVED,
        "is_frozen": state in {AnnualReportState.SUBMITTED, AnnualReportState.ARCHIVED},
        "archive_number": report.archive_number if report else "",
        "archived_on": timezone.localdate(report.archived_at) if report and report.archived_at else None,
        "submitted_on": timezone.localdate(report.snapshot_at) if report and report.snapshot_at else None,
        "transitions": transitions,
        "numerals": _NUMERALS,
        "printed_on": timezone.localdate(),
    }


def annual_report_html(
    group: PartyGroup, year: int, *, report: AnnualReport | None = None, data: AnnualReportData | None = None
) -> str:
    return render_to_string(TEMPLATE, annual_report_context(group, year, report=report, data=data))


def render_annual_report_pdf(
    group: PartyGroup,
    year: int,
    *,
    data: AnnualReportData | None = None,
    url_fetcher: StaticOnlyURLFetcher | None = None,
) -> bytes:
    """The saved report of ``group`` for ``year`` if there is one, else a draft from ``data``."""
    report = AnnualReport.objects.filter(group_id=group.pk, year=year).first()
    return render_pdf(annual_report_html(group, year, report=report, data=data), url_fetcher=url_fetcher)


def annual_report_filename(group: PartyGroup, year: int) -> str:
    name = _UNSAFE_FILENAME.sub("_", group.name).strip(" ._") or "党小组"
    return f"{name}-{year}年度工作情况报告.pdf"


def annual_report_content_disposition(group: PartyGroup, year: int, *, as_attachment: bool = True) -> str:
    return content_disposition_header(as_attachment, annual_report_filename(group, year))
