"""The meeting pages (R-11 … R-21): list, request, detail with the workflow, minutes, addenda, talks,
annual plans and the PDF of the minutes.

Every view fetches its object through the user's scope (``meetings_visible_to`` /
``groups_visible_to`` / ``talks_visible_to``): anything outside it is **404**. It then checks a
permission declared once with django-rules, by name: a visible object the role may not change is
**403**. Writes go through ``meetings.services``; their ``PermissionDenied`` is a 403 as well, their
``ValidationError`` a Chinese message (status 200 on a form page, a redirect with an error message
after a workflow action). Nothing here decides a rule of the domain.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups.selectors import candidates_visible_to, groups_visible_to, roles_of
from meetings import pdf, services
from meetings.enums import (
    EDITABLE_REQUEST_STATES,
    HELD_STATES,
    MINUTES_EDITABLE_STATES,
    TRANSITIONS,
    Action,
    Actor,
    AttendanceRole,
    MeetingKind,
    MeetingState,
    NoticeStatus,
)
from meetings.forms import (
    AddendumForm,
    AgendaPrefillForm,
    AnnualPlanForm,
    CommentForm,
    CultivationOpinionForm,
    MeetingFilterForm,
    MeetingRequestForm,
    MinutesEntry,
    PlanItemFormSet,
    TalkFilterForm,
    TalkForm,
    attendance_date_from,
    plan_item_inputs,
    prefill_agenda,
)
from meetings.models import (
    AnnualPlan,
    AnnualPlanItem,
    Meeting,
    MeetingNotice,
    MeetingTransition,
    NoticeRecipient,
)
from meetings.selectors import (
    cultivation_opinions_visible_to,
    meetings_visible_to,
    roster_on,
    talks_visible_to,
    with_full_record,
)
from members.enums import MemberState
from members.models import Member
from partygroup.http import flash_outcome, get_visible_or_404, require_perm

# Permissions, declared once in meetings/permissions.py and groups/permissions.py, used by name.
VIEW_MEETING = "meetings.view_meeting"
LEAD_MEETING = "meetings.lead_meeting"
EDIT_MEETING = "meetings.edit_meeting"  # the leader, never once archived
APPROVE_MEETING = "meetings.approve_meeting"
ADD_ADDENDUM = "meetings.add_addendum"
VIEW_MINUTES_PDF = "meetings.view_minutes_pdf"
LEAD_GROUP = "groups.lead_group"
VIEW_GROUP = "groups.view_group_detail"

ACTOR_PERMS = {Actor.LEADER: LEAD_MEETING, Actor.COMMITTEE: APPROVE_MEETING}
PAGE_SIZE = 20

# What happens next, by state (the "next step" box of the detail page).
NEXT_STEPS = {
    MeetingState.DRAFT: _("下一步：党小组组长向党支部请示，确定会议内容（R-11）。"),
    MeetingState.SUBMITTED: _("下一步：等待党支部书记、组织委员或纪检委员审批会议内容（R-11）。"),
    MeetingState.RETURNED: _("下一步：党小组组长根据党支部的意见修改后重新请示（R-11）。"),
    MeetingState.APPROVED: _("下一步：党小组组长将经批准的会议内容提前通知全体党员（R-11）。"),
    MeetingState.NOTIFIED: _("下一步：会后填写会议记录，并标记为已召开（R-12、R-14）。"),
    MeetingState.HELD: _("下一步：党小组组长及时向党支部上报会议情况（R-13）。"),
    MeetingState.REPORTED: _("下一步：党支部将会议记录存档备查（R-12）。"),
    MeetingState.ARCHIVED: _("会议记录已存档，只读（R-12）；如需更正，请添加补正记录。"),
    MeetingState.CANCELLED: _("会议已取消。"),
}

SUCCESS_MESSAGES = {
    Action.SUBMIT: _("已向党支部请示。"),
    Action.APPROVE: _("已批准会议内容。"),
    Action.RETURN: _("已退回修改，意见已告知党小组组长。"),
    Action.HOLD: _("已标记为已召开。"),
    Action.REPORT: _("已向党支部上报会议情况。"),
    Action.ARCHIVE: _("会议记录已存档。"),
    Action.CANCEL: _("会议已取消。"),
}

BUTTON_STYLES = {
    Action.APPROVE: "btn-success",
    Action.RETURN: "btn-outline-warning",
    Action.CANCEL: "btn-outline-secondary",
}


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's messages on the form: on a field the form has, else at the top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def posted_comment(request: HttpRequest) -> str | None:
    """The comment of a workflow step's POST (``CommentForm``), or None with its errors flashed."""
    form = CommentForm(request.POST)
    if form.is_valid():
        return form.cleaned_data["comment"]
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return None


def meeting_step(*, meeting: Meeting, action: str, by, comment: str = "") -> str:
    """One step of the meeting's workflow — the notify step sends the notice too (R-11) — and its
    success message (for the notify step: who was reached by e-mail)."""
    if action == Action.NOTIFY:
        return notice_message(services.meeting_notify(meeting=meeting, by=by, comment=comment))
    services.meeting_transition(meeting=meeting, action=action, by=by, comment=comment)
    return str(SUCCESS_MESSAGES[action])


def _year_or_404(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise Http404(_("年度无效。"))
    return year


# --- List ---------------------------------------------------------------------------------------


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """The meetings the user may see, filtered by group, kind, state and year; paginated."""
    visible = groups_visible_to(request.user)
    led = roles_of(request.user).led_group_ids
    led_groups = list(visible.filter(pk__in=sorted(led)).order_by("branch__name", "name")) if led else []
    # The filter's choices: only what the option shows (organisation staff see thousands of groups).
    choices = visible.select_related(None).only("pk", "name")
    form = MeetingFilterForm(request.GET or None, groups=choices)
    meetings = form.filter(
        meetings_visible_to(request.user)
        .select_related("group", "group__branch")
        .order_by("-planned_date", "-id")
    )
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "form": form,
            "page": page,
            "led_groups": led_groups,
            "current_year": timezone.localdate().year,
        },
    )


# --- The request: create and edit (R-11) --------------------------------------------------------


@login_required
@require_GET
def meeting_create_choose(request: HttpRequest) -> HttpResponse:
    """ "New meeting": straight to the request form of the group the user leads (or a choice)."""
    led = roles_of(request.user).led_group_ids
    groups = list(groups_visible_to(request.user).filter(pk__in=list(led)).order_by("name"))
    if not groups:
        raise PermissionDenied(_("只有党小组组长或副组长可以安排会议。"))
    if len(groups) == 1:
        return redirect("meetings:create", group_id=groups[0].pk)
    return render(request, "meetings/meeting_create_choose.html", {"groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, group_id: int) -> HttpResponse:
    """A new request for approval (请示), its agenda prefilled from the annual plan of the month
    (R-17) and the open decided matters of earlier meetings (R-16) — editable."""
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, LEAD_GROUP, group)
    open_items = services.open_action_items(group)
    prefill = AgendaPrefillForm(request.GET or None)
    day = prefill.cleaned_data["planned_date"] if prefill.is_valid() else timezone.localdate()
    plan = AnnualPlan.objects.filter(group=group, year=day.year).prefetch_related("items").first()
    plan_items = [item for item in plan.items.all() if item.month == day.month] if plan else []
    if request.method == "POST":
        form = MeetingRequestForm(request.POST)
        if form.is_valid():
            try:
                meeting = services.meeting_create(group=group, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("会议请示已保存为草稿，核对后请向党支部请示。"))
                return redirect("meetings:detail", pk=meeting.pk)
    else:
        agenda, kind = prefill_agenda(plan=plan, month=day.month, open_items=open_items)
        kind = kind or MeetingKind.GROUP_MEETING
        form = MeetingRequestForm(
            initial={
                "kind": kind,
                "planned_date": day,
                "title": _("%(year)s年%(month)s月%(kind)s")
                % {"year": day.year, "month": day.month, "kind": MeetingKind(kind).label},
                "agenda": agenda,
            }
        )
    if not prefill.is_bound:
        prefill = AgendaPrefillForm(initial={"planned_date": day})
    return render(
        request,
        "meetings/meeting_form.html",
        {
            "form": form,
            "group": group,
            "prefill": prefill,
            "plan": plan,
            "plan_items": plan_items,
            "open_items": open_items,
            "month": day,
            "creating": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the request while it is a draft or returned for changes."""
    meeting = get_visible_or_404(meetings_visible_to(request.user).select_related("group"), pk=pk)
    require_perm(request.user, EDIT_MEETING, meeting)
    if request.method == "GET" and meeting.state not in EDITABLE_REQUEST_STATES:
        messages.error(
            request,
            _("会议当前状态为“%(state)s”，请示内容不能修改（仅草稿或退回时可修改）。")
            % {"state": meeting.get_state_display()},
        )
        return redirect("meetings:detail", pk=meeting.pk)
    initial = model_to_dict(meeting, fields=services.REQUEST_FIELDS)
    if request.method == "POST":
        form = MeetingRequestForm(request.POST, initial=initial)
        if form.is_valid():
            try:
                services.meeting_update_request(meeting=meeting, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("请示内容已修改。"))
                return redirect("meetings:detail", pk=meeting.pk)
    else:
        form = MeetingRequestForm(initial=initial)
    return render(
        request,
        "meetings/meeting_form.html",
        {"form": form, "group": meeting.group, "meeting": meeting, "creating": False},
    )


# --- Detail and workflow actions ----------------------------------------------------------------


def _detail_queryset(user):
    """The detail page's meeting: the full record with the addenda, its workflow steps and notices."""
    return (
        with_full_record(meetings_visible_to(user), actions_by=("due_on", "id"), with_addenda=True)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "transitions", queryset=MeetingTransition.objects.select_related("by").order_by("at", "id")
            ),
            Prefetch(
                "notices",
                queryset=MeetingNotice.objects.select_related("sent_by")
                .prefetch_related(
                    Prefetch(
                        "recipients",
                        queryset=NoticeRecipient.objects.select_related("member").order_by("member__name"),
                    )
                )
                .order_by("-sent_at", "-id"),
            ),
        )
    )


def _minutes_of(meeting: Meeting):
    try:
        return meeting.minutes
    except Meeting.minutes.RelatedObjectDoesNotExist:
        return None


def _life_record_of(meeting: Meeting):
    try:
        return meeting.life_record
    except Meeting.life_record.RelatedObjectDoesNotExist:
        return None


def _actions_for(user, meeting: Meeting) -> list[dict]:
    """The workflow buttons this user may press in the meeting's state (the table decides)."""
    result = []
    for action, transition in TRANSITIONS.items():
        if meeting.state not in transition.sources:
            continue
        if not user.has_perm(ACTOR_PERMS[transition.actor], meeting):
            continue
        result.append(
            {
                "action": action,
                "label": Action(action).label,
                "comment_required": transition.comment_required,
                "url": reverse("meetings:action", kwargs={"pk": meeting.pk, "action": action}),
                "style": BUTTON_STYLES.get(action, "btn-party"),
            }
        )
    return result


def _detail_context(request: HttpRequest, meeting: Meeting) -> dict:
    user = request.user
    minutes = _minutes_of(meeting)
    attendances = list(meeting.attendances.all())
    transitions = list(meeting.transitions.all())
    for transition in transitions:
        transition.action_label = Action(transition.action).label if transition.action in Action else ""
    notices = list(meeting.notices.all())
    notice = notices[0] if notices else None
    recipients = list(notice.recipients.all()) if notice else []
    can_edit = user.has_perm(EDIT_MEETING, meeting)
    actions = _actions_for(user, meeting)
    last_return = next((t for t in reversed(transitions) if t.action == Action.RETURN), None)
    return {
        "meeting": meeting,
        "group": meeting.group,
        "minutes": minutes,
        "life_record": _life_record_of(meeting),
        "present": [a for a in attendances if a.role == AttendanceRole.PRESENT],
        "absent": [a for a in attendances if a.role == AttendanceRole.ABSENT],
        "observers": [a for a in attendances if a.role == AttendanceRole.OBSERVER],
        "agenda_items": list(meeting.agenda_items.all()),
        "action_items": list(meeting.action_items.all()),
        "follow_ups": list(meeting.follow_ups.all()),
        "evaluations": list(meeting.evaluations.all()),
        "addenda": list(meeting.addenda.all()),
        "transitions": transitions,
        "last_return": last_return if meeting.state == MeetingState.RETURNED else None,
        "notice": notice,
        "recipients": recipients,
        "unreached": [r for r in recipients if r.status != NoticeStatus.SENT],
        "next_step": NEXT_STEPS[MeetingState(meeting.state)],
        "actions": [a for a in actions if a["action"] != Action.HOLD],
        "hold_action": next((a for a in actions if a["action"] == Action.HOLD), None),
        "can_edit_request": can_edit and meeting.state in EDITABLE_REQUEST_STATES,
        "can_write_minutes": can_edit and meeting.state in MINUTES_EDITABLE_STATES,
        "can_add_addendum": meeting.is_archived and user.has_perm(ADD_ADDENDUM, meeting),
        "can_view_pdf": (
            minutes is not None
            and meeting.state in pdf.PRINTABLE_STATES
            and user.has_perm(VIEW_MINUTES_PDF, meeting)
        ),
        "can_view_plan": user.has_perm(VIEW_GROUP, meeting.group),
        "agenda_lines": meeting.agenda_lines(),
        **_cultivation_context(user, meeting),
    }


def _cultivation_context(user, meeting: Meeting, form: CultivationOpinionForm | None = None) -> dict:
    """R-22: on a held meeting of a group that cultivates people, the group's opinions given in it and,
    for the group's leader while the record is not archived, the form to record one (two queries)."""
    if meeting.state not in HELD_STATES:
        return {}
    candidates = list(candidates_visible_to(user).filter(group_id=meeting.group_id).order_by("name", "pk"))
    if not candidates and form is None:
        return {}
    opinions = list(
        cultivation_opinions_visible_to(user)
        .filter(meeting=meeting)
        .select_related("recorded_by")
        .order_by("candidate__name", "pk")
    )
    if form is None and meeting.state != MeetingState.ARCHIVED and user.has_perm(LEAD_MEETING, meeting):
        form = CultivationOpinionForm(
            candidates=candidates_visible_to(user).filter(group_id=meeting.group_id).order_by("name", "pk"),
            agenda_items=meeting.agenda_items.order_by("number"),
        )
    return {"cultivation_candidates": candidates, "cultivation_opinions": opinions, "opinion_form": form}


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_visible_or_404(_detail_queryset(request.user), pk=pk)
    require_perm(request.user, VIEW_MEETING, meeting)
    return render(request, "meetings/meeting_detail.html", _detail_context(request, meeting))


def notice_message(notice: MeetingNotice) -> str:
    recipients = list(notice.recipients.select_related("member").order_by("member__name"))
    sent = [r for r in recipients if r.status == NoticeStatus.SENT]
    unreached = [r.member.name for r in recipients if r.status != NoticeStatus.SENT]
    text = _("已通知全体党员：%(sent)s人已发送电子邮件。") % {"sent": len(sent)}
    if unreached:
        text += _("以下%(count)s人未能通过电子邮件通知，请组长另行通知：%(names)s。") % {
            "count": len(unreached),
            "names": "、".join(unreached),
        }
    return text


@login_required
@require_POST
def meeting_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step of the workflow (submit, approve, return, notify, hold, report, archive, cancel).

    Plain POST answers with a redirect to the detail page; an htmx POST with the page's main part.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Http404(_("未知的操作。"))
    meeting = get_visible_or_404(meetings_visible_to(request.user).select_related("group"), pk=pk)
    require_perm(request.user, ACTOR_PERMS[transition.actor], meeting)
    comment = posted_comment(request)
    if comment is not None:
        flash_outcome(
            request, lambda: meeting_step(meeting=meeting, action=action, by=request.user, comment=comment)
        )
    if request.htmx:
        meeting = get_visible_or_404(_detail_queryset(request.user), pk=pk)
        return render(request, "meetings/_meeting_main.html", _detail_context(request, meeting))
    return redirect("meetings:detail", pk=pk)


# --- Minutes (R-14 … R-19) ----------------------------------------------------------------------


def minutes_queryset(user):
    return with_full_record(meetings_visible_to(user))


def _minutes_entry(request: HttpRequest, meeting: Meeting, data=None) -> MinutesEntry:
    """The minutes page's forms; attendance prefilled from the roster on the meeting's date."""
    minutes = _minutes_of(meeting)
    attendance_date = attendance_date_from(request.GET.get("date"))
    day = attendance_date or (minutes.held_on if minutes else meeting.planned_date)
    roster = roster_on(meeting.group, day)
    members = {m.pk: m for m in Member.objects.filter(branch=meeting.group.branch, state=MemberState.ACTIVE)}
    for member in roster:
        members.setdefault(member.pk, member)
    for attendance in meeting.attendances.all():
        if attendance.member_id:
            members.setdefault(attendance.member_id, attendance.member)
    pool = sorted(members.values(), key=lambda m: (m.name, m.pk))
    return MinutesEntry(
        meeting,
        roster=roster,
        members=pool,
        open_items=services.open_action_items(meeting.group, exclude_meeting=meeting),
        data=data,
        attendance_date=attendance_date,
        default_host=members.get(roles_of(request.user).member_id),
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the minutes; "save draft" or "save and mark held". The services validate everything at
    once: their Chinese messages are shown above the form, the input is kept, nothing is saved."""
    meeting = get_visible_or_404(minutes_queryset(request.user), pk=pk)
    require_perm(request.user, EDIT_MEETING, meeting)
    return minutes_page(request, meeting, on_saved=lambda: redirect("meetings:detail", pk=meeting.pk))


def minutes_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    on_saved: Callable[[], HttpResponse],
    back_url: str | None = None,
) -> HttpResponse:
    """The minutes page of a meeting already fetched through ``minutes_queryset`` and authorised
    (``EDIT_MEETING``). A successful save is answered by ``on_saved()`` — the meeting page redirects
    to the detail, the leader's workspace (meetings/workspace.py) shows itself with the next step."""
    if request.method == "GET" and meeting.state not in MINUTES_EDITABLE_STATES:
        if meeting.state == MeetingState.ARCHIVED:
            messages.error(request, _("会议已存档，记录只读（R-12）；如需更正，请添加补正记录。"))
        else:
            messages.error(
                request,
                _("会议当前状态为“%(state)s”，不能填写会议记录（会议须经党支部批准并通知全体党员，R-11）。")
                % {"state": meeting.get_state_display()},
            )
        return redirect("meetings:detail", pk=meeting.pk)
    service_errors: list[str] = []
    if request.method == "POST":
        entry = _minutes_entry(request, meeting, data=request.POST)
        mark_held = bool(request.POST.get("mark_held"))
        if entry.is_valid():
            try:
                entry.save(by=request.user, mark_held=mark_held)
            except ValidationError as exc:
                service_errors = exc.messages
            else:
                if mark_held and meeting.state == MeetingState.NOTIFIED:
                    messages.success(request, _("会议记录已保存，会议已标记为已召开。"))
                else:
                    messages.success(request, _("会议记录已保存。"))
                return on_saved()
    else:
        entry = _minutes_entry(request, meeting)
    return render(
        request,
        "meetings/minutes_form.html",
        {
            "meeting": meeting,
            "group": meeting.group,
            "entry": entry,
            "service_errors": service_errors,
            "has_form_errors": request.method == "POST" and not service_errors,
            "can_mark_held": meeting.state == MeetingState.NOTIFIED,
            "is_life_meeting": meeting.kind == MeetingKind.LIFE_MEETING,
            "is_evaluation": meeting.kind == MeetingKind.EVALUATION,
            "back_url": back_url or reverse("meetings:detail", kwargs={"pk": meeting.pk}),
        },
    )


# --- Addenda and the PDF ------------------------------------------------------------------


@login_required
@require_POST
def opinion_record(request: HttpRequest, pk: int) -> HttpResponse:
    """R-22: the group's opinion on a person it cultivates, given in this held meeting (the leader)."""
    meeting = get_visible_or_404(_detail_queryset(request.user), pk=pk)
    require_perm(request.user, LEAD_MEETING, meeting)
    form = CultivationOpinionForm(
        request.POST,
        candidates=candidates_visible_to(request.user).filter(group_id=meeting.group_id),
        agenda_items=meeting.agenda_items.all(),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            opinion = services.cultivation_opinion_record(
                candidate=data["candidate"],
                meeting=meeting,
                recommendation=data["recommendation"],
                opinion=data["opinion"],
                agenda_item=data["agenda_item"],
                proposed_stage=data["proposed_stage"] or None,
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request, _("已登记党小组对“%(name)s”的意见。") % {"name": opinion.candidate.name}
            )
            return redirect(reverse("meetings:detail", args=[meeting.pk]) + "#cultivation")
    context = _detail_context(request, meeting)
    context.update(_cultivation_context(request.user, meeting, form))
    return render(request, "meetings/meeting_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def addendum_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A correction of an archived record: a new, linked addendum, never an edit (R-12)."""
    meeting = get_visible_or_404(meetings_visible_to(request.user).select_related("group"), pk=pk)
    require_perm(request.user, ADD_ADDENDUM, meeting)
    if request.method == "GET" and not meeting.is_archived:
        messages.info(request, _("只有已存档的会议记录需要补正；未存档的记录可直接修改。"))
        return redirect("meetings:detail", pk=meeting.pk)
    form = AddendumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            addendum = services.addendum_add(meeting=meeting, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加补正记录（补正%(number)s）。") % {"number": addendum.number})
            return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/addendum_form.html", {"meeting": meeting, "form": form})


@login_required
@require_GET
def minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """``meetings/<id>/minutes.pdf``: the minutes as the template prints them (R-14)."""
    meeting = get_visible_or_404(meetings_visible_to(request.user).select_related("group"), pk=pk)
    require_perm(request.user, VIEW_MINUTES_PDF, meeting)
    try:
        content = pdf.minutes_pdf(meeting)
    except pdf.MinutesUnavailableError as exc:
        messages.error(request, str(exc))
        return redirect("meetings:detail", pk=meeting.pk)
    return FileResponse(
        io.BytesIO(content),
        content_type="application/pdf",
        as_attachment=True,
        filename=pdf.minutes_filename(meeting),
    )


# --- Talks (R-20) -------------------------------------------------------------------------------


@login_required
@require_GET
def talk_list(request: HttpRequest) -> HttpResponse:
    groups = groups_visible_to(request.user).order_by("branch__name", "name")
    form = TalkFilterForm(request.GET or None, groups=groups)
    talks = talks_visible_to(request.user).select_related("group", "initiator", "partner")
    if form.is_valid() and form.cleaned_data["group"]:
        talks = talks.filter(group=form.cleaned_data["group"])
    page = Paginator(talks.order_by("-talked_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    led = roles_of(request.user).led_group_ids
    led_groups = [g for g in groups if g.pk in led] if led else []
    return render(request, "meetings/talk_list.html", {"form": form, "page": page, "led_groups": led_groups})


@login_required
@require_http_methods(["GET", "POST"])
def talk_create(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, LEAD_GROUP, group)
    today = timezone.localdate()
    members = roster_on(group, today)
    own = roles_of(request.user).member_id
    form = TalkForm(
        request.POST or None,
        members=members,
        # ?partner=<id>: the workspace's "登记谈话" link for a member overdue for a talk.
        initial={
            "talked_on": today,
            "initiator": str(own) if own else "",
            "partner": request.GET.get("partner", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.talk_record(group=group, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("谈心谈话已登记。"))
            return redirect(f"{reverse('meetings:talks')}?group={group.pk}")
    return render(request, "meetings/talk_form.html", {"form": form, "group": group})


# --- Annual plan (R-17) -------------------------------------------------------------------------


@login_required
@require_GET
def plan_current(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, VIEW_GROUP, group)
    return redirect("meetings:plan", group_id=group.pk, year=timezone.localdate().year)


@login_required
@require_GET
def plan_detail(request: HttpRequest, group_id: int, year: int) -> HttpResponse:
    """The group's annual plan (months, topics, kinds) next to the meetings held that year."""
    year = _year_or_404(year)
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, VIEW_GROUP, group)
    plan = (
        AnnualPlan.objects.filter(group=group, year=year)
        .select_related("created_by")
        .prefetch_related(Prefetch("items", queryset=AnnualPlanItem.objects.order_by("month", "id")))
        .first()
    )
    held = list(meetings_visible_to(request.user).filter(group=group, held_on__year=year).order_by("held_on"))
    months = []
    for month in range(1, 13):
        months.append(
            {
                "month": month,
                "items": [i for i in plan.items.all() if i.month == month] if plan else [],
                "held": [m for m in held if m.held_on.month == month],
            }
        )
    return render(
        request,
        "meetings/plan_detail.html",
        {
            "group": group,
            "year": year,
            "plan": plan,
            "months": months,
            "can_edit": request.user.has_perm(LEAD_GROUP, group),
            "previous_year": year - 1,
            "next_year": year + 1,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, group_id: int, year: int) -> HttpResponse:
    year = _year_or_404(year)
    group = get_visible_or_404(groups_visible_to(request.user), pk=group_id)
    require_perm(request.user, LEAD_GROUP, group)
    plan = AnnualPlan.objects.filter(group=group, year=year).prefetch_related("items").first()
    if plan is not None:
        head_initial = {"summary": plan.summary, "meetings_per_year": plan.meetings_per_year}
        rows = [
            {"month": i.month, "kind": i.kind, "topic": i.topic, "category": i.category}
            for i in plan.items.all()
        ]
    else:
        head_initial = {"meetings_per_year": 12}
        rows = [{"month": month} for month in range(1, 13)]
    data = request.POST if request.method == "POST" else None
    form = AnnualPlanForm(data, initial=head_initial)
    items = PlanItemFormSet(data, prefix="items", initial=rows)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid() and items.is_valid():
        try:
            services.annual_plan_save(
                group=group,
                year=year,
                items=plan_item_inputs(items),
                by=request.user,
                summary=form.cleaned_data["summary"],
                meetings_per_year=form.cleaned_data["meetings_per_year"],
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("%(year)s年度计划已保存。") % {"year": year})
            return redirect("meetings:plan", group_id=group.pk, year=year)
    return render(
        request,
        "meetings/plan_form.html",
        {"group": group, "year": year, "form": form, "items": items, "service_errors": errors},
    )
