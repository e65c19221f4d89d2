"""The group leader's workspace (党小组组长工作台, R-27), made for a phone.

One page per group the user leads (leader or deputy): this month's group meeting with its NEXT STEP
in one big card (R-10, R-11 … R-13), the other unfinished meetings with theirs, the year's months
at a glance (R-10), the open decided matters (R-16), the members due a heart-to-heart talk (R-20),
the annual plan (R-17) and the group's findings (R-03, R-04, R-10, R-17 … R-20).

Page loads. Every step that needs no input is ONE button that POSTs and is answered with the
workspace itself (status 200, no redirect), so that after the branch's approval a month's meeting
is logged in six document requests: open the workspace, notify, open the minutes, save them and
mark the meeting held (answered with the workspace), report to the branch (answered with the
workspace), download the PDF (tests/meetings/test_workspace.py counts them). With JavaScript the
buttons are htmx requests that swap the page's main part in place. A reloaded answer repeats the
POST; the service then refuses the step already taken with its Chinese reason, so nothing is
done twice.

Scope and permissions as everywhere (partygroup/http.py): a group or meeting outside the user's
scope is 404, a visible one the user does not lead 403 (``groups.lead_group``,
``meetings.lead_meeting``, ``meetings.edit_meeting``); writes go through ``meetings.services``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.functions import ExtractMonth
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups.findings import collect_group_findings
from groups.models import GroupMembership, PartyGroup
from groups.selectors import groups_visible_to, roles_of
from meetings import services
from meetings.enums import (
    EDITABLE_REQUEST_STATES,
    HELD_STATES,
    MINUTES_EDITABLE_STATES,
    Action,
    MeetingKind,
    MeetingState,
)
from meetings.findings import collect_meeting_findings
from meetings.forms import MeetingRequestForm, prefill_agenda
from meetings.models import ActionItem, AnnualPlan, Meeting, MeetingTransition, Minutes
from meetings.rules import add_months
from meetings.selectors import meetings_visible_to
from meetings.views import (
    EDIT_MEETING,
    LEAD_GROUP,
    LEAD_MEETING,
    apply_errors,
    meeting_step,
    minutes_page,
    minutes_queryset,
)
from partygroup.findings import Finding, sharing, sort_findings
from partygroup.http import flash_outcome, get_visible_or_404, require_perm

# The steps the workspace takes with one button (no input needed; cancel needs a reason: detail page).
BUTTON_ACTIONS = frozenset({Action.SUBMIT, Action.NOTIFY, Action.REPORT})
# The group's findings shown here: composition (R-03, R-04) and cadence (R-10, R-17 … R-19) of the
# group, and R-20 for its members.
GROUP_RULES = frozenset({"R-03", "R-04", "R-10", "R-17", "R-18", "R-19"})
MEMBER_RULES = frozenset({"R-20"})
UNFINISHED_STATES = frozenset(MeetingState.values) - {MeetingState.ARCHIVED, MeetingState.CANCELLED}


@dataclass(frozen=True)
class Step:
    """What the leader does next with a meeting in a state: a button (``action``), a page to open
    (``url_name``), or nothing but wait for the branch (``waiting``)."""

    label: str
    note: str
    action: str | None = None
    url_name: str | None = None
    waiting: bool = False


NEXT_STEPS: dict[str, Step] = {
    MeetingState.DRAFT: Step(_("提交请示"), _("向党支部请示，确定会议内容（R-11）。"), action=Action.SUBMIT),
    MeetingState.RETURNED: Step(
        _("提交请示"), _("党支部已退回：按意见修改后重新请示（R-11）。"), action=Action.SUBMIT
    ),
    MeetingState.SUBMITTED: Step(
        _("等待支部批准"),
        _("党支部书记、组织委员或纪检委员审批会议内容（R-11）。"),
        waiting=True,
    ),
    MeetingState.APPROVED: Step(
        _("通知全体党员"),
        _("党支部已批准：将会议内容提前通知全体党员（R-11）。"),
        action=Action.NOTIFY,
    ),
    MeetingState.NOTIFIED: Step(
        _("填写会议记录"),
        _("会后填写会议记录，保存并标记为已召开（R-12、R-14）。"),
        url_name="workspace:minutes",
    ),
    MeetingState.HELD: Step(
        _("上报党支部"), _("会议已召开：及时向党支部上报会议情况（R-13）。"), action=Action.REPORT
    ),
    MeetingState.REPORTED: Step(
        _("等待支部存档"), _("已上报党支部，等待党支部存档备查（R-12）。"), waiting=True
    ),
    MeetingState.ARCHIVED: Step(_("下载PDF"), _("会议记录已存档备查（R-12）。"), url_name="meetings:pdf"),
    MeetingState.CANCELLED: Step(_("已取消"), _("会议已取消。"), waiting=True),
}
NEW_MEETING_STEP = Step(
    _("新建本月党小组会"),
    _("本月还没有党小组会（R-10）：议题已从年度计划和未完成的议定事项带入，核对后保存（R-11、R-16、R-17）。"),
)


# --- Reads of the page (the group is already fetched through the user's scope and authorised) ----


def led_groups(user) -> list[PartyGroup]:
    """The groups the user leads or is deputy of, in their scope."""
    led = roles_of(user).led_group_ids
    if not led:
        return []
    return list(groups_visible_to(user).filter(pk__in=sorted(led)).order_by("branch__name", "name", "pk"))


def group_meetings(group: PartyGroup, today: dt.date) -> list[Meeting]:
    """The group's meetings planned or held this month and every unfinished one, with
    ``has_minutes`` and the branch's return comments (``returns``, newest first): two queries."""
    first, after = today.replace(day=1), add_months(today, 1)
    this_month = Q(planned_date__gte=first, planned_date__lt=after) | Q(held_on__gte=first, held_on__lt=after)
    return list(
        Meeting.objects.filter(group=group)
        .filter(this_month | Q(state__in=sorted(UNFINISHED_STATES)))
        .exclude(state=MeetingState.CANCELLED)
        .annotate(has_minutes=Exists(Minutes.objects.filter(meeting=OuterRef("pk"))))
        .prefetch_related(
            Prefetch(
                "transitions",
                queryset=MeetingTransition.objects.filter(action=Action.RETURN)
                .select_related("by")
                .order_by("-at", "-id"),
                to_attr="returns",
            )
        )
        .order_by("planned_date", "pk")
    )


def this_months_meeting(meetings: list[Meeting], today: dt.date) -> Meeting | None:
    """This month's group meeting (R-10): the first unfinished one planned or held this month, else
    the last finished one."""
    mine = [
        m
        for m in meetings
        if m.kind == MeetingKind.GROUP_MEETING
        and ((m.planned_date.year, m.planned_date.month) == (today.year, today.month) or _held_in(m, today))
    ]
    unfinished = [m for m in mine if m.state in UNFINISHED_STATES]
    if unfinished:
        return unfinished[0]
    return mine[-1] if mine else None


def _held_in(meeting: Meeting, today: dt.date) -> bool:
    return meeting.held_on is not None and (meeting.held_on.year, meeting.held_on.month) == (
        today.year,
        today.month,
    )


def year_at_a_glance(group: PartyGroup, today: dt.date) -> list[dict]:
    """R-10: each month of this year — held ✓, missing ✗ (a past month without a held group
    meeting), this month, a later month, or before the group existed. One query."""
    held = set(
        Meeting.objects.filter(
            group=group,
            kind=MeetingKind.GROUP_MEETING,
            state__in=sorted(HELD_STATES),
            held_on__year=today.year,
        )
        .annotate(month=ExtractMonth("held_on"))
        .values_list("month", flat=True)
        .distinct()
        .order_by()
    )
    founded = group.established_on.replace(day=1)
    months = []
    for month in range(1, 13):
        first = dt.date(today.year, month, 1)
        if month in held:
            status = "held"
        elif first < founded:
            status = "before"
        elif month < today.month:
            status = "missing"
        elif month == today.month:
            status = "current"
        else:
            status = "future"
        months.append({"month": month, "status": status})
    return months


def annual_plan(group: PartyGroup, year: int) -> AnnualPlan | None:
    """R-17: the group's plan for ``year`` with its items (two queries)."""
    return AnnualPlan.objects.filter(group=group, year=year).prefetch_related("items").first()


def group_findings(group: PartyGroup, today: dt.date) -> tuple[list[Finding], list[Finding]]:
    """The group's findings (R-03, R-04, R-10, R-17 … R-19) and its members' R-20 findings, from the
    same collectors as the dashboards (a fixed number of queries for the branch).

    Only the two collectors that answer these rules run (``groups``: R-03, R-04; ``meetings``:
    R-10, R-17 … R-20): the members' duties (R-30, R-31) and the leaders' reviews and training
    (R-28, R-35) are not shown here, and were a third of the page's time."""
    roster = set(
        GroupMembership.objects.current(today).filter(group=group).values_list("member_id", flat=True)
    )
    group_level, talks = [], []
    with sharing():
        found = collect_group_findings([group.branch], today) + collect_meeting_findings(
            [group.branch], today
        )
    for finding in sort_findings(found):
        if (
            finding.rule_id in GROUP_RULES
            and finding.object_type == "group"
            and finding.object_id == group.pk
        ):
            group_level.append(finding)
        elif (
            finding.rule_id in MEMBER_RULES
            and finding.object_type == "member"
            and finding.object_id in roster
        ):
            talks.append(finding)
    return group_level, talks


# --- Building the page ------------------------------------------------------------------------


def _step_url(meeting: Meeting, step: Step) -> str | None:
    if step.action:
        return reverse("workspace:action", kwargs={"pk": meeting.pk, "action": step.action})
    if step.url_name:
        return reverse(step.url_name, kwargs={"pk": meeting.pk})
    return None


def _meeting_entry(meeting: Meeting) -> dict:
    step = NEXT_STEPS[MeetingState(meeting.state)]
    returned = meeting.returns[0] if meeting.state == MeetingState.RETURNED and meeting.returns else None
    return {
        "meeting": meeting,
        "step": step,
        "url": _step_url(meeting, step),
        "returned": returned,
        "can_edit_request": meeting.state in EDITABLE_REQUEST_STATES,
        "pdf_url": (
            reverse("meetings:pdf", kwargs={"pk": meeting.pk})
            if meeting.has_minutes and meeting.state in HELD_STATES
            else None
        ),
    }


def _new_meeting_form(group: PartyGroup, plan: AnnualPlan | None, open_items, today: dt.date):
    """The request for this month's group meeting, its agenda copied from the annual plan's items
    of the month (R-17) and the open decided matters of earlier meetings (R-16)."""
    agenda, _kind = prefill_agenda(plan=plan, month=today.month, open_items=open_items)
    kind = MeetingKind.GROUP_MEETING
    return MeetingRequestForm(
        initial={
            "kind": kind,
            "planned_date": max(today, group.established_on),
            "title": _("%(year)s年%(month)s月%(kind)s")
            % {"year": today.year, "month": today.month, "kind": kind.label},
            "agenda": agenda,
        }
    )


def _followup_url(item: ActionItem, target: Meeting | None) -> str | None:
    """Where the leader records the progress of an open decided matter: the follow-up row of the
    next minutes being written (R-16), if any."""
    if target is None or item.meeting_id == target.pk:
        return None
    return reverse("workspace:minutes", kwargs={"pk": target.pk}) + f"#followup-{item.pk}"


def _context(request: HttpRequest, group: PartyGroup, *, new_form=None, groups=None) -> dict:
    today = timezone.localdate()
    meetings = group_meetings(group, today)
    current = this_months_meeting(meetings, today)
    others = [m for m in meetings if m is not current and m.state in UNFINISHED_STATES]
    open_items = services.open_action_items(group)
    plan = annual_plan(group, today.year)
    findings, talk_findings = group_findings(group, today)
    minutes_target = next(
        (m for m in ([current] if current else []) + others if m.state in MINUTES_EDITABLE_STATES), None
    )
    if current is None and new_form is None:
        new_form = _new_meeting_form(group, plan, open_items, today)
    return {
        "group": group,
        "today": today,
        "groups": groups if groups is not None else led_groups(request.user),
        "current": _meeting_entry(current) if current else None,
        "new_step": NEW_MEETING_STEP,
        "new_form": new_form if current is None else None,
        "others": [_meeting_entry(m) for m in others],
        "months": year_at_a_glance(group, today),
        "open_items": [
            {
                "item": item,
                "overdue": item.due_on < today,
                "followup_url": _followup_url(item, minutes_target),
            }
            for item in open_items
        ],
        "talk_findings": talk_findings,
        "plan": plan,
        "plan_items": len(plan.items.all()) if plan else 0,
        "findings": findings,
    }


def _render(request: HttpRequest, group: PartyGroup, *, new_form=None, groups=None) -> HttpResponse:
    """The workspace of ``group``: the whole page, or its main part for an htmx request."""
    template = "workspace/_main.html" if request.htmx else "workspace/home.html"
    return render(request, template, _context(request, group, new_form=new_form, groups=groups))


def _led_group_or_404(request: HttpRequest, group_id: int) -> PartyGroup:
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, LEAD_GROUP, group)
    return group


# --- Views ------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/workspace/``: the workspace of the one group the user leads, or the choice of group."""
    groups = led_groups(request.user)
    if not groups:
        raise PermissionDenied(_("组长工作台仅供党小组组长和副组长使用。"))
    if len(groups) == 1:
        return _render(request, groups[0], groups=groups)
    return render(request, "workspace/choose.html", {"groups": groups})


@login_required
@require_GET
def group_home(request: HttpRequest, group_id: int) -> HttpResponse:
    return _render(request, _led_group_or_404(request, group_id))


@login_required
@require_POST
def meeting_create(request: HttpRequest, group_id: int) -> HttpResponse:
    """ "新建本月党小组会": the request (draft) from the card's form. Saved, a plain POST is redirected
    to the workspace (a reload must not create a second draft), an htmx POST gets the main part;
    refused, the card's form shows the reasons and keeps the input."""
    group = _led_group_or_404(request, group_id)
    form = MeetingRequestForm(request.POST)
    if form.is_valid():
        try:
            meeting = services.meeting_create(group=group, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("“%(title)s”已保存为草稿，核对后请向党支部请示。") % {"title": meeting.title},
            )
            if not request.htmx:
                return redirect("workspace:group", group_id=group.pk)
            form = None
    return _render(request, group, new_form=form)


@login_required
@require_POST
def meeting_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """A one-button step of the leader (submit R-11, notify R-11, report R-13), answered with the
    workspace of the meeting's group; a refused step shows the service's reason."""
    if action not in BUTTON_ACTIONS:
        raise Http404(_("未知的操作。"))
    meeting = get_visible_or_404(meetings_visible_to(request.user), pk=pk)
    require_perm(request.user, LEAD_MEETING, meeting)
    flash_outcome(request, lambda: meeting_step(meeting=meeting, action=action, by=request.user))
    return _render(request, meeting.group)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The minutes page (prefilled from the roster and the request's agenda); a successful save —
    "保存并标记为已召开" — is answered with the workspace showing the next step."""
    meeting = get_visible_or_404(minutes_queryset(request.user), pk=pk)
    require_perm(request.user, EDIT_MEETING, meeting)
    return minutes_page(
        request,
        meeting,
        on_saved=lambda: _render(request, meeting.group),
        back_url=reverse("workspace:group", kwargs={"group_id": meeting.group_id}),
    )
