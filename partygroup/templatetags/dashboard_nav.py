"""``{% nav_roles as nav %}``: what the menu (templates/_nav.html) shows for the user's roles.

No query beyond ``groups.selectors.roles_of`` (cached on the user object for the request, and most
views have computed it already), so the menu adds nothing to a page's query count.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from groups.selectors import roles_of

register = template.Library()


@dataclass(frozen=True)
class NavRoles:
    branch_id: int | None = None  # the one branch whose committee the user sits on
    several_branches: bool = False  # committee of several branches: the home page's chooser
    committee: bool = False
    overview: bool = False  # organisation staff or superuser
    leader: bool = False
    member: bool = False


@register.simple_tag(takes_context=True)
def nav_roles(context) -> NavRoles:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return NavRoles()
    roles = roles_of(user)
    branches = sorted(roles.committee_branch_ids)
    return NavRoles(
        branch_id=branches[0] if len(branches) == 1 else None,
        several_branches=len(branches) > 1,
        committee=bool(branches) or roles.is_superuser,
        overview=roles.is_superuser or roles.is_org_staff,
        leader=bool(roles.led_group_ids),
        member=roles.member_id is not None,
    )
