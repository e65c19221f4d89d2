"""Permission predicates of the dashboards (django-rules), declared once and used by name.

The branch dashboard reuses ``members.view_branch_dashboard`` (committee of the branch, org staff of
its subtree) and ``members.manage_branch``; its actions reuse the meetings and groups permissions.
Only the organisation overview needs a predicate of its own.
"""

from __future__ import annotations

import rules

from groups.selectors import roles_of


@rules.predicate
def is_org_staff_or_superuser(user) -> bool:
    roles = roles_of(user)
    return roles.is_superuser or roles.is_org_staff


VIEW_OVERVIEW = "dashboard.view_overview"
# The organisation overview: organisation staff (their subtree) and superusers (everything).
rules.add_perm(VIEW_OVERVIEW, is_org_staff_or_superuser)
