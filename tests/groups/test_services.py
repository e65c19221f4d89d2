"""Tests of groups/services.py: what each service saves (with its audit trail) and what it refuses.

A refusal must leave the database as it was: every refusal test counts the rows (and history rows)
of the groups models before and after.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from groups import services
from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import (
    CultivationCandidate,
    CultivationStage,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderInterview,
    LeaderReview,
    LeaderTraining,
    PartyGroup,
)
from members.models import DuesPayment
from members.services import DuesEntry
from tests import factories as f
from tests.import_files import xlsx_bytes

D = dt.date
CENTRAL_ART1 = "《中央和国家机关党小组工作规则（试行）》第一条"
R24_ART = "《中央和国家机关党小组工作规则（试行）》第十条第（一）项"
TERM_END = D(2026, 12, 31)
START = D(2020, 1, 1)
MODELS = (PartyGroup, GroupMembership, GroupChange, LeaderAppointment)


def row_counts() -> dict[str, tuple[int, int]]:
    """(rows, history rows) per model of the groups app."""
    return {m.__name__: (m.objects.count(), m.history.count()) for m in MODELS}


def history(obj) -> list[tuple[str, str | None, str | None]]:
    """(type, user, reason) of every history row of ``obj``, newest first."""
    return list(obj.history.values_list("history_type", "history_user__username", "history_change_reason"))


@pytest.fixture
def branch(db):
    organisation = f.OrganisationFactory(rule_set=f.rule_set("central-2019"))
    return f.BranchFactory(organisation=organisation, name="办公室党支部", committee_term_ends_on=TERM_END)


@pytest.fixture
def secretary(db):
    return f.UserFactory(username="secretary")


def group_with(branch, size: int = 3, name: str = "第一党小组", *, probationary: int = 0, started_on=START):
    group = f.PartyGroupFactory(branch=branch, name=name, established_on=D(2020, 1, 1))
    for i in range(size):
        extra = {"probationary": True} if i >= size - probationary else {}
        f.GroupMembershipFactory(
            group=group, member=f.MemberFactory(branch=branch, **extra), started_on=started_on
        )
    return group


def refused(call, **kwargs) -> ValidationError:
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        call(**kwargs)
    assert row_counts() == before, "a refused action must save nothing"
    return excinfo.value


# --- membership_start ----------------------------------------------------------------------------
def test_membership_start_saves_the_membership_with_history(branch, secretary):
    group = group_with(branch, 0)
    member = f.MemberFactory(branch=branch)
    membership = services.membership_start(
        member=member, group=group, started_on=D(2024, 3, 1), by=secretary, note="新调入"
    )
    membership.refresh_from_db()
    assert (membership.member_id, membership.group_id, membership.started_on, membership.ended_on) == (
        member.pk,
        group.pk,
        D(2024, 3, 1),
        None,
    )
    assert membership.note == "新调入"
    assert history(membership) == [("+", "secretary", "编入党小组")]


def test_membership_start_refuses_a_member_already_in_a_group_r09(branch, secretary):
    first = group_with(branch, 3)
    second = group_with(branch, 0, name="第二党小组")
    member = first.memberships.first().member
    error = refused(
        services.membership_start, member=member, group=second, started_on=D(2024, 3, 1), by=secretary
    )
    assert error.message_dict == {
        "group": [
            f"党员“{member.name}”在2024-03-01已编入另一个党小组，同一时间只能编入一个党小组。"
            "（R-09，《最新党小组工作操作方法与创新实务》第一章“党小组的建立与划分”）"
        ]
    }


def test_membership_start_refuses_an_overlap_with_a_closed_membership_r09(branch, secretary):
    first = group_with(branch, 0)
    second = group_with(branch, 0, name="第二党小组")
    member = f.MemberFactory(branch=branch)
    f.GroupMembershipFactory(group=first, member=member, started_on=D(2024, 1, 1), ended_on=D(2024, 6, 1))
    error = refused(
        services.membership_start, member=member, group=second, started_on=D(2024, 5, 1), by=secretary
    )
    assert "R-09" in error.message_dict["group"][0]
    # Starting on the day the old membership ended is no overlap (half-open ranges).
    services.membership_start(member=member, group=second, started_on=D(2024, 6, 1), by=secretary)
    assert set(
        GroupMembership.objects.filter(member=member).values_list("group_id", "started_on", "ended_on")
    ) == {
        (first.pk, D(2024, 1, 1), D(2024, 6, 1)),
        (second.pk, D(2024, 6, 1), None),
    }


def test_membership_start_refuses_a_group_of_another_branch_r09(branch, secretary):
    other_group = group_with(f.BranchFactory(name="另一党支部"), 0)
    member = f.MemberFactory(branch=branch)
    error = refused(
        services.membership_start, member=member, group=other_group, started_on=D(2024, 3, 1), by=secretary
    )
    assert error.message_dict["group"][0].startswith(f"党员“{member.name}”只能编入本党支部的党小组。（R-09")


def test_membership_start_refuses_a_dissolved_group(branch, secretary):
    group = f.PartyGroupFactory(branch=branch, name="旧组", dissolved_on=D(2023, 1, 1))
    error = refused(
        services.membership_start,
        member=f.MemberFactory(branch=branch),
        group=group,
        started_on=D(2024, 3, 1),
        by=secretary,
    )
    assert error.message_dict == {"group": ["党小组“旧组”已于2023-01-01撤销。"]}


def test_membership_start_refuses_a_member_who_has_left(branch, secretary):
    group = group_with(branch, 0)
    member = f.MemberFactory(branch=branch, state="left", left_on=D(2024, 1, 1))
    error = refused(
        services.membership_start, member=member, group=group, started_on=D(2024, 3, 1), by=secretary
    )
    assert error.message_dict == {"member": [f"“{member.name}”已离册，不能编入党小组。"]}
    assert not GroupMembership.objects.filter(member=member).exists()


def test_membership_start_refuses_a_date_before_the_group_was_established(branch, secretary):
    group = group_with(branch, 0)
    error = refused(
        services.membership_start,
        member=f.MemberFactory(branch=branch),
        group=group,
        started_on=D(2019, 12, 31),
        by=secretary,
    )
    assert error.message_dict == {"started_on": ["编入日期不能早于党小组建立日期（2020-01-01）。"]}


# --- membership_move -----------------------------------------------------------------------------
def test_membership_move_ends_the_old_membership_and_starts_the_new_one_r06(branch, secretary):
    first = group_with(branch, 3)
    second = group_with(branch, 3, name="第二党小组")
    old = first.memberships.first()
    new = services.membership_move(member=old.member, to_group=second, moved_on=D(2024, 9, 1), by=secretary)
    old.refresh_from_db()
    assert (old.ended_on, new.group_id, new.started_on, new.ended_on) == (
        D(2024, 9, 1),
        second.pk,
        D(2024, 9, 1),
        None,
    )
    assert history(old) == [("~", "secretary", "调整到党小组“第二党小组”"), ("+", None, None)]
    assert history(new) == [("+", "secretary", "编入党小组")]


def test_membership_move_refuses_the_same_group(branch, secretary):
    group = group_with(branch, 3)
    member = group.memberships.first().member
    error = refused(
        services.membership_move, member=member, to_group=group, moved_on=D(2024, 9, 1), by=secretary
    )
    assert error.message_dict == {"group": [f"“{member.name}”已在党小组“第一党小组”中。"]}


def test_membership_move_refuses_a_date_not_after_the_current_start(branch, secretary):
    first = group_with(branch, 3, started_on=D(2024, 9, 1))
    second = group_with(branch, 0, name="第二党小组")
    error = refused(
        services.membership_move,
        member=first.memberships.first().member,
        to_group=second,
        moved_on=D(2024, 9, 1),
        by=secretary,
    )
    assert error.message_dict == {"moved_on": ["调整日期必须晚于原编入日期（2024-09-01）。"]}


def test_membership_move_to_another_branch_is_refused_and_the_old_membership_stays_open(branch, secretary):
    group = group_with(branch, 3)
    other_group = group_with(f.BranchFactory(name="另一党支部"), 0)
    membership = group.memberships.first()
    error = refused(
        services.membership_move,
        member=membership.member,
        to_group=other_group,
        moved_on=D(2024, 9, 1),
        by=secretary,
    )
    assert "R-09" in error.message_dict["group"][0]
    membership.refresh_from_db()
    assert membership.ended_on is None


def test_membership_move_of_a_member_in_no_group_places_them(branch, secretary):
    group = group_with(branch, 0)
    member = f.MemberFactory(branch=branch)
    services.membership_move(member=member, to_group=group, moved_on=D(2024, 9, 1), by=secretary)
    assert list(GroupMembership.objects.filter(member=member).values_list("group_id", "ended_on")) == [
        (group.pk, None)
    ]


# --- membership_end ------------------------------------------------------------------------------
def test_membership_end_records_the_end_with_the_reason(branch, secretary):
    membership = group_with(branch, 3).memberships.first()
    services.membership_end(membership=membership, ended_on=D(2024, 9, 1), by=secretary, reason="转出")
    membership.refresh_from_db()
    assert membership.ended_on == D(2024, 9, 1)
    assert history(membership)[0] == ("~", "secretary", "转出")


def test_membership_end_refuses_an_end_before_the_start(branch, secretary):
    membership = group_with(branch, 3, started_on=D(2024, 1, 1)).memberships.first()
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        services.membership_end(membership=membership, ended_on=D(2024, 1, 1), by=secretary)
    assert row_counts() == before
    assert excinfo.value.messages == ["调出日期必须晚于编入日期。"]
    assert GroupMembership.objects.get(pk=membership.pk).ended_on is None


# --- group_create (R-05, R-03/R-04 advisory) -------------------------------------------------------
def test_group_create_saves_group_members_and_the_decision_for_filing_r05(branch, secretary):
    members = f.MemberFactory.create_batch(3, branch=branch)
    group, findings = services.group_create(
        branch=branch,
        name="第三党小组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 8, 20),
        document_number="支委会〔2024〕5号",
        by=secretary,
        members=members,
    )
    assert findings == []
    assert (group.branch_id, group.name, group.established_on, group.dissolved_on) == (
        branch.pk,
        "第三党小组",
        D(2024, 9, 1),
        None,
    )
    assert set(
        GroupMembership.objects.filter(group=group).values_list("member_id", "started_on", "ended_on")
    ) == {(m.pk, D(2024, 9, 1), None) for m in members}
    change = GroupChange.objects.get(group=group)
    assert (
        change.branch_id,
        change.kind,
        change.decided_on,
        change.document_number,
        change.decided_by,
        change.filing_status,
        change.summary,
    ) == (
        branch.pk,
        GroupChangeKind.CREATE,
        D(2024, 8, 20),
        "支委会〔2024〕5号",
        secretary,
        FilingStatus.PENDING,
        "建立党小组“第三党小组”，编入党员3名。",
    )
    assert history(group) == [("+", "secretary", "建立党小组")]
    assert history(change) == [("+", "secretary", "党支部决定：建立")]


def test_group_create_returns_r03_r04_advisories_for_a_group_being_set_up(branch, secretary):
    members = f.MemberFactory.create_batch(2, branch=branch, probationary=True)
    group, findings = services.group_create(
        branch=branch,
        name="新组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="1",
        by=secretary,
        members=members,
    )
    assert [(x.rule_id, x.severity, x.object_id, x.message, x.article) for x in findings] == [
        ("R-03", "advisory", group.pk, "党小组“新组”现有党员2名，少于3名。", CENTRAL_ART1),
        (
            "R-04",
            "advisory",
            group.pk,
            "党小组“新组”没有足够的正式党员（现有0名，至少1名），预备党员不能单独组成党小组。",
            CENTRAL_ART1,
        ),
    ]
    assert GroupMembership.objects.filter(group=group).count() == 2  # advisories do not stop the set-up


def test_group_create_moves_members_who_are_in_another_group(branch, secretary):
    old_group = group_with(branch, 4)
    moving = [m.member for m in old_group.memberships.all()[:3]]
    group, _ = services.group_create(
        branch=branch,
        name="第二党小组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="2",
        by=secretary,
        members=moving,
    )
    assert set(
        GroupMembership.objects.filter(ended_on=D(2024, 9, 1)).values_list("member_id", "group_id")
    ) == {(m.pk, old_group.pk) for m in moving}
    assert set(group.memberships.values_list("member_id", flat=True)) == {m.pk for m in moving}


def test_group_create_refuses_a_decision_after_the_establishment(branch, secretary):
    error = refused(
        services.group_create,
        branch=branch,
        name="新组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 2),
        document_number="1",
        by=secretary,
    )
    assert error.message_dict == {"decided_on": ["支部决定日期不能晚于党小组建立日期。"]}


def test_group_create_refuses_a_duplicate_name(branch, secretary):
    group_with(branch, 3, name="第一党小组")
    error = refused(
        services.group_create,
        branch=branch,
        name="第一党小组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="1",
        by=secretary,
    )
    assert error.messages == ["本支部已有同名的党小组。"]


def test_group_create_with_a_member_of_another_branch_saves_nothing_r09(branch, secretary):
    ours = f.MemberFactory.create_batch(2, branch=branch)
    stranger = f.MemberFactory(branch=f.BranchFactory(name="另一党支部"))
    error = refused(
        services.group_create,
        branch=branch,
        name="新组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="1",
        by=secretary,
        members=[*ours, stranger],
    )
    assert "R-09" in error.message_dict["group"][0]
    assert not PartyGroup.objects.filter(name="新组").exists()


# --- group_adjust (R-05, R-06) -------------------------------------------------------------------
def test_group_adjust_moves_members_and_records_one_decision_r05_r06(branch, secretary):
    first = group_with(branch, 4)
    second = group_with(branch, 2, name="第二党小组")
    mover = first.memberships.first().member
    newcomer = f.MemberFactory(branch=branch)
    change, findings = services.group_adjust(
        branch=branch,
        moves=[(mover, second), (newcomer, second)],
        effective_on=D(2024, 9, 1),
        decided_on=D(2024, 8, 30),
        document_number="支委会〔2024〕6号",
        summary="调整第一、第二党小组",
        by=secretary,
    )
    assert findings == []  # both groups have 3 and 4 members after the move
    assert (change.kind, change.group_id, change.filing_status, change.summary) == (
        GroupChangeKind.ADJUST,
        None,  # several groups touched
        FilingStatus.PENDING,
        "调整第一、第二党小组",
    )
    assert set(
        GroupMembership.objects.current(D(2024, 9, 1))
        .filter(group=second)
        .values_list("member_id", flat=True)
    ) == {m.member_id for m in second.memberships.filter(started_on=D(2020, 1, 1))} | {mover.pk, newcomer.pk}
    assert history(change) == [("+", "secretary", "党支部决定：调整")]
    # the one decision is listed for each group it touched.
    assert set(change.affected_groups.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert list(first.affecting_changes.all()) == [change]


def test_group_adjust_returns_advisories_of_the_groups_it_touched(branch, secretary):
    first = group_with(branch, 3)
    second = group_with(branch, 3, name="第二党小组")
    mover = first.memberships.first().member
    _, findings = services.group_adjust(
        branch=branch,
        moves=[(mover, second)],
        effective_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="7",
        summary="调整",
        by=secretary,
    )
    assert [(x.rule_id, x.severity, x.object_id, x.message) for x in findings] == [
        ("R-03", "advisory", first.pk, "党小组“第一党小组”现有党员2名，少于3名。")
    ]


def test_group_adjust_refuses_without_moves(branch, secretary):
    error = refused(
        services.group_adjust,
        branch=branch,
        moves=[],
        effective_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="7",
        summary="调整",
        by=secretary,
    )
    assert error.messages == ["请至少选择一名需要调整的党员。"]


def test_group_adjust_with_one_bad_move_saves_none_of_the_moves(branch, secretary):
    first = group_with(branch, 4)
    second = group_with(branch, 3, name="第二党小组")
    good = first.memberships.first().member
    stranger = f.MemberFactory(branch=f.BranchFactory(name="另一党支部"))
    error = refused(
        services.group_adjust,
        branch=branch,
        moves=[(good, second), (stranger, second)],
        effective_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="7",
        summary="调整",
        by=secretary,
    )
    assert error.messages == ["只能调整本支部党员和党小组。"]
    assert GroupMembership.objects.get(member=good).group_id == first.pk


# --- group_dissolve (R-05) -----------------------------------------------------------------------
def test_group_dissolve_ends_memberships_and_appointments_r05(branch, secretary):
    group = group_with(branch, 3)
    leader = f.LeaderAppointmentFactory(group=group, member=group.memberships.first().member)
    change = services.group_dissolve(
        group=group, dissolved_on=D(2024, 9, 1), decided_on=D(2024, 8, 1), document_number="8", by=secretary
    )
    group.refresh_from_db()
    leader.refresh_from_db()
    assert group.dissolved_on == D(2024, 9, 1)
    assert set(group.memberships.values_list("ended_on", flat=True)) == {D(2024, 9, 1)}
    assert (leader.ended_on, leader.end_reason) == (D(2024, 9, 1), "党小组撤销")
    assert (change.kind, change.group_id, change.summary, change.filing_status) == (
        GroupChangeKind.DISSOLVE,
        group.pk,
        "撤销党小组“第一党小组”。",
        FilingStatus.PENDING,
    )
    assert history(group)[0] == ("~", "secretary", "撤销党小组")
    assert {history(m)[0] for m in group.memberships.all()} == {("~", "secretary", "党小组撤销")}
    assert history(leader)[0] == ("~", "secretary", "组长离任")


def test_group_dissolve_refuses_a_dissolved_group(branch, secretary):
    group = f.PartyGroupFactory(branch=branch, name="旧组", dissolved_on=D(2023, 1, 1))
    error = refused(
        services.group_dissolve,
        group=group,
        dissolved_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="8",
        by=secretary,
    )
    assert error.messages == ["党小组“旧组”已于2023-01-01撤销。"]


def test_group_dissolve_refuses_a_date_before_a_members_start_and_saves_nothing(branch, secretary):
    group = group_with(branch, 2)
    f.GroupMembershipFactory(group=group, member=f.MemberFactory(branch=branch), started_on=D(2024, 9, 1))
    error = refused(
        services.group_dissolve,
        group=group,
        dissolved_on=D(2024, 9, 1),
        decided_on=D(2024, 9, 1),
        document_number="8",
        by=secretary,
    )
    assert error.message_dict == {"dissolved_on": ["撤销日期必须晚于组内党员的编入日期。"]}
    assert set(group.memberships.values_list("ended_on", flat=True)) == {None}


# --- group change filing workflow (R-05) ----------------------------------------------------------
@pytest.fixture
def change(branch, secretary):
    _, _ = services.group_create(
        branch=branch,
        name="新组",
        established_on=D(2024, 9, 1),
        decided_on=D(2024, 8, 20),
        document_number="5",
        by=secretary,
    )
    return GroupChange.objects.get()


def test_r05_filing_workflow_pending_filed_returned_filed_acknowledged(change, secretary):
    org_staff = f.UserFactory(username="orgstaff")
    services.group_change_file(change=change, filed_on=D(2024, 8, 25), by=secretary)
    services.group_change_return(change=change, comment="请补充会议记录", by=org_staff)
    change.refresh_from_db()
    assert (change.filing_status, change.organisation_comment) == (FilingStatus.RETURNED, "请补充会议记录")
    services.group_change_file(change=change, filed_on=D(2024, 8, 28), by=secretary)
    services.group_change_acknowledge(change=change, on=D(2024, 9, 2), comment="同意备案", by=org_staff)
    change.refresh_from_db()
    assert (
        change.filing_status,
        change.filed_on,
        change.filed_by,
        change.acknowledged_on,
        change.acknowledged_by,
        change.organisation_comment,
    ) == (FilingStatus.ACKNOWLEDGED, D(2024, 8, 28), secretary, D(2024, 9, 2), org_staff, "同意备案")
    # every transition is recorded: who and why, in order
    assert list(
        change.history.order_by("history_id").values_list(
            "filing_status", "history_user__username", "history_change_reason"
        )
    ) == [
        ("pending", "secretary", "党支部决定：建立"),
        ("filed", "secretary", "报上级党组织备案"),
        ("returned", "orgstaff", "上级党组织退回"),
        ("filed", "secretary", "报上级党组织备案"),
        ("acknowledged", "orgstaff", "上级党组织备案"),
    ]


def _set_status(change, status):
    GroupChange.objects.filter(pk=change.pk).update(filing_status=status, filed_on=D(2024, 8, 25))
    change.refresh_from_db()
    return change


@pytest.mark.parametrize("status", [FilingStatus.FILED, FilingStatus.ACKNOWLEDGED])
def test_r05_filing_refuses_a_change_already_filed_or_acknowledged(change, secretary, status):
    _set_status(change, status)
    error = refused(services.group_change_file, change=change, filed_on=D(2024, 9, 3), by=secretary)
    label = {"filed": "已报上级备案", "acknowledged": "上级已备案"}[status]
    assert error.messages == [f"该变更当前状态为“{label}”，不能再次报备。"]


def test_r05_filing_refuses_a_date_before_the_decision(change, secretary):
    error = refused(services.group_change_file, change=change, filed_on=D(2024, 8, 19), by=secretary)
    assert error.message_dict == {"filed_on": ["报备日期不能早于支部决定日期。"]}


@pytest.mark.parametrize("status", [FilingStatus.PENDING, FilingStatus.RETURNED, FilingStatus.ACKNOWLEDGED])
def test_r05_acknowledge_refuses_a_change_that_is_not_filed(change, secretary, status):
    _set_status(change, status)
    error = refused(services.group_change_acknowledge, change=change, on=D(2024, 9, 3), by=secretary)
    assert error.messages == ["只有已报备的变更才能备案。"]


@pytest.mark.parametrize("status", [FilingStatus.PENDING, FilingStatus.RETURNED, FilingStatus.ACKNOWLEDGED])
def test_r05_return_refuses_a_change_that_is_not_filed(change, secretary, status):
    _set_status(change, status)
    error = refused(services.group_change_return, change=change, comment="退回", by=secretary)
    assert error.messages == ["只有已报备的变更才能退回。"]


def test_r05_return_refuses_without_a_comment(change, secretary):
    _set_status(change, FilingStatus.FILED)
    error = refused(services.group_change_return, change=change, comment="  ", by=secretary)
    assert error.message_dict == {"organisation_comment": ["退回时必须填写意见。"]}


# --- leader_appoint / leader_end (R-24, R-25, R-26) ------------------------------------------------
ATTESTED = {"attests_political_quality": True, "attests_dedication": True, "attests_organising_ability": True}


def test_leader_appoint_saves_the_appointment_with_attestation_and_term_r25_r26(branch, secretary):
    group = group_with(branch, 3)
    member = group.memberships.first().member
    appointment = services.leader_appoint(
        group=group,
        member=member,
        started_on=D(2024, 9, 1),
        by=secretary,
        mode=AppointmentMode.RECOMMENDED,
        decision_number="支委会〔2024〕9号",
        attestation_note="经支委会考察",
        **ATTESTED,
    )
    appointment.refresh_from_db()
    assert (
        appointment.group_id,
        appointment.member_id,
        appointment.role,
        appointment.mode,
        appointment.started_on,
        appointment.term_ends_on,
        appointment.decision_number,
        appointment.attestation_note,
        appointment.attested_by,
        appointment.is_fully_attested,
    ) == (
        group.pk,
        member.pk,
        LeaderRole.LEADER,
        AppointmentMode.RECOMMENDED,
        D(2024, 9, 1),
        TERM_END,  # follows the branch committee's term
        "支委会〔2024〕9号",
        "经支委会考察",
        secretary,
        True,
    )
    assert appointment.attested_at is not None
    assert history(appointment) == [("+", "secretary", "任命组长")]


def test_leader_appoint_replaces_the_current_leader(branch, secretary):
    group = group_with(branch, 3)
    first, second = (m.member for m in group.memberships.order_by("pk")[:2])
    previous = f.LeaderAppointmentFactory(group=group, member=first, started_on=D(2022, 1, 1))
    services.leader_appoint(group=group, member=second, started_on=D(2024, 9, 1), by=secretary, **ATTESTED)
    previous.refresh_from_db()
    assert (previous.ended_on, previous.end_reason) == (D(2024, 9, 1), "新任组长到任")
    assert list(LeaderAppointment.objects.current(D(2024, 9, 1)).values_list("member_id", flat=True)) == [
        second.pk
    ]


def test_leader_appoint_deputy_keeps_the_leader(branch, secretary):
    group = group_with(branch, 3)
    first, second = (m.member for m in group.memberships.order_by("pk")[:2])
    f.LeaderAppointmentFactory(group=group, member=first, started_on=D(2022, 1, 1))
    services.leader_appoint(
        group=group, member=second, started_on=D(2024, 9, 1), by=secretary, role=LeaderRole.DEPUTY, **ATTESTED
    )
    assert set(LeaderAppointment.objects.current(D(2024, 9, 1)).values_list("member_id", "role")) == {
        (first.pk, "leader"),
        (second.pk, "deputy"),
    }


def test_leader_appoint_refuses_a_probationary_member_r24(branch, secretary):
    group = group_with(branch, 3, probationary=1)
    candidate = group.memberships.get(member__status="probationary").member
    error = refused(
        services.leader_appoint,
        group=group,
        member=candidate,
        started_on=D(2024, 9, 1),
        by=secretary,
        **ATTESTED,
    )
    assert error.message_dict == {
        "member": [
            f"“{candidate.name}”不是正式党员，不能担任党小组“第一党小组”的组长或副组长。（R-24，{R24_ART}）"
        ]
    }


def test_leader_appoint_refuses_a_member_who_became_full_only_after_the_start_r24(branch, secretary):
    group = group_with(branch, 3)
    candidate = group.memberships.first().member
    candidate.full_member_on = D(2024, 10, 1)
    candidate.save()
    error = refused(
        services.leader_appoint,
        group=group,
        member=candidate,
        started_on=D(2024, 9, 1),
        by=secretary,
        **ATTESTED,
    )
    assert "R-24" in error.message_dict["member"][0]


def test_leader_appoint_refuses_a_member_not_in_the_group(branch, secretary):
    group = group_with(branch, 3)
    outsider = group_with(branch, 3, name="第二党小组").memberships.first().member
    error = refused(
        services.leader_appoint,
        group=group,
        member=outsider,
        started_on=D(2024, 9, 1),
        by=secretary,
        **ATTESTED,
    )
    assert error.message_dict == {"member": [f"“{outsider.name}”在2024-09-01不是党小组“第一党小组”的成员。"]}


@pytest.mark.parametrize("missing", sorted(ATTESTED))
def test_leader_appoint_refuses_without_every_r25_attestation(branch, secretary, missing):
    group = group_with(branch, 3)
    error = refused(
        services.leader_appoint,
        group=group,
        member=group.memberships.first().member,
        started_on=D(2024, 9, 1),
        by=secretary,
        **{**ATTESTED, missing: False},
    )
    assert error.messages == [
        "党支部须逐项确认组长条件（R-25，第十条第（二）至（四）项：政治素质、事业心和责任感、组织协调能力）。"
    ]


def test_leader_appoint_refuses_a_term_ending_before_the_start(branch, secretary):
    group = group_with(branch, 3)
    error = refused(
        services.leader_appoint,
        group=group,
        member=group.memberships.first().member,
        started_on=D(2024, 9, 1),
        term_ends_on=D(2024, 9, 1),
        by=secretary,
        **ATTESTED,
    )
    assert error.message_dict == {"term_ends_on": ["任期届满日期必须晚于任职日期。"]}


def test_leader_appoint_refuses_the_current_leader_again_and_keeps_the_appointment(branch, secretary):
    group = group_with(branch, 3)
    member = group.memberships.first().member
    current = f.LeaderAppointmentFactory(group=group, member=member, started_on=D(2022, 1, 1))
    error = refused(
        services.leader_appoint,
        group=group,
        member=member,
        started_on=D(2024, 9, 1),
        by=secretary,
        **ATTESTED,
    )
    assert error.message_dict == {"member": [f"“{member.name}”已是该党小组的组长。"]}
    current.refresh_from_db()
    assert current.ended_on is None


def test_leader_end_records_the_end(branch, secretary):
    group = group_with(branch, 3)
    appointment = f.LeaderAppointmentFactory(group=group, member=group.memberships.first().member)
    services.leader_end(appointment=appointment, ended_on=D(2024, 9, 1), reason="工作调动", by=secretary)
    appointment.refresh_from_db()
    assert (appointment.ended_on, appointment.end_reason) == (D(2024, 9, 1), "工作调动")
    assert history(appointment)[0] == ("~", "secretary", "组长离任")


def test_leader_end_refuses_an_end_not_after_the_start(branch, secretary):
    group = group_with(branch, 3)
    appointment = f.LeaderAppointmentFactory(
        group=group, member=group.memberships.first().member, started_on=D(2024, 9, 1)
    )
    error = refused(
        services.leader_end, appointment=appointment, ended_on=D(2024, 9, 1), reason="x", by=secretary
    )
    assert error.message_dict == {"ended_on": ["离任日期必须晚于任职日期。"]}


def test_group_composition_findings_reads_the_current_roster(branch):
    group = group_with(
        f.BranchFactory(organisation=f.OrganisationFactory(rule_set=f.rule_set("loudi-2023"))), 3
    )
    assert [(x.rule_id, x.severity) for x in services.group_composition_findings(group, D(2024, 9, 1))] == [
        ("R-08", "advisory")
    ]
    assert services.group_composition_findings(group, D(2019, 12, 31))[0].message == (
        f"党小组“{group.name}”现有党员0名，少于3名。"
    )


# --- R-09 under concurrency (PostgreSQL row locks) ------------------------------------------------
requires_postgres = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="需要 PostgreSQL（行锁）；设置 DATABASE_URL=postgres://…",
)


def _race(calls) -> list[object]:
    """Run the calls in threads released together; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r09_concurrent_placements_of_one_member_leave_one_group():
    branch = f.BranchFactory(organisation=f.OrganisationFactory(rule_set=f.rule_set("central-2019")))
    first = f.PartyGroupFactory(branch=branch, name="甲组")
    second = f.PartyGroupFactory(branch=branch, name="乙组")
    member = f.MemberFactory(branch=branch)
    user = f.UserFactory()
    results = _race(
        [
            lambda g=g: services.membership_start(member=member, group=g, started_on=D(2024, 9, 1), by=user)
            for g in (first, second)
        ]
    )
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1, results
    assert "R-09" in refusals[0].message_dict["group"][0]
    assert GroupMembership.objects.filter(member=member).count() == 1


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r09_concurrent_moves_of_one_member_leave_one_open_membership():
    branch = f.BranchFactory(organisation=f.OrganisationFactory(rule_set=f.rule_set("central-2019")))
    home = f.PartyGroupFactory(branch=branch, name="原组")
    targets = [f.PartyGroupFactory(branch=branch, name=n) for n in ("甲组", "乙组")]
    member = f.GroupMembershipFactory(group=home, member__branch=branch).member
    user = f.UserFactory()
    results = _race(
        [
            lambda g=g: services.membership_move(member=member, to_group=g, moved_on=D(2024, 9, 1), by=user)
            for g in targets
        ]
    )
    winners = [r for r in results if isinstance(r, GroupMembership)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert (len(winners), len(refusals)) == (1, 1), results
    assert set(
        GroupMembership.objects.filter(member=member).values_list("group_id", "started_on", "ended_on")
    ) == {
        (home.pk, D(2020, 1, 1), D(2024, 9, 1)),
        (winners[0].group_id, D(2024, 9, 1), None),
    }


# --- Dues collected by the group (R-31) -------------------------------------------------------------
DUTY_MODELS = (
    DuesPayment,
    LeaderReview,
    LeaderInterview,
    LeaderTraining,
    CultivationCandidate,
    CultivationStage,
)


def duty_counts() -> dict[str, tuple[int, int]]:
    return {m.__name__: (m.objects.count(), m.history.count()) for m in DUTY_MODELS}


def duty_refused(call) -> list[str]:
    before = duty_counts()
    with pytest.raises(ValidationError) as info:
        call()
    assert duty_counts() == before
    return info.value.messages


@pytest.fixture
def dues_group(branch):
    """第一党小组 with 王芳 and 李强 since 2020, and 赵敏 who moved in on 15 March 2025."""
    group = f.PartyGroupFactory(branch=branch, name="第一党小组", established_on=START)
    people = {}
    for name, started in (("王芳", START), ("李强", START), ("赵敏", D(2025, 3, 15))):
        member = f.MemberFactory(branch=branch, name=name, joined_on=D(2010, 7, 1))
        f.GroupMembershipFactory(group=group, member=member, started_on=started)
        people[name] = member
    return group, people


def entry(member, paid="50.00", **kwargs):
    return DuesEntry(member=member, amount_due="50.00", amount_paid=paid, paid_on=D(2025, 3, 20), **kwargs)


def test_dues_record_month_saves_the_whole_collection_r31(dues_group, secretary):
    group, people = dues_group
    payments = services.dues_record_month(
        group=group, month=D(2025, 3, 1), entries=[entry(m) for m in people.values()], by=secretary
    )
    assert {(p.member.name, p.month, p.amount_paid) for p in payments} == {
        (name, D(2025, 3, 1), Decimal("50.00")) for name in people
    }
    assert set(DuesPayment.history.values_list("history_change_reason", flat=True)) == {
        "党小组“第一党小组”收缴2025年3月党费"
    }


def test_dues_record_month_is_all_or_nothing_r31(dues_group, secretary):
    group, people = dues_group
    assert duty_refused(
        lambda: services.dues_record_month(
            group=group,
            month=D(2025, 3, 1),
            entries=[
                entry(people["王芳"]),
                entry(people["李强"], paid="-1"),
                entry(people["赵敏"], paid="12000"),
            ],
            by=secretary,
        )
    ) == [
        "“李强”：实交金额不能为负数。",
        "“赵敏”：实交金额12,000.00元超过每月上限10,000.00元，请核对；如为党员自愿一次性交纳大额党费，请注明“一次性交纳大额党费”。",
    ]
    assert not DuesPayment.objects.exists()


def test_dues_record_month_refuses_a_member_not_in_the_group_that_month_r31(dues_group, secretary):
    group, people = dues_group
    stranger = f.MemberFactory(branch=group.branch, name="周涛")
    assert duty_refused(
        lambda: services.dues_record_month(
            group=group,
            month=D(2025, 2, 1),
            entries=[entry(people["王芳"]), entry(people["赵敏"]), entry(stranger)],
            by=secretary,
        )
    ) == [
        "“赵敏”2025年2月不是党小组“第一党小组”的党员，不能在本组收缴其党费。",
        "“周涛”2025年2月不是党小组“第一党小组”的党员，不能在本组收缴其党费。",
    ]


def test_dues_import_for_group_checks_the_roster_of_the_month(dues_group, secretary):
    group, people = dues_group
    stranger = f.MemberFactory(branch=group.branch, name="周涛")
    headers = ("姓名", "身份证号后四位", "月份", "应交金额", "实交金额", "交纳日期")

    def file_of(members):
        return xlsx_bytes(
            [
                {
                    "姓名": m.name,
                    "身份证号后四位": m.id_number[-4:],
                    "月份": "2025-03",
                    "应交金额": "50",
                    "实交金额": "50",
                    "交纳日期": "2025-03-20",
                }
                for m in members
            ],
            headers,
        )

    bad = services.dues_import_for_group(
        group=group,
        month=D(2025, 3, 1),
        path_or_file=file_of([people["王芳"], stranger]),
        filename="a.xlsx",
        by=secretary,
        dry_run=False,
    )
    assert bad.error_lines() == ["第3行【姓名】“周涛”不是党小组“第一党小组”2025年3月的党员。"]
    assert not DuesPayment.objects.exists()
    good = services.dues_import_for_group(
        group=group,
        month=D(2025, 3, 1),
        path_or_file=file_of(people.values()),
        filename="a.xlsx",
        by=secretary,
        dry_run=False,
    )
    assert good.written
    assert set(DuesPayment.objects.values_list("member__name", flat=True)) == set(people)


# --- R-28 leader reviews and interviews, R-35 training ----------------------------------------------
@pytest.fixture
def led_group(branch):
    group = group_with(branch, 3)
    leader = group.memberships.first().member
    leader.name = "张伟"
    leader.save()
    appointment = f.LeaderAppointmentFactory(group=group, member=leader, started_on=D(2022, 3, 1))
    return group, leader, appointment


def test_leader_review_record_saves_the_yearly_grade_r28(led_group, secretary):
    group, leader, appointment = led_group
    review, findings = services.leader_review_record(
        group=group,
        member=leader,
        year=2024,
        grade="competent",
        reviewed_on=D(2024, 12, 20),
        notes=" 良好 ",
        by=secretary,
    )
    assert (review.appointment, review.year, review.grade, review.notes, review.reviewed_by) == (
        appointment,
        2024,
        "competent",
        "良好",
        secretary,
    )
    assert findings == []
    assert history(review) == [("+", "secretary", "2024年度组长考核")]


def test_leader_review_record_second_incompetent_in_a_row_makes_replacement_due_r28(led_group, secretary):
    group, leader, _ = led_group
    services.leader_review_record(
        group=group, member=leader, year=2023, grade="incompetent", reviewed_on=D(2023, 12, 20), by=secretary
    )
    _review, findings = services.leader_review_record(
        group=group, member=leader, year=2024, grade="incompetent", reviewed_on=D(2025, 1, 5), by=secretary
    )
    assert [(x.rule_id, x.object_id, x.message) for x in findings] == [
        (
            "R-28",
            group.pk,
            "党小组“第一党小组”的组长“张伟”2023年、2024年连续两次年度考核为“不称职”，"
            "应予调整（党支部应对工作开展不力的组长进行约谈或者调整）。",
        )
    ]


def test_leader_review_record_refusals_save_nothing_r28(led_group, secretary):
    group, leader, _ = led_group
    member = group.memberships.exclude(member=leader).first().member
    assert duty_refused(
        lambda: services.leader_review_record(
            group=group,
            member=member,
            year=2024,
            grade="competent",
            reviewed_on=D(2024, 12, 20),
            by=secretary,
        )
    ) == [f"“{member.name}”在2024年不是党小组“第一党小组”的组长或副组长，不能对其进行年度考核。"]
    assert duty_refused(
        lambda: services.leader_review_record(
            group=group,
            member=leader,
            year=2021,
            grade="competent",
            reviewed_on=D(2021, 12, 20),
            by=secretary,
        )
    ) == ["“张伟”在2021年不是党小组“第一党小组”的组长或副组长，不能对其进行年度考核。"]
    this_year = dt.date.today().year
    assert duty_refused(
        lambda: services.leader_review_record(
            group=group,
            member=leader,
            year=this_year + 1,
            grade="competent",
            reviewed_on=dt.date.today(),
            by=secretary,
        )
    ) == [
        f"{this_year + 1}年度的考核在年终进行，最早于{this_year + 1}年12月1日登记"
        "（R-28：年终对党小组组长进行考核）。"
    ]
    assert duty_refused(
        lambda: services.leader_review_record(
            group=group,
            member=leader,
            year=2024,
            grade="excellent",
            reviewed_on=D(2024, 11, 30),
            by=secretary,
        )
    ) == ["2024年度的考核在年终进行，最早于2024年12月1日登记（R-28：年终对党小组组长进行考核）。"]
    assert duty_refused(
        lambda: services.leader_review_record(
            group=group, member=leader, year=2024, grade="good", reviewed_on=D(2024, 12, 20), by=secretary
        )
    ) == ["考核等次“good”无效（应为优秀、称职或不称职）。"]
    services.leader_review_record(
        group=group, member=leader, year=2024, grade="competent", reviewed_on=D(2024, 12, 20), by=secretary
    )
    assert duty_refused(
        lambda: services.leader_review_record(
            group=group,
            member=leader,
            year=2024,
            grade="excellent",
            reviewed_on=D(2024, 12, 28),
            by=secretary,
        )
    ) == ["“张伟”2024年度的考核结果已登记（R-28：每年考核一次）。"]
    assert list(LeaderReview.objects.values_list("year", "grade")) == [(2024, "competent")]


def test_leader_review_counts_across_re_appointments_r28(led_group, secretary):
    group, leader, appointment = led_group
    services.leader_end(appointment=appointment, ended_on=D(2024, 6, 1), reason="换届", by=secretary)
    again = f.LeaderAppointmentFactory(group=group, member=leader, started_on=D(2024, 6, 1))
    services.leader_review_record(
        group=group, member=leader, year=2023, grade="incompetent", reviewed_on=D(2023, 12, 20), by=secretary
    )
    review, findings = services.leader_review_record(
        group=group, member=leader, year=2024, grade="incompetent", reviewed_on=D(2024, 12, 20), by=secretary
    )
    assert review.appointment == again
    assert [x.rule_id for x in findings] == ["R-28"]


def test_leader_interview_record_r28(led_group, secretary):
    group, leader, _ = led_group
    interview = services.leader_interview_record(
        group=group,
        member=leader,
        interviewed_on=D(2025, 1, 10),
        interviewer="支部书记 李明",
        content="指出问题",
        by=secretary,
    )
    assert (interview.member, interview.interviewer, interview.recorded_by) == (
        leader,
        "支部书记 李明",
        secretary,
    )
    other = group.memberships.exclude(member=leader).first().member
    assert duty_refused(
        lambda: services.leader_interview_record(
            group=group,
            member=other,
            interviewed_on=D(2025, 1, 10),
            interviewer=" ",
            content="",
            by=secretary,
        )
    ) == [
        "请填写约谈人。",
        "请填写约谈内容。",
        f"“{other.name}”在2025-01-10不是党小组“第一党小组”的组长或副组长。",
    ]
    assert duty_refused(
        lambda: services.leader_interview_record(
            group=group,
            member=leader,
            interviewed_on=D(2022, 2, 28),
            interviewer="书记",
            content="x",
            by=secretary,
        )
    ) == ["“张伟”在2022-02-28不是党小组“第一党小组”的组长或副组长。"]


def test_leader_training_record_r35(led_group, secretary):
    _group, leader, _ = led_group
    training = services.leader_training_record(
        member=leader,
        trained_on=D(2025, 5, 20),
        title="党小组组长培训班",
        hours="16",
        organiser="市直机关工委",
        by=secretary,
    )
    assert (training.hours, training.title, training.recorded_by) == (
        Decimal("16.0"),
        "党小组组长培训班",
        secretary,
    )
    for hours, message in (
        ("0", "学时应大于0且不超过200。"),
        ("201", "学时应大于0且不超过200。"),
        ("1.25", "学时最多保留1位小数。"),
    ):
        assert duty_refused(
            lambda hours=hours: services.leader_training_record(
                member=leader,
                trained_on=D(2025, 5, 20),
                title="培训",
                hours=hours,
                organiser="工委",
                by=secretary,
            )
        ) == [message]
    assert duty_refused(
        lambda: services.leader_training_record(
            member=leader,
            trained_on=dt.date.today() + dt.timedelta(days=30),
            title=" ",
            hours=8,
            organiser="",
            by=secretary,
        )
    ) == ["培训日期不能晚于今天。", "请填写培训名称。", "请填写主办单位。"]
    assert LeaderTraining.objects.count() == 1


# --- R-22 cultivation -----------------------------------------------------------------------------
@pytest.fixture
def cultivating(branch):
    group = group_with(branch, 3)
    full = list(group.memberships.values_list("member", flat=True))
    contacts = list(f.MemberFactory._meta.model.objects.filter(pk__in=full).order_by("pk"))
    return group, contacts


def create_candidate(group, by, **kwargs):
    values = {
        "group": group,
        "name": "陈晓东",
        "gender": "M",
        "birth_date": D(2000, 5, 4),
        "applied_on": D(2023, 3, 1),
        "by": by,
    }
    values.update(kwargs)
    return services.candidate_create(**values)


def test_candidate_create_records_the_applicant_stage_r22(cultivating, secretary):
    group, contacts = cultivating
    candidate = create_candidate(group, secretary, contacts=contacts[:1], decided_by_note="递交入党申请书")
    assert (candidate.branch, candidate.stage, candidate.stage_started_on) == (
        group.branch,
        "applicant",
        D(2023, 3, 1),
    )
    assert list(
        candidate.stages.values_list("stage", "started_on", "decided_by_note", "recorded_by__username")
    ) == [("applicant", D(2023, 3, 1), "递交入党申请书", "secretary")]
    assert list(candidate.contacts.all()) == contacts[:1]
    assert candidate.history.filter(history_type="~", history_user=secretary).exists()  # the contacts change


def test_candidate_create_refusals_save_nothing_r22(cultivating, secretary):
    group, contacts = cultivating
    assert duty_refused(lambda: create_candidate(group, secretary, birth_date=D(2006, 3, 2))) == [
        "申请入党须年满18岁：出生于2006-03-02，2024-03-02起方可申请。"
    ]
    assert duty_refused(lambda: create_candidate(group, secretary, applied_on=D(2019, 12, 31))) == [
        "党小组“第一党小组”在2019-12-31不存在（未建立或已撤销）。"
    ]
    assert duty_refused(lambda: create_candidate(group, secretary, contacts=contacts)) == [
        "培养联系人为1至2名（现选3名）。"
    ]


def test_candidate_advance_stage_in_order_with_contacts_r22(cultivating, secretary):
    group, contacts = cultivating
    candidate = create_candidate(group, secretary)
    candidate = services.candidate_advance_stage(
        candidate=candidate,
        stage="activist",
        started_on=D(2023, 9, 1),
        contacts=contacts[:2],
        by=secretary,
        decided_by_note="支委会研究确定",
    )
    candidate = services.candidate_advance_stage(
        candidate=candidate, stage="development", started_on=D(2024, 10, 1), by=secretary
    )
    new_member = f.MemberFactory(
        branch=group.branch,
        name="陈晓东",
        status="probationary",
        joined_on=D(2025, 4, 1),
        full_member_on=None,
    )
    candidate = services.candidate_advance_stage(
        candidate=candidate, stage="probationary", started_on=D(2025, 4, 1), member=new_member, by=secretary
    )
    candidate.refresh_from_db()
    assert (candidate.stage, candidate.stage_started_on, candidate.member) == (
        "probationary",
        D(2025, 4, 1),
        new_member,
    )
    assert list(candidate.stages.values_list("stage", "started_on")) == [
        ("applicant", D(2023, 3, 1)),
        ("activist", D(2023, 9, 1)),
        ("development", D(2024, 10, 1)),
        ("probationary", D(2025, 4, 1)),
    ]
    assert set(candidate.contacts.all()) == set(contacts[:2])


def test_candidate_advance_stage_refuses_skipping_going_back_and_missing_contacts_r22(cultivating, secretary):
    group, contacts = cultivating
    candidate = create_candidate(group, secretary)
    assert duty_refused(
        lambda: services.candidate_advance_stage(
            candidate=candidate, stage="development", started_on=D(2023, 9, 1), by=secretary
        )
    ) == ["培养阶段须依次经过，不能跳过：“入党申请人”之后应为“入党积极分子”，而不是“发展对象”。"]
    assert duty_refused(
        lambda: services.candidate_advance_stage(
            candidate=candidate, stage="activist", started_on=D(2023, 9, 1), by=secretary
        )
    ) == ["“入党积极分子”须确定1至2名培养联系人（正式党员）。"]
    services.candidate_advance_stage(
        candidate=candidate, stage="activist", started_on=D(2023, 9, 1), contacts=contacts[:1], by=secretary
    )
    assert duty_refused(
        lambda: services.candidate_advance_stage(
            candidate=candidate, stage="applicant", started_on=D(2023, 10, 1), by=secretary
        )
    ) == ["当前已是“入党积极分子”阶段，不能回到或重复“入党申请人”阶段。"]
    assert duty_refused(
        lambda: services.candidate_advance_stage(
            candidate=candidate, stage="development", started_on=D(2023, 8, 1), by=secretary
        )
    ) == ["“发展对象”的开始日期不能早于“入党积极分子”的开始日期（2023-09-01）。"]
    member = f.MemberFactory(branch=group.branch)
    assert duty_refused(
        lambda: services.candidate_advance_stage(
            candidate=candidate, stage="development", started_on=D(2024, 9, 1), member=member, by=secretary
        )
    ) == ["只有成为预备党员时才能关联党员记录。"]
    candidate.refresh_from_db()
    assert candidate.stage == "activist"


def test_candidate_set_contacts_refuses_probationary_and_other_branch_members_r22(cultivating, secretary):
    group, contacts = cultivating
    candidate = create_candidate(group, secretary, contacts=contacts[:1])
    probationary = f.MemberFactory(branch=group.branch, name="预备甲", probationary=True)
    outsider = f.MemberFactory(name="外支部")
    assert duty_refused(
        lambda: services.candidate_set_contacts(
            candidate=candidate, contacts=[probationary, outsider], by=secretary
        )
    ) == ["培养联系人“预备甲”不是正式党员。", "培养联系人“外支部”不是本支部在册党员。"]
    assert list(candidate.contacts.all()) == contacts[:1]
    services.candidate_set_contacts(candidate=candidate, contacts=contacts[1:3], by=secretary)
    assert set(candidate.contacts.all()) == set(contacts[1:3])
