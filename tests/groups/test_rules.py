"""Pure tests of groups/rules.py: each rule's failing and passing case, with the whole finding.

No database: the rule sets are unsaved ``RuleSet`` instances built from the values the migration
``members/0002_rule_sets`` stores (central 2019 and Loudi 2023), so a change of those values shows here.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from groups import rules
from groups.rules import GroupFact, MemberFact, MembershipFact
from members.models import RuleSet
from partygroup.findings import Finding

_SEEDED = {
    values["code"]: values
    for values in importlib.import_module("members.migrations.0002_rule_sets").RULE_SETS
}

CENTRAL = "《中央和国家机关党小组工作规则（试行）》"
LOUDI = "《关于进一步规范娄底市直机关党小组工作的实施意见》"
DOC_003_ART = "《最新党小组工作操作方法与创新实务》第一章“党小组的建立与划分”"
DOC_004_ART = "《关于深入发挥党小组作用的实施意见》“调整和优化党小组设置”"
ON = dt.date(2024, 9, 1)


def rule_set(code: str = "central-2019", **overrides) -> RuleSet:
    return RuleSet(**{**_SEEDED[code], **overrides})


def members(count: int, *, full: int | None = None, branch_id: int = 1, start: int = 1, unit_id=None):
    """``count`` members, the first ``full`` of them full members (all when ``full`` is None)."""
    full = count if full is None else full
    return [
        MemberFact(
            id=start + i,
            name=f"党员{start + i}",
            branch_id=branch_id,
            is_full=i < full,
            unit_id=unit_id,
            unit_name=f"第{unit_id}处" if unit_id else "",
        )
        for i in range(count)
    ]


GROUP = GroupFact(id=7, name="第一党小组", branch_id=1)


def finding(rule_id, severity, obj_type, obj_id, label, message, article, branch_id=1) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=severity,
        object_type=obj_type,
        object_id=obj_id,
        object_label=label,
        message=message,
        article=article,
        branch_id=branch_id,
    )


# --- R-01 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "title"), [("central-2019", CENTRAL), ("loudi-2023", LOUDI)])
def test_r01_branch_of_exactly_20_without_groups_is_advised_to_divide(code, title):
    result = rules.check_branch_division(
        branch_id=1, branch_name="办公室党支部", active_members=20, active_groups=0, rule_set=rule_set(code)
    )
    assert result == [
        finding(
            "R-01",
            "advisory",
            "branch",
            1,
            "办公室党支部",
            "党支部“办公室党支部”有党员20名，达到20人，一般应当划分若干党小组（现有0个）。",
            f"{title}第一条",
        )
    ]


def test_r01_branch_of_19_members_passes():
    assert (
        rules.check_branch_division(
            branch_id=1, branch_name="办公室党支部", active_members=19, active_groups=0, rule_set=rule_set()
        )
        == []
    )


def test_r01_branch_with_only_one_group_is_not_divided_into_several():
    result = rules.check_branch_division(
        branch_id=1, branch_name="办公室党支部", active_members=25, active_groups=1, rule_set=rule_set()
    )
    assert [(f.rule_id, f.message) for f in result] == [
        ("R-01", "党支部“办公室党支部”有党员25名，达到20人，一般应当划分若干党小组（现有1个）。")
    ]


def test_r01_branch_of_20_with_two_groups_passes():
    assert (
        rules.check_branch_division(
            branch_id=1, branch_name="办公室党支部", active_members=20, active_groups=2, rule_set=rule_set()
        )
        == []
    )


def test_r01_threshold_comes_from_the_rule_set():
    custom = rule_set(split_threshold=15)
    fires = rules.check_branch_division(
        branch_id=3, branch_name="乙支部", active_members=15, active_groups=0, rule_set=custom
    )
    quiet = rules.check_branch_division(
        branch_id=3, branch_name="乙支部", active_members=14, active_groups=0, rule_set=custom
    )
    assert [f.message for f in fires] == [
        "党支部“乙支部”有党员15名，达到15人，一般应当划分若干党小组（现有0个）。"
    ]
    assert fires[0].branch_id == 3
    assert quiet == []


# --- R-03 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "title"), [("central-2019", CENTRAL), ("loudi-2023", LOUDI)])
def test_r03_group_of_two_is_a_violation(code, title):
    result = rules.check_group_composition(group=GROUP, members=members(2), rule_set=rule_set(code))
    assert result == [
        finding(
            "R-03",
            "violation",
            "group",
            7,
            "第一党小组",
            "党小组“第一党小组”现有党员2名，少于3名。",
            f"{title}第一条",
        )
    ]


def test_r03_group_of_exactly_three_passes():
    assert rules.check_group_composition(group=GROUP, members=members(3), rule_set=rule_set()) == []


def test_r03_minimum_comes_from_the_rule_set():
    custom = rule_set(min_group_members=5)
    assert [
        f.message for f in rules.check_group_composition(group=GROUP, members=members(4), rule_set=custom)
    ] == ["党小组“第一党小组”现有党员4名，少于5名。"]
    assert rules.check_group_composition(group=GROUP, members=members(5), rule_set=custom) == []


def test_r03_and_r04_are_advisory_while_a_group_is_being_set_up():
    result = rules.composition_after_change(group=GROUP, members=members(2, full=0), rule_set=rule_set())
    assert [(f.rule_id, f.severity) for f in result] == [("R-03", "advisory"), ("R-04", "advisory")]
    assert [f.article for f in result] == [f"{CENTRAL}第一条", f"{CENTRAL}第一条"]


def test_composition_after_change_keeps_r08_advisory_and_passes_a_good_group():
    loudi = rule_set("loudi-2023")
    assert [
        (f.rule_id, f.severity)
        for f in rules.composition_after_change(group=GROUP, members=members(5), rule_set=loudi)
    ] == [("R-08", "advisory")]
    assert rules.composition_after_change(group=GROUP, members=members(10), rule_set=loudi) == []


# --- R-04 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "title"), [("central-2019", CENTRAL), ("loudi-2023", LOUDI)])
def test_r04_group_of_probationary_members_only_is_a_violation(code, title):
    size = 3 if code == "central-2019" else 10  # Loudi: a size inside the 10–20 guideline
    result = rules.check_group_composition(
        group=GROUP, members=members(size, full=0), rule_set=rule_set(code)
    )
    assert result == [
        finding(
            "R-04",
            "violation",
            "group",
            7,
            "第一党小组",
            "党小组“第一党小组”没有足够的正式党员（现有0名，至少1名），预备党员不能单独组成党小组。",
            f"{title}第一条",
        )
    ]


def test_r04_group_with_one_full_member_passes():
    assert rules.check_group_composition(group=GROUP, members=members(3, full=1), rule_set=rule_set()) == []


def test_r04_minimum_comes_from_the_rule_set():
    custom = rule_set(min_full_members=2)
    result = rules.check_group_composition(group=GROUP, members=members(3, full=1), rule_set=custom)
    assert [f.message for f in result] == [
        "党小组“第一党小组”没有足够的正式党员（现有1名，至少2名），预备党员不能单独组成党小组。"
    ]
    assert rules.check_group_composition(group=GROUP, members=members(3, full=2), rule_set=custom) == []


def test_r03_and_r04_both_fire_for_two_probationary_members():
    result = rules.check_group_composition(group=GROUP, members=members(2, full=0), rule_set=rule_set())
    assert [(f.rule_id, f.severity) for f in result] == [("R-03", "violation"), ("R-04", "violation")]


# --- R-08 ----------------------------------------------------------------------------------------
def test_r08_loudi_group_below_the_guideline_is_advised():
    result = rules.check_group_composition(group=GROUP, members=members(9), rule_set=rule_set("loudi-2023"))
    assert result == [
        finding(
            "R-08",
            "advisory",
            "group",
            7,
            "第一党小组",
            "党小组“第一党小组”现有党员9名，不在10-20人的指导范围内。",
            DOC_004_ART,
        )
    ]


def test_r08_loudi_group_above_the_guideline_is_advised():
    result = rules.check_group_composition(group=GROUP, members=members(21), rule_set=rule_set("loudi-2023"))
    assert [(f.rule_id, f.message) for f in result] == [
        ("R-08", "党小组“第一党小组”现有党员21名，不在10-20人的指导范围内。")
    ]


@pytest.mark.parametrize("size", [10, 15, 20])
def test_r08_loudi_group_inside_the_guideline_passes(size):
    assert (
        rules.check_group_composition(group=GROUP, members=members(size), rule_set=rule_set("loudi-2023"))
        == []
    )


@pytest.mark.parametrize("size", [3, 9, 21, 40])
def test_r08_does_not_fire_when_the_rule_set_has_no_guideline(size):
    assert (
        rules.check_group_composition(group=GROUP, members=members(size), rule_set=rule_set("central-2019"))
        == []
    )


def test_r08_custom_guideline_range_from_the_rule_set():
    custom = rule_set("central-2019", size_guideline_enabled=True, size_guideline_min=5, size_guideline_max=8)
    assert [
        f.message for f in rules.check_group_composition(group=GROUP, members=members(9), rule_set=custom)
    ] == ["党小组“第一党小组”现有党员9名，不在5-8人的指导范围内。"]
    assert [
        f.rule_id for f in rules.check_group_composition(group=GROUP, members=members(4), rule_set=custom)
    ] == ["R-08"]
    assert rules.check_group_composition(group=GROUP, members=members(5), rule_set=custom) == []
    assert rules.check_group_composition(group=GROUP, members=members(8), rule_set=custom) == []


def test_r08_is_not_added_to_a_group_already_below_the_minimum():
    # A group of 2 gets R-03; R-08 (the rural guideline) would only repeat it.
    result = rules.check_group_composition(group=GROUP, members=members(2), rule_set=rule_set("loudi-2023"))
    assert [f.rule_id for f in result] == ["R-03"]


# --- R-07 ----------------------------------------------------------------------------------------
def _groups(*ids):
    return {g: GroupFact(id=g, name=f"第{g}党小组", branch_id=1) for g in ids}


def test_r07_small_unit_spread_over_two_groups_is_advised():
    unit_members = members(4, unit_id=5)
    group_of = {1: 10, 2: 10, 3: 11, 4: 11}
    result = rules.check_unit_alignment(
        branch_id=1, members=unit_members, group_of=group_of, groups=_groups(10, 11), rule_set=rule_set()
    )
    assert result == [
        finding(
            "R-07",
            "advisory",
            "unit",
            5,
            "第5处",
            "单位“第5处”的4名党员分在2个党小组（第10党小组、第11党小组），党小组宜与处室、科室、车间对应。",
            DOC_003_ART,
        )
    ]


def test_r07_unit_within_one_group_passes():
    unit_members = members(4, unit_id=5) + members(3, unit_id=6, start=10)
    group_of = {1: 10, 2: 10, 3: 10, 4: 10, 10: 11, 11: 11, 12: 11}
    assert (
        rules.check_unit_alignment(
            branch_id=1, members=unit_members, group_of=group_of, groups=_groups(10, 11), rule_set=rule_set()
        )
        == []
    )


def test_r07_ignores_members_without_unit_or_without_group():
    no_unit = members(2, start=1)
    unplaced = members(2, unit_id=5, start=20)
    group_of = {1: 10, 2: 11, 20: 10}  # member 21 of unit 5 is in no group
    assert (
        rules.check_unit_alignment(
            branch_id=1,
            members=no_unit + unplaced,
            group_of=group_of,
            groups=_groups(10, 11),
            rule_set=rule_set(),
        )
        == []
    )


def test_r07_unit_larger_than_one_group_may_span_groups():
    # central: capacity is one below the split threshold (19, as groups.split);
    # Loudi: the guideline maximum (20).
    big = members(21, unit_id=5)
    group_of = {m.id: 10 if m.id <= 11 else 11 for m in big}
    for code in ("central-2019", "loudi-2023"):
        result = rules.check_unit_alignment(
            branch_id=1, members=big, group_of=group_of, groups=_groups(10, 11), rule_set=rule_set(code)
        )
        assert result == []
    twenty = big[:20]
    assert (
        rules.check_unit_alignment(
            branch_id=1, members=twenty, group_of=group_of, groups=_groups(10, 11), rule_set=rule_set()
        )
        == []
    )
    result = rules.check_unit_alignment(
        branch_id=1,
        members=twenty,
        group_of=group_of,
        groups=_groups(10, 11),
        rule_set=rule_set("loudi-2023"),
    )
    assert [f.rule_id for f in result] == ["R-07"]
    nineteen = big[:19]
    result = rules.check_unit_alignment(
        branch_id=1, members=nineteen, group_of=group_of, groups=_groups(10, 11), rule_set=rule_set()
    )
    assert [f.rule_id for f in result] == ["R-07"]


def test_r07_capacity_follows_a_custom_guideline():
    custom = rule_set(size_guideline_enabled=True, size_guideline_min=3, size_guideline_max=5)
    six = members(6, unit_id=5)
    five = members(5, unit_id=5)
    group_of = {i: 10 if i <= 3 else 11 for i in range(1, 7)}
    assert (
        rules.check_unit_alignment(
            branch_id=1, members=six, group_of=group_of, groups=_groups(10, 11), rule_set=custom
        )
        == []
    )
    assert [
        f.message
        for f in rules.check_unit_alignment(
            branch_id=1, members=five, group_of=group_of, groups=_groups(10, 11), rule_set=custom
        )
    ] == ["单位“第5处”的5名党员分在2个党小组（第10党小组、第11党小组），党小组宜与处室、科室、车间对应。"]


# --- R-09 ----------------------------------------------------------------------------------------
def ms(mid, group_id, start, end=None, *, member_id=1, branch_id=1) -> MembershipFact:
    return MembershipFact(
        id=mid,
        member_id=member_id,
        group_id=group_id,
        group_branch_id=branch_id,
        started_on=start,
        ended_on=end,
    )


ALICE = MemberFact(id=1, name="张伟", branch_id=1, is_full=True)


def test_r09_overlapping_memberships_are_a_violation():
    result = rules.check_single_group(
        branch_id=1,
        members=[ALICE],
        memberships=[ms(1, 10, dt.date(2020, 1, 1)), ms(2, 11, dt.date(2024, 3, 1))],
        branch_has_groups=True,
        on=ON,
        rule_set=rule_set(),
    )
    assert result == [
        finding(
            "R-09",
            "violation",
            "member",
            1,
            "张伟",
            "党员“张伟”自2024-03-01起同时编入两个党小组。",
            DOC_003_ART,
        )
    ]


def test_r09_overlapping_records_of_the_same_group_are_named_as_such():
    result = rules.check_single_group(
        branch_id=1,
        members=[ALICE],
        memberships=[ms(1, 10, dt.date(2020, 1, 1)), ms(2, 10, dt.date(2024, 3, 1))],
        branch_has_groups=True,
        on=ON,
        rule_set=rule_set(),
    )
    assert [f.message for f in result] == ["党员“张伟”自2024-03-01起同一党小组有两段重叠的编入记录。"]


def test_r09_move_on_1_september_does_not_overlap():
    result = rules.check_single_group(
        branch_id=1,
        members=[ALICE],
        memberships=[ms(1, 10, dt.date(2020, 1, 1), dt.date(2024, 9, 1)), ms(2, 11, dt.date(2024, 9, 1))],
        branch_has_groups=True,
        on=ON,
        rule_set=rule_set(),
    )
    assert result == []


def test_r09_ranges_are_half_open():
    old = ms(1, 10, dt.date(2020, 1, 1), dt.date(2024, 9, 1))
    new = ms(2, 11, dt.date(2024, 9, 1))
    assert not old.overlaps(new)
    assert not new.overlaps(old)
    assert old.covers(dt.date(2024, 8, 31))
    assert not old.covers(dt.date(2024, 9, 1))
    assert new.covers(dt.date(2024, 9, 1))
    assert old.overlaps(ms(3, 12, dt.date(2024, 8, 31)))


def test_r09_member_in_no_group_of_a_divided_branch_is_a_violation():
    result = rules.check_single_group(
        branch_id=1,
        members=[ALICE],
        memberships=[ms(1, 10, dt.date(2020, 1, 1), dt.date(2024, 9, 1))],
        branch_has_groups=True,
        on=ON,
        rule_set=rule_set("loudi-2023"),
    )
    assert result == [
        finding(
            "R-09",
            "violation",
            "member",
            1,
            "张伟",
            "党员“张伟”未编入任何党小组（本支部已划分党小组）。",
            DOC_003_ART,
        )
    ]


def test_r09_member_in_no_group_of_an_undivided_branch_passes():
    assert (
        rules.check_single_group(
            branch_id=1, members=[ALICE], memberships=[], branch_has_groups=False, on=ON, rule_set=rule_set()
        )
        == []
    )


def test_r09_member_in_a_group_of_another_branch_is_a_violation():
    result = rules.check_single_group(
        branch_id=1,
        members=[ALICE],
        memberships=[ms(1, 99, dt.date(2020, 1, 1), branch_id=2)],
        branch_has_groups=False,
        on=ON,
        rule_set=rule_set(),
    )
    assert [(f.rule_id, f.severity, f.object_id, f.message) for f in result] == [
        ("R-09", "violation", 1, "党员“张伟”编入了其他党支部的党小组。")
    ]


def test_r09_membership_conflicts_refuse_an_overlapping_placement():
    result = rules.membership_conflicts(
        member=ALICE,
        new=ms(None, 11, dt.date(2024, 6, 1)),
        existing=[ms(1, 10, dt.date(2020, 1, 1))],
        rule_set=rule_set(),
    )
    assert result == [
        finding(
            "R-09",
            "violation",
            "member",
            1,
            "张伟",
            "党员“张伟”在2024-06-01已编入另一个党小组，同一时间只能编入一个党小组。",
            DOC_003_ART,
        )
    ]


def test_r09_membership_conflicts_allow_a_placement_starting_when_the_old_one_ends():
    assert (
        rules.membership_conflicts(
            member=ALICE,
            new=ms(None, 11, dt.date(2024, 9, 1)),
            existing=[ms(1, 10, dt.date(2020, 1, 1), dt.date(2024, 9, 1))],
            rule_set=rule_set(),
        )
        == []
    )


def test_r09_membership_conflicts_ignore_the_membership_being_edited():
    current = ms(1, 10, dt.date(2020, 1, 1))
    assert (
        rules.membership_conflicts(member=ALICE, new=current, existing=[current], rule_set=rule_set()) == []
    )


def test_r09_membership_conflicts_refuse_a_group_of_another_branch():
    result = rules.membership_conflicts(
        member=ALICE, new=ms(None, 99, dt.date(2024, 6, 1), branch_id=2), existing=[], rule_set=rule_set()
    )
    assert [(f.rule_id, f.severity, f.message) for f in result] == [
        ("R-09", "violation", "党员“张伟”只能编入本党支部的党小组。")
    ]


# --- R-24 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "title"), [("central-2019", CENTRAL), ("loudi-2023", LOUDI)])
def test_r24_probationary_member_is_not_eligible_as_leader(code, title):
    candidate = MemberFact(id=4, name="李芳", branch_id=1, is_full=False)
    result = rules.leader_eligibility(member=candidate, group=GROUP, rule_set=rule_set(code))
    assert result == [
        finding(
            "R-24",
            "violation",
            "member",
            4,
            "李芳",
            "“李芳”不是正式党员，不能担任党小组“第一党小组”的组长或副组长。",
            f"{title}第十条第（一）项",
        )
    ]


def test_r24_full_member_is_eligible_as_leader():
    candidate = MemberFact(id=4, name="李芳", branch_id=1, is_full=True)
    assert rules.leader_eligibility(member=candidate, group=GROUP, rule_set=rule_set()) == []


def test_r24_current_probationary_leader_is_a_standing_violation():
    leaders = [
        (MemberFact(id=4, name="李芳", branch_id=1, is_full=False), "组长"),
        (MemberFact(id=5, name="王强", branch_id=1, is_full=True), "副组长"),
    ]
    result = rules.check_current_leaders(group=GROUP, leaders=leaders, rule_set=rule_set("loudi-2023"))
    assert result == [
        finding(
            "R-24",
            "violation",
            "group",
            7,
            "第一党小组",
            "党小组“第一党小组”的组长“李芳”不是正式党员。",
            f"{LOUDI}第十条第（一）项",
        )
    ]


def test_r24_full_member_leaders_pass():
    leaders = [(MemberFact(id=5, name="王强", branch_id=1, is_full=True), "组长")]
    assert rules.check_current_leaders(group=GROUP, leaders=leaders, rule_set=rule_set()) == []


# --- R-28 leader reviews ---------------------------------------------------------------------------
REVIEWED = MemberFact(id=5, name="张伟", branch_id=1, is_full=True)
LED_GROUP = GroupFact(id=9, name="第一党小组", branch_id=1)
DAY = dt.date(2025, 6, 15)


def review_problems(year=2024, reviewed_on=dt.date(2024, 12, 20), terms=((dt.date(2022, 1, 1), None),)):
    return rules.leader_review_problems(
        member_name="张伟",
        group_name="第一党小组",
        year=year,
        reviewed_on=reviewed_on,
        today=DAY,
        terms=terms,
    )


def test_r28_review_of_a_leader_in_office_that_year_at_year_end_passes():
    assert review_problems() == []
    assert review_problems(terms=[(dt.date(2024, 12, 31), None)]) == []  # one day in office counts
    assert review_problems(reviewed_on=dt.date(2025, 2, 1)) == []  # after the year


def test_r28_review_of_a_person_who_was_not_leader_that_year_is_refused():
    expected = ["“张伟”在2024年不是党小组“第一党小组”的组长或副组长，不能对其进行年度考核。"]
    assert review_problems(terms=[]) == expected
    assert review_problems(terms=[(dt.date(2022, 1, 1), dt.date(2024, 1, 1))]) == expected  # left before
    assert review_problems(terms=[(dt.date(2025, 1, 1), None)]) == expected  # appointed after


def test_r28_review_before_the_year_end_or_in_the_future_is_refused():
    assert review_problems(reviewed_on=dt.date(2024, 11, 30)) == [
        "2024年度的考核在年终进行，最早于2024年12月1日登记（R-28：年终对党小组组长进行考核）。"
    ]
    assert review_problems(year=2025, reviewed_on=dt.date(2025, 6, 16)) == [
        "考核日期不能晚于今天。",
        "2025年度的考核在年终进行，最早于2025年12月1日登记（R-28：年终对党小组组长进行考核）。",
    ]


def test_r28_two_consecutive_incompetent_reviews_make_replacement_due():
    reviews = [
        rules.ReviewFact(2022, "excellent"),
        rules.ReviewFact(2024, "incompetent"),
        rules.ReviewFact(2023, "incompetent"),
    ]
    [finding] = rules.check_replacement_due(
        group=LED_GROUP, leader=REVIEWED, reviews=reviews, rule_set=rule_set()
    )
    assert finding == Finding(
        rule_id="R-28",
        severity="advisory",
        object_type="group",
        object_id=9,
        object_label="第一党小组",
        message=(
            "党小组“第一党小组”的组长“张伟”2023年、2024年连续两次年度考核为“不称职”，"
            "应予调整（党支部应对工作开展不力的组长进行约谈或者调整）。"
        ),
        article=f"{CENTRAL}第十三条",
        branch_id=1,
    )
    assert finding.extra == {"leader_id": 5}


def test_r28_incompetent_then_competent_or_a_single_incompetent_passes():
    for reviews in (
        [rules.ReviewFact(2023, "incompetent"), rules.ReviewFact(2024, "competent")],
        [rules.ReviewFact(2023, "competent"), rules.ReviewFact(2024, "incompetent")],
        [rules.ReviewFact(2024, "incompetent")],
        [],
    ):
        assert (
            rules.check_replacement_due(
                group=LED_GROUP, leader=REVIEWED, reviews=reviews, rule_set=rule_set()
            )
            == []
        )


# --- R-35 leader training --------------------------------------------------------------------------
def training(last, since=dt.date(2022, 1, 1), on=DAY):
    return rules.check_leader_training(
        group=LED_GROUP,
        leader=REVIEWED,
        role_label="组长",
        in_office_since=since,
        last_training=last,
        on=on,
        rule_set=rule_set(),
    )


def test_r35_leader_without_training_in_the_past_year_is_advised():
    [finding] = training(dt.date(2024, 6, 15))
    assert (finding.rule_id, finding.severity, finding.object_type, finding.object_id) == (
        "R-35",
        "advisory",
        "member",
        5,
    )
    assert finding.message == "党小组“第一党小组”的组长“张伟”近一年没有参加培训（上次培训于2024-06-15）。"
    assert finding.article == f"{CENTRAL}第十四条"
    [never] = training(None)
    assert never.message.endswith("（尚无培训记录）。")


def test_r35_leader_trained_within_the_year_or_new_in_office_passes():
    assert training(dt.date(2024, 6, 16)) == []
    assert training(None, since=dt.date(2024, 6, 16)) == []  # in office for less than a year
    assert rules.one_year_before(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)


# --- R-22 cultivation --------------------------------------------------------------------------------
def stage_problems(current, new, started_on=dt.date(2025, 3, 1), current_started_on=dt.date(2024, 3, 1)):
    return rules.stage_transition_problems(
        current=current, current_started_on=current_started_on, new=new, started_on=started_on, today=DAY
    )


def test_r22_stages_are_passed_in_order():
    assert rules.next_stage(None) == "applicant"
    assert [rules.next_stage(s) for s in ("applicant", "activist", "development", "probationary")] == [
        "activist",
        "development",
        "probationary",
        None,
    ]
    assert stage_problems("applicant", "activist") == []
    assert stage_problems("development", "probationary") == []


def test_r22_skipping_going_back_or_repeating_a_stage_is_refused():
    assert stage_problems("applicant", "development") == [
        "培养阶段须依次经过，不能跳过：“入党申请人”之后应为“入党积极分子”，而不是“发展对象”。"
    ]
    assert stage_problems("development", "activist") == [
        "当前已是“发展对象”阶段，不能回到或重复“入党积极分子”阶段。"
    ]
    assert stage_problems("activist", "activist") == [
        "当前已是“入党积极分子”阶段，不能回到或重复“入党积极分子”阶段。"
    ]
    assert stage_problems("probationary", "probationary") == [
        "当前已是“预备党员”阶段，不能回到或重复“预备党员”阶段。"
    ]
    assert stage_problems(None, "activist", current_started_on=None) == [
        "培养阶段须依次经过，不能跳过：“（新建）”之后应为“入党申请人”，而不是“入党积极分子”。"
    ]
    assert stage_problems("applicant", "member") == ["未知的培养阶段“member”。"]


def test_r22_stage_dates_are_not_in_the_future_nor_before_the_current_stage():
    assert stage_problems("applicant", "activist", started_on=dt.date(2025, 6, 16)) == [
        "阶段开始日期不能晚于今天。"
    ]
    assert stage_problems("applicant", "activist", started_on=dt.date(2024, 2, 29)) == [
        "“入党积极分子”的开始日期不能早于“入党申请人”的开始日期（2024-03-01）。"
    ]


def test_r22_applicant_is_at_least_eighteen():
    assert rules.applicant_age_problems(birth_date=dt.date(2007, 3, 2), applied_on=dt.date(2025, 3, 2)) == []
    assert rules.applicant_age_problems(birth_date=dt.date(2007, 3, 2), applied_on=dt.date(2025, 3, 1)) == [
        "申请入党须年满18岁：出生于2007-03-02，2025-03-02起方可申请。"
    ]
    assert (
        rules.applicant_age_problems(birth_date=dt.date(2004, 2, 29), applied_on=dt.date(2022, 2, 28)) != []
    )


def test_r22_contacts_are_one_or_two_full_members_of_the_branch_from_the_activist_stage():
    full = [MemberFact(id=i, name=f"党员{i}", branch_id=1, is_full=True) for i in (1, 2, 3)]
    probationary = MemberFact(id=4, name="预备甲", branch_id=1, is_full=False)
    elsewhere = MemberFact(id=5, name="外支部", branch_id=2, is_full=True)
    active = {1, 2, 3, 4, 5}

    def problems(contacts, stage="activist"):
        return rules.contact_problems(contacts=contacts, branch_id=1, stage=stage, active_ids=active)

    assert problems(full[:1]) == [] and problems(full[:2]) == []
    assert problems([], stage="applicant") == []
    assert problems([]) == ["“入党积极分子”须确定1至2名培养联系人（正式党员）。"]
    assert problems(full) == ["培养联系人为1至2名（现选3名）。"]
    assert problems([probationary]) == ["培养联系人“预备甲”不是正式党员。"]
    assert problems([elsewhere]) == ["培养联系人“外支部”不是本支部在册党员。"]
    assert problems([full[0], full[0]]) == ["培养联系人不能重复。"]
    assert rules.contact_problems(contacts=full[:1], branch_id=1, stage="activist", active_ids=set()) == [
        "培养联系人“党员1”不是本支部在册党员。"
    ]
