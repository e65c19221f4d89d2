"""Rule checks for setting up groups (第一章 党小组设置) and their leaders (第四章).

Pure functions: they take objects already loaded (model instances or plain values), never touch the
database, and return ``Finding`` lists citing the rule IDs of ../shared/RULES.md. The same
functions serve the services (hard rules refuse the action), ``check_rules``, the dashboards and
the tests.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from partygroup.findings import Finding, Severity, make_finding


@dataclass(frozen=True)
class MemberFact:
    """What the checks need to know of a member."""

    id: int
    name: str
    branch_id: int
    is_full: bool  # a full member (正式党员) on the day checked
    unit_id: int | None = None
    unit_name: str = ""


@dataclass(frozen=True)
class MembershipFact:
    id: int | None
    member_id: int
    group_id: int
    group_branch_id: int
    started_on: dt.date
    ended_on: dt.date | None

    def overlaps(self, other: MembershipFact) -> bool:
        """Half-open ranges [started_on, ended_on) overlap."""
        a_end = self.ended_on or dt.date.max
        b_end = other.ended_on or dt.date.max
        return self.started_on < b_end and other.started_on < a_end

    def covers(self, day: dt.date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day < self.ended_on)


@dataclass(frozen=True)
class GroupFact:
    id: int
    name: str
    branch_id: int


# --- R-01 ----------------------------------------------------------------------------------------
def check_branch_division(
    *, branch_id: int, branch_name: str, active_members: int, active_groups: int, rule_set
) -> list[Finding]:
    """R-01: a branch with ``split_threshold`` (20) or more members should be divided into groups."""
    if active_members >= rule_set.split_threshold and active_groups < 2:
        return [
            make_finding(
                "R-01",
                severity=Severity.ADVISORY,
                obj_type="branch",
                obj_id=branch_id,
                label=branch_name,
                message=(
                    f"党支部“{branch_name}”有党员{active_members}名，达到{rule_set.split_threshold}人，"
                    f"一般应当划分若干党小组（现有{active_groups}个）。"
                ),
                rule_set=rule_set,
                branch_id=branch_id,
            )
        ]
    return []


# --- R-08 ----------------------------------------------------------------------------
def check_group_composition(*, group: GroupFact, members: Sequence[MemberFact], rule_set) -> list[Finding]:
    """R-03: at least 3 members; R-04: at least 1 full member; R-08: the rule set's size guideline."""
    findings: list[Finding] = []
    size = len(members)
    full = sum(1 for m in members if m.is_full)
    common = {
        "obj_type": "group",
        "obj_id": group.id,
        "label": group.name,
        "rule_set": rule_set,
        "branch_id": group.branch_id,
    }
    if size < rule_set.min_group_members:
        findings.append(
            make_finding(
                "R-03",
                severity=Severity.VIOLATION,
                message=f"党小组“{group.name}”现有党员{size}名，少于{rule_set.min_group_members}名。",
                **common,
            )
        )
    if full < rule_set.min_full_members:
        findings.append(
            make_finding(
                "R-04",
                severity=Severity.VIOLATION,
                message=(
                    f"党小组“{group.name}”没有足够的正式党员（现有{full}名，至少{rule_set.min_full_members}名），"
                    "预备党员不能单独组成党小组。"
                ),
                **common,
            )
        )
    if (
        rule_set.size_guideline_enabled
        and size >= rule_set.min_group_members
        and not (rule_set.size_guideline_min <= size <= rule_set.size_guideline_max)
    ):
        findings.append(
            make_finding(
                "R-08",
                severity=Severity.ADVISORY,
                message=(
                    f"党小组“{group.name}”现有党员{size}名，不在"
                    f"{rule_set.size_guideline_min}-{rule_set.size_guideline_max}人的指导范围内。"
                ),
                **common,
            )
        )
    return findings


def composition_after_change(*, group: GroupFact, members: Sequence[MemberFact], rule_set) -> list[Finding]:
    """The same checks, used by services to warn while a group is being set up (R-03/R-04 advisory)."""
    return [
        replace(f, severity=str(Severity.ADVISORY)) if f.rule_id in {"R-03", "R-04"} else f
        for f in check_group_composition(group=group, members=members, rule_set=rule_set)
    ]


# --- R-07 ----------------------------------------------------------------------------------------
def check_unit_alignment(
    *,
    branch_id: int,
    members: Iterable[MemberFact],
    group_of: dict[int, int],
    groups: dict[int, GroupFact],
    rule_set,
) -> list[Finding]:
    """R-07: a unit small enough for one group should not be spread over several groups.

    A unit larger than one group may hold (the rule set's size guideline maximum when enabled,
    else the split threshold) is expected to span groups and is not reported.
    """
    # The largest group a unit may form on its own: the guideline maximum, else one below the size at which a
    # branch must be divided (groups.split uses the same bound).
    if rule_set.size_guideline_enabled:
        capacity = rule_set.size_guideline_max
    else:
        capacity = rule_set.split_threshold - 1
    by_unit: dict[int, list[MemberFact]] = defaultdict(list)
    for member in members:
        if member.unit_id is not None and member.id in group_of:
            by_unit[member.unit_id].append(member)
    findings = []
    for unit_id, unit_members in sorted(by_unit.items()):
        group_ids = sorted({group_of[m.id] for m in unit_members})
        if len(group_ids) > 1 and len(unit_members) <= capacity:
            names = "、".join(groups[g].name for g in group_ids if g in groups)
            unit_name = unit_members[0].unit_name
            findings.append(
                make_finding(
                    "R-07",
                    severity=Severity.ADVISORY,
                    obj_type="unit",
                    obj_id=unit_id,
                    label=unit_name,
                    message=(
                        f"单位“{unit_name}”的{len(unit_members)}名党员分在{len(group_ids)}个党小组（{names}），"
                        "党小组宜与处室、科室、车间对应。"
                    ),
                    rule_set=rule_set,
                    branch_id=branch_id,
                )
            )
    return findings


# --- R-09 ----------------------------------------------------------------------------------------
def check_single_group(
    *,
    branch_id: int,
    members: Iterable[MemberFact],
    memberships: Iterable[MembershipFact],
    branch_has_groups: bool,
    on: dt.date,
    rule_set,
) -> list[Finding]:
    """R-09: every member is in exactly one group of their own branch at a time (if the branch has groups)."""
    findings: list[Finding] = []
    by_member: dict[int, list[MembershipFact]] = defaultdict(list)
    for membership in memberships:
        by_member[membership.member_id].append(membership)
    for member in members:
        own = sorted(by_member.get(member.id, []), key=lambda m: (m.started_on, m.id or 0))
        common = {
            "obj_type": "member",
            "obj_id": member.id,
            "label": member.name,
            "rule_set": rule_set,
            "branch_id": branch_id,
        }
        overlapping = [(a, b) for i, a in enumerate(own) for b in own[i + 1 :] if a.overlaps(b)]
        if overlapping:
            a, b = overlapping[0]
            what = "同一党小组有两段重叠的编入记录" if a.group_id == b.group_id else "同时编入两个党小组"
            start = max(a.started_on, b.started_on)
            findings.append(
                make_finding(
                    "R-09",
                    severity=Severity.VIOLATION,
                    message=f"党员“{member.name}”自{start:%Y-%m-%d}起{what}。",
                    **common,
                )
            )
        foreign = [m for m in own if m.covers(on) and m.group_branch_id != member.branch_id]
        if foreign:
            findings.append(
                make_finding(
                    "R-09",
                    severity=Severity.VIOLATION,
                    message=f"党员“{member.name}”编入了其他党支部的党小组。",
                    **common,
                )
            )
        if branch_has_groups and not any(m.covers(on) for m in own):
            findings.append(
                make_finding(
                    "R-09",
                    severity=Severity.VIOLATION,
                    message=f"党员“{member.name}”未编入任何党小组（本支部已划分党小组）。",
                    **common,
                )
            )
    return findings


def membership_conflicts(
    *, member: MemberFact, new: MembershipFact, existing: Iterable[MembershipFact], rule_set
) -> list[Finding]:
    """R-09 (hard) for a membership about to be saved: same branch, no overlap with another group."""
    findings = []
    common = {
        "obj_type": "member",
        "obj_id": member.id,
        "label": member.name,
        "rule_set": rule_set,
        "branch_id": member.branch_id,
    }
    if new.group_branch_id != member.branch_id:
        findings.append(
            make_finding(
                "R-09",
                severity=Severity.VIOLATION,
                message=f"党员“{member.name}”只能编入本党支部的党小组。",
                **common,
            )
        )
    for other in existing:
        if other.id is not None and other.id == new.id:
            continue
        if other.overlaps(new):
            findings.append(
                make_finding(
                    "R-09",
                    severity=Severity.VIOLATION,
                    message=(
                        f"党员“{member.name}”在{max(other.started_on, new.started_on):%Y-%m-%d}"
                        "已编入另一个党小组，同一时间只能编入一个党小组。"
                    ),
                    **common,
                )
            )
            break
    return findings


# --- R-24 ----------------------------------------------------------------------------------------
def leader_eligibility(*, member: MemberFact, group: GroupFact, rule_set) -> list[Finding]:
    """R-24 (hard): the leader (and the deputy) must be a full member on the first day in office."""
    if member.is_full:
        return []
    return [
        make_finding(
            "R-24",
            severity=Severity.VIOLATION,
            obj_type="member",
            obj_id=member.id,
            label=member.name,
            message=f"“{member.name}”不是正式党员，不能担任党小组“{group.name}”的组长或副组长。",
            rule_set=rule_set,
            branch_id=group.branch_id,
        )
    ]


def check_current_leaders(
    *, group: GroupFact, leaders: Iterable[tuple[MemberFact, str]], rule_set
) -> list[Finding]:
    """R-24 as a standing check: a current leader/deputy who is not (or no longer) a full member."""
    findings = []
    for member, role_label in leaders:
        if not member.is_full:
            findings.append(
                make_finding(
                    "R-24",
                    severity=Severity.VIOLATION,
                    obj_type="group",
                    obj_id=group.id,
                    label=group.name,
                    message=f"党小组“{group.name}”的{role_label}“{member.name}”不是正式党员。",
                    rule_set=rule_set,
                    branch_id=group.branch_id,
                )
            )
    return findings
