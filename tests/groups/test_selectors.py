"""Tests of groups/selectors.py: each role × each selector, with the exact sets of visible objects.

The tree (工委 → 机关党委 → 党总支, another 工委) and its users come from ``tests.org_tree``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from groups import selectors
from groups.enums import GroupChangeKind, LeaderRole
from groups.models import (
    CultivationCandidate,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderInterview,
)
from tests import factories as f
from tests.org_tree import ROLES, build_tree, fresh_user

pytestmark = pytest.mark.django_db

A1, A2, B1, C1 = "办公室第一党小组", "办公室第二党小组", "国库党小组", "另一党小组"


@pytest.fixture
def tree(db):
    return build_tree()


def matrix(tree, selector, label) -> dict[str, set[str]]:
    return {role: {label(obj) for obj in selector(fresh_user(tree, role))} for role in ROLES}


def group_name(obj) -> str:
    return obj.name


# --- groups_visible_to ---------------------------------------------------------------------------
GROUPS_VISIBLE = {
    "superuser": {A1, A2, B1, C1},
    "staff_top": {A1, A2, B1},  # every descendant's branches
    "staff_mid": {A1, A2, B1},
    "staff_leaf": {B1},  # a leaf's staff see only theirs
    "staff_other": {C1},
    "secretary_a": {A1, A2},  # the whole branch
    "propaganda_a": {A1, A2},  # any committee member
    "secretary_c": {C1},
    "leader_a1": {A1},  # the group led
    "leader_a2": {A2},
    "member_a1": {A1},  # the member's own group
    "anonymous": set(),
}


def test_groups_visible_to_each_role(tree):
    assert matrix(tree, selectors.groups_visible_to, group_name) == GROUPS_VISIBLE


def test_leader_of_one_group_and_member_of_another_sees_both(tree):
    # 组长甲 leads a1; make them deputy of a2 as well: leaders see every group they lead
    f.LeaderAppointmentFactory(group=tree.groups["a2"], member=tree.members["组长甲"], role=LeaderRole.DEPUTY)
    assert {g.name for g in selectors.groups_visible_to(fresh_user(tree, "leader_a1"))} == {A1, A2}


def test_former_leader_sees_only_their_own_group(tree):
    appointment = tree.groups["a2"].appointments.get()
    appointment.ended_on = timezone.localdate() - dt.timedelta(days=1)
    appointment.save()
    # 组长乙 is still a member of a2, so a2 stays visible as their own group, but they no longer lead it
    roles = selectors.roles_of(fresh_user(tree, "leader_a2"))
    assert (roles.led_group_ids, roles.own_group_id) == (frozenset(), tree.groups["a2"].pk)


def test_leader_of_a_dissolved_group_does_not_lead_it(tree):
    group = tree.groups["a1"]
    group.dissolved_on = dt.date(2023, 1, 1)
    group.save()
    assert selectors.roles_of(fresh_user(tree, "leader_a1")).led_group_ids == frozenset()


# --- members_visible_to --------------------------------------------------------------------------
def test_members_visible_to_each_role(tree):
    expected = {
        "superuser": tree.member_names("A", "B", "C"),
        "staff_top": tree.member_names("A", "B"),
        "staff_mid": tree.member_names("A", "B"),
        "staff_leaf": tree.member_names("B"),
        "staff_other": tree.member_names("C"),
        "secretary_a": tree.member_names("A"),  # including the member in no group
        "propaganda_a": tree.member_names("A"),
        "secretary_c": tree.member_names("C"),
        "leader_a1": {"组长甲", "党员甲", "党员乙"},  # the current members of the group led
        "leader_a2": {"组长乙", "书记甲", "党员丙"},
        "member_a1": {"党员甲"},  # a member: only themself
        "anonymous": set(),
    }
    assert matrix(tree, selectors.members_visible_to, group_name) == expected


def test_leader_does_not_see_a_member_who_left_the_group(tree):
    membership = GroupMembership.objects.get(member=tree.members["党员乙"])
    membership.ended_on = timezone.localdate()
    membership.save()
    assert {m.name for m in selectors.members_visible_to(fresh_user(tree, "leader_a1"))} == {
        "组长甲",
        "党员甲",
    }


# --- memberships / appointments / group changes ---------------------------------------------------
def test_memberships_visible_to_each_role(tree):
    def label(m):
        return f"{m.group.name}:{m.member.name}"

    everything = {label(m) for m in GroupMembership.objects.select_related("group", "member")}
    expected = {role: {x for x in everything if x.split(":")[0] in GROUPS_VISIBLE[role]} for role in ROLES}
    assert matrix(tree, selectors.memberships_visible_to, label) == expected
    assert len(expected["leader_a1"]) == 3


def test_appointments_visible_to_each_role(tree):
    def label(a):
        return f"{a.group.name}:{a.member.name}"

    leaders = {A1: f"{A1}:组长甲", A2: f"{A2}:组长乙", B1: f"{B1}:组长丙"}
    expected = {role: {leaders[g] for g in GROUPS_VISIBLE[role] if g in leaders} for role in ROLES}
    assert matrix(tree, selectors.appointments_visible_to, label) == expected
    assert expected["staff_leaf"] == {f"{B1}:组长丙"}


def test_group_changes_visible_to_each_role(tree):
    for key in ("A", "B", "C"):
        GroupChange.objects.create(
            branch=tree.branches[key],
            kind=GroupChangeKind.CREATE,
            summary=key,
            decided_on=dt.date(2024, 1, 1),
            document_number=key,
            decided_by=tree.users["superuser"],
        )
    expected = {
        **{role: set() for role in ROLES},  # leaders and members do not see the branch's decisions
        "superuser": {"A", "B", "C"},
        "staff_top": {"A", "B"},
        "staff_mid": {"A", "B"},
        "staff_leaf": {"B"},
        "staff_other": {"C"},
        "secretary_a": {"A"},
        "propaganda_a": {"A"},
        "secretary_c": {"C"},
    }
    assert matrix(tree, selectors.group_changes_visible_to, lambda c: c.summary) == expected


# --- roles_of ------------------------------------------------------------------------------------
def test_roles_of_each_role(tree):
    g = {k: v.pk for k, v in tree.groups.items()}
    expected = {
        **{role: (frozenset(), frozenset(), None) for role in ROLES},
        "secretary_a": (frozenset(), frozenset(), g["a2"]),
        "secretary_c": (frozenset(), frozenset(), g["c1"]),
        "leader_a1": (frozenset({g["a1"]}), frozenset({tree.branches["A"].pk}), g["a1"]),
        "leader_a2": (frozenset({g["a2"]}), frozenset({tree.branches["A"].pk}), g["a2"]),
        "member_a1": (frozenset(), frozenset(), g["a1"]),
    }
    actual = {}
    for role in ROLES:
        roles = selectors.roles_of(fresh_user(tree, role))
        actual[role] = (roles.led_group_ids, roles.led_group_branch_ids, roles.own_group_id)
    assert actual == expected


def test_roles_of_delegates_to_member_roles_and_is_cached(tree, django_assert_num_queries):
    user = fresh_user(tree, "secretary_a")
    roles = selectors.roles_of(user)
    assert roles.committee_branch_ids == frozenset({tree.branches["A"].pk})
    assert roles.is_superuser is False
    with django_assert_num_queries(0):
        assert selectors.roles_of(user) is roles


# --- current_members / branch_groups_with_roster --------------------------------------------------
def test_current_members_of_a_group_on_a_day(tree):
    group = tree.groups["a1"]
    newcomer = f.MemberFactory(branch=tree.branches["A"], name="新党员")
    f.GroupMembershipFactory(group=group, member=newcomer, started_on=dt.date(2024, 9, 1))
    old = GroupMembership.objects.get(member=tree.members["党员乙"])
    old.ended_on = dt.date(2024, 9, 1)
    old.save()
    assert {m.name for m in selectors.current_members(group, dt.date(2024, 8, 31))} == {
        "组长甲",
        "党员甲",
        "党员乙",
    }
    assert {m.name for m in selectors.current_members(group, dt.date(2024, 9, 1))} == {
        "组长甲",
        "党员甲",
        "新党员",
    }


def test_branch_groups_with_roster_in_three_queries(tree, django_assert_num_queries):
    with django_assert_num_queries(3):
        groups = selectors.branch_groups_with_roster(tree.branches["A"])
        summary = {
            g.name: ({m.member.name for m in g.roster}, [a.member.name for a in g.leaders]) for g in groups
        }
    assert summary == {
        A1: ({"组长甲", "党员甲", "党员乙"}, ["组长甲"]),
        A2: ({"组长乙", "书记甲", "党员丙"}, ["组长乙"]),
    }


# --- Members' duties seen from the group (R-22, R-28, R-31, R-35) -----------------------------------
MEMBERS_VISIBLE = {
    "superuser": ("A", "B", "C"),
    "staff_top": ("A", "B"),
    "staff_mid": ("A", "B"),
    "staff_leaf": ("B",),
    "staff_other": ("C",),
    "secretary_a": ("A",),
    "propaganda_a": ("A",),
    "secretary_c": ("C",),
}


def test_dues_payments_visible_to_each_role_follow_members_visible_to(tree):
    for member in tree.members.values():
        f.DuesPaymentFactory(member=member)
    expected = {role: tree.member_names(*MEMBERS_VISIBLE.get(role, ())) for role in ROLES}
    expected |= {
        "leader_a1": {"组长甲", "党员甲", "党员乙"},
        "leader_a2": {"组长乙", "书记甲", "党员丙"},
        "member_a1": {"党员甲"},
    }
    assert matrix(tree, selectors.dues_payments_visible_to, lambda p: p.member.name) == expected


GROUP_WORK_VISIBLE = GROUPS_VISIBLE | {"member_a1": set()}  # not for plain members


def test_candidates_reviews_and_interviews_visible_to_each_role(tree):
    user = f.UserFactory(username="recorder")
    for key, group in tree.groups.items():
        if not LeaderAppointment.objects.filter(group=group).exists():  # 另一党小组 has no leader yet
            f.LeaderAppointmentFactory(group=group, member=group.memberships.order_by("pk").first().member)
        CultivationCandidate.objects.create(
            branch=group.branch,
            group=group,
            name=f"申请人{key}",
            gender="M",
            birth_date=dt.date(2000, 1, 1),
            stage="applicant",
            stage_started_on=dt.date(2024, 1, 1),
            created_by=user,
        )
    for appointment in LeaderAppointment.objects.all():
        f.LeaderReviewFactory(appointment=appointment, reviewed_by=user)
        LeaderInterview.objects.create(
            group=appointment.group,
            member=appointment.member,
            interviewed_on=dt.date(2024, 5, 1),
            interviewer="书记",
            content="约谈",
            recorded_by=user,
        )
    assert matrix(tree, selectors.candidates_visible_to, lambda c: c.group.name) == GROUP_WORK_VISIBLE
    assert (
        matrix(tree, selectors.leader_reviews_visible_to, lambda r: r.appointment.group.name)
        == GROUP_WORK_VISIBLE
    )
    assert matrix(tree, selectors.leader_interviews_visible_to, lambda i: i.group.name) == GROUP_WORK_VISIBLE


def test_group_dues_month_lists_the_roster_of_the_month_with_payments(tree, django_assert_num_queries):
    group = tree.groups["a1"]
    moved = GroupMembership.objects.get(member=tree.members["党员乙"])
    moved.ended_on = dt.date(2025, 3, 15)
    moved.save()
    paid = f.DuesPaymentFactory(member=tree.members["党员甲"], month=dt.date(2025, 3, 1))
    f.DuesPaymentFactory(member=tree.members["党员甲"], month=dt.date(2025, 2, 1))
    with django_assert_num_queries(2):
        rows = selectors.group_dues_month(group, dt.date(2025, 3, 20))
    assert [(r.member.name, r.payment, r.is_settled) for r in rows] == [
        ("党员乙", None, False),
        ("党员甲", paid, True),
        ("组长甲", None, False),
    ]
    assert [r.member.name for r in selectors.group_dues_month(group, dt.date(2025, 4, 1))] == [
        "党员甲",
        "组长甲",
    ]


def test_group_dues_arrears_of_the_current_members(tree):
    group = tree.groups["a1"]
    branch = group.branch
    branch.ledger_start_on = dt.date(2025, 1, 1)
    branch.save()
    for month in (1, 2):
        f.DuesPaymentFactory(member=tree.members["党员甲"], month=dt.date(2025, month, 1))
    arrears = selectors.group_dues_arrears(group, on=dt.date(2025, 3, 10))
    names = {tree.members[n].pk: n for n in ("组长甲", "党员甲", "党员乙")}
    assert {names[pk]: a.months for pk, a in arrears.items()} == {
        "组长甲": (dt.date(2025, 1, 1), dt.date(2025, 2, 1)),
        "党员甲": (),
        "党员乙": (dt.date(2025, 1, 1), dt.date(2025, 2, 1)),
    }
