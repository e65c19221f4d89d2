"""Tests of groups/split.py: the split suggestion (R-01/03/04/07/08/24/26) and its acceptance (R-05).

Three layers:
- property tests (hypothesis, derandomized): for random branches and rule sets the suggestion is a valid
  partition exactly when the existence condition of docs/split.md holds, and a refusal with reasons otherwise;
- a brute-force oracle for branches of at most 8 members (every set partition) proving
  "a valid partition exists ⇔ suggest_split finds one", and that the existence condition is exact;
- example-based tests (the demo-like branch, a small unit, concentrated full members, refusals) and
  database tests of ``split_accept`` on SQLite and PostgreSQL: what is saved; a refusal saves nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass, replace

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from groups import split
from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from groups.split import ProposedGroup, SplitMember, check_proposal, split_accept, suggest_split
from members.models import Member, RuleSet
from tests import factories as f

D = dt.date


@dataclass(frozen=True)
class Rules:
    """A rule set as plain values (``suggest_split`` takes any object with these fields)."""

    split_threshold: int = 20
    min_group_members: int = 3
    min_full_members: int = 1
    size_guideline_enabled: bool = False
    size_guideline_min: int = 10
    size_guideline_max: int = 20


CENTRAL = Rules()
LOUDI = Rules(size_guideline_enabled=True)


# --- The specification, written independently of the implementation --------------------------------
def max_size(rules: Rules) -> int:
    """docs/split.md §1: the R-08 maximum when the guideline is enabled, else split_threshold − 1."""
    return rules.size_guideline_max if rules.size_guideline_enabled else rules.split_threshold - 1


def allowed_counts(n: int, rules: Rules, requested: int | None):
    """R-01: from split_threshold members on, at least 2 groups (also when a number is requested)."""
    need = 2 if n >= rules.split_threshold else 1
    if requested is not None:
        return [requested] if requested >= need else []
    return range(need, n + 1)


def condition_holds(n: int, full: int, rules: Rules, requested: int | None) -> bool:
    """The existence condition: some allowed k with k·lo ≤ n ≤ k·hi and k·fmin ≤ F (lo ≥ fmin, fmin ≥ 1)."""
    fmin = max(1, rules.min_full_members)
    lo = max(rules.min_group_members, fmin)
    hi = max_size(rules)
    return any(
        k >= 1 and lo <= hi and k * lo <= n <= k * hi and k * fmin <= full
        for k in allowed_counts(n, rules, requested)
    )


def partition_is_valid(sizes_fulls, n: int, rules: Rules, requested: int | None) -> bool:
    """Straight from the rules: the number of groups, R-03 and the maximum, R-04 (and R-24: a full member)."""
    k = len(sizes_fulls)
    if k < 1 or k not in allowed_counts(n, rules, requested):  # a division has at least one group
        return False
    return all(
        rules.min_group_members <= size <= max_size(rules) and full >= max(1, rules.min_full_members)
        for size, full in sizes_fulls
    )


def assert_valid_proposal(result, members, rules: Rules, requested: int | None) -> None:
    assert result.ok, result.reasons
    assert result.reasons == ()
    by_id = {m.id: m for m in members}
    placed = [i for g in result.groups for i in g.member_ids]
    assert sorted(placed) == sorted(by_id), "every member exactly once"
    assert len(result.groups) in allowed_counts(len(members), rules, requested)
    names = [g.name for g in result.groups]
    assert len(set(names)) == len(names), names
    for group in result.groups:
        roster = [by_id[i] for i in group.member_ids]
        assert rules.min_group_members <= len(roster) <= max_size(rules), (group.name, len(roster))
        assert sum(m.is_full for m in roster) >= rules.min_full_members, group.name
        assert group.leader_id in group.member_ids and by_id[group.leader_id].is_full, group.name
        assert group.name.endswith("党小组") and 0 < len(group.name) <= 120
    # The acceptance checks agree (they are what split_accept runs).
    assert check_proposal(members, result.groups, rule_set=rules) == []


def assert_refused(result) -> None:
    assert not result.ok
    assert result.groups == ()
    assert result.reasons
    for reason in result.reasons:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reason), reason
        assert reason.endswith("。"), reason


# --- Hypothesis strategies -----------------------------------------------------------------------------
UNIT_NAMES = [
    "综合处",
    "财务处",
    "人事处",
    "预算一科",
    "预算二科",
    "办公室",
    "国库科",
    "机关服务中心",
    "纪检组",
    "信息中心",
]
POSTS = ["", "", "", "科员", "处长", "副处长", "主任", "科长"]


@st.composite
def rule_sets(draw, *, small: bool = False) -> Rules:
    """Mostly sane rule sets (3 per group, 1 full member …), sometimes odd or contradictory ones."""
    min_full = draw(st.sampled_from([1, 1, 1, 1, 2, 3]))
    if small:  # thresholds and maxima that matter for branches of at most 8 members
        gmin = draw(st.integers(1, 6))
        return Rules(
            split_threshold=draw(st.integers(2, 10)),
            min_group_members=draw(st.sampled_from([1, 2, 3, 3, 4])),
            min_full_members=min_full,
            size_guideline_enabled=draw(st.booleans()),
            size_guideline_min=gmin,
            size_guideline_max=draw(st.integers(gmin, 8)),
        )
    gmin = draw(st.integers(1, 15))
    return Rules(
        split_threshold=draw(st.one_of(st.integers(12, 30), st.integers(2, 11))),
        min_group_members=draw(st.sampled_from([3, 3, 3, 1, 2, 4, 5])),
        min_full_members=min_full,
        size_guideline_enabled=draw(st.booleans()),
        size_guideline_min=gmin,
        size_guideline_max=draw(st.integers(gmin, 30)),
    )


@st.composite
def branches(draw, *, max_members: int = 80) -> list[SplitMember]:
    """Random units (tiny, medium, huge), members without a unit, and a random full/probationary mix."""
    sizes = draw(
        st.lists(
            st.one_of(st.integers(1, 2), st.integers(3, 12), st.integers(13, 45)),
            min_size=1,
            max_size=min(len(UNIT_NAMES), max_members),
        )
    )
    loose = draw(st.integers(0, 6))
    rnd: random.Random = draw(st.randoms(use_true_random=False))
    units: list[int | None] = [u for u, size in enumerate(sizes) for _ in range(size)] + [None] * loose
    units = units[:max_members]
    n = len(units)
    mode = draw(st.sampled_from(["ratio", "ratio", "ratio", "ratio", "count", "one_unit"]))
    if mode == "ratio":
        ratio = draw(st.sampled_from([0.5, 0.1, 0.3, 0.7, 0.9, 1.0]))
        full = [rnd.random() < ratio for _ in range(n)]
    elif mode == "count":
        chosen = set(rnd.sample(range(n), min(n, draw(st.integers(0, 6)))))
        full = [i in chosen for i in range(n)]
    else:  # all full members in one unit
        target = draw(st.integers(0, max(0, len(sizes) - 1)))
        full = [u == target for u in units]
    return [
        SplitMember(
            id=1000 + 7 * i,
            name=f"党员{i}",
            is_full=full[i],
            unit_id=None if units[i] is None else 50 + units[i],
            unit_name=None if units[i] is None else UNIT_NAMES[units[i]],
            is_leading_cadre=rnd.random() < 0.1,
            post=rnd.choice(POSTS),
            full_member_on=D(2000 + rnd.randrange(24), 7, 1) if full[i] and rnd.random() < 0.8 else None,
            joined_on=D(1999 + rnd.randrange(24), 7, 1) if rnd.random() < 0.8 else None,
        )
        for i in range(n)
    ]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    members=branches(),
    rules=rule_sets(),
    requested=st.one_of(st.none(), st.integers(1, 6), st.integers(0, 12)),
)
def test_suggest_split_is_valid_exactly_when_the_condition_holds(members, rules, requested):
    """R-01/R-03/R-04/R-24: random branches of 0–80 members; a valid partition iff the condition holds."""
    result = suggest_split(members, rule_set=rules, groups=requested)
    n, full = len(members), sum(m.is_full for m in members)
    if condition_holds(n, full, rules, requested):
        assert_valid_proposal(result, members, rules, requested)
    else:
        assert_refused(result)


def set_partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in set_partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]


@functools.cache
def block_profiles(n: int, full: int) -> frozenset:
    """Every set partition of n members (``full`` of them full members) as sorted (size, full members) blocks.

    The rules look at each group's size and number of full members only, and exchanging two members of
    the same status maps partitions to partitions; so the partitions of one labelling (full members
    first) give the profiles of every branch with n members and ``full`` full members.
    """
    flags = [i < full for i in range(n)]
    return frozenset(
        tuple(sorted((len(block), sum(flags[i] for i in block)) for block in partition))
        for partition in set_partitions(list(range(n)))
    )


def oracle(members: list[SplitMember], rules: Rules, requested: int | None) -> bool:
    """Brute force: does any set partition of the members satisfy the rules?"""
    profiles = block_profiles(len(members), sum(m.is_full for m in members))
    return any(partition_is_valid(profile, len(members), rules, requested) for profile in profiles)


def test_set_partitions_enumerates_bell_numbers():
    assert [sum(1 for _ in set_partitions(list(range(n)))) for n in range(7)] == [1, 1, 2, 5, 15, 52, 203]


@settings(max_examples=250, deadline=None, derandomize=True, database=None)
@given(
    members=branches(max_members=8),
    rules=rule_sets(small=True),
    requested=st.one_of(st.none(), st.integers(0, 4)),
)
def test_suggest_split_finds_a_partition_iff_the_brute_force_oracle_does(members, rules, requested):
    """n ≤ 8, all set partitions: a valid one exists ⇔ suggest_split finds one ⇔ the condition holds."""
    exists = oracle(members, rules, requested)
    result = suggest_split(members, rule_set=rules, groups=requested)
    assert result.ok == exists
    assert condition_holds(len(members), sum(m.is_full for m in members), rules, requested) == exists
    if exists:
        assert_valid_proposal(result, members, rules, requested)
    else:
        assert_refused(result)


# --- Example-based tests -------------------------------------------------------------------------------
def unit_members(start: int, unit_id: int | None, unit_name: str | None, size: int, *, full=None, posts=()):
    full = full if full is not None else size
    posts = list(posts) + [""] * size
    return [
        SplitMember(
            id=start + i,
            name=f"{unit_name or '无单位'}{i + 1}",
            is_full=i < full,
            unit_id=unit_id,
            unit_name=unit_name,
            post=posts[i],
            full_member_on=D(2000 + i, 7, 1) if i < full else None,
            joined_on=D(1999 + i, 7, 1),
        )
        for i in range(size)
    ]


def demo_like_branch() -> list[SplitMember]:
    """Like 市财政局机关第一党支部 of the demo: 26 members, 4 units, 3 bureau leaders without a unit."""
    return [
        *unit_members(1, 1, "办公室", 6, full=5, posts=["办公室主任", "办公室副主任"]),
        *unit_members(11, 2, "预算科", 6, posts=["预算科科长", "预算科副科长"]),
        *unit_members(21, 3, "国库科", 5, full=4, posts=["国库科科长", "国库科副科长"]),
        *unit_members(31, 4, "政府采购监管科", 6, posts=["政府采购监管科科长"]),
        SplitMember(
            id=41, name="周建华", is_full=True, is_leading_cadre=True, post="局长", joined_on=D(1990, 6, 20)
        ),
        SplitMember(
            id=42, name="李喆", is_full=True, is_leading_cadre=True, post="副局长", joined_on=D(1998, 5, 10)
        ),
        SplitMember(
            id=43, name="王琰", is_full=True, is_leading_cadre=True, post="副局长", joined_on=D(2002, 7, 1)
        ),
    ]


def by_name(result) -> dict[str, ProposedGroup]:
    return {g.name: g for g in result.groups}


def test_suggest_split_demo_branch_gives_one_group_per_unit():
    """R-01/R-07/R-26: 26 members in 4 units → 4 groups, each unit whole, each led by its unit's head."""
    members = demo_like_branch()
    result = suggest_split(members, rule_set=CENTRAL)
    assert_valid_proposal(result, members, CENTRAL, None)
    groups = by_name(result)
    assert set(groups) == {"办公室党小组", "预算科党小组", "国库科党小组", "政府采购监管科党小组"}
    for name, unit_ids in (("办公室党小组", range(1, 7)), ("预算科党小组", range(11, 17))):
        assert set(unit_ids) <= set(groups[name].member_ids)
    assert set(range(21, 26)) <= set(groups["国库科党小组"].member_ids)
    assert set(range(31, 37)) <= set(groups["政府采购监管科党小组"].member_ids)
    # The bureau leaders (no unit) fill the smallest groups; the unit heads are the leader candidates.
    assert {name: g.leader_id for name, g in groups.items()} == {
        "办公室党小组": 1,
        "预算科党小组": 11,
        "国库科党小组": 21,
        "政府采购监管科党小组": 31,
    }
    assert result.notes == ()


def test_suggest_split_demo_branch_under_the_loudi_guideline_prefers_larger_groups():
    """R-08 (soft, 10–20): groups of 6–7 are merged pairwise; units still whole."""
    members = demo_like_branch()
    result = suggest_split(members, rule_set=LOUDI)
    assert_valid_proposal(result, members, LOUDI, None)
    assert len(result.groups) == 2
    assert all(len(g.member_ids) >= 10 for g in result.groups)
    unit_of = {m.id: m.unit_id for m in members}
    for unit_id in (1, 2, 3, 4):
        assert len({g.name for g in result.groups for i in g.member_ids if unit_of[i] == unit_id}) == 1


def test_suggest_split_merges_a_unit_of_two_with_another_unit():
    """R-07: a unit of 2 stays together and joins a whole unit; the name names both units."""
    members = [
        *unit_members(1, 1, "综合处", 10, posts=["综合处处长"]),
        *unit_members(101, 2, "财务处", 10, posts=["财务处处长"]),
        *unit_members(201, 3, "人事处", 2),
    ]
    result = suggest_split(members, rule_set=CENTRAL)
    assert_valid_proposal(result, members, CENTRAL, None)
    assert {g.name: set(g.member_ids) for g in result.groups} == {
        "综合处、人事处党小组": set(range(1, 11)) | {201, 202},
        "财务处党小组": set(range(101, 111)),
    }
    assert {g.name: g.leader_id for g in result.groups} == {"综合处、人事处党小组": 1, "财务处党小组": 101}


def test_suggest_split_merges_a_small_unit_with_the_closest_name():
    """R-07: 预算一科 (2) joins 预算二科 rather than 办公室, though both have room."""
    members = [
        *unit_members(1, 1, "办公室", 10),
        *unit_members(101, 2, "预算二科", 10),
        *unit_members(201, 3, "预算一科", 2),
    ]
    result = suggest_split(members, rule_set=CENTRAL)
    assert {g.name: set(g.member_ids) for g in result.groups} == {
        "办公室党小组": set(range(1, 11)),
        "预算二科、预算一科党小组": set(range(101, 111)) | {201, 202},
    }


def test_suggest_split_spreads_full_members_concentrated_in_one_unit():
    """R-04: all full members in 综合处 → 综合处 gives one to each other unit's group, which stay whole."""
    members = [
        *unit_members(1, 1, "综合处", 8, full=4),
        *unit_members(101, 2, "财务处", 8, full=0),
        *unit_members(201, 3, "人事处", 8, full=0),
    ]
    result = suggest_split(members, rule_set=CENTRAL)
    assert_valid_proposal(result, members, CENTRAL, None)
    groups = by_name(result)
    assert set(groups) == {"综合处党小组", "财务处党小组", "人事处党小组"}
    assert set(range(101, 109)) < set(groups["财务处党小组"].member_ids)
    assert set(range(201, 209)) < set(groups["人事处党小组"].member_ids)
    assert len(groups["综合处党小组"].member_ids) == 6
    assert {groups[n].leader_id for n in ("财务处党小组", "人事处党小组")} <= set(range(1, 5))
    assert result.notes == (
        "单位“综合处”的8名党员分在3个党小组（“人事处党小组”、“综合处党小组”、“财务处党小组”），"
        "为使每个党小组人数和正式党员数符合要求（R-07）。",
    )


def test_suggest_split_large_unit_split_into_as_few_groups_as_possible():
    """R-07/R-01: a unit of 45 with a maximum of 19 per group → 3 groups of 15, full members spread."""
    members = unit_members(1, 1, "综合处", 45, full=6, posts=["综合处处长"])
    result = suggest_split(members, rule_set=CENTRAL)
    assert_valid_proposal(result, members, CENTRAL, None)
    assert [(g.name, len(g.member_ids)) for g in result.groups] == [
        ("综合处第一党小组", 15),
        ("综合处第二党小组", 15),
        ("综合处第三党小组", 15),
    ]
    assert [sum(1 for i in g.member_ids if i <= 6) for g in result.groups] == [2, 2, 2]
    assert result.groups[0].leader_id == 1  # the 处长
    assert result.notes == (
        "单位“综合处”的45名党员分在3个党小组（“综合处第一党小组”、“综合处第二党小组”、“综合处第三党小组”），"
        "超过每个党小组的人数上限（R-07）。",
    )


def test_suggest_split_small_branch_gets_one_group_unless_asked():
    """R-02: fewer than 20 members → one group; groups=2 divides it along its units."""
    members = [*unit_members(1, 1, "综合处", 5, full=2), *unit_members(11, 2, "财务处", 4, full=1)]
    one = suggest_split(members, rule_set=CENTRAL)
    assert [(g.name, g.member_ids) for g in one.groups] == [
        ("综合处、财务处党小组", (1, 2, 3, 4, 5, 11, 12, 13, 14))
    ]
    two = suggest_split(members, rule_set=CENTRAL, groups=2)
    assert {g.name: g.member_ids for g in two.groups} == {
        "综合处党小组": (1, 2, 3, 4, 5),
        "财务处党小组": (11, 12, 13, 14),
    }


def test_suggest_split_leader_prefers_unit_head_then_cadre_then_longest_standing():
    """R-24/R-26: the main unit's head, not the bureau leader; without a head, the longest-standing member."""
    base = unit_members(1, 1, "综合处", 5)
    cadre = SplitMember(
        id=9, name="局长", is_full=True, is_leading_cadre=True, post="局长", joined_on=D(1980, 1, 1)
    )
    head = replace(base[3], post="综合处处长")
    probationary_head = replace(base[4], post="综合处处长", is_full=False)
    members = [*base[:3], head, probationary_head, cadre]
    assert suggest_split(members, rule_set=CENTRAL).groups[0].leader_id == head.id
    members = [*base[:3], replace(head, post="副处长"), cadre]
    assert suggest_split(members, rule_set=CENTRAL).groups[0].leader_id == cadre.id
    members = [replace(m, full_member_on=None, joined_on=D(2010 - m.id, 1, 1)) for m in base]
    assert suggest_split(members, rule_set=CENTRAL).groups[0].leader_id == 5  # joined 2005, the earliest


def test_suggest_split_refuses_25_members_with_one_full_member():
    """R-04/R-01: 25 members need 2 groups, but one full member can lead only one."""
    members = unit_members(1, 1, "综合处", 25, full=1)
    result = suggest_split(members, rule_set=CENTRAL)
    assert_refused(result)
    assert result.reasons == (
        "本支部有25名党员，每个党小组不超过19名（R-01），至少应划分2个党小组；"
        "但本支部只有1名正式党员，无法划分2个以上党小组（每个党小组至少1名正式党员，R-04）。",
    )


def test_suggest_split_refuses_with_the_reason_for_each_failed_bound():
    members = unit_members(1, 1, "综合处", 12, full=1)
    assert suggest_split(members, rule_set=CENTRAL, groups=5).reasons == (
        "党员人数不足：划分5个党小组至少需要15名党员（每个党小组不少于3名，R-03），本支部只有12名。",
        "本支部只有1名正式党员，无法划分5个党小组（每个党小组至少1名正式党员，R-04）。",
    )
    assert suggest_split(members, rule_set=LOUDI, groups=0).reasons == ("党小组个数至少为1个。",)
    assert suggest_split([], rule_set=CENTRAL).reasons == ("本支部没有在册党员，无法划分党小组。",)
    assert suggest_split(members[:2], rule_set=CENTRAL).reasons == (
        "党员人数不足：本支部只有2名党员，每个党小组不少于3名（R-03），无法组成党小组。",
    )
    nobody_full = [replace(m, is_full=False) for m in members]
    assert suggest_split(nobody_full, rule_set=CENTRAL).reasons == (
        "本支部只有0名正式党员，每个党小组至少需要1名正式党员，预备党员不能单独组成党小组（R-04），无法组成党小组。",
    )
    many = unit_members(1, 1, "综合处", 30)
    assert suggest_split(many, rule_set=CENTRAL, groups=1).reasons == (
        "本支部有30名党员，达到20人，应当划分2个以上党小组（R-01），不能只设1个党小组。",
        "党员人数过多：1个党小组最多容纳19名党员（每个党小组不超过19名，R-01），本支部有30名，至少应划分2个党小组。",
    )
    # R-01 also with the guideline, where one group of 20 would fit under its maximum.
    assert suggest_split(many[:20], rule_set=LOUDI, groups=1).reasons == (
        "本支部有20名党员，达到20人，应当划分2个以上党小组（R-01），不能只设1个党小组。",
    )


def test_suggest_split_refuses_a_contradictory_rule_set():
    members = unit_members(1, 1, "综合处", 10)
    result = suggest_split(members, rule_set=Rules(min_group_members=5, split_threshold=4))
    assert result.reasons == (
        "规则集的要求相互矛盾：每个党小组至少5名党员（R-03），但最多3名（R-01），无法划分党小组。",
    )


def test_suggest_split_reads_a_rule_set_model_instance():
    """The real RuleSet model (unsaved, default = central values) works as the rule set."""
    members = demo_like_branch()
    assert suggest_split(members, rule_set=RuleSet()) == suggest_split(members, rule_set=CENTRAL)


def test_suggest_split_rejects_duplicate_member_ids():
    member = unit_members(1, 1, "综合处", 1)[0]
    with pytest.raises(ValueError, match="unique"):
        suggest_split([member, member], rule_set=CENTRAL)


def test_check_proposal_names_every_problem():
    """The acceptance checks: R-09 (twice, missing, unknown), R-03, R-04, R-24, duplicate and empty names."""
    members = [*unit_members(1, 1, "综合处", 4, full=2), *unit_members(11, 2, "财务处", 4, full=1)]
    proposal = [
        ProposedGroup(name="甲党小组", member_ids=(1, 2, 3, 3, 11), leader_id=14),
        ProposedGroup(name="甲党小组", member_ids=(1, 12, 99), leader_id=12),
        ProposedGroup(name=" ", member_ids=(13,), leader_id=None),
    ]
    outsiders = {99: "党员“外人”是“另一党支部”的党员。"}
    assert check_proposal(members, proposal, rule_set=CENTRAL, outsiders=outsiders) == [
        "党小组名称“甲党小组”重复，同一党支部的党小组名称不能相同。",
        "第3个党小组未填写名称。",
        "党员“综合处3”在“第1个党小组”中重复列出。",
        "党员“综合处1”同时列在“第1个党小组”和“第2个党小组”中，每名党员只能编入一个党小组（R-09）。",
        "党员“外人”是“另一党支部”的党员。",
        "综合处4、财务处4未编入任何党小组（R-09：党支部划分党小组后，每名党员都应编入一个党小组）。",
        "组长人选“财务处4”不是党小组“第1个党小组”的成员。",
        "党小组“第2个党小组”只有1名党员，少于3名（R-03）。",
        "党小组“第2个党小组”只有0名正式党员，至少需要1名，预备党员不能单独组成党小组（R-04）。",
        "组长人选“财务处2”是预备党员，党小组组长必须是正式党员（R-24）。",
        "党小组“第3个党小组”只有1名党员，少于3名（R-03）。",
        "党小组“第3个党小组”只有0名正式党员，至少需要1名，预备党员不能单独组成党小组（R-04）。",
        "党小组“第3个党小组”未提出组长人选（R-24）。",
    ]


# --- split_accept (database) ----------------------------------------------------------------------------
MODELS = (PartyGroup, GroupMembership, GroupChange, LeaderAppointment, Member)
DECIDED, EFFECTIVE, DOC = D(2024, 3, 10), D(2024, 3, 15), "机关支〔2024〕2号"
ATTESTS = {"attests_political_quality": True, "attests_dedication": True, "attests_organising_ability": True}


def row_counts() -> dict[str, tuple[int, int]]:
    return {m.__name__: (m.objects.count(), m.history.count()) for m in MODELS}


@dataclass
class Setting:
    branch: object
    secretary: object
    office: list  # 综合处: head (full), 2 full, 1 probationary
    finance: list  # 财务处: head (full), 1 full, 1 probationary
    other_branch_member: Member


@pytest.fixture
def setting(db) -> Setting:
    organisation = f.OrganisationFactory(rule_set=f.rule_set("central-2019"))
    branch = f.BranchFactory(
        organisation=organisation, name="机关党支部", committee_term_ends_on=D(2027, 3, 14)
    )
    office_unit = f.UnitFactory(branch=branch, name="综合处")
    finance_unit = f.UnitFactory(branch=branch, name="财务处")
    office = [
        f.MemberFactory(branch=branch, unit=office_unit, post="综合处处长"),
        f.MemberFactory(branch=branch, unit=office_unit),
        f.MemberFactory(branch=branch, unit=office_unit),
        f.MemberFactory(branch=branch, unit=office_unit, probationary=True),
    ]
    finance = [
        f.MemberFactory(branch=branch, unit=finance_unit, post="财务处处长"),
        f.MemberFactory(branch=branch, unit=finance_unit),
        f.MemberFactory(branch=branch, unit=finance_unit, probationary=True),
    ]
    f.MemberFactory(branch=branch, state="left", left_on=D(2023, 1, 1))  # off the roll: not placed
    other = f.MemberFactory(branch=f.BranchFactory(name="另一党支部"))
    return Setting(branch, f.UserFactory(username="secretary"), office, finance, other)


def proposal(s: Setting) -> list[ProposedGroup]:
    return [
        ProposedGroup("综合处党小组", tuple(m.pk for m in s.office), s.office[0].pk),
        ProposedGroup("财务处党小组", tuple(m.pk for m in s.finance), s.finance[0].pk),
    ]


def accept(s: Setting, groups, **overrides):
    kwargs = {
        "branch": s.branch,
        "groups": groups,
        "decided_on": DECIDED,
        "document_number": DOC,
        "effective_on": EFFECTIVE,
        "by": s.secretary,
        "attestation_note": "经支委会考察，符合党小组组长任职条件。",
        **ATTESTS,
        **overrides,
    }
    return split_accept(**kwargs)


def test_suggest_split_for_branch_reads_the_roll(setting):
    """Members on the roll only, units and full membership from the database; groups=2 follows the units."""
    result = split.suggest_split_for_branch(branch=setting.branch, on=EFFECTIVE, groups=2)
    assert result.groups == tuple(proposal(setting))


def test_split_accept_creates_groups_memberships_leaders_and_changes(setting):
    """R-05: one decision creates exactly the groups, memberships, designated leaders and create changes."""
    s = setting
    done = accept(s, proposal(s))
    groups = {g.name: g for g in PartyGroup.objects.filter(branch=s.branch)}
    assert {(n, g.unit.name, g.established_on, g.dissolved_on) for n, g in groups.items()} == {
        ("综合处党小组", "综合处", EFFECTIVE, None),
        ("财务处党小组", "财务处", EFFECTIVE, None),
    }
    assert [g.name for g in done.groups] == ["综合处党小组", "财务处党小组"]
    assert set(GroupMembership.objects.values_list("member_id", "group__name", "started_on", "ended_on")) == {
        *((m.pk, "综合处党小组", EFFECTIVE, None) for m in s.office),
        *((m.pk, "财务处党小组", EFFECTIVE, None) for m in s.finance),
    }
    assert set(
        LeaderAppointment.objects.values_list(
            "group__name",
            "member_id",
            "role",
            "mode",
            "started_on",
            "term_ends_on",
            "decision_number",
            "attested_by",
        )
    ) == {
        (
            "综合处党小组",
            s.office[0].pk,
            LeaderRole.LEADER,
            AppointmentMode.DESIGNATED,
            EFFECTIVE,
            D(2027, 3, 14),
            DOC,
            s.secretary.pk,
        ),
        (
            "财务处党小组",
            s.finance[0].pk,
            LeaderRole.LEADER,
            AppointmentMode.DESIGNATED,
            EFFECTIVE,
            D(2027, 3, 14),
            DOC,
            s.secretary.pk,
        ),
    }
    assert all(a.is_fully_attested for a in done.appointments)
    assert set(
        GroupChange.objects.values_list(
            "kind", "group__name", "decided_on", "document_number", "filing_status", "decided_by"
        )
    ) == {
        (GroupChangeKind.CREATE, "综合处党小组", DECIDED, DOC, FilingStatus.PENDING, s.secretary.pk),
        (GroupChangeKind.CREATE, "财务处党小组", DECIDED, DOC, FilingStatus.PENDING, s.secretary.pk),
    }
    assert [c.kind for c in done.changes] == [GroupChangeKind.CREATE, GroupChangeKind.CREATE]
    assert done.dissolved == []
    assert {
        h.history_user_id for m in (PartyGroup, GroupMembership, LeaderAppointment) for h in m.history.all()
    } == {s.secretary.pk}
    assert [f.rule_id for f in done.findings] == []  # central rules: no guideline, sizes fine


def test_split_accept_dissolves_the_old_groups_and_may_reuse_a_name(setting):
    """R-05/R-06: members leave their old group on effective_on; the old group and its leader end that day."""
    s = setting
    old = f.PartyGroupFactory(branch=s.branch, name="综合处党小组", established_on=D(2020, 1, 1))
    for m in s.office + s.finance:
        f.GroupMembershipFactory(group=old, member=m, started_on=D(2020, 1, 1))
    old_leader = f.LeaderAppointmentFactory(group=old, member=s.finance[1], started_on=D(2022, 1, 1))
    done = accept(s, proposal(s))
    old.refresh_from_db()
    old_leader.refresh_from_db()
    assert (old.dissolved_on, old_leader.ended_on) == (EFFECTIVE, EFFECTIVE)
    assert done.dissolved == [old]
    assert set(
        GroupMembership.objects.filter(group=old).values_list("member_id", "started_on", "ended_on")
    ) == {(m.pk, D(2020, 1, 1), EFFECTIVE) for m in s.office + s.finance}
    assert set(
        GroupMembership.objects.exclude(group=old).values_list(
            "member_id", "group__name", "started_on", "ended_on"
        )
    ) == {
        *((m.pk, "综合处党小组", EFFECTIVE, None) for m in s.office),
        *((m.pk, "财务处党小组", EFFECTIVE, None) for m in s.finance),
    }
    assert sorted(
        GroupChange.objects.values_list("kind", "group_id", "decided_on", "document_number")
    ) == sorted(
        [
            (GroupChangeKind.DISSOLVE, old.pk, DECIDED, DOC),
            *((GroupChangeKind.CREATE, g.pk, DECIDED, DOC) for g in done.groups),
        ]
    )
    assert set(LeaderAppointment.objects.current(EFFECTIVE).values_list("member_id", flat=True)) == {
        s.office[0].pk,
        s.finance[0].pk,
    }


def test_split_accept_of_a_database_suggestion_is_valid(setting):
    """The suggestion computed from the database is accepted as it stands."""
    result = split.suggest_split_for_branch(branch=setting.branch, on=EFFECTIVE, groups=2)
    done = accept(setting, result.groups)
    assert sorted(g.name for g in done.groups) == sorted(g.name for g in result.groups)


def _twice(s):
    g = proposal(s)
    return [g[0], replace(g[1], member_ids=(*g[1].member_ids, s.office[1].pk))]


def _other_branch(s):
    g = proposal(s)
    return [g[0], replace(g[1], member_ids=(*g[1].member_ids, s.other_branch_member.pk))]


def _group_of_two(s):
    g = proposal(s)
    return [
        replace(g[0], member_ids=(*g[0].member_ids, s.finance[2].pk)),
        replace(g[1], member_ids=g[1].member_ids[:2]),
    ]


def _probationary_leader(s):
    g = proposal(s)
    return [replace(g[0], leader_id=s.office[3].pk), g[1]]


def _missing(s):
    g = proposal(s)
    return [replace(g[0], member_ids=g[0].member_ids[:3]), g[1]]


def _leader_elsewhere(s):
    g = proposal(s)
    return [replace(g[0], leader_id=s.finance[1].pk), g[1]]


def _same_names(s):
    g = proposal(s)
    return [g[0], replace(g[1], name="综合处党小组")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_twice, "同时列在“综合处党小组”和“财务处党小组”中，每名党员只能编入一个党小组（R-09）。"),
        (_other_branch, "是“另一党支部”的党员，不能编入本支部的党小组（R-09）。"),
        (_group_of_two, "党小组“财务处党小组”只有2名党员，少于3名（R-03）。"),
        (_probationary_leader, "是预备党员，党小组组长必须是正式党员（R-24）。"),
        (_missing, "未编入任何党小组（R-09：党支部划分党小组后，每名党员都应编入一个党小组）。"),
        (_leader_elsewhere, "不是党小组“综合处党小组”的成员。"),
        (_same_names, "党小组名称“综合处党小组”重复"),
    ],
    ids=[
        "member-twice",
        "other-branch",
        "group-of-2",
        "probationary-leader",
        "member-missing",
        "leader-elsewhere",
        "same-names",
    ],
)
def test_split_accept_refuses_an_invalid_adjusted_proposal_and_saves_nothing(setting, make, message):
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        accept(setting, make(setting))
    assert any(message in m for m in excinfo.value.messages), excinfo.value.messages
    assert row_counts() == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"document_number": "  "}, "请填写支部决定的会议记录或文件编号（R-05）。"),
        ({"decided_on": D(2024, 3, 16)}, "支部决定日期不能晚于党小组建立日期。"),
        ({"attests_dedication": False}, "党支部须逐项确认组长条件（R-25"),
        ({"groups": []}, "请至少提出一个党小组。"),
    ],
    ids=["no-document-number", "decided-after-effective", "not-attested", "empty"],
)
def test_split_accept_refuses_bad_decision_data_and_saves_nothing(setting, overrides, message):
    overrides = dict(overrides)
    groups = overrides.pop("groups", proposal(setting))
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        accept(setting, groups, **overrides)
    assert any(message in m for m in excinfo.value.messages), excinfo.value.messages
    assert row_counts() == before


def test_split_accept_rolls_back_everything_when_a_late_step_fails(setting):
    """One transaction: an old group that cannot be dissolved on effective_on undoes the earlier one."""
    s = setting
    first = f.PartyGroupFactory(branch=s.branch, name="第一党小组", established_on=D(2020, 1, 1))
    second = f.PartyGroupFactory(branch=s.branch, name="第二党小组", established_on=D(2020, 1, 1))
    for m in s.office:
        f.GroupMembershipFactory(group=first, member=m, started_on=D(2020, 1, 1))
    for m in s.finance:  # placed on the very day of the split: their membership cannot end that day
        f.GroupMembershipFactory(group=second, member=m, started_on=EFFECTIVE)
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        accept(s, proposal(s))
    assert "撤销日期必须晚于组内党员的编入日期。" in excinfo.value.messages
    assert row_counts() == before
    first.refresh_from_db()
    assert first.dissolved_on is None
    assert GroupMembership.objects.filter(group=first, ended_on__isnull=True).count() == 4


def test_split_accept_counts_full_membership_on_effective_on(setting):
    """R-04/R-24 on the day the groups start: a member who becomes full later cannot lead now."""
    s = setting
    s.office[0].full_member_on = D(2024, 6, 1)
    s.office[0].save()
    with pytest.raises(ValidationError) as excinfo:
        accept(s, proposal(s))
    assert any("党小组组长必须是正式党员（R-24）" in m for m in excinfo.value.messages)
    assert GroupChange.objects.count() == 0


def test_split_bounds_document_the_maximum():
    assert (split.split_bounds(CENTRAL).max_size, split.split_bounds(LOUDI).max_size) == (19, 20)
    assert split.split_bounds(Rules(min_group_members=1, min_full_members=2)).min_size == 2
    assert list(split.feasible_group_counts(40, 3, split.split_bounds(CENTRAL))) == [3]
    assert list(split.feasible_group_counts(40, 30, split.split_bounds(CENTRAL))) == list(range(3, 14))
