"""Permission predicates of the annual work report (R-34, django-rules), declared once, used by name.

The object is the report or, where none is saved yet, its group. The workflow's state checks stay in
``meetings.annual_report`` (a refused step says why); lists are scoped by
``meetings.annual_report.annual_reports_visible_to`` (django-rules does not filter querysets).
Registered from ``MeetingsConfig.ready()``.
"""

from __future__ import annotations

import rules

from groups.models import PartyGroup
from groups.selectors import roles_of
from meetings.annual_report import can_view_report
from meetings.models import AnnualReport


def _group_of(obj) -> PartyGroup | None:
    if isinstance(obj, AnnualReport):
        return obj.group
    return obj if isinstance(obj, PartyGroup) else None


@rules.predicate
def can_view(user, obj) -> bool:
    """A saved report (org staff, the branch committee, the leader; a member: archived, own group) or
    the unsaved draft of a group (everyone of those but plain members)."""
    group = _group_of(obj)
    if group is None:
        return False
    return can_view_report(user, group, obj if isinstance(obj, AnnualReport) else None)


@rules.predicate
def leads_report_group(user, obj) -> bool:
    group = _group_of(obj)
    if group is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or group.pk in roles.led_group_ids


@rules.predicate
def reviews_for_branch(user, obj) -> bool:
    """The secretary, deputy secretary, organisation or discipline member of the group's branch."""
    group = _group_of(obj)
    if group is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or group.branch_id in roles.approving_branch_ids


rules.add_perm("meetings.view_annual_report", can_view)
# Draft, edit and submit the group's report: its current leader or deputy.
rules.add_perm("meetings.write_annual_report", leads_report_group)
# Return with a comment or archive a submitted report: the branch committee.
rules.add_perm("meetings.review_annual_report", reviews_for_branch)
