"""Tests of groups/permissions.py: each django-rules permission × each role, on objects of branch A.

``rules.has_perm`` tests the predicate itself; ``user.has_perm`` the whole chain through the
authentication backends (where Django lets an active superuser through before any backend).
"""

from __future__ import annotations

import datetime as dt

import pytest
import rules

from groups import permissions
from groups.enums import GroupChangeKind
from groups.models import GroupChange
from tests.org_tree import ROLES, build_tree, fresh_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(db):
    return build_tree()


def change_of(tree, key: str) -> GroupChange:
    return GroupChange.objects.create(
        branch=tree.branches[key],
        kind=GroupChangeKind.CREATE,
        summary="建立",
        decided_on=dt.date(2024, 1, 1),
        document_number="1",
        decided_by=tree.users["superuser"],
    )


def allowed(*roles: str) -> dict[str, bool]:
    return {role: role in roles for role in ROLES}


def check(tree, perm: str, obj) -> dict[str, bool]:
    return {role: rules.has_perm(perm, fresh_user(tree, role), obj) for role in ROLES}


COMMITTEE_A = ("superuser", "secretary_a", "propaganda_a")
ORG_STAFF_OF_A = ("superuser", "staff_top", "staff_mid")


def test_manage_group_is_the_committee_of_the_groups_branch(tree):
    assert check(tree, "groups.manage_group", tree.groups["a1"]) == allowed(*COMMITTEE_A)


def test_appoint_leader_is_the_committee_of_the_groups_branch(tree):
    assert check(tree, "groups.appoint_leader", tree.groups["a1"]) == allowed(*COMMITTEE_A)
    assert check(tree, "groups.appoint_leader", tree.groups["c1"]) == allowed("superuser", "secretary_c")


def test_lead_group_is_the_current_leader_only(tree):
    assert check(tree, "groups.lead_group", tree.groups["a1"]) == allowed("superuser", "leader_a1")
    assert check(tree, "groups.lead_group", tree.groups["a2"]) == allowed("superuser", "leader_a2")


def test_view_group_detail_is_leader_committee_or_org_staff(tree):
    assert check(tree, "groups.view_group_detail", tree.groups["a1"]) == allowed(
        *COMMITTEE_A, *ORG_STAFF_OF_A, "leader_a1"
    )
    # the leaf's staff read only their own subtree
    assert check(tree, "groups.view_group_detail", tree.groups["b1"]) == allowed(
        "superuser", "staff_top", "staff_mid", "staff_leaf"
    )


def test_file_group_change_is_the_committee_of_the_branch(tree):
    assert check(tree, "groups.file_group_change", change_of(tree, "A")) == allowed(*COMMITTEE_A)


def test_acknowledge_group_change_is_org_staff_of_the_subtree(tree):
    assert check(tree, "groups.acknowledge_group_change", change_of(tree, "A")) == allowed(*ORG_STAFF_OF_A)
    assert check(tree, "groups.acknowledge_group_change", change_of(tree, "B")) == allowed(
        "superuser", "staff_top", "staff_mid", "staff_leaf"
    )
    assert check(tree, "groups.acknowledge_group_change", change_of(tree, "C")) == allowed(
        "superuser", "staff_other"
    )


@pytest.mark.parametrize(
    "predicate",
    [
        permissions.is_committee_of_group_branch,
        permissions.leads_group,
        permissions.is_org_staff_of_group,
        permissions.is_committee_of_change_branch,
        permissions.is_org_staff_of_change,
    ],
)
def test_predicates_refuse_without_an_object(tree, predicate):
    assert {role: predicate(fresh_user(tree, role), None) for role in ROLES} == allowed()


def test_user_has_perm_goes_through_the_rules_backend(tree):
    group = tree.groups["a1"]
    assert {role: fresh_user(tree, role).has_perm("groups.manage_group", group) for role in ROLES} == allowed(
        *COMMITTEE_A
    )
    assert {role: fresh_user(tree, role).has_perm("groups.lead_group", group) for role in ROLES} == allowed(
        "superuser", "leader_a1"
    )


def test_collect_dues_and_manage_cultivation_are_the_leader_or_the_committee_r22_r31(tree):
    for perm in ("groups.collect_dues", "groups.manage_cultivation"):
        assert check(tree, perm, tree.groups["a1"]) == allowed(*COMMITTEE_A, "leader_a1"), perm
        assert check(tree, perm, tree.groups["a2"]) == allowed(*COMMITTEE_A, "leader_a2"), perm


def test_review_leader_is_the_committee_of_the_groups_branch_r28(tree):
    assert check(tree, "groups.review_leader", tree.groups["a1"]) == allowed(*COMMITTEE_A)
    assert check(tree, "groups.review_leader", tree.groups["c1"]) == allowed("superuser", "secretary_c")
