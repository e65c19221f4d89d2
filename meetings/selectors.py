"""Reads of the meetings app, scoped to what the acting user may see.

Roles (GLOSSARY.md, ``groups.selectors.roles_of``):

- organisation staff: the meetings and talks of every branch in their organisation's subtree;
- branch committee members: their branch's meetings and talks;
- group leaders and deputies: their groups' meetings and talks;
- a plain member: the ARCHIVED meetings of their own current group (the record filed for inspection,
  R-12) and the talks they took part in;
- anyone else: nothing.

Every list page, detail page, PDF and admin changelist starts from these querysets, so a meeting of
another branch is simply not found (404).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from groups.models import GroupMembership, PartyGroup
from groups.selectors import roles_of
from meetings.enums import MeetingState
from meetings.models import (
    ActionFollowUp,
    ActionItem,
    AgendaItem,
    Attendance,
    CultivationOpinion,
    EvaluationResult,
    Meeting,
    MeetingAddendum,
    Speech,
    Talk,
)
from members.models import Member


def _org_q(paths: tuple[str, ...], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def group_scope_q(roles, prefix: str) -> Q:
    """Org subtree, committee branches and led groups, for objects reaching the group by ``prefix``
    (the meetings, talks, opinions and annual reports of the groups the user oversees or leads)."""
    q = _org_q(roles.org_paths, f"{prefix}branch__organisation__")
    q |= Q(**{f"{prefix}branch_id__in": sorted(roles.committee_branch_ids)})
    q |= Q(**{f"{prefix}id__in": sorted(roles.led_group_ids)})
    return q


def meetings_visible_to(user) -> QuerySet[Meeting]:
    roles = roles_of(user)
    qs = Meeting.objects.select_related("group", "group__branch", "group__branch__organisation")
    if roles.is_superuser:
        return qs
    # The scope as "group_id IN (visible groups)" on the meeting's own column: an OR across the
    # joined group and branch defeats the group_id index (a sequential scan of every meeting of the
    # city on each list page). The own group's archived meetings are folded in without an OR at the
    # top: group in (scope ∪ own) AND (archived OR group in scope).
    scope = PartyGroup.objects.filter(group_scope_q(roles, "")).values("pk")
    if not roles.own_group_id:
        return qs.filter(group_id__in=scope)
    with_own = PartyGroup.objects.filter(group_scope_q(roles, "") | Q(pk=roles.own_group_id)).values("pk")
    return qs.filter(Q(group_id__in=with_own), Q(state=MeetingState.ARCHIVED) | Q(group_id__in=scope))


def talks_visible_to(user) -> QuerySet[Talk]:
    roles = roles_of(user)
    qs = Talk.objects.select_related("group", "group__branch", "initiator", "partner")
    if roles.is_superuser:
        return qs
    q = group_scope_q(roles, "group__")
    if roles.member_id:
        q |= Q(initiator_id=roles.member_id) | Q(partner_id=roles.member_id)
    return qs.filter(q)


def can_view_meeting(user, meeting: Meeting) -> bool:
    """The object-level twin of ``meetings_visible_to`` (no query beyond the user's roles)."""
    roles = roles_of(user)
    if roles.is_superuser:
        return True
    group = meeting.group
    if roles.in_org_subtree(group.branch.organisation.path):
        return True
    if group.branch_id in roles.committee_branch_ids or group.pk in roles.led_group_ids:
        return True
    return group.pk == roles.own_group_id and meeting.state == MeetingState.ARCHIVED


def with_full_record(
    qs: QuerySet[Meeting], *, actions_by: tuple[str, ...] = ("id",), with_addenda: bool = False
) -> QuerySet[Meeting]:
    """``qs`` with the whole record of each meeting, in a fixed number of queries whatever its size:
    the group, branch and organisation, the minutes with host and recorder (R-14), the life meeting's
    record (R-18); attendance, the agenda items with their speeches in speaking order, the decided
    matters with their owners (R-16), the follow-ups of earlier matters and the evaluation results
    (R-19); with ``with_addenda`` the addenda too (R-12).

    ``actions_by``: the order of the decided matters — entry order (the minutes form, the numbered
    list of the PDF) or ``("due_on", "id")`` (the detail page). Used by the detail and minutes pages
    (meetings/views.py) and the PDF (meetings/pdf.py).
    """
    prefetches = [
        Prefetch("attendances", queryset=Attendance.objects.select_related("member").order_by("id")),
        Prefetch(
            "agenda_items",
            queryset=AgendaItem.objects.order_by("number").prefetch_related(
                Prefetch("speeches", queryset=Speech.objects.select_related("speaker").order_by("order"))
            ),
        ),
        Prefetch(
            "action_items",
            queryset=ActionItem.objects.select_related("owner", "agenda_item").order_by(*actions_by),
        ),
        Prefetch(
            "follow_ups",
            queryset=ActionFollowUp.objects.select_related(
                "action_item", "action_item__owner", "action_item__meeting"
            ).order_by("id"),
        ),
        Prefetch(
            "evaluations", queryset=EvaluationResult.objects.select_related("member").order_by("member__name")
        ),
    ]
    if with_addenda:
        addenda = MeetingAddendum.objects.select_related("created_by").order_by("number")
        prefetches.append(Prefetch("addenda", queryset=addenda))
    return qs.select_related(
        "group",
        "group__branch",
        "group__branch__organisation",
        "minutes",
        "minutes__host",
        "minutes__recorder",
        "life_record",
    ).prefetch_related(*prefetches)


def roster_on(group: PartyGroup, day: dt.date) -> list[Member]:
    """The group's members on ``day`` (attendance is prefilled from it; the notice goes to them)."""
    ids = GroupMembership.objects.filter(group=group).current(day).values("member_id")
    return list(Member.objects.filter(pk__in=ids).order_by("name", "pk"))


def cultivation_opinions_visible_to(user) -> QuerySet[CultivationOpinion]:
    """R-22: the group's opinions on the people it cultivates, for those who see the meeting's group's
    work (org staff, the branch committee, the group's leader); not for plain members (personal)."""
    roles = roles_of(user)
    qs = CultivationOpinion.objects.select_related("candidate", "meeting", "meeting__group", "agenda_item")
    if roles.is_superuser:
        return qs
    return qs.filter(group_scope_q(roles, "meeting__group__"))
