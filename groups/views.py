"""The branch committee's pages for setting up groups and leaders (R-01 … R-09, R-24 … R-26).

- ``group_list`` (``?branch=``): the branch's groups with size, full members, leaders, unit and their
  findings; members in no group (R-09) with a quick "编入党小组".
- ``group_detail`` and its actions: place a member, move members (a branch decision, R-05/R-06), end a
  membership, appoint a leader or deputy (R-24 hard, R-25 attestations, R-26 mode and term), end an
  appointment, dissolve the group (R-05).
- ``group_create`` (``?branch=``): a new group as a branch decision, with its first members.
- ``change_list`` (``?branch=``) and the filing actions: the branch files (报上级备案), the higher
  organisation acknowledges or returns with a comment (R-05).
- ``split``: the split suggestion (R-01, R-07, R-03, R-04), adjusted and accepted as one decision.

Fetch and authorise in one step: a branch or group outside the user's scope is **404**; a visible one
the role may not change is **403** (org staff read, the branch committee writes). Writes go through
``groups.services`` / ``groups.split``; their ``ValidationError`` is shown in Chinese, nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import rules, services
from groups.findings import collect_group_findings
from groups.forms import (
    AcknowledgeChangeForm,
    AppointLeaderForm,
    ChangeFilterForm,
    DissolveForm,
    EndAppointmentForm,
    EndMembershipForm,
    FileChangeForm,
    GroupCreateForm,
    MoveMembersForm,
    PlaceMemberForm,
    QuickPlaceForm,
    ReturnChangeForm,
    SplitCountForm,
    SplitDecisionForm,
    SplitDraft,
)
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from groups.selectors import (
    appointments_visible_to,
    group_changes_visible_to,
    memberships_visible_to,
    roles_of,
)
from groups.split import check_proposal, split_accept, split_bounds, split_members, suggest_split_for_branch
from groups.view_helpers import branch_for, group_for
from members.enums import MemberState, MemberStatus
from members.models import Branch, Member
from partygroup.findings import Finding
from partygroup.http import (
    errors_on,
    finding_messages,
    flash_outcome,
    form_messages,
    get_visible_or_404,
    require_perm,
)

# Permissions, declared once in groups/permissions.py, used by name.
VIEW_BRANCH = "groups.view_branch_groups"  # the branch committee and org staff of the subtree
MANAGE_BRANCH = "groups.manage_branch_groups"  # the branch committee
VIEW_GROUP = "groups.view_group_detail"  # … and the group's own leader
MANAGE_GROUP = "groups.manage_group"
APPOINT_LEADER = "groups.appoint_leader"
FILE_CHANGE = "groups.file_group_change"
ACKNOWLEDGE_CHANGE = "groups.acknowledge_group_change"

PAGE_SIZE = 20
GROUP_RULES = frozenset({"R-03", "R-04", "R-08", "R-24"})  # shown next to each group


def _list_url(branch_id: int, name: str = "groups:list", **params) -> str:
    return f"{reverse(name)}?{urlencode({'branch': branch_id, **params})}"


# --- Reads for the pages (scoped by the branch or group fetched through the user's scope) --------


def _current(prefix: str, on: dt.date) -> Q:
    return Q(**{f"{prefix}started_on__lte": on}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": on})
    )


def _branch_groups(branch: Branch, on: dt.date) -> list[PartyGroup]:
    """Every group of the branch with its size and full members on ``on`` (one query) and its current
    leaders (one more), whatever the number of groups."""
    current = _current("memberships__", on) & Q(memberships__member__state=MemberState.ACTIVE)
    full = (
        current
        & Q(memberships__member__status=MemberStatus.FULL)
        & (
            Q(memberships__member__full_member_on__isnull=True)
            | Q(memberships__member__full_member_on__lte=on)
        )
    )
    return list(
        PartyGroup.objects.filter(branch=branch)
        .select_related("unit")
        .annotate(size=Count("memberships", filter=current), full_count=Count("memberships", filter=full))
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=LeaderAppointment.objects.current(on).select_related("member").order_by("role"),
                to_attr="current_leaders",
            )
        )
        .order_by("name", "pk")
    )


def _unplaced_members(branch: Branch, on: dt.date):
    """R-09: members on the roll of ``branch`` who are in no group on ``on``."""
    placed = GroupMembership.objects.current(on).filter(member__branch=branch).values("member_id")
    return Member.objects.active().filter(branch=branch).exclude(pk__in=placed).select_related("unit")


def _active_groups(branch: Branch, on: dt.date):
    return PartyGroup.objects.active(on).filter(branch=branch).order_by("name", "pk")


def _is_dissolved(group: PartyGroup, on: dt.date) -> bool:
    return group.dissolved_on is not None and group.dissolved_on <= on


# --- Fetch and authorise --------------------------------------------------------------------------


def _branch_from_query(request: HttpRequest) -> Branch | HttpResponse:
    """``?branch=<id>``; without it, the one branch whose committee the user sits on (else 404)."""
    raw = request.GET.get("branch", "")
    if not raw:
        managed = sorted(roles_of(request.user).committee_branch_ids)
        if len(managed) == 1:
            return redirect(f"{request.path}?{urlencode({'branch': managed[0]})}")
        raise Http404(_("请指定党支部。"))
    return branch_for(request, raw, VIEW_BRANCH)


# --- The branch's groups ---------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    branch = _branch_from_query(request)
    if isinstance(branch, HttpResponse):
        return branch
    today = timezone.localdate()
    groups = _branch_groups(branch, today)
    findings = collect_group_findings([branch], today)
    by_group: dict[int, list[Finding]] = defaultdict(list)
    branch_findings = []
    for finding in findings:
        if finding.object_type == "group" and finding.rule_id in GROUP_RULES:
            by_group[finding.object_id].append(finding)
        elif not (finding.rule_id == "R-09" and finding.object_type == "member"):
            branch_findings.append(finding)  # R-01, R-07 (members in no group are listed below)
    for group in groups:
        group.findings = by_group.get(group.pk, [])
        group.leader = next((a for a in group.current_leaders if a.role == "leader"), None)
        group.deputy = next((a for a in group.current_leaders if a.role == "deputy"), None)
    active = [g for g in groups if not _is_dissolved(g, today)]
    unplaced = list(_unplaced_members(branch, today).order_by("name", "pk"))
    unplaced_ids = {m.pk for m in unplaced}
    can_manage = request.user.has_perm(MANAGE_BRANCH, branch)
    return render(
        request,
        "groups/group_list.html",
        {
            "branch": branch,
            "active_groups": active,
            "dissolved_groups": [g for g in groups if _is_dissolved(g, today)],
            "placeable_groups": [g for g in active if g.established_on <= today],
            "branch_findings": branch_findings,
            # R-09 beyond "in no group" (listed with the quick action): overlaps, another branch's group.
            "member_findings": [
                f
                for f in findings
                if f.rule_id == "R-09" and f.object_type == "member" and f.object_id not in unplaced_ids
            ],
            "unplaced": unplaced,
            "can_manage": can_manage,
            "today": today,
        },
    )


@login_required
@require_POST
def place_member(request: HttpRequest, branch_id: int) -> HttpResponse:
    """The list's quick "编入党小组" for a member in no group (R-09), through ``membership_start``."""
    branch = branch_for(request, branch_id, MANAGE_BRANCH)
    today = timezone.localdate()
    form = QuickPlaceForm(
        request.POST, candidates=_unplaced_members(branch, today), groups=_active_groups(branch, today)
    )
    if not form.is_valid():
        form_messages(request, form)
    else:
        member, group = form.cleaned_data["member"], form.cleaned_data["group"]

        def place() -> str:
            services.membership_start(
                member=member, group=group, started_on=form.cleaned_data["started_on"], by=request.user
            )
            return _("已将“%(member)s”编入党小组“%(group)s”。") % {"member": member.name, "group": group.name}

        flash_outcome(request, place)
    return redirect(_list_url(branch.pk))


# --- Create (R-05) ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    branch = _branch_from_query(request)
    if isinstance(branch, HttpResponse):
        return branch
    require_perm(request.user, MANAGE_BRANCH, branch)
    today = timezone.localdate()
    form = GroupCreateForm(
        request.POST if request.method == "POST" else None,
        units=branch.units.order_by("name"),
        candidates=_unplaced_members(branch, today).order_by("unit__name", "name", "pk"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            group, findings = services.group_create(
                branch=branch,
                name=data["name"].strip(),
                established_on=data["established_on"],
                decided_on=data["decided_on"],
                document_number=data["document_number"].strip(),
                by=request.user,
                unit=data["unit"],
                members=list(data["members"]),
                summary=data["summary"].strip(),
            )
            messages.success(
                request,
                _("已建立党小组“%(name)s”，编入党员%(count)s名；本决定待报上级党组织备案（R-05）。")
                % {"name": group.name, "count": len(data["members"])},
            )
            finding_messages(request, findings)  # advisories while being set up
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/group_form.html", {"branch": branch, "form": form})


# --- Detail and its actions ----------------------------------------------------------------------


def _detail_context(request: HttpRequest, group: PartyGroup, **bound) -> dict:
    user = request.user
    today = timezone.localdate()
    branch = group.branch
    active = not _is_dissolved(group, today)
    roster = list(
        GroupMembership.objects.current(today)
        .filter(group=group)
        .select_related("member", "member__unit")
        .order_by("member__name", "member_id")
    )
    history = list(
        GroupMembership.objects.filter(group=group)
        .select_related("member")
        .order_by("-started_on", "member__name", "pk")
    )
    appointments = list(
        LeaderAppointment.objects.filter(group=group)
        .select_related("member", "attested_by")
        .order_by("-started_on", "role", "pk")
    )
    # The changes of the group or that affected it: a subquery, not a join + DISTINCT over every change.
    affected = GroupChange.affected_groups.through.objects.filter(partygroup=group).values("groupchange_id")
    changes = list(
        GroupChange.objects.filter(Q(group=group) | Q(pk__in=affected))
        .select_related("decided_by", "filed_by", "acknowledged_by")
        .order_by("-decided_on", "-id")
    )
    findings = [
        f
        for f in collect_group_findings([branch], today)
        if f.object_type == "group" and f.object_id == group.pk
    ]
    can_manage = active and user.has_perm(MANAGE_GROUP, group)
    can_appoint = active and user.has_perm(APPOINT_LEADER, group)
    roster_members = Member.objects.filter(pk__in=[m.member_id for m in roster]).select_related("unit")
    roster_members = roster_members.order_by("name", "pk")
    context = {
        "group": group,
        "branch": branch,
        "active": active,
        "roster": roster,
        "history": history,
        "appointments": appointments,
        "current_appointments": [a for a in appointments if a.ended_on is None],
        "changes": changes,
        "findings": findings,
        "can_manage": can_manage,
        "can_appoint": can_appoint,
        "can_view_branch": user.has_perm(VIEW_BRANCH, branch),
        "today": today,
        "open_form": next(iter(bound), ""),
    }
    if can_manage:
        context["place_form"] = bound.get("place") or PlaceMemberForm(
            candidates=_unplaced_members(branch, today).order_by("name", "pk"),
            initial={"started_on": max(today, group.established_on)},
        )
        context["move_form"] = bound.get("move") or MoveMembersForm(
            roster=roster_members, targets=_active_groups(branch, today).exclude(pk=group.pk)
        )
        context["dissolve_form"] = bound.get("dissolve") or DissolveForm()
    if can_appoint:
        context["appoint_form"] = bound.get("appoint") or AppointLeaderForm(
            roster=roster_members, term_ends_on=branch.committee_term_ends_on
        )
    return context


def _render_detail(request: HttpRequest, group: PartyGroup, **bound) -> HttpResponse:
    return render(request, "groups/group_detail.html", _detail_context(request, group, **bound))


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_for(request, pk, VIEW_GROUP)
    return _render_detail(request, group)


@login_required
@require_POST
def membership_place(request: HttpRequest, pk: int) -> HttpResponse:
    """Place a member who is in no group into this group (R-09 checked by ``membership_start``)."""
    group = group_for(request, pk, MANAGE_GROUP)
    form = PlaceMemberForm(
        request.POST, candidates=_unplaced_members(group.branch, timezone.localdate()).order_by("name")
    )
    if form.is_valid():
        with errors_on(form):
            services.membership_start(
                member=form.cleaned_data["member"],
                group=group,
                started_on=form.cleaned_data["started_on"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
            messages.success(
                request, _("已将“%(member)s”编入本党小组。") % {"member": form.cleaned_data["member"].name}
            )
            finding_messages(request, services.group_composition_findings(group))
            return redirect("groups:detail", pk=group.pk)
    return _render_detail(request, group, place=form)


@login_required
@require_POST
def membership_move(request: HttpRequest, pk: int) -> HttpResponse:
    """R-06: members of this group move to another group; R-05: one branch decision, to be filed."""
    group = group_for(request, pk, MANAGE_GROUP)
    today = timezone.localdate()
    roster = Member.objects.filter(
        pk__in=GroupMembership.objects.current(today).filter(group=group).values("member_id")
    )
    form = MoveMembersForm(
        request.POST, roster=roster, targets=_active_groups(group.branch, today).exclude(pk=group.pk)
    )
    if form.is_valid():
        data = form.cleaned_data
        target = data["to_group"]
        with errors_on(form):
            _change, findings = services.group_adjust(
                branch=group.branch,
                moves=[(member, target) for member in data["members"]],
                effective_on=data["effective_on"],
                decided_on=data["decided_on"],
                document_number=data["document_number"].strip(),
                summary=form.summary_for(group),
                by=request.user,
            )
            messages.success(
                request,
                _("已将%(count)s名党员调整到党小组“%(target)s”；本次调整待报上级党组织备案（R-05）。")
                % {"count": len(data["members"]), "target": target.name},
            )
            finding_messages(request, findings)
            return redirect("groups:detail", pk=group.pk)
    return _render_detail(request, group, move=form)


@login_required
@require_POST
def membership_end(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    group = group_for(request, pk, MANAGE_GROUP)
    membership = get_visible_or_404(
        memberships_visible_to(request.user).filter(group=group, ended_on__isnull=True), pk=membership_id
    )
    form = EndMembershipForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
    else:

        def end() -> str:
            services.membership_end(
                membership=membership,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["reason"].strip(),
                by=request.user,
            )
            return _("“%(member)s”已调出本党小组。") % {"member": membership.member.name}

        flash_outcome(request, end)
    return redirect("groups:detail", pk=group.pk)


@login_required
@require_POST
def leader_appoint(request: HttpRequest, pk: int) -> HttpResponse:
    """R-24 (hard, the service's message), R-25 attestations by the acting user, R-26 mode and term."""
    group = group_for(request, pk, APPOINT_LEADER)
    today = timezone.localdate()
    roster = Member.objects.filter(
        pk__in=GroupMembership.objects.current(today).filter(group=group).values("member_id")
    )
    form = AppointLeaderForm(request.POST, roster=roster)
    if form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            appointment = services.leader_appoint(
                group=group,
                member=data["member"],
                started_on=data["started_on"],
                by=request.user,
                role=data["role"],
                mode=data["mode"],
                term_ends_on=data["term_ends_on"],
                decision_number=data["decision_number"].strip(),
                attests_political_quality=data["attests_political_quality"],
                attests_dedication=data["attests_dedication"],
                attests_organising_ability=data["attests_organising_ability"],
                attestation_note=data["attestation_note"].strip(),
            )
            messages.success(
                request,
                _("已任命“%(member)s”为%(role)s。")
                % {"member": appointment.member.name, "role": appointment.get_role_display()},
            )
            return redirect("groups:detail", pk=group.pk)
    return _render_detail(request, group, appoint=form)


@login_required
@require_POST
def leader_end(request: HttpRequest, pk: int, appointment_id: int) -> HttpResponse:
    group = group_for(request, pk, APPOINT_LEADER)
    appointment = get_visible_or_404(
        appointments_visible_to(request.user).filter(group=group, ended_on__isnull=True), pk=appointment_id
    )
    form = EndAppointmentForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
    else:

        def end() -> str:
            services.leader_end(
                appointment=appointment,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["reason"].strip(),
                by=request.user,
            )
            return _("“%(member)s”已离任%(role)s。") % {
                "member": appointment.member.name,
                "role": appointment.get_role_display(),
            }

        flash_outcome(request, end)
    return redirect("groups:detail", pk=group.pk)


@login_required
@require_POST
def group_dissolve(request: HttpRequest, pk: int) -> HttpResponse:
    """R-05: dissolve the group (its memberships and appointments end that day); to be filed."""
    group = group_for(request, pk, MANAGE_GROUP)
    form = DissolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            services.group_dissolve(
                group=group,
                dissolved_on=data["dissolved_on"],
                decided_on=data["decided_on"],
                document_number=data["document_number"].strip(),
                summary=data["summary"].strip(),
                by=request.user,
            )
            messages.success(
                request,
                _("党小组“%(name)s”已撤销；本决定待报上级党组织备案（R-05）。") % {"name": group.name},
            )
            return redirect("groups:detail", pk=group.pk)
    return _render_detail(request, group, dissolve=form)


# --- Group changes and their filing (R-05) --------------------------------------------------------


@login_required
@require_GET
def change_list(request: HttpRequest) -> HttpResponse:
    branch = _branch_from_query(request)
    if isinstance(branch, HttpResponse):
        return branch
    form = ChangeFilterForm(request.GET or None)
    changes = (
        group_changes_visible_to(request.user)
        .filter(branch=branch)
        .select_related("group", "decided_by", "filed_by", "acknowledged_by")
        .order_by("-decided_on", "-id")
    )
    if form.is_valid() and form.cleaned_data["status"]:
        changes = changes.filter(filing_status=form.cleaned_data["status"])
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    for change in page.object_list:
        change.can_file = change.filing_status in {"pending", "returned"} and request.user.has_perm(
            FILE_CHANGE, change
        )
        change.can_acknowledge = change.filing_status == "filed" and request.user.has_perm(
            ACKNOWLEDGE_CHANGE, change
        )
    return render(
        request,
        "groups/change_list.html",
        {"branch": branch, "form": form, "page": page, "today": timezone.localdate()},
    )


def _change_or_404(request: HttpRequest, pk: int, perm: str) -> GroupChange:
    change = get_visible_or_404(group_changes_visible_to(request.user), pk=pk)
    require_perm(request.user, perm, change)
    return change


def _change_action(
    request: HttpRequest, change: GroupChange, form: forms.Form, action, success
) -> HttpResponse:
    if not form.is_valid():
        form_messages(request, form)
    else:

        def act() -> str:
            action(**form.cleaned_data)
            return success

        flash_outcome(request, act)
    return redirect(_list_url(change.branch_id, "groups:changes"))


@login_required
@require_POST
def change_file(request: HttpRequest, pk: int) -> HttpResponse:
    """报上级备案: the branch files its decision with the higher organisation."""
    change = _change_or_404(request, pk, FILE_CHANGE)
    return _change_action(
        request,
        change,
        FileChangeForm(request.POST),
        lambda filed_on: services.group_change_file(change=change, filed_on=filed_on, by=request.user),
        _("已报上级党组织备案。"),
    )


@login_required
@require_POST
def change_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """备案: the higher organisation records the filing."""
    change = _change_or_404(request, pk, ACKNOWLEDGE_CHANGE)
    return _change_action(
        request,
        change,
        AcknowledgeChangeForm(request.POST),
        lambda on, comment: services.group_change_acknowledge(
            change=change, on=on, comment=comment.strip(), by=request.user
        ),
        _("已备案。"),
    )


@login_required
@require_POST
def change_return(request: HttpRequest, pk: int) -> HttpResponse:
    """退回（附意见）: the higher organisation returns the filing; the branch may file again."""
    change = _change_or_404(request, pk, ACKNOWLEDGE_CHANGE)
    return _change_action(
        request,
        change,
        ReturnChangeForm(request.POST),
        lambda comment: services.group_change_return(change=change, comment=comment.strip(), by=request.user),
        _("已退回，意见已告知党支部。"),
    )


# --- Split suggestion (R-01, R-07, R-03, R-04; accepted as an R-05 decision) ----------------------


def _date_or(value, default: dt.date) -> dt.date:
    try:
        return forms.DateField().clean(value) or default
    except ValidationError:
        return default


def _proposal_advisories(branch: Branch, members, draft: SplitDraft, rule_set) -> list[Finding]:
    """R-07 for an adjusted proposal: a unit small enough for one group spread over several."""
    facts = [
        rules.MemberFact(
            id=m.id,
            name=m.name,
            branch_id=branch.pk,
            is_full=m.is_full,
            unit_id=m.unit_id,
            unit_name=m.unit_name or "",
        )
        for m in members
    ]
    group_of = {member_id: index for index, g in enumerate(draft.groups) for member_id in g.member_ids}
    groups = {
        index: rules.GroupFact(id=index, name=g.name or f"第{index + 1}个党小组", branch_id=branch.pk)
        for index, g in enumerate(draft.groups)
    }
    return rules.check_unit_alignment(
        branch_id=branch.pk, members=facts, group_of=group_of, groups=groups, rule_set=rule_set
    )


def _split_context(request, branch, *, members, rule_set, draft, errors, notes, **extra) -> dict:
    rows, unplaced = draft.rows(members) if draft is not None else ([], [])
    today = timezone.localdate()
    return {
        "branch": branch,
        "bounds": split_bounds(rule_set),
        "member_count": len(members),
        "full_count": sum(1 for m in members if m.is_full),
        "current_groups": list(_active_groups(branch, today)),
        "draft": draft,
        "rows": rows,
        "unplaced": unplaced,
        "choices": [(row["index"], row["name"]) for row in rows],
        "errors": errors,
        "notes": notes,
        "can_manage": request.user.has_perm(MANAGE_BRANCH, branch),
        "split_url": reverse("groups:split", kwargs={"branch_id": branch.pk}),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def split(request: HttpRequest, branch_id: int) -> HttpResponse:
    """GET: the suggestion (optionally for k groups). POST: re-check an adjusted proposal (plain or
    htmx: ``op=check`` / ``add_group`` / ``remove-<i>``), or accept it (``op=accept``)."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    rule_set = branch.organisation.effective_rule_set()
    if request.method == "POST":
        require_perm(request.user, MANAGE_BRANCH, branch)
        return _split_post(request, branch, rule_set)
    today = timezone.localdate()
    count_form = SplitCountForm(request.GET or None)
    requested = count_form.cleaned_data["groups"] if count_form.is_valid() else None
    result = suggest_split_for_branch(branch=branch, on=today, groups=requested)
    members = split_members(branch=branch, on=today)
    return render(
        request,
        "groups/split.html",
        _split_context(
            request,
            branch,
            members=members,
            rule_set=rule_set,
            draft=SplitDraft.from_result(result) if result.ok else None,
            errors=[],
            notes=list(result.notes),
            reasons=list(result.reasons),
            count_form=count_form,
            decision_form=SplitDecisionForm(),
        ),
    )


def _split_post(request: HttpRequest, branch: Branch, rule_set) -> HttpResponse:
    today = timezone.localdate()
    on = _date_or(request.POST.get("effective_on"), today)
    members = split_members(branch=branch, on=on)
    draft = SplitDraft.from_post(request.POST, members)
    op = request.POST.get("op", "check")
    if op == "add_group":
        draft.add_group()
    elif op.startswith("remove-"):
        draft.remove_group(int(op[7:]) if op[7:].isdigit() else -1)
    decision_form = SplitDecisionForm(
        request.POST if op == "accept" else None, initial=_decision_initial(request)
    )
    accept_errors: list[str] = []
    if op == "accept" and decision_form.is_valid():
        data = decision_form.cleaned_data
        try:
            done = split_accept(
                branch=branch,
                groups=draft.proposal(),
                decided_on=data["decided_on"],
                document_number=data["document_number"],
                effective_on=data["effective_on"],
                by=request.user,
                attests_political_quality=data["attests_political_quality"],
                attests_dedication=data["attests_dedication"],
                attests_organising_ability=data["attests_organising_ability"],
                attestation_note=data["attestation_note"].strip(),
            )
        except ValidationError as exc:
            accept_errors = exc.messages
        else:
            messages.success(
                request,
                _(
                    "已按划分方案建立%(count)s个党小组并任命组长，撤销原党小组%(dissolved)s个；"
                    "本决定待报上级党组织备案（R-05）。"
                )
                % {"count": len(done.groups), "dissolved": len(done.dissolved)},
            )
            finding_messages(request, done.findings)
            return redirect(_list_url(branch.pk))
    errors = check_proposal(members, draft.proposal(), rule_set=rule_set)
    context = _split_context(
        request,
        branch,
        members=members,
        rule_set=rule_set,
        draft=draft,
        errors=errors,
        notes=[f.message for f in _proposal_advisories(branch, members, draft, rule_set)],
        reasons=[],
        count_form=SplitCountForm(),
        decision_form=decision_form,
        accept_errors=accept_errors,
        adjusted=True,
    )
    if request.htmx and op != "accept":
        return render(request, "groups/_split_proposal.html", context)
    return render(request, "groups/split.html", context)


def _decision_initial(request: HttpRequest) -> dict:
    """Keep what the secretary typed in the decision fields while the proposal is being adjusted."""
    initial = {}
    for name in SplitDecisionForm.base_fields:
        if name in request.POST:
            initial[name] = request.POST[name]
    return initial
