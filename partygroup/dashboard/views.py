"""The dashboards: the branch secretary's page, the organisation overview and the member's own page.

Fetch and authorise first (``partygroup.http``): a branch, meeting or group change outside the
user's scope is **404**; visible but not the role's business is **403** — a group leader or a member
sees that their branch exists but not its dashboard; organisation staff read a branch of their
subtree (the same page without action buttons) and get 403 on its actions. Writes go through the
services of ``meetings`` and ``groups`` (they record who, when and the comment); a refused step is a
Chinese message and nothing is saved. An htmx POST answers with the replaced row, a plain POST with a
redirect to the page; an htmx GET with the page's main part.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from groups import services as group_services
from groups.selectors import group_changes_visible_to
from groups.view_helpers import branch_for
from meetings import services as meeting_services
from meetings.enums import Action, MeetingState
from meetings.forms import CommentForm
from meetings.selectors import meetings_visible_to
from partygroup import summaries
from partygroup.dashboard import permissions, selectors
from partygroup.dashboard.forms import AcknowledgeForm, FilingForm, OverviewFilterForm
from partygroup.findings import collect_findings, sharing
from partygroup.http import get_visible_or_404, require_perm

# Permissions, declared once (members/, groups/, meetings/ and dashboard/permissions.py), used by name.
VIEW_BRANCH = "members.view_branch_dashboard"
MANAGE_BRANCH = "members.manage_branch"
APPROVE_MEETING = "meetings.approve_meeting"  # R-11 approve / return, R-12 archive
FILE_CHANGE = "groups.file_group_change"
ACKNOWLEDGE_CHANGE = "groups.acknowledge_group_change"
VIEW_OVERVIEW = permissions.VIEW_OVERVIEW  # dashboard/permissions.py registers it on import

# Ten branches a page: about fifty heatmap rows, a screenful or two.
BRANCHES_PER_PAGE = 10
FILINGS_SHOWN = 20

# The dashboard's in-place meeting steps and the service that takes each (meetings.services).
MEETING_STEPS = {
    Action.APPROVE: meeting_services.meeting_approve,
    Action.RETURN: meeting_services.meeting_return,
    Action.ARCHIVE: meeting_services.meeting_archive,
}
STEP_DONE = {
    Action.APPROVE: _("已批准会议内容（R-11）。"),
    Action.RETURN: _("已退回修改，意见已告知党小组组长（R-11）。"),
    Action.ARCHIVE: _("会议记录已存档（R-12）。"),
}


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


# --- The branch secretary's dashboard -----------------------------------------------------------


def _branch_context(request: HttpRequest, branch) -> dict:
    user = request.user
    today = timezone.localdate()
    can_manage = user.has_perm(MANAGE_BRANCH, branch)
    queue = list(selectors.approval_queue(user, branch))
    to_archive = list(selectors.archive_queue(user, branch))
    for meeting in queue + to_archive:
        meeting.can_act = user.has_perm(APPROVE_MEETING, meeting)
    to_file = list(selectors.changes_to_file(user, branch))
    for change in to_file:
        change.can_act = user.has_perm(FILE_CHANGE, change)
    with sharing():  # the rule sets, loaded once for the findings and the split threshold
        findings = collect_findings([branch], today)
        threshold = selectors.split_threshold(branch)
    members = selectors.active_member_count(branch)
    return {
        "branch": branch,
        "today": today,
        "year": today.year,
        "months": selectors.MONTHS,
        "read_only": not can_manage,
        "rows": selectors.branch_group_rows(branch, today=today),
        "findings": findings,
        "finding_groups": selectors.findings_by_rule(findings),
        "queue": queue,
        "to_archive": to_archive,
        "to_file": to_file,
        "awaiting": list(selectors.changes_awaiting_acknowledgement(user, [branch])),
        "member_count": members,
        "split_threshold": threshold,
        "suggest_split": members >= threshold,
    }


@login_required
@require_GET
def branch_dashboard(request: HttpRequest, branch_id: int) -> HttpResponse:
    """The branch committee's page: groups and meeting months, findings, approvals, filings."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    context = _branch_context(request, branch)
    if request.htmx:
        return render(request, "dashboard/_branch_main.html", context)
    return render(request, "dashboard/branch.html", context)


def _row_response(request: HttpRequest, template: str, context: dict, branch) -> HttpResponse:
    """htmx: the replaced row; plain POST: the outcome as a message and back to the dashboard."""
    if request.htmx:
        return render(request, template, context)
    for error in context.get("errors", []):
        messages.error(request, error)
    if context.get("done"):
        messages.success(request, context["done"])
    return redirect(reverse("dashboard:branch", args=[branch.pk]) + context.get("anchor", ""))


@login_required
@require_POST
def meeting_step(request: HttpRequest, branch_id: int, pk: int, action: str) -> HttpResponse:
    """Approve / return with a comment (R-11) or archive (R-12) a meeting of the branch, in place."""
    step = MEETING_STEPS.get(action)
    if step is None:
        raise Http404(_("未知的操作。"))
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    meeting = get_visible_or_404(
        meetings_visible_to(request.user).filter(group__branch=branch).select_related("group"), pk=pk
    )
    require_perm(request.user, APPROVE_MEETING, meeting)
    form = CommentForm(request.POST)
    errors: list[str] = []
    done = ""
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    else:
        try:
            meeting = step(meeting=meeting, by=request.user, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            done = str(STEP_DONE[action])
    meeting = get_visible_or_404(meetings_visible_to(request.user).select_related("group"), pk=meeting.pk)
    meeting.can_act = request.user.has_perm(APPROVE_MEETING, meeting)
    queue = "archive" if action == Action.ARCHIVE else "approval"
    context = {
        "meeting": meeting,
        "branch": branch,
        "read_only": False,
        "errors": errors,
        "done": done,
        "failed_action": action if errors else "",
        "comment": form.data.get("comment", ""),
        "queue": queue,
        "anchor": "#archive-queue" if queue == "archive" else "#approval-queue",
    }
    template = "dashboard/_archive_row.html" if queue == "archive" else "dashboard/_queue_row.html"
    return _row_response(request, template, context, branch)


@login_required
@require_POST
def change_file(request: HttpRequest, branch_id: int, pk: int) -> HttpResponse:
    """R-05: file a group change decided by the branch with the higher organisation, in place."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    change = get_visible_or_404(group_changes_visible_to(request.user).filter(branch=branch), pk=pk)
    require_perm(request.user, FILE_CHANGE, change)
    form = FilingForm(request.POST)
    errors: list[str] = []
    done = ""
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    else:
        try:
            change = group_services.group_change_file(
                change=change, filed_on=form.filed_on_or_today(), by=request.user
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            done = _("已报上级党组织备案（R-05）。")
    change = get_visible_or_404(
        group_changes_visible_to(request.user).select_related("group", "branch"), pk=change.pk
    )
    change.can_act = request.user.has_perm(FILE_CHANGE, change)
    context = {
        "change": change,
        "branch": branch,
        "read_only": False,
        "errors": errors,
        "done": done,
        "anchor": "#filings",
    }
    return _row_response(request, "dashboard/_change_row.html", context, branch)


# --- The organisation overview ------------------------------------------------------------------


def _overview_scope(request: HttpRequest) -> tuple[OverviewFilterForm, QuerySet, bool, int]:
    """The filter form (GET parameters), the branches it selects (every visible branch when none is
    chosen), whether some were chosen, and the year."""
    visible = selectors.overview_branches(request.user)
    # The filter's choices (600 branches in the city): only what an option shows.
    form = OverviewFilterForm(request.GET or None, branches=visible.select_related(None).only("pk", "name"))
    chosen, year = form.selected()
    branches = visible.filter(pk__in=[b.pk for b in chosen]) if chosen else visible
    return form, branches, bool(chosen), year


def _overview_context(request: HttpRequest) -> dict:
    user = request.user
    today = timezone.localdate()
    form, branches, chosen, year = _overview_scope(request)
    page = Paginator(branches, BRANCHES_PER_PAGE).get_page(request.GET.get("page"))
    page_branches = list(page.object_list)
    blocks = selectors.heatmap(page_branches, year=year, today=today)
    # Findings: the stored counts of every branch in scope (checking 600 branches live takes seconds);
    # those missing or older than MAX_AGE are checked again in the background (partygroup.summaries).
    stored = summaries.summaries_for(b.pk for b in page_branches)
    for block in blocks:
        block.summary = stored.get(block.branch.pk)
    counts = summaries.scope_counts(branches)
    stale = summaries.stale_branch_ids(branches)
    if stale:
        summaries.request_refresh(stale)  # at most once per MAX_AGE for the same branches
    awaiting = selectors.changes_awaiting_acknowledgement(user, branches if chosen else None)
    shown = list(awaiting[:FILINGS_SHOWN])
    for change in shown:
        change.can_act = user.has_perm(ACKNOWLEDGE_CHANGE, change)
    return {
        "form": form,
        "year": year,
        "today": today,
        "months": selectors.MONTHS,
        "page": page,
        "blocks": blocks,
        "rule_counts": [
            selectors.RuleCount(rule_id=rule_id, violations=v, advisories=a)
            for rule_id, (v, a) in counts.by_rule.items()
        ],
        "counts": counts,
        "stale_count": len(stale),
        "max_age_minutes": int(summaries.MAX_AGE.total_seconds() // 60),
        "refresh_query": request.GET.urlencode(),
        "awaiting": shown,
        "awaiting_total": awaiting.count() if len(shown) == FILINGS_SHOWN else len(shown),
        "filings_shown": FILINGS_SHOWN,
    }


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every branch of the user's organisations: group-meeting heatmap, findings, pending filings."""
    require_perm(request.user, VIEW_OVERVIEW)
    context = _overview_context(request)
    if request.htmx:
        return render(request, "dashboard/_overview_main.html", context)
    return render(request, "dashboard/overview.html", context)


@login_required
@require_POST
def overview_refresh(request: HttpRequest) -> HttpResponse:
    """Check the overview's branches (the filter's, or every visible one) again now, in the
    background; back to the overview with the same filters."""
    require_perm(request.user, VIEW_OVERVIEW)
    _form, branches, _chosen, _year = _overview_scope(request)
    ids = list(branches.order_by().values_list("pk", flat=True))
    if not ids:
        messages.info(request, _("没有需要检查的党支部。"))
    elif summaries.request_refresh(ids, force=True):
        messages.success(
            request,
            _("已开始重新检查 %(count)s 个党支部，稍后刷新本页查看结果。") % {"count": len(ids)},
        )
    else:
        messages.info(request, _("刚刚已开始重新检查这些党支部，请稍后刷新本页查看结果。"))
    target = reverse("dashboard:overview")
    query = request.GET.urlencode()
    return redirect(f"{target}?{query}" if query else target)


@login_required
@require_POST
def change_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """R-05: the higher organisation acknowledges a filed group change (已备案), in place."""
    require_perm(request.user, VIEW_OVERVIEW)
    change = get_visible_or_404(group_changes_visible_to(request.user), pk=pk)
    require_perm(request.user, ACKNOWLEDGE_CHANGE, change)
    form = AcknowledgeForm(request.POST)
    errors: list[str] = []
    done = ""
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    else:
        try:
            change = group_services.group_change_acknowledge(
                change=change, on=timezone.localdate(), comment=form.cleaned_data["comment"], by=request.user
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            done = _("已备案（R-05）。")
    change = get_visible_or_404(
        group_changes_visible_to(request.user).select_related("group", "branch", "filed_by"), pk=change.pk
    )
    change.can_act = request.user.has_perm(ACKNOWLEDGE_CHANGE, change)
    if request.htmx:
        return render(
            request, "dashboard/_filing_row.html", {"change": change, "errors": errors, "done": done}
        )
    for error in errors:
        messages.error(request, error)
    if done:
        messages.success(request, done)
    return redirect(reverse("dashboard:overview") + "#filings")


# --- The member's own page ----------------------------------------------------------------------


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """The member's own record, group history, archived minutes, attendance and talks.

    Personal data on one's own page: the phone number in full (the member entered it and keeps it
    up to date with the branch), the ID number MASKED with no reveal — no task in this app needs the
    full number on screen, and a phone screen is easily overlooked; a wrong number is corrected by the
    branch secretary, who may reveal it (logged). A user not linked to a member sees an explanation.
    """
    member = selectors.own_member(request.user)
    if member is None:
        return render(request, "dashboard/me.html", {"member": None})
    year = timezone.localdate().year
    history = selectors.group_history(member)
    current = next((m for m in history if m.ended_on is None), None)
    return render(
        request,
        "dashboard/me.html",
        {
            "member": member,
            "year": year,
            "history": history,
            "current_membership": current,
            "meetings": selectors.own_group_archived_meetings(request.user),
            "attendance": selectors.attendance_counts(member, year),
            "talks": selectors.own_talks(request.user, member),
            "archived_state": MeetingState.ARCHIVED,
        },
    )
