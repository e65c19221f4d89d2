"""Tests of members/selectors.py: each role × each selector, with the exact sets of visible objects.

The organisation tree and its users are built by ``tests.org_tree`` (工委 → 机关党委 → 党总支, and
another 工委); staff of a node see the node's whole subtree, staff of a leaf only theirs.
"""

from __future__ import annotations

import datetime as dt

import pytest

from members import selectors
from members.models import Member, Organisation, RuleSet
from tests import factories as f
from tests.org_tree import ROLES, build_tree, fresh_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(db):
    return build_tree()


ORGS = {
    "top": "市直机关工委",
    "mid": "市财政局机关党委",
    "leaf": "国库处党总支",
    "leaf_child": "国库处联络组",
}
ALL_ORGS = {*ORGS.values(), "另一工委"}
BRANCH_NAMES = {"A": "财政局办公室党支部", "B": "国库处党支部", "C": "另一党支部"}


def names(qs) -> set[str]:
    return {obj.name for obj in qs}


def matrix(tree, selector) -> dict[str, set[str]]:
    """{role: names of what ``selector(user)`` returns} for every role of the tree."""
    return {role: names(selector(fresh_user(tree, role))) for role in ROLES}


def branches(*keys: str) -> set[str]:
    return {BRANCH_NAMES[k] for k in keys}


# --- organisations_visible_to --------------------------------------------------------------------
ORGANISATIONS_VISIBLE = {
    "superuser": ALL_ORGS,
    "staff_top": set(ORGS.values()),
    "staff_mid": {ORGS["mid"], ORGS["leaf"], ORGS["leaf_child"]},
    "staff_leaf": {ORGS["leaf"], ORGS["leaf_child"]},
    "staff_other": {"另一工委"},
    "secretary_a": set(),
    "propaganda_a": set(),
    "secretary_c": set(),
    "leader_a1": set(),
    "leader_a2": set(),
    "member_a1": set(),
    "anonymous": set(),
}


def test_organisations_visible_to_each_role(tree):
    assert matrix(tree, selectors.organisations_visible_to) == ORGANISATIONS_VISIBLE


# --- branches_visible_to / branches_managed_by ---------------------------------------------------
BRANCHES_VISIBLE = {
    "superuser": branches("A", "B", "C"),
    "staff_top": branches("A", "B"),  # every descendant's branches
    "staff_mid": branches("A", "B"),
    "staff_leaf": branches("B"),  # a leaf's staff see only theirs
    "staff_other": branches("C"),
    "secretary_a": branches("A"),
    "propaganda_a": branches("A"),
    "secretary_c": branches("C"),
    "leader_a1": branches("A"),
    "leader_a2": branches("A"),
    "member_a1": branches("A"),
    "anonymous": set(),
}
BRANCHES_MANAGED = {
    **{role: set() for role in ROLES},
    "superuser": branches("A", "B", "C"),
    "secretary_a": branches("A"),
    "propaganda_a": branches("A"),
    "secretary_c": branches("C"),
}


def test_branches_visible_to_each_role(tree):
    assert matrix(tree, selectors.branches_visible_to) == BRANCHES_VISIBLE


def test_branches_managed_by_each_role(tree):
    assert matrix(tree, selectors.branches_managed_by) == BRANCHES_MANAGED


def test_former_secretary_no_longer_manages_the_branch(tree):
    post = tree.members["书记乙"].committee_memberships.get()
    post.ended_on = post.started_on.replace(year=post.started_on.year + 1)
    post.save()
    user = fresh_user(tree, "secretary_c")
    assert names(selectors.branches_managed_by(user)) == set()
    assert names(selectors.branches_visible_to(user)) == branches("C")  # still a member of C


def test_member_who_left_has_no_roles(tree):
    member = tree.members["党员甲"]
    member.state = "left"
    member.left_on = member.joined_on.replace(year=2024)
    member.save()
    roles = selectors.member_roles(fresh_user(tree, "member_a1"))
    assert (roles.member_id, roles.member_branch_id) == (None, None)
    assert names(selectors.branches_visible_to(fresh_user(tree, "member_a1"))) == set()


# --- members_visible_to_staff (the admin's scope) ------------------------------------------------
def _members_visible_to_staff_expected(tree, role) -> set[str]:
    return {
        "superuser": tree.member_names("A", "B", "C"),
        "staff_top": tree.member_names("A", "B"),
        "staff_mid": tree.member_names("A", "B"),
        "staff_leaf": tree.member_names("B"),
        "staff_other": tree.member_names("C"),
        "secretary_a": tree.member_names("A"),
        "propaganda_a": tree.member_names("A"),
        "secretary_c": tree.member_names("C"),
    }.get(role, set())


def test_members_visible_to_staff_each_role(tree):
    expected = {role: _members_visible_to_staff_expected(tree, role) for role in ROLES}
    assert matrix(tree, selectors.members_visible_to_staff) == expected


# --- member_roles --------------------------------------------------------------------------------
def test_member_roles_of_a_secretary_and_of_org_staff(tree):
    secretary = selectors.member_roles(fresh_user(tree, "secretary_a"))
    assert (secretary.member_id, secretary.member_branch_id, secretary.is_org_staff) == (
        tree.members["书记甲"].pk,
        tree.branches["A"].pk,
        False,
    )
    assert secretary.committee_posts == {tree.branches["A"].pk: frozenset({"secretary"})}
    assert secretary.approving_branch_ids == frozenset({tree.branches["A"].pk})
    propaganda = selectors.member_roles(fresh_user(tree, "propaganda_a"))
    assert propaganda.committee_branch_ids == frozenset({tree.branches["A"].pk})
    assert propaganda.approving_branch_ids == frozenset()  # R-11: 宣传委员 does not approve
    staff = selectors.member_roles(fresh_user(tree, "staff_top"))
    assert (staff.org_paths, staff.org_personal_data_paths) == ((tree.top.path,), (tree.top.path,))
    assert staff.in_org_subtree(tree.leaf.path) and staff.in_org_subtree(tree.leaf.path, personal_data=True)
    assert not staff.in_org_subtree(tree.other_root.path)


def test_member_roles_are_computed_once_per_user_object(tree, django_assert_num_queries):
    user = fresh_user(tree, "secretary_a")
    selectors.member_roles(user)
    with django_assert_num_queries(0):
        selectors.member_roles(user)


def test_member_roles_of_anonymous_are_empty(tree):
    roles = selectors.member_roles(fresh_user(tree, "anonymous"))
    assert (roles.user_id, roles.is_superuser, roles.org_paths, roles.committee_posts, roles.member_id) == (
        None,
        False,
        (),
        {},
        None,
    )


# --- can_reveal_personal_data --------------------------------------------------------------------
REVEAL_A = {
    **dict.fromkeys(ROLES, False),
    "superuser": True,
    "staff_top": True,  # org staff with the right, in the subtree
    "secretary_a": True,  # secretary of the member's branch
}


def test_can_reveal_personal_data_of_a_branch_a_member(tree):
    member = tree.members["党员乙"]
    assert {
        role: selectors.can_reveal_personal_data(fresh_user(tree, role), member) for role in ROLES
    } == REVEAL_A


def test_organisation_committee_member_may_reveal_personal_data(tree):
    organisation_member = f.MemberFactory(branch=tree.branches["A"], name="组织委员")
    f.CommitteeMembershipFactory(member=organisation_member, post="organisation")
    user = f.user_for(organisation_member, "organisation_a")
    assert selectors.can_reveal_personal_data(user, tree.members["党员乙"]) is True
    assert selectors.can_reveal_personal_data(user, tree.members["党员丁"]) is False  # branch B


def test_org_staff_with_the_right_outside_their_subtree_may_not_reveal(tree):
    assert (
        selectors.can_reveal_personal_data(fresh_user(tree, "staff_other"), tree.members["党员乙"]) is False
    )
    assert selectors.can_reveal_personal_data(fresh_user(tree, "staff_other"), tree.members["党员己"]) is True


# --- R-37: rule sets are inherited down the tree -------------------------------------------------
def test_r37_rule_sets_by_organisation_follow_the_tree(tree):
    loudi, central = f.rule_set("loudi-2023"), f.rule_set("central-2019")
    assert selectors.rule_sets_by_organisation() == {
        tree.top.pk: loudi,  # own
        tree.mid.pk: loudi,  # inherited from 工委
        tree.leaf.pk: central,  # own, overrides the parent's
        tree.leaf_child.pk: central,  # inherited from 党总支, not from 工委
        tree.other_root.pk: central,  # none anywhere: the default (2019 central rules)
    }


def test_r37_effective_rule_set_agrees_with_rule_sets_by_organisation(tree):
    by_organisation = selectors.rule_sets_by_organisation()
    for node in (tree.top, tree.mid, tree.leaf, tree.leaf_child, tree.other_root):
        assert node.effective_rule_set() == by_organisation[node.pk], node.name


def test_r37_changing_a_parents_rule_set_changes_its_inheriting_children(tree):
    custom = RuleSet.objects.create(
        code="custom-2025",
        name="自定义规则",
        document_title="《某地党小组工作办法》",
        effective_date="2025-01-01",
    )
    tree.top.rule_set = custom
    tree.top.save()
    by_organisation = selectors.rule_sets_by_organisation()
    assert (by_organisation[tree.top.pk], by_organisation[tree.mid.pk], by_organisation[tree.leaf.pk]) == (
        custom,
        custom,
        f.rule_set("central-2019"),
    )
    assert Organisation.objects.get(pk=tree.mid.pk).effective_rule_set() == custom


def test_rule_sets_by_organisation_takes_two_queries(tree, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.rule_sets_by_organisation()


# --- Members' duties (R-30, R-31) ------------------------------------------------------------------
D = dt.date


def _duties_member(**kwargs):
    branch = f.BranchFactory(ledger_start_on=kwargs.pop("ledger_start_on", D(2025, 1, 1)))
    kwargs.setdefault("joined_on", D(2010, 7, 1))
    return f.MemberFactory(branch=branch, name="王芳", **kwargs)


def test_r31_dues_arrears_for_counts_from_the_ledger_start_to_the_month_before_the_day():
    member = _duties_member()
    for month in (1, 2, 4):
        f.DuesPaymentFactory(member=member, month=D(2025, month, 1))
    arrears = selectors.member_dues_arrears(member, on=D(2025, 6, 1))
    assert arrears.months == (D(2025, 3, 1), D(2025, 5, 1))
    assert (arrears.first, arrears.last, arrears.due_months) == (D(2025, 1, 1), D(2025, 5, 1), 5)


def test_r31_dues_arrears_for_a_whole_year_with_since():
    member = _duties_member(ledger_start_on=D(2024, 1, 1))
    for month in range(1, 13):
        if month != 7:
            f.DuesPaymentFactory(member=member, month=D(2024, month, 1))
    f.DuesPaymentFactory(member=member, month=D(2023, 12, 1))
    arrears = selectors.member_dues_arrears(member, since=D(2024, 1, 1), on=D(2025, 1, 1))
    assert (arrears.months, arrears.due_months) == ((D(2024, 7, 1),), 12)


def test_r31_dues_arrears_without_a_ledger_start_counts_only_from_an_explicit_since():
    member = _duties_member(ledger_start_on=None)
    assert selectors.member_dues_arrears(member, on=D(2025, 6, 1)).months == ()
    assert selectors.member_dues_arrears(member, since=D(2025, 4, 1), on=D(2025, 6, 1)).months == (
        D(2025, 4, 1),
        D(2025, 5, 1),
    )


def test_r31_dues_arrears_for_many_members_takes_two_queries(django_assert_num_queries):
    members = [_duties_member() for _ in range(5)]
    with django_assert_num_queries(2):
        result = selectors.dues_arrears_for(
            Member.objects.filter(pk__in=[m.pk for m in members]), on=D(2025, 3, 1)
        )
    assert {pk: a.count for pk, a in result.items()} == {m.pk: 2 for m in members}


def test_r30_thought_report_statuses_give_last_reports_and_the_due_day(django_assert_num_queries):
    member = _duties_member(status="probationary", joined_on=D(2024, 12, 1), full_member_on=None)
    f.ThoughtReportFactory(member=member, received_on=D(2025, 2, 10), kind="oral")
    f.ThoughtReportFactory(member=member, received_on=D(2025, 1, 20), kind="written")
    f.ThoughtReportFactory(member=member, received_on=D(2025, 7, 1), kind="written")  # after the day
    with django_assert_num_queries(4):
        [(pk, status)] = selectors.thought_report_statuses([member.pk], on=D(2025, 5, 15)).items()
    assert pk == member.pk
    assert (status.last_report, status.last_written, status.due_by, status.overdue) == (
        D(2025, 2, 10),
        D(2025, 1, 20),
        D(2025, 5, 31),
        False,
    )
    assert (status.written_block, status.written_overdue) == ((D(2025, 1, 1), D(2025, 3, 1)), False)


def test_duty_records_visible_to_staff_follow_the_members_scope(tree):
    by_member = {name: f.DuesPaymentFactory(member=m) for name, m in tree.members.items()}
    for role in ROLES:
        user = fresh_user(tree, role)
        visible = {p.member.name for p in selectors.dues_payments_visible_to_staff(user)}
        assert visible == _members_visible_to_staff_expected(tree, role), role
    assert len(by_member) == len(tree.members)
