"""Reads of the groups app, scoped to what the acting user may see.

Extends ``members.selectors`` with group leaders and deputies: a leader sees their own group and
its members; a member sees their own group. Every screen, export and admin changelist starts from
these querysets, so an object of another branch is simply not found (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from groups.models import (
    CultivationCandidate,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderInterview,
    LeaderReview,
    LeaderTraining,
    PartyGroup,
)
from members.enums import MemberState
from members.models import Branch, DuesPayment, Member, MemberPost, PointsRating, ThoughtReport
from members.rules import DuesArrears
from members.selectors import MemberRoles, dues_arrears_for, member_roles
from partygroup.findings import shared
from partygroup.months import add_months, month_start


@dataclass(frozen=True)
class Roles:
    """Everything the permission predicates need to know about a user, computed once."""

    base: MemberRoles
    led_group_ids: frozenset[int] = frozenset()  # current leader or deputy
    led_group_branch_ids: frozenset[int] = frozenset()
    own_group_id: int | None = None

    def __getattr__(self, name):  # delegate to MemberRoles (is_superuser, committee_posts …)
        return getattr(self.base, name)


def roles_of(user) -> Roles:
    if user is None or not user.is_authenticated:
        return Roles(base=member_roles(None))
    cached = getattr(user, "_roles", None)
    if cached is not None:
        return cached
    base = member_roles(user)
    led: set[int] = set()
    led_branches: set[int] = set()
    own_group_id = None
    if base.member_id:
        today = timezone.localdate()
        for group_id, branch_id in (
            LeaderAppointment.objects.current(today)
            .filter(member_id=base.member_id, group__dissolved_on__isnull=True)
            .values_list("group_id", "group__branch_id")
        ):
            led.add(group_id)
            led_branches.add(branch_id)
        own_group_id = (
            GroupMembership.objects.current(today)
            .filter(member_id=base.member_id)
            .values_list("group_id", flat=True)
            .first()
        )
    roles = Roles(
        base=base,
        led_group_ids=frozenset(led),
        led_group_branch_ids=frozenset(led_branches),
        own_group_id=own_group_id,
    )
    user._roles = roles
    return roles


def _org_q(paths: tuple[str, ...], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def groups_visible_to(user) -> QuerySet[PartyGroup]:
    roles = roles_of(user)
    qs = PartyGroup.objects.select_related("branch", "branch__organisation", "unit")
    if roles.is_superuser:
        return qs
    q = _org_q(roles.org_paths, "branch__organisation__") | Q(branch_id__in=list(roles.committee_branch_ids))
    q |= Q(pk__in=list(roles.led_group_ids))
    if roles.own_group_id:
        q |= Q(pk=roles.own_group_id)
    return qs.filter(q)


def members_visible_to(user) -> QuerySet[Member]:
    """Org staff: subtree; committee: the branch; leaders: their group's current members; a member: self."""
    roles = roles_of(user)
    qs = Member.objects.select_related("branch", "branch__organisation", "unit")
    if roles.is_superuser:
        return qs
    q = _org_q(roles.org_paths, "branch__organisation__") | Q(branch_id__in=list(roles.committee_branch_ids))
    if roles.led_group_ids:
        today = timezone.localdate()
        q |= Q(
            pk__in=GroupMembership.objects.current(today)
            .filter(group_id__in=list(roles.led_group_ids))
            .values("member_id")
        )
    if roles.member_id:
        q |= Q(pk=roles.member_id)
    return qs.filter(q)


def memberships_visible_to(user) -> QuerySet[GroupMembership]:
    return GroupMembership.objects.select_related("group", "member", "group__branch").filter(
        group__in=groups_visible_to(user)
    )


def appointments_visible_to(user) -> QuerySet[LeaderAppointment]:
    return LeaderAppointment.objects.select_related("group", "member", "group__branch").filter(
        group__in=groups_visible_to(user)
    )


def group_changes_visible_to(user) -> QuerySet[GroupChange]:
    """R-05 decisions and filings: org staff of the subtree (who acknowledge) and the branch committee."""
    roles = roles_of(user)
    qs = GroupChange.objects.select_related("branch", "branch__organisation", "group")
    if roles.is_superuser:
        return qs
    q = _org_q(roles.org_paths, "branch__organisation__") | Q(branch_id__in=list(roles.committee_branch_ids))
    return qs.filter(q)


def current_members(group: PartyGroup, on: dt.date | None = None) -> QuerySet[Member]:
    on = on or timezone.localdate()
    return Member.objects.filter(
        pk__in=GroupMembership.objects.current(on).filter(group=group).values("member_id")
    ).order_by("name", "id")


def branch_groups_with_roster(branch: Branch, on: dt.date | None = None) -> list[PartyGroup]:
    """The branch's active groups, each with ``roster`` (current members) and ``leaders`` prefetched."""
    on = on or timezone.localdate()
    return list(
        PartyGroup.objects.active(on)
        .filter(branch=branch)
        .select_related("unit")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=GroupMembership.objects.current(on)
                .filter(member__state=MemberState.ACTIVE)
                .select_related("member", "member__unit"),
                to_attr="roster",
            ),
            Prefetch(
                "appointments",
                queryset=LeaderAppointment.objects.current(on).select_related("member"),
                to_attr="leaders",
            ),
        )
    )


# --- Members' duties seen from the group (R-30 … R-33) ------------------------------------------------
def _member_records_visible_to(user, model) -> QuerySet:
    """Rows of ``model`` (with a ``member``) of the members the user may see (``members_visible_to``)."""
    return model.objects.select_related("member", "member__branch").filter(
        member__in=members_visible_to(user).order_by().values("pk")
    )


def dues_payments_visible_to(user) -> QuerySet[DuesPayment]:
    return _member_records_visible_to(user, DuesPayment)


def thought_reports_visible_to(user) -> QuerySet[ThoughtReport]:
    return _member_records_visible_to(user, ThoughtReport)


def member_posts_visible_to(user) -> QuerySet[MemberPost]:
    return _member_records_visible_to(user, MemberPost)


def points_ratings_visible_to(user) -> QuerySet[PointsRating]:
    return _member_records_visible_to(user, PointsRating)


def group_members_during(group: PartyGroup, first: dt.date, end: dt.date) -> QuerySet[Member]:
    """Members who were in ``group`` at any time in ``[first, end)`` (ordered by name)."""
    ids = GroupMembership.objects.filter(group=group).overlapping(first, end).values("member_id")
    return Member.objects.filter(pk__in=ids).order_by("name", "pk")


@dataclass(frozen=True)
class DuesMonthRow:
    """One line of the leader's monthly collection screen (R-31)."""

    member: Member
    payment: DuesPayment | None

    @property
    def is_settled(self) -> bool:
        return self.payment is not None and self.payment.is_settled


def group_dues_month(group: PartyGroup, month: dt.date) -> list[DuesMonthRow]:
    """R-31: the group's roster in ``month`` (anyone in the group during that month), each with the
    month's payment or None — the leader's collection screen (two queries)."""
    first = month_start(month)
    members = list(group_members_during(group, first, add_months(first, 1)))
    payments = {
        p.member_id: p
        for p in DuesPayment.objects.filter(member__in=[m.pk for m in members], month=first).select_related(
            "collected_by"
        )
    }
    return [DuesMonthRow(member=m, payment=payments.get(m.pk)) for m in members]


def group_dues_arrears(
    group: PartyGroup, *, on: dt.date | None = None, since: dt.date | None = None
) -> dict[int, DuesArrears]:
    """R-31: arrears of the group's CURRENT members (member id → ``DuesArrears``), as
    ``members.selectors.dues_arrears_for`` counts them. Dues are the member's, not the group's: a
    member who moved in brings their earlier months with them."""
    on = on or timezone.localdate()
    current = GroupMembership.objects.filter(group=group).current(on).values("member_id")
    return dues_arrears_for(Member.objects.filter(pk__in=current), on=on, since=since)


# --- Leader reviews, interviews, training; cultivation (R-22, R-28, R-35) ------------------------------
def _group_work_q(user, prefix: str) -> Q | None:
    """Groups whose work the user oversees or does: org staff of the subtree, the branch committee,
    the group's leader or deputy — not plain members (None: everything, for superusers)."""
    roles = roles_of(user)
    if roles.is_superuser:
        return None
    q = _org_q(roles.org_paths, f"{prefix}branch__organisation__")
    q |= Q(**{f"{prefix}branch_id__in": sorted(roles.committee_branch_ids)})
    return q | Q(**{f"{prefix}id__in": sorted(roles.led_group_ids)})


def _scoped(qs: QuerySet, user, prefix: str) -> QuerySet:
    q = _group_work_q(user, prefix)
    return qs if q is None else qs.filter(q)


def leader_reviews_visible_to(user) -> QuerySet[LeaderReview]:
    qs = LeaderReview.objects.select_related(
        "appointment", "appointment__group", "appointment__member", "reviewed_by"
    )
    return _scoped(qs, user, "appointment__group__")


def leader_interviews_visible_to(user) -> QuerySet[LeaderInterview]:
    return _scoped(LeaderInterview.objects.select_related("group", "member"), user, "group__")


def leader_trainings_visible_to(user) -> QuerySet[LeaderTraining]:
    return _member_records_visible_to(user, LeaderTraining)


def candidates_visible_to(user) -> QuerySet[CultivationCandidate]:
    """R-22: the people a group cultivates, for org staff, the branch committee and the group's
    leader or deputy (personal data of non-members: not for plain members)."""
    qs = CultivationCandidate.objects.select_related("branch", "group", "unit", "member")
    return _scoped(qs, user, "group__")


# --- What several rule collectors read (partygroup.findings) ---------------------------------------
# Not scoped to a user: ``collect_findings`` is given branches the caller may already see. Inside
# ``partygroup.findings.sharing()`` each is read once for all collectors; treat the lists as read-only.


def active_group_rows(branch_ids, on: dt.date) -> list[tuple]:
    """The groups of ``branch_ids`` active on ``on``, by branch, name and id, as tuples
    ``(pk, name, branch_id, established_on)`` (R-01 … R-10, R-17 … R-20, R-24, R-28, R-35). One query."""
    ids = tuple(sorted(set(branch_ids)))

    def read() -> list[tuple]:
        return list(
            PartyGroup.objects.active(on)
            .filter(branch_id__in=ids)
            .values_list("pk", "name", "branch_id", "established_on")
            .order_by("branch_id", "name", "pk")
        )

    return shared(f"active_group_rows:{ids}:{on.isoformat()}", read)


def current_leader_rows(branch_ids, on: dt.date) -> list[tuple]:
    """The leaders and deputies in office on ``on`` of the groups of ``branch_ids`` active that day,
    by group, role, latest appointment first, as tuples ``(group_id, role, started_on, member_id,
    member name, member's branch_id, member's status, member's full_member_on)`` (R-08, R-24, R-28,
    R-35). One query."""
    ids = tuple(sorted(set(branch_ids)))

    def read() -> list[tuple]:
        return list(
            LeaderAppointment.objects.current(on)
            .filter(group__in=PartyGroup.objects.active(on).filter(branch_id__in=ids))
            .values_list(
                "group_id",
                "role",
                "started_on",
                "member_id",
                "member__name",
                "member__branch_id",
                "member__status",
                "member__full_member_on",
            )
            .order_by("group_id", "role", "-started_on", "member_id")
        )

    return shared(f"current_leader_rows:{ids}:{on.isoformat()}", read)
