"""Tests of groups/services.py: what each service saves (with its audit trail) and what it refuses.

A refusal must leave the database as it was: every refusal test counts the rows (and history rows)
of the groups models before and after.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from groups import services
from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from tests import factories as f

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
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
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
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
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
