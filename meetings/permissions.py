"""Permission predicates of the meetings app (django-rules), declared once and used by name.

The predicates answer "may this user do this to this meeting?"; the workflow's state checks stay in
``meetings.services`` (a refused step says why). Querysets are scoped by ``meetings.selectors``
(django-rules does not filter lists).
"""

from __future__ import annotations

import rules

from groups.selectors import roles_of
from meetings.enums import HELD_STATES, MeetingState
from meetings.selectors import can_view_meeting


@rules.predicate
def can_view(user, meeting) -> bool:
    return meeting is not None and can_view_meeting(user, meeting)


@rules.predicate
def leads_meeting_group(user, meeting) -> bool:
    """Current leader or deputy of the meeting's group: submit, notify, record, report, cancel, edit."""
    if meeting is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or meeting.group_id in roles.led_group_ids


@rules.predicate
def approves_for_branch(user, meeting) -> bool:
    """R-11: the secretary, deputy secretary, organisation or discipline member of the meeting's branch."""
    if meeting is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or meeting.group.branch_id in roles.approving_branch_ids


@rules.predicate
def is_archived(user, meeting) -> bool:
    return meeting is not None and meeting.state == MeetingState.ARCHIVED


@rules.predicate
def has_minutes(user, meeting) -> bool:
    return meeting is not None and meeting.state in HELD_STATES


@rules.predicate
def can_view_talk(user, talk) -> bool:
    if talk is None:
        return False
    roles = roles_of(user)
    if roles.is_superuser or roles.in_org_subtree(talk.group.branch.organisation.path):
        return True
    if talk.group.branch_id in roles.committee_branch_ids or talk.group_id in roles.led_group_ids:
        return True
    return roles.member_id is not None and roles.member_id in {talk.initiator_id, talk.partner_id}


rules.add_perm("meetings.view_meeting", can_view)
# The leader's steps; whether the step is possible now is the service's answer.
rules.add_perm("meetings.lead_meeting", leads_meeting_group)
# Edit the request or the minutes: the leader, never once archived.
rules.add_perm("meetings.edit_meeting", leads_meeting_group & ~is_archived)
# approve or return the request; R-12: archive the reported record.
rules.add_perm("meetings.approve_meeting", approves_for_branch)
# a correction to an archived record is an addendum by the leader or the branch committee.
rules.add_perm("meetings.add_addendum", is_archived & (leads_meeting_group | approves_for_branch))
rules.add_perm("meetings.view_minutes_pdf", can_view & has_minutes)
rules.add_perm("meetings.view_talk", can_view_talk)
