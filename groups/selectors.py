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

from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from members.enums import MemberState
from members.models import Branch, Member
from members.selectors import MemberRoles, member_roles


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
