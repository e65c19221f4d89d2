"""Reads of the members app, scoped to what the acting user may see.

Roles (GLOSSARY.md): organisation staff (``OrganisationStaff``: read the node's subtree), branch
committee (``CommitteeMembership``: manage the branch), members (``Member.user``). Group leaders
are known to the groups app, which extends these scopes (``groups.selectors``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from members.enums import APPROVING_POSTS, CommitteePost, MemberState
from members.models import (
    Branch,
    CommitteeMembership,
    Member,
    Organisation,
    OrganisationStaff,
    RuleSet,
)


@dataclass(frozen=True)
class MemberRoles:
    """What a user is, from the members app's point of view. Computed once per user object."""

    user_id: int | None
    is_superuser: bool = False
    org_paths: tuple[str, ...] = ()
    org_personal_data_paths: tuple[str, ...] = ()
    committee_posts: dict[int, frozenset[str]] = field(default_factory=dict)  # branch_id → posts
    member_id: int | None = None
    member_branch_id: int | None = None

    @property
    def committee_branch_ids(self) -> frozenset[int]:
        return frozenset(self.committee_posts)

    @property
    def approving_branch_ids(self) -> frozenset[int]:
        return frozenset(b for b, posts in self.committee_posts.items() if posts & APPROVING_POSTS)

    @property
    def is_org_staff(self) -> bool:
        return bool(self.org_paths)

    def in_org_subtree(self, org_path: str, *, personal_data: bool = False) -> bool:
        paths = self.org_personal_data_paths if personal_data else self.org_paths
        return any(org_path.startswith(p) for p in paths)


def member_roles(user) -> MemberRoles:
    """Roles of ``user`` (cached on the user object for the request)."""
    if user is None or not user.is_authenticated:
        return MemberRoles(user_id=None)
    cached = getattr(user, "_member_roles", None)
    if cached is not None:
        return cached
    today = timezone.localdate()
    staff = list(
        OrganisationStaff.objects.filter(user=user).values_list(
            "organisation__path", "can_view_personal_data"
        )
    )
    posts: dict[int, set[str]] = {}
    member = Member.objects.filter(user=user, state=MemberState.ACTIVE).only("id", "branch_id").first()
    if member is not None:
        for branch_id, post in (
            CommitteeMembership.objects.current(today).filter(member=member).values_list("branch_id", "post")
        ):
            posts.setdefault(branch_id, set()).add(post)
    roles = MemberRoles(
        user_id=user.pk,
        is_superuser=user.is_superuser,
        org_paths=tuple(path for path, _ in staff),
        org_personal_data_paths=tuple(path for path, can in staff if can),
        committee_posts={b: frozenset(p) for b, p in posts.items()},
        member_id=member.pk if member else None,
        member_branch_id=member.branch_id if member else None,
    )
    user._member_roles = roles
    return roles


def _org_subtree_q(paths: tuple[str, ...], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def organisations_visible_to(user) -> QuerySet[Organisation]:
    roles = member_roles(user)
    if roles.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(_org_subtree_q(roles.org_paths, ""))


def branches_visible_to(user) -> QuerySet[Branch]:
    """Org staff: their subtree; committee members and members: their own branch."""
    roles = member_roles(user)
    qs = Branch.objects.select_related("organisation")
    if roles.is_superuser:
        return qs
    q = _org_subtree_q(roles.org_paths, "organisation__") | Q(pk__in=list(roles.committee_branch_ids))
    if roles.member_branch_id:
        q |= Q(pk=roles.member_branch_id)
    return qs.filter(q)


def members_visible_to_staff(user) -> QuerySet[Member]:
    """Members a staff user manages or reads in the admin: org staff their subtree, committee
    members their branches (the admin's scope; group leaders' views use groups.selectors)."""
    roles = member_roles(user)
    qs = Member.objects.select_related("branch", "branch__organisation", "unit")
    if roles.is_superuser:
        return qs
    return qs.filter(
        _org_subtree_q(roles.org_paths, "branch__organisation__")
        | Q(branch_id__in=list(roles.committee_branch_ids))
    )


def branches_managed_by(user) -> QuerySet[Branch]:
    """Branches whose committee the user sits on (write access to the branch's set-up)."""
    roles = member_roles(user)
    if roles.is_superuser:
        return Branch.objects.all()
    return Branch.objects.filter(pk__in=list(roles.committee_branch_ids))


def can_reveal_personal_data(user, member: Member) -> bool:
    """Secretary / organisation member of the member's branch, org staff with the right, superusers."""
    roles = member_roles(user)
    if roles.is_superuser:
        return True
    posts = roles.committee_posts.get(member.branch_id, frozenset())
    if posts & {CommitteePost.SECRETARY, CommitteePost.ORGANISATION}:
        return True
    return roles.in_org_subtree(member.branch.organisation.path, personal_data=True)


def rule_sets_by_organisation() -> dict[int, RuleSet]:
    """Every organisation's effective rule set in two queries (for checks across many branches)."""
    rule_sets = {rs.pk: rs for rs in RuleSet.objects.all()}
    default = next((rs for rs in rule_sets.values() if rs.code == "central-2019"), None)
    nodes = list(Organisation.objects.order_by("path").values_list("pk", "path", "rule_set_id", "depth"))
    by_path: dict[str, RuleSet | None] = {}
    result: dict[int, RuleSet] = {}
    steplen = Organisation.steplen
    for pk, path, rule_set_id, _depth in nodes:
        parent_path = path[:-steplen]
        inherited = by_path.get(parent_path) if parent_path else None
        own = rule_sets.get(rule_set_id) if rule_set_id else None
        effective = own or inherited or default
        by_path[path] = effective
        result[pk] = effective
    return result
