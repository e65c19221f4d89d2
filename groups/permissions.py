"""Permission predicates of the groups app (django-rules), declared once and used by name."""

from __future__ import annotations

import rules

from groups.models import GroupMembership
from groups.selectors import roles_of
from members.permissions import is_committee_of_branch, is_org_staff_of_branch


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


# --- The member registry (党员名册, groups/member_views.py) ----------------------------------------


@rules.predicate
def leads_group_in_branch(user, branch) -> bool:
    """Current leader or deputy of a group of the branch (sees that group's current members)."""
    return branch is not None and branch.pk in roles_of(user).led_group_branch_ids


@rules.predicate
def is_committee_of_member_branch(user, member) -> bool:
    return member is not None and is_committee_of_branch(user, member.branch)


@rules.predicate
def is_org_staff_of_member_branch(user, member) -> bool:
    return member is not None and is_org_staff_of_branch(user, member.branch)


@rules.predicate
def leads_members_group(user, member) -> bool:
    """The member is currently in a group the user leads (one query, only when asked)."""
    if member is None:
        return False
    led = roles_of(user).led_group_ids
    return bool(led) and GroupMembership.objects.current().filter(member=member, group_id__in=led).exists()


@rules.predicate
def is_the_member(user, member) -> bool:
    return member is not None and roles_of(user).member_id == member.pk


# The registry of a branch: its committee, org staff of the subtree, and a leader (their group only).
rules.add_perm(
    "groups.view_member_registry", is_committee_of_branch | is_org_staff_of_branch | leads_group_in_branch
)
# Export the branch's registry (masked; full values only where members.reveal_personal_data allows).
rules.add_perm("groups.export_member_registry", is_committee_of_branch | is_org_staff_of_branch)
# One member's record: the registry's readers (a leader for their group's members) and the member.
rules.add_perm(
    "groups.view_member",
    is_committee_of_member_branch | is_org_staff_of_member_branch | leads_members_group | is_the_member,
)

# The branch's group pages (?branch=…, the split suggestion, the filings): the branch committee
# manages them, organisation staff of the subtree read them (R-05: the higher organisation files).
rules.add_perm("groups.view_branch_groups", is_committee_of_branch | is_org_staff_of_branch)
rules.add_perm("groups.manage_branch_groups", is_committee_of_branch)


# --- Members' duties, leader reviews, cultivation (R-22, R-28, R-31, R-35) ---------------------------
# R-31 / R-27 (7): the leader collects the group's dues (the branch committee may record them too);
# thought reports are received the same way.
rules.add_perm("groups.collect_dues", leads_group | is_committee_of_group_branch)
# the branch reviews, interviews and trains its leaders.
rules.add_perm("groups.review_leader", is_committee_of_group_branch)
# the group cultivates applicants and activists with the branch.
rules.add_perm("groups.manage_cultivation", leads_group | is_committee_of_group_branch)
