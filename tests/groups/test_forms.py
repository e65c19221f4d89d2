"""Tests of groups/forms.py: the forms type the input and offer only what the page scoped; the
``SplitDraft`` round-trips a split proposal (R-01/R-03/R-04/R-07) through plain form fields."""

from __future__ import annotations

import datetime as dt

import pytest

from groups.forms import (
    MAX_PROPOSED_GROUPS,
    NOT_PLACEABLE,
    AppointLeaderForm,
    DraftGroup,
    GroupCreateForm,
    MoveMembersForm,
    QuickPlaceForm,
    SplitCountForm,
    SplitDecisionForm,
    SplitDraft,
    member_label,
)
from groups.models import PartyGroup
from groups.split import ProposedGroup, SplitMember, suggest_split
from members.models import Member, RuleSet, Unit
from tests import factories as f

MEMBERS = [
    SplitMember(id=11, name="张伟", is_full=True, unit_id=1, unit_name="综合处", post="处长"),
    SplitMember(id=12, name="李芳", is_full=True, unit_id=1, unit_name="综合处"),
    SplitMember(id=13, name="王娜", is_full=False, unit_id=1, unit_name="综合处"),
    SplitMember(id=21, name="刘敏", is_full=True, unit_id=2, unit_name="财务处"),
    SplitMember(id=22, name="陈静", is_full=True, unit_id=2, unit_name="财务处"),
    SplitMember(id=23, name="杨丽", is_full=True, unit_id=None, unit_name=None),
]


def test_split_draft_from_post_reads_names_leaders_and_each_members_group():
    data = {
        "count": "2",
        "g-0-name": "  综合处党小组 ",
        "g-0-leader": "11",
        "g-1-name": "财务处党小组",
        "g-1-leader": "x",  # not a number: no leader
        "m-11": "0",
        "m-12": "0",
        "m-13": "0",
        "m-21": "1",
        "m-22": "1",
        "m-23": "",  # not placed
        "m-999": "0",  # not a member of the branch: ignored
    }
    draft = SplitDraft.from_post(data, MEMBERS)
    assert draft.groups == [
        DraftGroup("综合处党小组", [11, 12, 13], 11),
        DraftGroup("财务处党小组", [21, 22], None),
    ]
    assert draft.unplaced == [23]
    assert draft.proposal() == [
        ProposedGroup("综合处党小组", (11, 12, 13), 11),
        ProposedGroup("财务处党小组", (21, 22), None),
    ]


@pytest.mark.parametrize("index", ["2", "-1", "abc", ""])
def test_split_draft_from_post_leaves_a_member_with_an_unknown_group_unplaced(index):
    draft = SplitDraft.from_post({"count": "2", "m-11": index, "m-12": "1"}, MEMBERS[:2])
    assert ([g.member_ids for g in draft.groups], draft.unplaced) == ([[], [12]], [11])


@pytest.mark.parametrize(("count", "groups"), [("100000", MAX_PROPOSED_GROUPS), ("-3", 0), ("abc", 0)])
def test_split_draft_from_post_bounds_the_number_of_groups(count, groups):
    draft = SplitDraft.from_post({"count": count}, MEMBERS)
    assert len(draft.groups) == groups
    assert draft.unplaced == [m.id for m in MEMBERS]


def test_split_draft_from_result_round_trips_the_suggestion():
    result = suggest_split(MEMBERS, rule_set=RuleSet(), groups=2)  # the model's defaults: central rules
    assert result.ok, result.reasons
    draft = SplitDraft.from_result(result)
    assert draft.proposal() == list(result.groups)
    data = {"count": str(len(draft.groups))}
    for index, group in enumerate(draft.groups):
        data[f"g-{index}-name"] = group.name
        data[f"g-{index}-leader"] = str(group.leader_id)
        data.update({f"m-{i}": str(index) for i in group.member_ids})
    again = SplitDraft.from_post(data, MEMBERS)
    assert again.proposal() == [
        ProposedGroup(g.name, tuple(sorted(g.member_ids)), g.leader_id) for g in result.groups
    ]


def test_split_draft_add_and_remove_groups():
    draft = SplitDraft(groups=[DraftGroup("甲", [11, 12], 11), DraftGroup("乙", [21], 21)])
    draft.add_group()
    assert [g.name for g in draft.groups] == ["甲", "乙", "新党小组3"]
    draft.remove_group(0)
    assert ([g.name for g in draft.groups], draft.unplaced) == (["乙", "新党小组3"], [11, 12])
    draft.remove_group(7)  # out of range: nothing happens
    assert [g.name for g in draft.groups] == ["乙", "新党小组3"]
    full = SplitDraft(groups=[DraftGroup(str(i)) for i in range(MAX_PROPOSED_GROUPS)])
    full.add_group()
    assert len(full.groups) == MAX_PROPOSED_GROUPS


def test_split_draft_rows_count_members_full_members_and_units():
    draft = SplitDraft(
        groups=[DraftGroup("甲", [11, 12, 13, 23], 21), DraftGroup("乙", [21, 22], 22)], unplaced=[]
    )
    rows, unplaced = draft.rows(MEMBERS)
    assert [(r["name"], r["size"], r["full"], r["units"], r["leader_id"]) for r in rows] == [
        ("甲", 4, 3, [("综合处", 3), ("（未填单位）", 1)], None),  # the leader 21 is not in the group
        ("乙", 2, 2, [("财务处", 2)], 22),
    ]
    assert unplaced == []


def test_split_count_form_bounds():
    assert SplitCountForm({"groups": "4"}).is_valid()
    assert SplitCountForm({}).is_valid()
    assert SplitCountForm({"groups": "0"}).errors == {"groups": ["确保该值大于或等于1。"]}
    assert SplitCountForm({"groups": "51"}).errors == {"groups": ["确保该值小于或等于50。"]}


def test_split_decision_form_leaves_document_number_and_attestations_to_the_service():
    form = SplitDecisionForm({"decided_on": "2025-03-01", "effective_on": "2025-03-02"})
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["document_number"], form.cleaned_data["attests_dedication"]) == ("", False)


# --- Forms with database choices ---------------------------------------------------------------------


@pytest.fixture
def branch(db):
    return f.BranchFactory(committee_term_ends_on=dt.date(2027, 6, 30))


def test_member_label_names_unit_and_probationary_status(branch):
    unit = f.UnitFactory(branch=branch, name="综合处")
    assert member_label(f.MemberFactory(branch=branch, name="张伟", unit=unit)) == "张伟（综合处）"
    assert member_label(f.MemberFactory(branch=branch, name="李芳", probationary=True)) == "李芳（预备党员）"
    assert member_label(f.MemberFactory(branch=branch, name="王娜")) == "王娜"


def test_group_create_form_offers_only_the_pages_candidates(branch):
    unit = f.UnitFactory(branch=branch)
    offered = f.MemberFactory(branch=branch)
    other = f.MemberFactory()
    data = {
        "name": "综合处党小组",
        "established_on": "2025-03-02",
        "decided_on": "2025-03-01",
        "document_number": "1号",
        "unit": unit.pk,
    }

    def form(**extra):
        return GroupCreateForm(
            {**data, **extra},
            units=Unit.objects.filter(branch=branch),
            candidates=Member.objects.filter(pk=offered.pk),
        )

    valid = form(members=[offered.pk])
    assert valid.is_valid(), valid.errors
    assert list(valid.cleaned_data["members"]) == [offered]
    assert list(valid.fields) == [
        "name",
        "unit",
        "established_on",
        "decided_on",
        "document_number",
        "members",
        "summary",
    ]
    refused = form(members=[other.pk])
    assert not refused.is_valid()
    assert list(refused.errors) == ["members"]
    other_unit = f.UnitFactory()
    assert list(form(unit=other_unit.pk).errors) == ["unit"]


def test_quick_place_form_names_r09_when_the_member_is_not_offered(branch):
    group = f.PartyGroupFactory(branch=branch)
    placed = f.GroupMembershipFactory(group=group).member
    form = QuickPlaceForm(
        {"member": placed.pk, "group": group.pk, "started_on": "2025-03-01"},
        candidates=Member.objects.none(),
        groups=PartyGroup.objects.filter(branch=branch),
    )
    assert form.errors == {"member": [str(NOT_PLACEABLE)]}


def test_move_members_form_writes_a_default_summary(branch):
    source = f.PartyGroupFactory(branch=branch, name="第一党小组")
    target = f.PartyGroupFactory(branch=branch, name="第二党小组")
    a = f.GroupMembershipFactory(group=source, member__name="张伟").member
    b = f.GroupMembershipFactory(group=source, member__name="李芳").member
    data = {
        "members": [a.pk, b.pk],
        "to_group": target.pk,
        "effective_on": "2025-03-02",
        "decided_on": "2025-03-01",
        "document_number": "2号",
    }
    roster = Member.objects.filter(pk__in=[a.pk, b.pk]).order_by("name")
    targets = PartyGroup.objects.filter(pk=target.pk)
    form = MoveMembersForm(data, roster=roster, targets=targets)
    assert form.is_valid(), form.errors
    assert form.summary_for(source) == "将张伟、李芳从党小组“第一党小组”调整到党小组“第二党小组”。"
    custom = MoveMembersForm({**data, "summary": "按处室调整"}, roster=roster, targets=targets)
    assert custom.is_valid() and custom.summary_for(source) == "按处室调整"
    assert list(MoveMembersForm({**data, "to_group": source.pk}, roster=roster, targets=targets).errors) == [
        "to_group"
    ]


def test_appoint_leader_form_shows_the_article_text_and_leaves_r25_to_the_service(branch):
    group = f.PartyGroupFactory(branch=branch)
    member = f.GroupMembershipFactory(group=group).member
    roster = Member.objects.filter(pk=member.pk)
    unbound = AppointLeaderForm(roster=roster, term_ends_on=branch.committee_term_ends_on)
    assert unbound.fields["term_ends_on"].initial == dt.date(2027, 6, 30)
    assert [str(unbound.fields[n].label) for n in AppointLeaderForm.ATTESTATIONS] == [
        "政治素质高，具备一定的政策理论水平，熟悉党的基本知识",
        "热爱党的工作，有较强的事业心和责任感，在党员和群众中有较高威信",
        "组织协调能力较强，能够团结带领党员完成党支部交办的各项任务",
    ]
    form = AppointLeaderForm(
        {"member": member.pk, "role": "leader", "mode": "designated", "started_on": "2025-03-01"},
        roster=roster,
    )
    assert form.is_valid(), form.errors
    assert [form.cleaned_data[n] for n in AppointLeaderForm.ATTESTATIONS] == [False, False, False]
    assert form.cleaned_data["term_ends_on"] is None
    bad_mode = AppointLeaderForm(
        {"member": member.pk, "role": "leader", "mode": "elected", "started_on": "2025-03-01"}, roster=roster
    )
    assert list(bad_mode.errors) == ["mode"]
