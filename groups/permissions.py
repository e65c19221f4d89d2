"""Permission predicates of the groups app (django-rules), declared once and used by name."""

from __future__ import annotations

import rules

from groups.selectors import roles_of
from members.permissions import is_committee_of_branch


@rules.predicate
def is_committee_of_group_branch(user, group) -> bool:
    return group is not None and is_committee_of_branch(user, group.branch)


@rules.predicate
def leads_group(user, group) -> bool:
    """Current leader or deputy leader of the group."""
    if group is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or group.pk in roles.led_group_ids


@rules.predicate
def is_org_staff_of_group(user, group) -> bool:
    if group is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or roles.in_org_subtree(group.branch.organisation.path)


@rules.predicate
def is_committee_of_change_branch(user, change) -> bool:
    return change is not None and is_committee_of_branch(user, change.branch)


@rules.predicate
def is_org_staff_of_change(user, change) -> bool:
    if change is None:
        return False
    roles = roles_of(user)
    return roles.is_superuser or roles.in_org_subtree(change.branch.organisation.path)


# the branch decides on groups (create / adjust / dissolve) and appoints leaders (R-24…R-26).
rules.add_perm("groups.manage_group", is_committee_of_group_branch)
rules.add_perm("groups.appoint_leader", is_committee_of_group_branch)
# The group's own work (meetings, talks, attendance) belongs to its leader and deputy.
rules.add_perm("groups.lead_group", leads_group)
rules.add_perm("groups.view_group_detail", leads_group | is_committee_of_group_branch | is_org_staff_of_group)
# the branch files a change; the higher organisation acknowledges it.
rules.add_perm("groups.file_group_change", is_committee_of_change_branch)
rules.add_perm("groups.acknowledge_group_change", is_org_staff_of_change)
