"""The member registry pages of a branch (党员名册): list, export, detail, reveal, add, edit, leave.

Fetch and authorise (``partygroup.http``): every member comes from ``members_visible_to(user)`` and
every branch from ``branches_visible_to(user)`` — outside the user's scope is **404**; a visible
object the role may not read or change is **403** (permissions declared once in
``groups/permissions.py`` and ``members/permissions.py``, used by name). A group leader reads only
the current members of their group (the scope of ``members_visible_to``).

Personal data: ID numbers and phone numbers are shown MASKED. The full value reaches the browser
only as the answer to a POST to ``registry:reveal`` by a user allowed to see it
(``members.reveal_personal_data``), logged once per reveal through ``members.services.member_reveal``
and sent with ``Cache-Control: no-store``; the export reveals only on request and logs through
``members.resources.export_members`` (context “导出”). Writes go through services.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import services as group_services
from groups.member_forms import AddMemberForm, ExportForm, LeaveForm, MemberForm, RegistryFilterForm
from groups.models import GroupMembership, LeaderAppointment
from groups.selectors import groups_visible_to, members_visible_to
from members import services as member_services
from members.enums import PersonalField
from members.models import Branch, Member, Unit, mask_id_number, mask_phone
from members.resources import export_members
from members.selectors import branches_visible_to
from partygroup.http import client_ip, errors_on, get_visible_or_404, require_perm

# Permissions, declared once (groups/permissions.py, members/permissions.py), used by name.
VIEW_REGISTRY = "groups.view_member_registry"
EXPORT_REGISTRY = "groups.export_member_registry"
VIEW_MEMBER = "groups.view_member"
MANAGE_BRANCH = "members.manage_branch"
REVEAL = "members.reveal_personal_data"

PAGE_SIZE = 50
BRANCH_PAGE_SIZE = 50
HISTORY_LIMIT = 50
REVEAL_CONTEXT = "党员详情页"
MASKED_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}
HISTORY_TYPES = {"+": _("新建"), "~": _("修改"), "-": _("删除")}


def _branch_from_query(request: HttpRequest) -> Branch | None:
    """The branch of ``?branch=<id>`` within the user's scope (404 outside), or None when absent."""
    branch_id = request.GET.get("branch")
    if not branch_id:
        return None
    return get_visible_or_404(branches_visible_to(request.user), pk=branch_id)


def _list_url(branch: Branch, **params) -> str:
    return f"{reverse('registry:list')}?{urlencode({'branch': branch.pk, **params})}"


def _may_reveal_in(user, branch: Branch) -> bool:
    """``members.reveal_personal_data`` depends only on the member's branch (its committee posts and
    organisation): asked once for the branch, not once per row."""
    return user.has_perm(REVEAL, Member(branch=branch))


def _filter_form(request: HttpRequest, branch: Branch) -> RegistryFilterForm:
    groups = groups_visible_to(request.user).active().filter(branch=branch).order_by("name")
    units = Unit.objects.filter(branch=branch).order_by("name")
    return RegistryFilterForm(request.GET, groups=list(groups), units=list(units))


def _registry_queryset(request: HttpRequest, branch: Branch, form: RegistryFilterForm):
    members = members_visible_to(request.user).filter(branch=branch)
    return form.apply(members, may_search_full=_may_reveal_in(request.user, branch))


# --- List and export ------------------------------------------------------------------------------


def _choose_branch(request: HttpRequest) -> HttpResponse:
    """No ``?branch``: straight to the user's only registry, else a choice among them."""
    branches = [
        b
        for b in branches_visible_to(request.user).order_by("organisation__path", "name")
        if request.user.has_perm(VIEW_REGISTRY, b)
    ]
    if not branches:
        raise PermissionDenied(_("您没有可查看的党员名册。"))
    if len(branches) == 1:
        return redirect(_list_url(branches[0]))
    page = Paginator(branches, BRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/branch_choose.html", {"page": page})


@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    """The branch's registry: search, filters, sort, 50 per page, personal data masked."""
    branch = _branch_from_query(request)
    if branch is None:
        return _choose_branch(request)
    require_perm(request.user, VIEW_REGISTRY, branch)
    form = _filter_form(request, branch)
    page = Paginator(_registry_queryset(request, branch, form), PAGE_SIZE).get_page(request.GET.get("page"))
    can_export = request.user.has_perm(EXPORT_REGISTRY, branch)
    return render(
        request,
        "registry/member_list.html",
        {
            "branch": branch,
            "form": form,
            "page": page,
            "can_manage": request.user.has_perm(MANAGE_BRANCH, branch),
            "can_export": can_export,
            "export_form": ExportForm() if can_export else None,
            "may_reveal": _may_reveal_in(request.user, branch),
        },
    )


@login_required
@require_POST
def member_export(request: HttpRequest) -> HttpResponse:
    """The list as filtered (``?branch=…&q=…``) as .xlsx/.csv, masked unless ``reveal`` is asked for;
    full values only for members the user may reveal, each logged (context “导出”)."""
    branch = _branch_from_query(request)
    if branch is None:
        raise Http404(_("请选择党支部。"))
    require_perm(request.user, EXPORT_REGISTRY, branch)
    options = ExportForm(request.POST)
    if not options.is_valid():
        for errors in options.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(f"{reverse('registry:list')}?{request.GET.urlencode()}")
    fmt = options.cleaned_data["fmt"]
    members = _registry_queryset(request, branch, _filter_form(request, branch))
    data = export_members(
        members,
        request.user,
        fmt,
        reveal=options.cleaned_data["reveal"],
        ip_address=client_ip(request),
    )
    response = FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=f"党员名册-{branch.name}-{timezone.localdate():%Y-%m-%d}.{fmt}",
        content_type=(
            "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
    )
    add_never_cache_headers(response)
    return response


# --- Detail and reveal ----------------------------------------------------------------------------


@dataclass
class HistoryChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    at: dt.datetime
    by: str
    kind: str
    reason: str
    changes: list[HistoryChange] = field(default_factory=list)


def _shown(model_field, value, related: dict) -> str:
    """A value of the member's history as a person reads it; ID number and phone always masked."""
    if value is None or value == "":
        return str(_("（空）"))
    if model_field.name in MASKED_FIELDS:
        return MASKED_FIELDS[model_field.name](value)
    if model_field.is_relation:
        return str(related.get((model_field.name, value), f"#{value}"))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def member_history(member: Member, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """The last ``limit`` changes of the member's record (simple-history): who, when, what (old → new).

    One query for the records, and at most one per related model whose value changed.
    """
    records = list(
        member.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    deltas = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        deltas.append((record, record.diff_against(previous).changes if previous is not None else []))
    opts = Member._meta
    wanted: dict[str, set] = {}
    for _record, changes in deltas:
        for change in changes:
            model_field = opts.get_field(change.field)
            if model_field.is_relation:
                wanted.setdefault(change.field, set()).update(v for v in (change.old, change.new) if v)
    related: dict[tuple[str, object], object] = {}
    for name, ids in wanted.items():
        for pk, obj in opts.get_field(name).related_model._default_manager.in_bulk(ids).items():
            related[(name, pk)] = obj
    entries = []
    for record, changes in deltas:
        entry = HistoryEntry(
            at=record.history_date,
            by=str(record.history_user) if record.history_user_id else str(_("系统")),
            kind=str(HISTORY_TYPES.get(record.history_type, record.history_type)),
            reason=record.history_change_reason or "",
        )
        for change in changes:
            model_field = opts.get_field(change.field)
            entry.changes.append(
                HistoryChange(
                    label=str(model_field.verbose_name),
                    old=_shown(model_field, change.old, related),
                    new=_shown(model_field, change.new, related),
                )
            )
        entries.append(entry)
    return entries


def _detail_context(request: HttpRequest, member: Member, revealed: dict[str, str] | None = None) -> dict:
    today = timezone.localdate()
    memberships = list(
        GroupMembership.objects.filter(member=member).select_related("group").order_by("-started_on", "-id")
    )
    appointments = list(
        LeaderAppointment.objects.filter(member=member).select_related("group").order_by("-started_on", "-id")
    )
    committee_posts = list(
        member.committee_memberships.select_related("branch").order_by("-started_on", "-id")
    )
    may_reveal = request.user.has_perm(REVEAL, member)
    return {
        "member": member,
        "branch": member.branch,
        "current_membership": next((m for m in memberships if m.covers(today)), None),
        "memberships": memberships,
        "appointments": appointments,
        "committee_posts": committee_posts,
        "history": member_history(member),
        "may_reveal": may_reveal,
        "can_manage": request.user.has_perm(MANAGE_BRANCH, member.branch),
        "can_view_registry": request.user.has_perm(VIEW_REGISTRY, member.branch),
        "revealed": revealed or {},
        "today": today,
    }


def _visible_member(request: HttpRequest, pk: int) -> Member:
    return get_visible_or_404(members_visible_to(request.user), pk=pk)


@login_required
@require_GET
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One member: data (masked), group history (R-06), leader posts, committee posts, changes."""
    member = _visible_member(request, pk)
    require_perm(request.user, VIEW_MEMBER, member)
    return render(request, "registry/member_detail.html", _detail_context(request, member))


@login_required
@require_POST
def member_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """The full ID number or phone in place of the masked one (htmx fragment, or the detail page for
    a plain POST). Logged once per request; refused (403, nothing logged) to users not allowed."""
    if field not in PersonalField.values:
        raise Http404(_("未知的字段。"))
    member = _visible_member(request, pk)
    require_perm(request.user, REVEAL, member)
    value = member_services.member_reveal(
        member=member, field=field, by=request.user, context=REVEAL_CONTEXT, ip=client_ip(request)
    )
    if request.htmx:
        response = render(
            request, "registry/_revealed.html", {"member": member, "field": field, "value": value}
        )
    else:
        response = render(
            request, "registry/member_detail.html", _detail_context(request, member, revealed={field: value})
        )
    add_never_cache_headers(response)
    return response


# --- Writes: add, edit, leave (branch committee) --------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    """A new member of ``?branch=`` (its committee), placed in a group at once if chosen (R-09)."""
    branch = _branch_from_query(request)
    if branch is None:
        raise Http404(_("请选择党支部。"))
    require_perm(request.user, MANAGE_BRANCH, branch)
    if request.method == "POST":
        form = AddMemberForm(request.POST, instance=Member(branch=branch), branch=branch)
        if form.is_valid():
            with errors_on(form, {"member": None}):
                member = group_services.member_add(
                    member=form.instance,
                    by=request.user,
                    group=form.cleaned_data["group"],
                    group_started_on=form.cleaned_data["started_on"],
                )
                messages.success(request, _("已新增党员“%(name)s”。") % {"name": member.name})
                return redirect("registry:detail", pk=member.pk)
    else:
        form = AddMemberForm(instance=Member(branch=branch), branch=branch)
    return render(request, "registry/member_form.html", {"form": form, "branch": branch, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The member's data (branch committee); ID number and phone start masked (see MemberForm)."""
    member = _visible_member(request, pk)
    require_perm(request.user, MANAGE_BRANCH, member.branch)
    name = member.name  # the form changes the instance in memory while it validates
    if request.method == "POST":
        form = MemberForm(request.POST, instance=member, branch=member.branch)
        if form.is_valid():
            with errors_on(form):
                member_services.member_save(member=form.instance, by=request.user, reason="党员名册修改")
                messages.success(request, _("党员信息已保存。"))
                return redirect("registry:detail", pk=member.pk)
    else:
        form = MemberForm(instance=member, branch=member.branch)
    return render(
        request,
        "registry/member_form.html",
        {"form": form, "branch": member.branch, "member_pk": pk, "member_name": name, "creating": False},
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """离册: state left with the date; the group membership and any leader post end that day."""
    member = _visible_member(request, pk)
    require_perm(request.user, MANAGE_BRANCH, member.branch)
    current = (
        GroupMembership.objects.current().filter(member=member).select_related("group").first()
        if member.is_active
        else None
    )
    appointments = list(LeaderAppointment.objects.current().filter(member=member).select_related("group"))
    if request.method == "POST":
        form = LeaveForm(request.POST)
        if form.is_valid():
            with errors_on(form):
                group_services.member_leave(
                    member=member,
                    left_on=form.cleaned_data["left_on"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
                messages.success(request, _("“%(name)s”已离册。") % {"name": member.name})
                return redirect("registry:detail", pk=member.pk)
    else:
        form = LeaveForm(initial={"left_on": timezone.localdate()})
    return render(
        request,
        "registry/member_leave.html",
        {"form": form, "member": member, "current_membership": current, "appointments": appointments},
    )
