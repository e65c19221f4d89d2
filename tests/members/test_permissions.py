"""Tests of members/permissions.py: each django-rules permission × each role, on branch A and its members."""

from __future__ import annotations

import pytest
import rules

from members import permissions
from tests.org_tree import ROLES, build_tree, fresh_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(db):
    return build_tree()


def allowed(*roles: str) -> dict[str, bool]:
    return {role: role in roles for role in ROLES}


def check(tree, perm: str, obj) -> dict[str, bool]:
    return {role: rules.has_perm(perm, fresh_user(tree, role), obj) for role in ROLES}


def test_reveal_personal_data_of_a_member(tree):
    # the branch secretary (or organisation member), org staff with the right in the subtree, superusers
    assert check(tree, "members.reveal_personal_data", tree.members["党员乙"]) == allowed(
        "superuser", "staff_top", "secretary_a"
    )
    assert check(tree, "members.reveal_personal_data", tree.members["党员己"]) == allowed(
        "superuser", "staff_other", "secretary_c"
    )


def test_manage_branch_is_its_committee(tree):
    assert check(tree, "members.manage_branch", tree.branches["A"]) == allowed(
        "superuser", "secretary_a", "propaganda_a"
    )
    assert check(tree, "members.manage_branch", tree.branches["B"]) == allowed("superuser")


def test_view_branch_dashboard_is_committee_or_org_staff_of_the_subtree(tree):
    assert check(tree, "members.view_branch_dashboard", tree.branches["A"]) == allowed(
        "superuser", "secretary_a", "propaganda_a", "staff_top", "staff_mid"
    )
    # staff of the top see branches of every descendant; staff of the leaf only theirs
    assert check(tree, "members.view_branch_dashboard", tree.branches["B"]) == allowed(
        "superuser", "staff_top", "staff_mid", "staff_leaf"
    )
    assert check(tree, "members.view_branch_dashboard", tree.branches["C"]) == allowed(
        "superuser", "secretary_c", "staff_other"
    )


@pytest.mark.parametrize(
    "predicate",
    [permissions.can_reveal, permissions.is_committee_of_branch, permissions.is_org_staff_of_branch],
)
def test_predicates_refuse_without_an_object(tree, predicate):
    assert {role: predicate(fresh_user(tree, role), None) for role in ROLES} == allowed()


def test_user_has_perm_goes_through_the_rules_backend(tree):
    branch = tree.branches["A"]
    assert {
        role: fresh_user(tree, role).has_perm("members.view_branch_dashboard", branch) for role in ROLES
    } == allowed("superuser", "secretary_a", "propaganda_a", "staff_top", "staff_mid")
