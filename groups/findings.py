"""Load what the group rule checks need for many branches at once, and run them.

A fixed number of queries whatever the number of branches (``check_rules`` over 600 branches
runs in a handful of queries); the checks themselves are the pure functions of ``groups.rules``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Max

from groups import rules
from groups.enums import LeaderRole
from groups.models import GroupMembership, LeaderReview, LeaderTraining
from groups.selectors import active_group_rows, current_leader_rows
from members.enums import MemberState, MemberStatus
from members.models import Branch
from members.selectors import active_member_rows, rule_sets_by_organisation
from partygroup.findings import Finding

_ROLE_LABELS = {LeaderRole.LEADER: "组长", LeaderRole.DEPUTY: "副组长"}


def _is_full(status: str, full_member_on: dt.date | None, on: dt.date) -> bool:
    return status == MemberStatus.FULL and (full_member_on is None or full_member_on <= on)


def collect_group_findings(branches: Sequence[Branch], on: dt.date) -> list[Finding]:
    """R-01, R-03, R-04, R-07, R-08, R-09, R-24 for the given branches on day ``on``."""
    branch_ids = [b.pk for b in branches]
    if not branch_ids:
        return []
    rule_sets = rule_sets_by_organisation()

    members_by_branch: dict[int, list[rules.MemberFact]] = defaultdict(list)
    facts: dict[int, rules.MemberFact] = {}
    for pk, name, branch_id, status, _joined, full_on, unit_id, unit_name in active_member_rows(branch_ids):
        fact = rules.MemberFact(
            id=pk,
            name=name,
            branch_id=branch_id,
            is_full=_is_full(status, full_on, on),
            unit_id=unit_id,
            unit_name=unit_name or "",
        )
        members_by_branch[branch_id].append(fact)
        facts[pk] = fact

    groups_by_branch: dict[int, list[rules.GroupFact]] = defaultdict(list)
    groups: dict[int, rules.GroupFact] = {}
    for pk, name, branch_id, _established in active_group_rows(branch_ids, on):
        group = rules.GroupFact(id=pk, name=name, branch_id=branch_id)
        groups_by_branch[branch_id].append(group)
        groups[pk] = group

    # Unordered (the model's ordering would join and sort): the roster is put in the members' order below.
    memberships_by_branch: dict[int, list[rules.MembershipFact]] = defaultdict(list)
    covering: dict[int, list[rules.MembershipFact]] = defaultdict(list)
    for pk, member_id, group_id, group_branch_id, member_branch_id, started, ended in (
        GroupMembership.objects.filter(member__branch_id__in=branch_ids, member__state=MemberState.ACTIVE)
        .values_list(
            "pk", "member_id", "group_id", "group__branch_id", "member__branch_id", "started_on", "ended_on"
        )
        .order_by()
    ):
        fact = rules.MembershipFact(
            id=pk,
            member_id=member_id,
            group_id=group_id,
            group_branch_id=group_branch_id,
            started_on=started,
            ended_on=ended,
        )
        memberships_by_branch[member_branch_id].append(fact)
        if fact.covers(on) and group_id in groups and member_id in facts:
            covering[member_id].append(fact)
    roster: dict[int, list[rules.MemberFact]] = defaultdict(list)
    group_of: dict[int, int] = {}  # R-09 broken (two current groups): the one joined last
    for member_id, fact in facts.items():  # by branch, name, id
        for membership in sorted(covering.get(member_id, ()), key=lambda m: (m.started_on, m.id or 0)):
            roster[membership.group_id].append(fact)
            group_of[member_id] = membership.group_id

    leaders: dict[int, list[tuple[rules.MemberFact, str]]] = defaultdict(list)
    for group_id, role, _started, m_pk, m_name, m_branch, m_status, m_full_on in current_leader_rows(
        branch_ids, on
    ):
        member = rules.MemberFact(
            id=m_pk, name=m_name, branch_id=m_branch, is_full=_is_full(m_status, m_full_on, on)
        )
        leaders[group_id].append((member, _ROLE_LABELS.get(role, role)))

    findings: list[Finding] = []
    for branch in branches:
        rule_set = rule_sets[branch.organisation_id]
        branch_members = members_by_branch.get(branch.pk, [])
        branch_groups = groups_by_branch.get(branch.pk, [])
        findings += rules.check_branch_division(
            branch_id=branch.pk,
            branch_name=branch.name,
            active_members=len(branch_members),
            active_groups=len(branch_groups),
            rule_set=rule_set,
        )
        for group in branch_groups:
            findings += rules.check_group_composition(
                group=group, members=roster.get(group.id, []), rule_set=rule_set
            )
            findings += rules.check_current_leaders(
                group=group, leaders=leaders.get(group.id, []), rule_set=rule_set
            )
        findings += rules.check_unit_alignment(
            branch_id=branch.pk, members=branch_members, group_of=group_of, groups=groups, rule_set=rule_set
        )
        findings += rules.check_single_group(
            branch_id=branch.pk,
            members=branch_members,
            memberships=memberships_by_branch.get(branch.pk, []),
            branch_has_groups=bool(branch_groups),
            on=on,
            rule_set=rule_set,
        )
    return findings


def collect_leader_findings(branches: Sequence[Branch], on: dt.date) -> list[Finding]:
    """R-28 (replacement due after two consecutive 不称职) and R-35 (no training in the past year) for
    the current leaders and deputies of the active groups of ``branches`` on day ``on``.

    A fixed number of queries: the rule sets, the groups, their current appointments, the reviews of
    those groups and each appointed member's last training. Reviews of the same person in the same
    group count across appointments (a re-appointment does not reset them)."""
    branch_ids = [b.pk for b in branches]
    if not branch_ids:
        return []
    rule_sets = rule_sets_by_organisation()
    organisation_of = {b.pk: b.organisation_id for b in branches}
    groups = {
        pk: rules.GroupFact(id=pk, name=name, branch_id=branch_id)
        for pk, name, branch_id, _established in active_group_rows(branch_ids, on)
    }
    if not groups:
        return []
    leaders = sorted(  # per group: the leader first (a stable sort: then as read)
        current_leader_rows(branch_ids, on), key=lambda row: (row[0], row[1] != LeaderRole.LEADER)
    )
    reviews: dict[tuple[int, int], list[rules.ReviewFact]] = defaultdict(list)
    for group_id, member_id, year, grade in (
        LeaderReview.objects.filter(appointment__group_id__in=list(groups), year__lte=on.year)
        .values_list("appointment__group_id", "appointment__member_id", "year", "grade")
        .order_by()  # the model's ordering would join the groups to sort by name
    ):
        reviews[(group_id, member_id)].append(rules.ReviewFact(year=year, grade=grade))
    last_training = dict(
        LeaderTraining.objects.filter(member_id__in=sorted({row[3] for row in leaders}), trained_on__lte=on)
        .values("member_id")
        .annotate(last=Max("trained_on"))
        .values_list("member_id", "last")
        .order_by()
    )
    findings: list[Finding] = []
    for group_id, role, started_on, m_pk, m_name, m_branch, m_status, m_full_on in leaders:
        group = groups[group_id]
        rule_set = rule_sets[organisation_of[group.branch_id]]
        leader = rules.MemberFact(
            id=m_pk, name=m_name, branch_id=m_branch, is_full=_is_full(m_status, m_full_on, on)
        )
        role_label = _ROLE_LABELS.get(role, role)
        findings += rules.check_replacement_due(
            group=group,
            leader=leader,
            reviews=reviews.get((group_id, m_pk), []),
            rule_set=rule_set,
            role_label=role_label,
        )
        findings += rules.check_leader_training(
            group=group,
            leader=leader,
            role_label=role_label,
            in_office_since=started_on,
            last_training=last_training.get(m_pk),
            on=on,
            rule_set=rule_set,
        )
    return findings
