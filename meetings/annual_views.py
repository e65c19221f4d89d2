"""The annual work report pages (R-34): the list of a year's reports, a report with its figures and
month-by-month chart, the leader's editing and submission, the branch's return and archive, the PDF.

Roles (docs/annual-report.md): the group's leader or deputy drafts, edits and submits their group's
report for a finished year; the branch committee (secretary, deputy secretary, organisation and
discipline members) returns it with a comment or archives it; organisation staff of the subtree read
every report; a plain member reads the ARCHIVED report of their own group. Fetch-and-authorise as
everywhere (partygroup/http.py): a group or report outside the user's scope is 404, a visible one the
role may not change 403; writes go through ``meetings.annual_report`` (its ``ValidationError`` is a
Chinese message, nothing saved). The current year's figures are shown as a read-only preview only.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups.models import PartyGroup
from groups.selectors import groups_visible_to
from meetings import annual_report as service
from meetings.annual_data import annual_report_data, draft_sections
from meetings.annual_enums import (
    EDITABLE_REPORT_STATES,
    NARRATIVE_SECTIONS,
    REPORT_TRANSITIONS,
    AnnualReportState,
    ReportAction,
    ReportActor,
)
from meetings.annual_forms import AnnualReportForm, ReportFilterForm
from meetings.annual_pdf import (
    annual_report_filename,
    annual_report_html,
    chart_svg,
    narrative_of,
    report_figures,
    report_title,
)
from meetings.models import AnnualReport, AnnualReportTransition
from meetings.views import apply_errors, posted_comment
from members.selectors import branches_visible_to
from partygroup.http import flash_outcome, get_visible_or_404, require_perm
from partygroup.pdf import CJKFontMissingError, render_pdf

VIEW_REPORT = "meetings.view_annual_report"
WRITE_REPORT = "meetings.write_annual_report"
REVIEW_REPORT = "meetings.review_annual_report"
ACTOR_PERMS = {ReportActor.LEADER: WRITE_REPORT, ReportActor.COMMITTEE: REVIEW_REPORT}
PAGE_SIZE = 50

SUCCESS_MESSAGES = {
    ReportAction.SUBMIT: _("年度工作情况报告已报送党支部，报送时的数据已冻结。"),
    ReportAction.RETURN: _("已退回修改，意见已告知党小组组长。"),
    ReportAction.ARCHIVE: _("年度工作情况报告已存档。"),
}


def _year_or_404(year: int) -> int:
    """A year the report pages know: not before 2000, not after the current year (preview)."""
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404(_("年度无效。"))
    return year


def _group_and_report(
    request: HttpRequest, group_id: int, year: int
) -> tuple[PartyGroup, AnnualReport | None]:
    """The group (404 outside the scope) and its report for ``year`` if the user may see it. Without
    a visible report, only those who may see the unsaved draft continue (others: 404)."""
    year = _year_or_404(year)
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    report = (
        service.annual_reports_visible_to(request.user)
        .select_related("created_by")
        .filter(group=group, year=year)
        .first()
    )
    if report is None and not request.user.has_perm(VIEW_REPORT, group):
        raise Http404(_("未找到该记录，或您无权查看。"))
    require_perm(request.user, VIEW_REPORT, report or group)
    return group, report


# --- The list -------------------------------------------------------------------------------------------
@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    """The groups the user may see that existed in the year, each with its report's state (paginated)."""
    user = request.user
    today = timezone.localdate()
    form = ReportFilterForm(request.GET or None, branches=branches_visible_to(user).order_by("name"))
    cleaned = form.cleaned_data if form.is_valid() else {}
    year = cleaned.get("year") or today.year - 1
    first, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    groups = (
        groups_visible_to(user)
        .filter(established_on__lt=end)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=first))
        .order_by("branch__name", "name", "pk")
    )
    if cleaned.get("branch"):
        groups = groups.filter(branch=cleaned["branch"])
    reports = service.annual_reports_visible_to(user).filter(year=year)
    state = cleaned.get("state")
    if state == "none":
        groups = groups.exclude(pk__in=reports.values("group_id"))
    elif state:
        groups = groups.filter(pk__in=reports.filter(state=state).values("group_id"))
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    by_group = {r.group_id: r for r in reports.filter(group_id__in=[g.pk for g in page])}
    counts = dict(
        reports.filter(group__in=groups.order_by().values("pk"))
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
        .order_by()
    )
    return render(
        request,
        "annual/list.html",
        {
            "form": form,
            "year": year,
            "page": page,
            "rows": [{"group": g, "report": by_group.get(g.pk)} for g in page],
            "counts": [(s.label, counts.get(s.value, 0)) for s in AnnualReportState],
            "year_open": year >= today.year,
            "previous_year": year - 1,
            "next_year": year + 1 if year + 1 <= today.year else None,
        },
    )


# --- One report -----------------------------------------------------------------------------------------
def _detail_context(request: HttpRequest, group: PartyGroup, year: int, report: AnnualReport | None) -> dict:
    user = request.user
    data = report_figures(report, group=group, year=year)
    year_problems = service.year_problems(group, year)
    may_write = user.has_perm(WRITE_REPORT, group)
    transitions = (
        list(AnnualReportTransition.objects.filter(report=report).select_related("by").order_by("at", "id"))
        if report
        else []
    )
    last_return = next((t for t in reversed(transitions) if t.action == ReportAction.RETURN), None)
    return {
        "group": group,
        "year": year,
        "report": report,
        "title": report_title(year),
        "data": data,
        "sections": narrative_of(report, data),
        "chart": mark_safe(chart_svg(data)),  # noqa: S308  (meetings.charts escapes every text)
        "transitions": transitions,
        "last_return": last_return if report and report.state == AnnualReportState.RETURNED else None,
        "year_problems": year_problems,
        "is_preview": report is None,
        "is_frozen": report is not None
        and report.state in {AnnualReportState.SUBMITTED, AnnualReportState.ARCHIVED},
        "can_edit": may_write
        and not year_problems
        and (report is None or report.state in EDITABLE_REPORT_STATES),
        "can_submit": may_write and report is not None and report.state in EDITABLE_REPORT_STATES,
        "can_review": report is not None
        and report.state == AnnualReportState.SUBMITTED
        and user.has_perm(REVIEW_REPORT, report),
        "previous_year": year - 1,
        "next_year": year + 1 if year + 1 <= timezone.localdate().year else None,
    }


@login_required
@require_GET
def group_current(request: HttpRequest, group_id: int) -> HttpResponse:
    """The group's report of the last finished year."""
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    return redirect("annual:detail", group_id=group.pk, year=timezone.localdate().year - 1)


@login_required
@require_GET
def report_detail(request: HttpRequest, group_id: int, year: int) -> HttpResponse:
    group, report = _group_and_report(request, group_id, year)
    return render(request, "annual/detail.html", _detail_context(request, group, year, report))


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, group_id: int, year: int) -> HttpResponse:
    """The leader writes the narrative (prefilled with generated sentences); "save" or "save and
    submit to the branch". A year not ended, a submitted or archived report: refused, nothing saved."""
    year = _year_or_404(year)
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, WRITE_REPORT, group)
    report = AnnualReport.objects.filter(group=group, year=year).first()
    if request.method == "GET":
        problems = service.year_problems(group, year)
        if problems or (report is not None and report.state not in EDITABLE_REPORT_STATES):
            for message in problems or [service.not_editable_message(report)]:
                messages.error(request, message)
            return redirect("annual:detail", group_id=group.pk, year=year)
        if report is not None:
            initial = {name: getattr(report, name) for name, _h in NARRATIVE_SECTIONS}
        else:
            initial = draft_sections(annual_report_data(group, year))
        form = AnnualReportForm(initial=initial)
    else:
        form = AnnualReportForm(request.POST)
        if form.is_valid():
            submit = "submit" in request.POST
            try:
                service.annual_report_write(
                    group=group, year=year, by=request.user, sections=form.cleaned_data, submit=submit
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    SUCCESS_MESSAGES[ReportAction.SUBMIT] if submit else _("年度工作情况报告已保存。"),
                )
                return redirect("annual:detail", group_id=group.pk, year=year)
    return render(
        request,
        "annual/edit.html",
        {"group": group, "year": year, "report": report, "form": form, "title": report_title(year)},
    )


def _report_step(*, report: AnnualReport, action: str, by, comment: str) -> str:
    service.annual_report_transition(report=report, action=action, by=by, comment=comment)
    return str(SUCCESS_MESSAGES[action])


@login_required
@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Submit (leader), return with a comment or archive (branch committee)."""
    transition = REPORT_TRANSITIONS.get(action)
    if transition is None:
        raise Http404(_("未知的操作。"))
    report = get_visible_or_404(service.annual_reports_visible_to(request.user), pk=pk)
    require_perm(request.user, ACTOR_PERMS[transition.actor], report)
    comment = posted_comment(request)
    if comment is not None:
        flash_outcome(
            request, lambda: _report_step(report=report, action=action, by=request.user, comment=comment)
        )
    return redirect("annual:detail", group_id=report.group_id, year=report.year)


@login_required
@require_GET
def report_pdf(request: HttpRequest, group_id: int, year: int) -> HttpResponse:
    """The report as a PDF (a preview of an unsaved draft is watermarked 草稿, like every unarchived one)."""
    group, report = _group_and_report(request, group_id, year)
    try:
        content = render_pdf(annual_report_html(group, year, report=report))
    except CJKFontMissingError as exc:
        messages.error(request, str(exc))
        return redirect("annual:detail", group_id=group.pk, year=year)
    return FileResponse(
        io.BytesIO(content),
        content_type="application/pdf",
        as_attachment=True,
        filename=annual_report_filename(group, year),
    )
