"""Permission predicates of the members app (django-rules), declared once and used by name."""

from __future__ import annotations

import rules

from members.selectors import can_reveal_personal_data, member_roles


@rules.predicate
def can_reveal(user, member) -> bool:
    return member is not None and can_reveal_personal_data(user, member)


@rules.predicate
def is_committee_of_branch(user, branch) -> bool:
    if branch is None:
        return False
    roles = member_roles(user)
    return roles.is_superuser or branch.pk in roles.committee_branch_ids


@rules.predicate
def is_org_staff_of_branch(user, branch) -> bool:
    if branch is None:
        return False
    roles = member_roles(user)
    return roles.is_superuser or roles.in_org_subtree(branch.organisation.path)


# Reveal a member's full ID number / phone number (each reveal is logged).
rules.add_perm("members.reveal_personal_data", can_reveal)
# Manage a branch: members, groups, leaders, approvals.
rules.add_perm("members.manage_branch", is_committee_of_branch)
# Read a branch (org staff read their subtree; committee members their branch).
rules.add_perm("members.view_branch_dashboard", is_committee_of_branch | is_org_staff_of_branch)
