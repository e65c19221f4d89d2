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

from groups.enums import CONTACTS_REQUIRED_FROM, CULTIVATION_ORDER, CultivationStageKind, LeaderGrade
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


# --- R-28 leader reviews ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewFact:
    year: int
    grade: str


def leader_review_problems(
    *,
    member_name: str,
    group_name: str,
    year: int,
    reviewed_on: dt.date,
    today: dt.date,
    terms: Sequence[tuple[dt.date, dt.date | None]],
) -> list[str]:
    """R-28: the yearly assessment is made at the year's end (from 1 December of that year, never in
    the future) and only of a person who was leader or deputy of the group during that year (``terms``:
    their appointments' half-open ranges)."""
    problems = []
    year_start, next_year = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if reviewed_on > today:
        problems.append("考核日期不能晚于今天。")
    if reviewed_on < dt.date(year, 12, 1):
        problems.append(
            f"{year}年度的考核在年终进行，最早于{year}年12月1日登记（R-28：年终对党小组组长进行考核）。"
        )
    if not any(start < next_year and (end is None or end > year_start) for start, end in terms):
        problems.append(
            f"“{member_name}”在{year}年不是党小组“{group_name}”的组长或副组长，不能对其进行年度考核。"
        )
    return problems


def check_replacement_due(
    *, group: GroupFact, leader: MemberFact, reviews: Sequence[ReviewFact], rule_set, role_label: str = "组长"
) -> list[Finding]:
    """R-28 (advisory, seed 004 §四): the current leader's two latest yearly reviews in this group are
    both 不称职 — replacement is due (连续两次被评为“不称职”的，予以调整)."""
    latest = sorted(reviews, key=lambda r: r.year)[-2:]
    if len(latest) < 2 or any(r.grade != LeaderGrade.INCOMPETENT for r in latest):
        return []
    years = "、".join(f"{r.year}年" for r in latest)
    return [
        make_finding(
            "R-28",
            severity=Severity.ADVISORY,
            obj_type="group",
            obj_id=group.id,
            label=group.name,
            message=(
                f"党小组“{group.name}”的{role_label}“{leader.name}”{years}连续两次年度考核为“不称职”，"
                "应予调整（党支部应对工作开展不力的组长进行约谈或者调整）。"
            ),
            rule_set=rule_set,
            branch_id=group.branch_id,
            leader_id=leader.id,
        )
    ]


# --- R-35 leader training --------------------------------------------------------------------------
def one_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def check_leader_training(
    *,
    group: GroupFact,
    leader: MemberFact,
    role_label: str,
    in_office_since: dt.date,
    last_training: dt.date | None,
    on: dt.date,
    rule_set,
) -> list[Finding]:
    """R-35 (advisory): a leader or deputy in office for a year or more with no training in the year
    up to ``on`` (seed 004: 党小组长集中教育培训 once a year). Leaders in office for less than a year
    are not reported yet."""
    year_ago = one_year_before(on)
    if in_office_since > year_ago:
        return []
    if last_training is not None and last_training > year_ago:
        return []
    since = f"上次培训于{last_training:%Y-%m-%d}" if last_training else "尚无培训记录"
    return [
        make_finding(
            "R-35",
            severity=Severity.ADVISORY,
            obj_type="member",
            obj_id=leader.id,
            label=leader.name,
            message=f"党小组“{group.name}”的{role_label}“{leader.name}”近一年没有参加培训（{since}）。",
            rule_set=rule_set,
            branch_id=group.branch_id,
            group_id=group.id,
        )
    ]


# --- R-22 cultivation ------------------------------------------------------------------------------
# Party Constitution Art.1: one may apply to join the party from the age of eighteen.
MIN_APPLICANT_AGE = 18
MAX_CONTACTS = 2


def next_stage(current: str | None) -> str | None:
    """The stage after ``current`` (the first one when ``current`` is None; None after the last)."""
    if current is None:
        return CULTIVATION_ORDER[0]
    index = CULTIVATION_ORDER.index(current)
    return CULTIVATION_ORDER[index + 1] if index + 1 < len(CULTIVATION_ORDER) else None


def stage_label(stage: str) -> str:
    return str(CultivationStageKind(stage).label)


def stage_transition_problems(
    *, current: str | None, current_started_on: dt.date | None, new: str, started_on: dt.date, today: dt.date
) -> list[str]:
    """R-22 (workflow): stages are passed in order — no skipping, no going back, not twice."""
    problems = []
    if new not in CULTIVATION_ORDER:
        return [f"未知的培养阶段“{new}”。"]
    expected = next_stage(current)
    if new != expected:
        if current is not None and CULTIVATION_ORDER.index(new) <= CULTIVATION_ORDER.index(current):
            problems.append(f"当前已是“{stage_label(current)}”阶段，不能回到或重复“{stage_label(new)}”阶段。")
        elif expected is None:
            problems.append(f"“{stage_label(current)}”已是最后一个培养阶段。")
        else:
            problems.append(
                f"培养阶段须依次经过，不能跳过：“{stage_label(current) if current else '（新建）'}”之后应为"
                f"“{stage_label(expected)}”，而不是“{stage_label(new)}”。"
            )
    if started_on > today:
        problems.append("阶段开始日期不能晚于今天。")
    if current_started_on is not None and started_on < current_started_on:
        problems.append(
            f"“{stage_label(new)}”的开始日期不能早于“{stage_label(current)}”的开始日期（{current_started_on:%Y-%m-%d}）。"
        )
    return problems


def applicant_age_problems(*, birth_date: dt.date | None, applied_on: dt.date) -> list[str]:
    if birth_date is None:
        return []
    try:
        adult_on = birth_date.replace(year=birth_date.year + MIN_APPLICANT_AGE)
    except ValueError:  # born on 29 February
        adult_on = dt.date(birth_date.year + MIN_APPLICANT_AGE, 3, 1)
    if applied_on < adult_on:
        return [
            f"申请入党须年满{MIN_APPLICANT_AGE}岁：出生于{birth_date:%Y-%m-%d}，{adult_on:%Y-%m-%d}起方可申请。"
        ]
    return []


def contact_problems(
    *, contacts: Sequence[MemberFact], branch_id: int, stage: str, active_ids: set[int]
) -> list[str]:
    """R-22: 1–2 contact members (培养联系人), full members of the candidate's branch, from the
    activist stage on (an applicant may have none yet)."""
    problems = []
    required = CULTIVATION_ORDER.index(stage) >= CULTIVATION_ORDER.index(CONTACTS_REQUIRED_FROM)
    if len({c.id for c in contacts}) != len(contacts):
        problems.append("培养联系人不能重复。")
    if len(contacts) > MAX_CONTACTS:
        problems.append(f"培养联系人为1至{MAX_CONTACTS}名（现选{len(contacts)}名）。")
    if required and not contacts:
        problems.append(f"“{stage_label(stage)}”须确定1至{MAX_CONTACTS}名培养联系人（正式党员）。")
    for contact in contacts:
        if contact.branch_id != branch_id or contact.id not in active_ids:
            problems.append(f"培养联系人“{contact.name}”不是本支部在册党员。")
        elif not contact.is_full:
            problems.append(f"培养联系人“{contact.name}”不是正式党员。")
    return problems
