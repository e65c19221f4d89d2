"""An organisation tree with a user of every role, for the selector and permission matrices.

    工委 (root, Loudi 2023 rule set)                       另一工委 (root, no rule set → central 2019)
      └─ 机关党委 (inherits Loudi)                            └─ branch C: group c1 (secretary_c)
           ├─ branch A: groups a1 (leader_a1, member_a1), a2 (leader_a2, secretary_a), one member in no group
           └─ 党总支 (own rule set: central 2019)
                ├─ branch B: group b1
                └─ 第一党小组联络组 (no rule set → inherits central from 党总支)

Roles (``tree.users``): superuser, staff_top (工委, may see personal data), staff_mid (机关党委),
staff_leaf (党总支), staff_other (另一工委), secretary_a, propaganda_a (宣传委员 of A),
secretary_c, leader_a1, leader_a2, member_a1, anonymous.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser

from groups.enums import LeaderRole
from groups.models import PartyGroup
from members.enums import CommitteePost, OrganisationKind
from members.models import Branch, Member, Organisation
from tests import factories as f

ROLES = (
    "superuser",
    "staff_top",
    "staff_mid",
    "staff_leaf",
    "staff_other",
    "secretary_a",
    "propaganda_a",
    "secretary_c",
    "leader_a1",
    "leader_a2",
    "member_a1",
    "anonymous",
)


@dataclass
class OrgTree:
    top: Organisation
    mid: Organisation
    leaf: Organisation
    leaf_child: Organisation
    other_root: Organisation
    branches: dict[str, Branch]
    groups: dict[str, PartyGroup]
    members: dict[str, Member]
    users: dict[str, object] = field(default_factory=dict)

    def member_names(self, *branch_keys: str) -> set[str]:
        return {
            name
            for name, m in self.members.items()
            if any(m.branch_id == self.branches[k].pk for k in branch_keys)
        }


def _group(branch: Branch, name: str, members: dict[str, Member], names: list[str]) -> PartyGroup:
    group = f.PartyGroupFactory(branch=branch, name=name)
    for member_name in names:
        member = f.MemberFactory(branch=branch, name=member_name)
        f.GroupMembershipFactory(group=group, member=member, started_on=dt.date(2020, 1, 1))
        members[member_name] = member
    return group


def build_tree() -> OrgTree:
    top = f.OrganisationFactory(
        name="市直机关工委", kind=OrganisationKind.WORK_COMMITTEE, rule_set=f.rule_set("loudi-2023")
    )
    mid = f.OrganisationFactory(parent=top, name="市财政局机关党委", kind=OrganisationKind.ORGAN_COMMITTEE)
    leaf = f.OrganisationFactory(
        parent=mid,
        name="国库处党总支",
        kind=OrganisationKind.GENERAL_BRANCH,
        rule_set=f.rule_set("central-2019"),
    )
    leaf_child = f.OrganisationFactory(parent=leaf, name="国库处联络组", kind=OrganisationKind.OTHER)
    other_root = f.OrganisationFactory(name="另一工委", kind=OrganisationKind.WORK_COMMITTEE)
    # treebeard updates the parents' numchild in the database: reload the nodes
    top, mid, leaf, leaf_child, other_root = (
        Organisation.objects.get(pk=o.pk) for o in (top, mid, leaf, leaf_child, other_root)
    )
    branches = {
        "A": f.BranchFactory(organisation=mid, name="财政局办公室党支部"),
        "B": f.BranchFactory(organisation=leaf, name="国库处党支部"),
        "C": f.BranchFactory(organisation=other_root, name="另一党支部"),
    }
    members: dict[str, Member] = {}
    groups = {
        "a1": _group(branches["A"], "办公室第一党小组", members, ["组长甲", "党员甲", "党员乙"]),
        "a2": _group(branches["A"], "办公室第二党小组", members, ["组长乙", "书记甲", "党员丙"]),
        "b1": _group(branches["B"], "国库党小组", members, ["组长丙", "党员丁", "党员戊"]),
        "c1": _group(branches["C"], "另一党小组", members, ["书记乙", "党员己", "党员庚"]),
    }
    members["未编组"] = f.MemberFactory(branch=branches["A"], name="未编组")
    members["宣传委员"] = f.MemberFactory(branch=branches["A"], name="宣传委员")
    f.LeaderAppointmentFactory(group=groups["a1"], member=members["组长甲"], role=LeaderRole.LEADER)
    f.LeaderAppointmentFactory(group=groups["a2"], member=members["组长乙"], role=LeaderRole.LEADER)
    f.LeaderAppointmentFactory(group=groups["b1"], member=members["组长丙"], role=LeaderRole.LEADER)
    f.CommitteeMembershipFactory(member=members["书记甲"], post=CommitteePost.SECRETARY)
    f.CommitteeMembershipFactory(member=members["宣传委员"], post=CommitteePost.PROPAGANDA)
    f.CommitteeMembershipFactory(member=members["书记乙"], post=CommitteePost.SECRETARY)

    def staff(organisation, username, personal=False):
        return f.OrganisationStaffFactory(
            organisation=organisation, user=f.UserFactory(username=username), can_view_personal_data=personal
        ).user

    superuser = f.UserFactory(username="superuser")
    superuser.is_superuser = True
    superuser.save()
    users = {
        "superuser": superuser,
        "staff_top": staff(top, "staff_top", personal=True),
        "staff_mid": staff(mid, "staff_mid"),
        "staff_leaf": staff(leaf, "staff_leaf"),
        "staff_other": staff(other_root, "staff_other", personal=True),
        "secretary_a": f.user_for(members["书记甲"], "secretary_a"),
        "propaganda_a": f.user_for(members["宣传委员"], "propaganda_a"),
        "secretary_c": f.user_for(members["书记乙"], "secretary_c"),
        "leader_a1": f.user_for(members["组长甲"], "leader_a1"),
        "leader_a2": f.user_for(members["组长乙"], "leader_a2"),
        "member_a1": f.user_for(members["党员甲"], "member_a1"),
        "anonymous": AnonymousUser(),
    }
    assert tuple(users) == ROLES
    return OrgTree(
        top=top,
        mid=mid,
        leaf=leaf,
        leaf_child=leaf_child,
        other_root=other_root,
        branches=branches,
        groups=groups,
        members=members,
        users=users,
    )


def fresh_user(tree: OrgTree, role: str):
    """The role's user without cached roles (``member_roles``/``roles_of`` cache on the user object)."""
    user = tree.users[role]
    if role == "anonymous":
        return AnonymousUser()
    return type(user).objects.get(pk=user.pk)
