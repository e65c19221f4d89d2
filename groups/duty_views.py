"""The branch committee's pages for its leaders and for the people its groups cultivate.

- ``reviews`` (R-28): per branch and year, every leader or deputy who held office that year with the
  year's review (优秀 / 称职 / 不称职, notes) and their earlier grades; recording goes through
  ``leader_review_record``, which refuses a person who was not leader that year and a year not yet
  open for review (nothing saved). The "replacement due" finding (two consecutive 不称职) is shown
  with a form that appoints a new leader through ``groups:appoint``.
- ``interviews`` (R-28, 约谈): the branch's interviews of its leaders, and a new one.
- ``training`` (R-35): the current leaders with their last training and hours in the past year, those
  without training in the past year, the records (per leader with ``?member=``), and a new record.
- ``cultivation`` / ``candidate_create`` / ``candidate_detail`` and its actions (R-22): the branch's
  candidates by stage (applicant, activist, development candidate, probationary) with the date each
  stage began, contact members, the group's opinions linked to the meetings that gave them; advance
  the stage (order enforced by the service), set contacts, link the Member record. ``group_candidates``
  is the read-only list for a group's leader (the opinion itself is recorded on a held meeting's page,
  ``meetings:opinion_record``).
- ``posts`` / ``points_record`` (R-32, R-33): per year, members without a post (无职党员: no 职务 in the
  register) and the posts and public commitments taken; the points rating only where the rule set
  enables it (hidden otherwise; the service refuses anyway). ``my_posts``: a member's own, read-only.

Who may do what (permissions declared once in members/permissions.py and groups/permissions.py):
the branch committee writes; organisation staff of the subtree read; a group's leader reads the
group's candidates; a plain member reads their own posts. Fetch and authorise: a branch or candidate
outside the user's scope is 404, a visible one the role may not use 403 (``partygroup.http``).
Every list is loaded in a fixed number of queries whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import services
from groups.duty_forms import (
    AdvanceStageForm,
    CandidateCreateForm,
    ContactsForm,
    InterviewForm,
    LinkMemberForm,
    MemberPostForm,
    PointsRatingForm,
    ReplacementAppointForm,
    ReviewForm,
    TrainingForm,
    YearForm,
    leader_key,
    review_year_default,
)
from groups.enums import CULTIVATION_ORDER, CultivationStageKind, LeaderRole
from groups.findings import collect_leader_findings
from groups.models import CultivationCandidate, GroupMembership, LeaderAppointment, PartyGroup
from groups.rules import next_stage, one_year_before
from groups.selectors import (
    appointments_visible_to,
    candidates_visible_to,
    groups_visible_to,
    leader_interviews_visible_to,
    leader_reviews_visible_to,
    leader_trainings_visible_to,
    member_posts_visible_to,
    points_ratings_visible_to,
    roles_of,
)
from groups.view_helpers import branch_for, group_for
from members import services as member_services
from members.enums import MemberState
from members.models import Branch, Member
from partygroup.http import errors_on, finding_messages, get_visible_or_404, require_perm

# Permissions, declared once, used by name.
VIEW_BRANCH = "groups.view_branch_groups"  # the branch committee and org staff of the subtree
MANAGE_BRANCH = "members.manage_branch"  # the branch committee
VIEW_GROUP = "groups.view_group_detail"  # … and the group's own leader or deputy

PAGE_SIZE = 20
YEARS_SHOWN = 8  # the year selector: this year and the seven before


def _url(name: str, branch: Branch, **params) -> str:
    url = reverse(name, args=[branch.pk])
    return f"{url}?{urlencode(params)}" if params else url


def _years(today: dt.date) -> list[int]:
    return [today.year - i for i in range(YEARS_SHOWN)]


def _branch_members(branch: Branch):
    """Members on the branch's roll (labels show the unit: loaded with it)."""
    return Member.objects.active().filter(branch=branch).select_related("unit").order_by("name", "pk")


def _branch_appointments(user, branch: Branch) -> list[LeaderAppointment]:
    """Every leader or deputy appointment the branch's groups have had (one query)."""
    return list(
        appointments_visible_to(user)
        .filter(group__branch=branch)
        .order_by("group__name", "group_id", "role", "started_on", "pk")
    )


def _base_context(request: HttpRequest, branch: Branch, tab: str) -> dict:
    return {
        "branch": branch,
        "tab": tab,
        "can_manage": request.user.has_perm(MANAGE_BRANCH, branch),
        "today": timezone.localdate(),
    }


# --- Leader reviews (R-28) -------------------------------------------------------------------------


@dataclass
class LeaderYearRow:
    """One leader or deputy in office during the year (several terms of one person are one row)."""

    group: PartyGroup
    member: Member
    roles: list[str] = field(default_factory=list)
    terms: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)
    review: object | None = None  # the year's LeaderReview
    history: list = field(default_factory=list)  # the person's reviews in this group, other years
    replacement_due: bool = False

    @property
    def key(self) -> str:
        return leader_key(self.group.pk, self.member.pk)


def _year_rows(appointments: list[LeaderAppointment], year: int) -> list[LeaderYearRow]:
    year_start, next_year = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    rows: dict[tuple[int, int], LeaderYearRow] = {}
    for a in appointments:
        if a.started_on >= next_year or (a.ended_on is not None and a.ended_on <= year_start):
            continue
        row = rows.setdefault((a.group_id, a.member_id), LeaderYearRow(group=a.group, member=a.member))
        role = str(a.get_role_display())
        if role not in row.roles:
            row.roles.append(role)
        row.terms.append((a.started_on, a.ended_on))
    return list(rows.values())


def _replacements(findings, appointments: list[LeaderAppointment], *, can_appoint: bool) -> list[dict]:
    """R-28 findings, each with a form appointing a successor (posted to ``groups:appoint``); the
    rosters of every flagged group in one query."""
    if not findings:
        return []
    today = timezone.localdate()
    groups = {a.group_id: a.group for a in appointments}
    current_role = {(a.group_id, a.member_id): a.role for a in appointments if a.covers(today)}
    flagged = sorted({f.object_id for f in findings})
    rosters: dict[int, list[Member]] = defaultdict(list)
    for m in (
        GroupMembership.objects.current(today)
        .filter(group_id__in=flagged, member__state=MemberState.ACTIVE)
        .select_related("member")
        .order_by("member__name", "member_id")
    ):
        rosters[m.group_id].append(m.member)
    items = []
    for finding in findings:
        leader_id = finding.extra.get("leader_id")
        group = groups.get(finding.object_id)
        item = {"finding": finding, "group": group, "form": None}
        if can_appoint and group is not None:
            item["form"] = ReplacementAppointForm(
                roster=[m for m in rosters[group.pk] if m.pk != leader_id],
                role=current_role.get((group.pk, leader_id), LeaderRole.LEADER),
                auto_id=f"id_rep{group.pk}_%s",
            )
        items.append(item)
    return items


def _reviews_response(request: HttpRequest, branch: Branch, year: int, form: ReviewForm | None):
    today = timezone.localdate()
    appointments = _branch_appointments(request.user, branch)
    rows = _year_rows(appointments, year)
    reviews = defaultdict(list)
    for review in (
        leader_reviews_visible_to(request.user)
        .filter(appointment__group__branch=branch)
        .order_by("year", "pk")
    ):
        reviews[(review.appointment.group_id, review.appointment.member_id)].append(review)
    findings = [f for f in collect_leader_findings([branch], today) if f.rule_id == "R-28"]
    flagged = {(f.object_id, f.extra.get("leader_id")) for f in findings}
    for row in rows:
        own = reviews.get((row.group.pk, row.member.pk), [])
        row.review = next((r for r in own if r.year == year), None)
        row.history = [r for r in own if r.year != year]
        row.replacement_due = (row.group.pk, row.member.pk) in flagged
    context = _base_context(request, branch, "reviews")
    is_open = today >= dt.date(year, 12, 1)
    if context["can_manage"] and form is None:
        form = ReviewForm(appointments=appointments, initial={"year": year})
    context.update(
        year=year,
        years=_years(today),
        is_open=is_open,
        rows=rows,
        reviewed=sum(1 for r in rows if r.review is not None),
        replacements=_replacements(findings, appointments, can_appoint=context["can_manage"]),
        form=form,
        grades=ReviewForm.base_fields["grade"].choices,
    )
    return render(request, "duties/reviews.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reviews(request: HttpRequest, branch_id: int) -> HttpResponse:
    """GET ``?year=``: the year's leaders and reviews. POST: record one review (R-28)."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    default = review_year_default(timezone.localdate())
    if request.method == "GET":
        return _reviews_response(request, branch, YearForm.year_from(request.GET, default), None)
    require_perm(request.user, MANAGE_BRANCH, branch)
    form = ReviewForm(request.POST, appointments=_branch_appointments(request.user, branch))
    year = YearForm.year_from(request.POST, default)
    if form.is_valid():
        group, member = form.picked
        data = form.cleaned_data
        with errors_on(form):
            review, findings = services.leader_review_record(
                group=group,
                member=member,
                year=data["year"],
                grade=data["grade"],
                reviewed_on=data["reviewed_on"],
                notes=data["notes"],
                by=request.user,
            )
            messages.success(
                request,
                _("已登记“%(member)s”%(year)s年度考核结果：%(grade)s。")
                % {"member": member.name, "year": review.year, "grade": review.get_grade_display()},
            )
            finding_messages(request, findings)  # replacement due after two 不称职
            return redirect(_url("duties:reviews", branch, year=review.year))
    return _reviews_response(request, branch, year, form)


# --- Interviews (约谈, R-28) ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def interviews(request: HttpRequest, branch_id: int) -> HttpResponse:
    """The branch's interviews of its leaders (newest first) and, for the committee, a new one."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    context = _base_context(request, branch, "interviews")
    form = None
    if request.method == "POST":
        require_perm(request.user, MANAGE_BRANCH, branch)
        form = InterviewForm(request.POST, appointments=_branch_appointments(request.user, branch))
        if form.is_valid():
            group, member = form.picked
            data = form.cleaned_data
            with errors_on(form):
                services.leader_interview_record(
                    group=group,
                    member=member,
                    interviewed_on=data["interviewed_on"],
                    interviewer=data["interviewer"],
                    content=data["content"],
                    by=request.user,
                )
                messages.success(request, _("已登记对“%(member)s”的约谈。") % {"member": member.name})
                return redirect("duties:interviews", branch_id=branch.pk)
    elif context["can_manage"]:
        form = InterviewForm(
            appointments=_branch_appointments(request.user, branch),
            initial={"leader": request.GET.get("leader", "")},
        )
    records = (
        leader_interviews_visible_to(request.user)
        .filter(group__branch=branch)
        .select_related("recorded_by")
        .order_by("-interviewed_on", "-id")
    )
    context.update(page=Paginator(records, PAGE_SIZE).get_page(request.GET.get("page")), form=form)
    return render(request, "duties/interviews.html", context)


# --- Training (R-35) -------------------------------------------------------------------------------


@dataclass
class TrainingRow:
    appointment: LeaderAppointment
    last: dt.date | None
    year_hours: object
    year_count: int
    trained_recently: bool
    in_office_a_year: bool


def _training_rows(user, branch: Branch, today: dt.date) -> list[TrainingRow]:
    """The current leaders and deputies of the branch's active groups with their last training and
    the hours of the past year (R-35; two queries)."""
    year_ago = one_year_before(today)
    current = [
        a
        for a in _branch_appointments(user, branch)
        if a.covers(today) and (a.group.dissolved_on is None or a.group.dissolved_on > today)
    ]
    recent = Q(trained_on__gt=year_ago, trained_on__lte=today)
    stats = {
        row["member_id"]: row
        for row in leader_trainings_visible_to(user)
        .filter(member_id__in=sorted({a.member_id for a in current}), trained_on__lte=today)
        .values("member_id")
        .annotate(
            last=Max("trained_on"),
            year_hours=Sum("hours", filter=recent),
            year_count=Count("id", filter=recent),
        )
        .order_by()
    }
    rows = []
    for a in current:
        s = stats.get(a.member_id, {})
        last = s.get("last")
        rows.append(
            TrainingRow(
                appointment=a,
                last=last,
                year_hours=s.get("year_hours") or 0,
                year_count=s.get("year_count") or 0,
                trained_recently=last is not None and last > year_ago,
                in_office_a_year=a.started_on <= year_ago,
            )
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def training(request: HttpRequest, branch_id: int) -> HttpResponse:
    """R-35: who was trained when; the leaders without training in the past year; a new record."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    context = _base_context(request, branch, "training")
    form = None
    if request.method == "POST":
        require_perm(request.user, MANAGE_BRANCH, branch)
        form = TrainingForm(request.POST, members=_branch_members(branch))
        if form.is_valid():
            data = form.cleaned_data
            with errors_on(form):
                record = services.leader_training_record(
                    member=data["member"],
                    trained_on=data["trained_on"],
                    title=data["title"],
                    hours=data["hours"],
                    organiser=data["organiser"],
                    by=request.user,
                )
                messages.success(
                    request,
                    _("已登记“%(member)s”参加“%(title)s”。")
                    % {"member": record.member.name, "title": record.title},
                )
                return redirect("duties:training", branch_id=branch.pk)
    elif context["can_manage"]:
        form = TrainingForm(members=_branch_members(branch))
    today = context["today"]
    rows = _training_rows(request.user, branch, today)
    records = (
        leader_trainings_visible_to(request.user)
        .filter(member__branch=branch)
        .select_related("recorded_by")
        .order_by("-trained_on", "-id")
    )
    member_filter = None
    raw = request.GET.get("member", "")
    if raw.isdigit():
        member_filter = get_visible_or_404(
            Member.objects.filter(branch=branch, pk__in=records.values("member_id")), pk=int(raw)
        )
        records = records.filter(member=member_filter)
    context.update(
        rows=rows,
        untrained=[r for r in rows if not r.trained_recently],
        page=Paginator(records, PAGE_SIZE).get_page(request.GET.get("page")),
        member_filter=member_filter,
        year_ago=one_year_before(today),
        form=form,
    )
    return render(request, "duties/training.html", context)


# --- Cultivation (R-22) ----------------------------------------------------------------------------


def _with_cultivation_details(qs):
    """Candidates with their contacts, stages and the group's opinions (linked meetings): three
    prefetch queries whatever the number of candidates."""
    return qs.select_related("group").prefetch_related(
        Prefetch("contacts", queryset=Member.objects.order_by("name", "pk")),
        "stages",
        "opinions__meeting",
    )


def _by_stage(candidates) -> list[dict]:
    sections = {stage: [] for stage in CULTIVATION_ORDER}
    for candidate in candidates:
        sections.setdefault(candidate.stage, []).append(candidate)
    return [
        {"stage": stage, "label": CultivationStageKind(stage).label, "candidates": sections[stage]}
        for stage in CULTIVATION_ORDER
    ]


@login_required
@require_GET
def cultivation(request: HttpRequest, branch_id: int) -> HttpResponse:
    """R-22: the branch's candidates by stage (``?group=`` one group's)."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    context = _base_context(request, branch, "cultivation")
    groups = list(PartyGroup.objects.filter(branch=branch).order_by("name", "pk"))
    candidates = candidates_visible_to(request.user).filter(branch=branch)
    selected = next((g for g in groups if str(g.pk) == request.GET.get("group", "")), None)
    if selected is not None:
        candidates = candidates.filter(group=selected)
    candidates = list(_with_cultivation_details(candidates).order_by("group__name", "name", "pk"))
    context.update(
        sections=_by_stage(candidates), total=len(candidates), groups=groups, selected_group=selected
    )
    return render(request, "duties/cultivation.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def candidate_create(request: HttpRequest, branch_id: int) -> HttpResponse:
    """R-22: register a person who applied to join (入党申请人) and the group that cultivates them."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    require_perm(request.user, MANAGE_BRANCH, branch)
    form = CandidateCreateForm(
        request.POST if request.method == "POST" else None,
        groups=PartyGroup.objects.active().filter(branch=branch).order_by("name", "pk"),
        units=branch.units.order_by("name"),
        members=_branch_members(branch),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            candidate = services.candidate_create(
                group=data["group"],
                name=data["name"],
                gender=data["gender"],
                birth_date=data["birth_date"],
                applied_on=data["applied_on"],
                unit=data["unit"],
                contacts=list(data["contacts"]),
                note=data["note"],
                decided_by_note=data["decided_by_note"],
                by=request.user,
            )
            messages.success(request, _("已登记入党申请人“%(name)s”。") % {"name": candidate.name})
            return redirect("duties:candidate", pk=candidate.pk)
    context = _base_context(request, branch, "cultivation")
    context["form"] = form
    return render(request, "duties/candidate_form.html", context)


def _candidate_or_404(request: HttpRequest, pk: int) -> CultivationCandidate:
    candidate = get_visible_or_404(
        candidates_visible_to(request.user).select_related(
            "group__branch__organisation", "branch__organisation"
        ),
        pk=pk,
    )
    require_perm(request.user, VIEW_GROUP, candidate.group)
    return candidate


def _candidate_response(request: HttpRequest, candidate: CultivationCandidate, **bound) -> HttpResponse:
    can_manage = request.user.has_perm(MANAGE_BRANCH, candidate.branch)
    context = {
        "candidate": candidate,
        "branch": candidate.branch,
        "stages": list(candidate.stages.select_related("recorded_by").order_by("started_on", "pk")),
        "contacts": list(candidate.contacts.select_related("unit").order_by("name", "pk")),
        "opinions": list(
            candidate.opinions.select_related("meeting", "agenda_item", "recorded_by").order_by(
                "-meeting__held_on", "-pk"
            )
        ),
        "next_stage": next_stage(candidate.stage),
        "can_manage": can_manage,
        "can_view_branch": request.user.has_perm(VIEW_BRANCH, candidate.branch),
        "leads_group": candidate.group_id in roles_of(request.user).led_group_ids,
        "open_form": next(iter(bound), ""),
    }
    if can_manage:
        members = _branch_members(candidate.branch)
        expected = context["next_stage"]
        context["advance_form"] = bound.get("advance") or AdvanceStageForm(
            members=members, initial={"stage": expected} if expected else {}
        )
        context["contacts_form"] = bound.get("contacts") or ContactsForm(
            members=members, initial={"contacts": [c.pk for c in context["contacts"]]}
        )
        if "link" in bound:  # a refused link is shown with its reason, whatever the stage
            context["link_form"] = bound["link"]
        elif candidate.stage == CultivationStageKind.PROBATIONARY and candidate.member_id is None:
            context["link_form"] = LinkMemberForm(members=members)
    return render(request, "duties/candidate_detail.html", context)


@login_required
@require_GET
def candidate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _candidate_response(request, _candidate_or_404(request, pk))


def _managed_candidate(request: HttpRequest, pk: int) -> CultivationCandidate:
    candidate = _candidate_or_404(request, pk)
    require_perm(request.user, MANAGE_BRANCH, candidate.branch)
    return candidate


@login_required
@require_POST
def candidate_advance(request: HttpRequest, pk: int) -> HttpResponse:
    """R-22: the next stage only; the service refuses skipping, going back and bad dates."""
    candidate = _managed_candidate(request, pk)
    form = AdvanceStageForm(request.POST, members=_branch_members(candidate.branch))
    if form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            candidate = services.candidate_advance_stage(
                candidate=candidate,
                stage=data["stage"],
                started_on=data["started_on"],
                decided_by_note=data["decided_by_note"],
                contacts=form.contacts_or_none(),
                member=data["member"],
                by=request.user,
            )
            messages.success(
                request,
                _("“%(name)s”已进入“%(stage)s”阶段。")
                % {"name": candidate.name, "stage": candidate.get_stage_display()},
            )
            return redirect("duties:candidate", pk=candidate.pk)
    return _candidate_response(request, candidate, advance=form)


@login_required
@require_POST
def candidate_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """R-22: replace the candidate's contact members (1–2 full members of the branch)."""
    candidate = _managed_candidate(request, pk)
    form = ContactsForm(request.POST, members=_branch_members(candidate.branch))
    if form.is_valid():
        with errors_on(form):
            services.candidate_set_contacts(
                candidate=candidate, contacts=list(form.cleaned_data["contacts"]), by=request.user
            )
            messages.success(request, _("已更新培养联系人。"))
            return redirect("duties:candidate", pk=candidate.pk)
    return _candidate_response(request, candidate, contacts=form)


@login_required
@require_POST
def candidate_link(request: HttpRequest, pk: int) -> HttpResponse:
    """R-22: link a probationary candidate to their Member record once it exists."""
    candidate = _managed_candidate(request, pk)
    form = LinkMemberForm(request.POST, members=_branch_members(candidate.branch))
    if form.is_valid():
        with errors_on(form):
            services.candidate_link_member(
                candidate=candidate, member=form.cleaned_data["member"], by=request.user
            )
            messages.success(
                request, _("已关联党员记录“%(member)s”。") % {"member": form.cleaned_data["member"].name}
            )
            return redirect("duties:candidate", pk=candidate.pk)
    return _candidate_response(request, candidate, link=form)


@login_required
@require_GET
def group_candidates(request: HttpRequest, group_id: int) -> HttpResponse:
    """R-22: the candidates one group cultivates — read-only; for its leader, the branch, org staff."""
    group = group_for(request, group_id, VIEW_GROUP)
    candidates = list(
        _with_cultivation_details(candidates_visible_to(request.user).filter(group=group)).order_by(
            "name", "pk"
        )
    )
    return render(
        request,
        "duties/group_candidates.html",
        {
            "group": group,
            "branch": group.branch,
            "sections": _by_stage(candidates),
            "total": len(candidates),
            "can_view_branch": request.user.has_perm(VIEW_BRANCH, group.branch),
        },
    )


@login_required
@require_GET
def led_candidates(request: HttpRequest) -> HttpResponse:
    """The menu's "培养对象" for a leader: their group's candidates (a choice if they lead several)."""
    led = sorted(roles_of(request.user).led_group_ids)
    if not led:
        raise PermissionDenied(_("只有党小组组长、副组长可以查看本组的培养对象。"))
    if len(led) == 1:
        return redirect("duties:group_candidates", group_id=led[0])
    groups = list(groups_visible_to(request.user).filter(pk__in=led).order_by("name", "pk"))
    return render(request, "duties/led_groups.html", {"groups": groups})


# --- Posts and commitments, points rating (R-33) -------------------------------------------


def _posts_response(
    request: HttpRequest,
    branch: Branch,
    year: int,
    form: MemberPostForm | None = None,
    points_form: PointsRatingForm | None = None,
) -> HttpResponse:
    context = _base_context(request, branch, "posts")
    members = list(_branch_members(branch))
    posts = list(
        member_posts_visible_to(request.user)
        .filter(member__branch=branch, year=year)
        .select_related("created_by")
        .order_by("member__name", "pk")
    )
    post_of = {p.member_id: p for p in posts}
    without_post = [m for m in members if not m.post.strip()]
    for member in without_post:
        member.year_post = post_of.get(member.pk)
    without_ids = {m.pk for m in without_post}
    points_enabled = branch.organisation.effective_rule_set().points_rating_enabled
    ratings = []
    if points_enabled:
        ratings = list(
            points_ratings_visible_to(request.user)
            .filter(member__branch=branch, year=year)
            .order_by("member__name", "pk")
        )
    if context["can_manage"]:
        form = form or MemberPostForm(members=_branch_members(branch), initial={"year": year})
        if points_enabled:
            points_form = points_form or PointsRatingForm(
                members=_branch_members(branch), initial={"year": year}
            )
    context.update(
        year=year,
        years=_years(context["today"]),
        without_post=without_post,
        posted_count=sum(1 for m in without_post if m.year_post is not None),
        other_posts=[p for p in posts if p.member_id not in without_ids],
        points_enabled=points_enabled,
        ratings=ratings,
        form=form,
        points_form=points_form,
        points_errors=points_form.non_field_errors()
        if points_form is not None and points_form.is_bound
        else [],
    )
    return render(request, "duties/posts.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def posts(request: HttpRequest, branch_id: int) -> HttpResponse:
    """R-32: GET ``?year=`` the year's posts; POST a member's post and public commitment."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    today = timezone.localdate()
    if request.method == "GET":
        return _posts_response(request, branch, YearForm.year_from(request.GET, today.year))
    require_perm(request.user, MANAGE_BRANCH, branch)
    form = MemberPostForm(request.POST, members=_branch_members(branch))
    year = YearForm.year_from(request.POST, today.year)
    if form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            post = member_services.member_post_record(
                member=data["member"],
                year=data["year"],
                title=data["title"],
                commitment=data["commitment"],
                publicised_on=data["publicised_on"],
                by=request.user,
            )
            messages.success(
                request,
                _("已登记“%(member)s”%(year)s年的岗位“%(title)s”和公开承诺。")
                % {"member": post.member.name, "year": post.year, "title": post.title},
            )
            return redirect(_url("duties:posts", branch, year=post.year))
    return _posts_response(request, branch, year, form=form)


@login_required
@require_POST
def points_record(request: HttpRequest, branch_id: int) -> HttpResponse:
    """R-33: a member's points rating — the service refuses it unless the rule set enables it."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    require_perm(request.user, MANAGE_BRANCH, branch)
    form = PointsRatingForm(request.POST, members=_branch_members(branch))
    year = YearForm.year_from(request.POST, timezone.localdate().year)
    if form.is_valid():
        data = form.cleaned_data
        with errors_on(form):
            rating = member_services.points_rating_record(
                member=data["member"],
                year=data["year"],
                points=data["points"],
                grade=data["grade"],
                note=data["note"],
                by=request.user,
            )
            messages.success(
                request,
                _("已登记“%(member)s”%(year)s年的积分定等：%(grade)s。")
                % {"member": rating.member.name, "year": rating.year, "grade": rating.get_grade_display()},
            )
            return redirect(_url("duties:posts", branch, year=rating.year))
    return _posts_response(request, branch, year, points_form=form)


@login_required
@require_GET
def my_posts(request: HttpRequest) -> HttpResponse:
    """R-32/R-33: the member's own posts and commitments (and points ratings), read-only."""
    member_id = roles_of(request.user).member_id
    posts_, ratings = [], []
    if member_id is not None:
        posts_ = list(member_posts_visible_to(request.user).filter(member_id=member_id).order_by("-year"))
        ratings = list(points_ratings_visible_to(request.user).filter(member_id=member_id).order_by("-year"))
    return render(
        request,
        "duties/my_posts.html",
        {"has_member": member_id is not None, "posts": posts_, "ratings": ratings},
    )
