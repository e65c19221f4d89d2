"""Writes of the groups app. Keyword-only, one transaction each, validated, audited (``by``).

Hard rules refuse the action with the rule's message (``ValidationError``; nothing is saved):
R-09 one group at a time, R-24 the leader is a full member. Advisory rules (R-03/R-04 while a group
is being set up) come back as findings for the caller to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from groups import rules
from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from members.models import Branch, Member, RuleSet, Unit
from partygroup.audit import audited_save
from partygroup.findings import Finding, refuse_on_violations


def _rule_set(branch: Branch) -> RuleSet:
    return branch.organisation.effective_rule_set()


def member_fact(member: Member, on: dt.date) -> rules.MemberFact:
    return rules.MemberFact(
        id=member.pk,
        name=member.name,
        branch_id=member.branch_id,
        is_full=member.was_full_member_on(on),
        unit_id=member.unit_id,
        unit_name=member.unit.name if member.unit_id else "",
    )


def group_fact(group: PartyGroup) -> rules.GroupFact:
    return rules.GroupFact(id=group.pk, name=group.name, branch_id=group.branch_id)


def _membership_fact(m: GroupMembership) -> rules.MembershipFact:
    return rules.MembershipFact(
        id=m.pk,
        member_id=m.member_id,
        group_id=m.group_id,
        group_branch_id=m.group.branch_id,
        started_on=m.started_on,
        ended_on=m.ended_on,
    )


def _lock_member(member: Member) -> Member:
    """Serialise concurrent placements of the same member (PostgreSQL row lock; no-op on SQLite)."""
    return Member.objects.select_for_update().get(pk=member.pk)


def group_composition_findings(group: PartyGroup, on: dt.date | None = None) -> list[Finding]:
    """R-03/R-04/R-08 for one group as it stands (advisory while being set up)."""
    on = on or timezone.localdate()
    roster = [
        member_fact(m.member, on)
        for m in GroupMembership.objects.current(on)
        .filter(group=group)
        .select_related("member", "member__unit")
    ]
    return rules.composition_after_change(
        group=group_fact(group), members=roster, rule_set=_rule_set(group.branch)
    )


def _check_placement(
    member: Member,
    group: PartyGroup,
    started_on: dt.date,
    ended_on: dt.date | None,
    *,
    ignore: Iterable[int] = (),
) -> None:
    existing = [
        _membership_fact(m)
        for m in GroupMembership.objects.filter(member=member)
        .exclude(pk__in=list(ignore))
        .select_related("group")
    ]
    new = rules.MembershipFact(
        id=None,
        member_id=member.pk,
        group_id=group.pk,
        group_branch_id=group.branch_id,
        started_on=started_on,
        ended_on=ended_on,
    )
    refuse_on_violations(
        rules.membership_conflicts(
            member=member_fact(member, started_on),
            new=new,
            existing=existing,
            rule_set=_rule_set(group.branch),
        ),
        field_name="group",
    )


def membership_start(
    *, member: Member, group: PartyGroup, started_on: dt.date, by, note: str = ""
) -> GroupMembership:
    """Place a member who is in no group into ``group`` (R-09: refused if it would overlap another)."""
    with transaction.atomic():
        member = _lock_member(member)
        if not member.is_active:
            raise ValidationError({"member": f"“{member.name}”已离册，不能编入党小组。"})
        if group.dissolved_on and group.dissolved_on <= started_on:
            raise ValidationError({"group": f"党小组“{group.name}”已于{group.dissolved_on:%Y-%m-%d}撤销。"})
        if started_on < group.established_on:
            raise ValidationError(
                {"started_on": f"编入日期不能早于党小组建立日期（{group.established_on:%Y-%m-%d}）。"}
            )
        _check_placement(member, group, started_on, None)
        membership = GroupMembership(member=member, group=group, started_on=started_on, note=note)
        return audited_save(membership, by=by, reason="编入党小组")


def membership_move(
    *, member: Member, to_group: PartyGroup, moved_on: dt.date, by, note: str = ""
) -> GroupMembership:
    """R-06: end the member's current membership on ``moved_on`` and start one in ``to_group``."""
    with transaction.atomic():
        member = _lock_member(member)
        current = (
            GroupMembership.objects.select_for_update().filter(member=member, ended_on__isnull=True).first()
        )
        if current is not None:
            if current.group_id == to_group.pk:
                raise ValidationError({"group": f"“{member.name}”已在党小组“{to_group.name}”中。"})
            if moved_on <= current.started_on:
                raise ValidationError(
                    {"moved_on": f"调整日期必须晚于原编入日期（{current.started_on:%Y-%m-%d}）。"}
                )
            current.ended_on = moved_on
            audited_save(current, by=by, reason=f"调整到党小组“{to_group.name}”")
        return membership_start(member=member, group=to_group, started_on=moved_on, by=by, note=note)


def membership_end(
    *, membership: GroupMembership, ended_on: dt.date, by, reason: str = ""
) -> GroupMembership:
    with transaction.atomic():
        membership.ended_on = ended_on
        return audited_save(membership, by=by, reason=reason or "调出党小组")


def _record_change(
    *,
    branch: Branch,
    group: PartyGroup | None,
    kind: str,
    summary: str,
    decided_on: dt.date,
    document_number: str,
    by,
) -> GroupChange:
    change = GroupChange(
        branch=branch,
        group=group,
        kind=kind,
        summary=summary,
        decided_on=decided_on,
        document_number=document_number,
        decided_by=by,
    )
    return audited_save(change, by=by, reason=f"党支部决定：{change.get_kind_display()}")


def group_create(
    *,
    branch: Branch,
    name: str,
    established_on: dt.date,
    decided_on: dt.date,
    document_number: str,
    by,
    unit: Unit | None = None,
    members: Sequence[Member] = (),
    summary: str = "",
) -> tuple[PartyGroup, list[Finding]]:
    """R-05: the branch decides to create a group (recorded for filing); members may be placed at once.

    Returns the group and the advisory findings of its composition (R-03/R-04/R-08).
    """
    with transaction.atomic():
        if decided_on > established_on:
            raise ValidationError({"decided_on": "支部决定日期不能晚于党小组建立日期。"})
        group = audited_save(
            PartyGroup(branch=branch, name=name, unit=unit, established_on=established_on),
            by=by,
            reason="建立党小组",
        )
        for member in members:
            if GroupMembership.objects.filter(member=member, ended_on__isnull=True).exists():
                membership_move(member=member, to_group=group, moved_on=established_on, by=by)
            else:
                membership_start(member=member, group=group, started_on=established_on, by=by)
        _record_change(
            branch=branch,
            group=group,
            kind=GroupChangeKind.CREATE,
            summary=summary or f"建立党小组“{name}”，编入党员{len(members)}名。",
            decided_on=decided_on,
            document_number=document_number,
            by=by,
        )
        return group, group_composition_findings(group, established_on)


def group_adjust(
    *,
    branch: Branch,
    moves: Sequence[tuple[Member, PartyGroup]],
    effective_on: dt.date,
    decided_on: dt.date,
    document_number: str,
    summary: str,
    by,
) -> tuple[GroupChange, list[Finding]]:
    """R-05/R-06: the branch moves members between groups; one decision, one filing."""
    if not moves:
        raise ValidationError("请至少选择一名需要调整的党员。")
    with transaction.atomic():
        touched: dict[int, PartyGroup] = {}
        for member, group in moves:
            if member.branch_id != branch.pk or group.branch_id != branch.pk:
                raise ValidationError("只能调整本支部党员和党小组。")
            old = (
                GroupMembership.objects.filter(member=member, ended_on__isnull=True)
                .select_related("group")
                .first()
            )
            if old is not None:
                touched[old.group_id] = old.group
                membership_move(member=member, to_group=group, moved_on=effective_on, by=by)
            else:
                membership_start(member=member, group=group, started_on=effective_on, by=by)
            touched[group.pk] = group
        change = _record_change(
            branch=branch,
            group=moves[0][1] if len(touched) == 1 else None,
            kind=GroupChangeKind.ADJUST,
            summary=summary,
            decided_on=decided_on,
            document_number=document_number,
            by=by,
        )
        findings = [f for g in touched.values() for f in group_composition_findings(g, effective_on)]
        return change, findings


def group_dissolve(
    *,
    group: PartyGroup,
    dissolved_on: dt.date,
    decided_on: dt.date,
    document_number: str,
    summary: str = "",
    by,
) -> GroupChange:
    """R-05: dissolve a group: its memberships and leader appointments end on ``dissolved_on``."""
    with transaction.atomic():
        if group.dissolved_on:
            raise ValidationError(f"党小组“{group.name}”已于{group.dissolved_on:%Y-%m-%d}撤销。")
        for membership in GroupMembership.objects.filter(group=group, ended_on__isnull=True):
            if dissolved_on <= membership.started_on:
                raise ValidationError({"dissolved_on": "撤销日期必须晚于组内党员的编入日期。"})
            membership_end(membership=membership, ended_on=dissolved_on, by=by, reason="党小组撤销")
        for appointment in LeaderAppointment.objects.filter(group=group, ended_on__isnull=True):
            leader_end(appointment=appointment, ended_on=dissolved_on, reason="党小组撤销", by=by)
        group.dissolved_on = dissolved_on
        audited_save(group, by=by, reason="撤销党小组")
        return _record_change(
            branch=group.branch,
            group=group,
            kind=GroupChangeKind.DISSOLVE,
            summary=summary or f"撤销党小组“{group.name}”。",
            decided_on=decided_on,
            document_number=document_number,
            by=by,
        )


def group_change_file(*, change: GroupChange, filed_on: dt.date, by) -> GroupChange:
    """R-05: the branch files its decision with the higher organisation (报上级党组织备案)."""
    with transaction.atomic():
        change = GroupChange.objects.select_for_update().get(pk=change.pk)
        if change.filing_status not in {FilingStatus.PENDING, FilingStatus.RETURNED}:
            raise ValidationError(f"该变更当前状态为“{change.get_filing_status_display()}”，不能再次报备。")
        if filed_on < change.decided_on:
            raise ValidationError({"filed_on": "报备日期不能早于支部决定日期。"})
        change.filing_status = FilingStatus.FILED
        change.filed_on = filed_on
        change.filed_by = by
        return audited_save(change, by=by, reason="报上级党组织备案")


def group_change_acknowledge(*, change: GroupChange, on: dt.date, comment: str = "", by) -> GroupChange:
    """R-05: the higher organisation records the filing (已备案)."""
    with transaction.atomic():
        change = GroupChange.objects.select_for_update().get(pk=change.pk)
        if change.filing_status != FilingStatus.FILED:
            raise ValidationError("只有已报备的变更才能备案。")
        change.filing_status = FilingStatus.ACKNOWLEDGED
        change.acknowledged_on = on
        change.acknowledged_by = by
        change.organisation_comment = comment
        return audited_save(change, by=by, reason="上级党组织备案")


def group_change_return(*, change: GroupChange, comment: str, by) -> GroupChange:
    """The higher organisation returns a filing with its comment; the branch may file again."""
    if not comment.strip():
        raise ValidationError({"organisation_comment": "退回时必须填写意见。"})
    with transaction.atomic():
        change = GroupChange.objects.select_for_update().get(pk=change.pk)
        if change.filing_status != FilingStatus.FILED:
            raise ValidationError("只有已报备的变更才能退回。")
        change.filing_status = FilingStatus.RETURNED
        change.organisation_comment = comment
        return audited_save(change, by=by, reason="上级党组织退回")


def leader_appoint(
    *,
    group: PartyGroup,
    member: Member,
    started_on: dt.date,
    by,
    role: str = LeaderRole.LEADER,
    mode: str = AppointmentMode.DESIGNATED,
    term_ends_on: dt.date | None = None,
    decision_number: str = "",
    attests_political_quality: bool,
    attests_dedication: bool,
    attests_organising_ability: bool,
    attestation_note: str = "",
) -> LeaderAppointment:
    """R-24 (hard): full members only; R-25: the branch attests Art.10 (2)–(4); R-26: mode and term.

    The current holder of the same role, if any, leaves office on ``started_on``.
    """
    with transaction.atomic():
        member = _lock_member(member)
        refuse_on_violations(
            rules.leader_eligibility(
                member=member_fact(member, started_on),
                group=group_fact(group),
                rule_set=_rule_set(group.branch),
            ),
            field_name="member",
        )
        in_group = GroupMembership.objects.filter(member=member, group=group).current(started_on)
        if not in_group.exists():
            raise ValidationError(
                {"member": f"“{member.name}”在{started_on:%Y-%m-%d}不是党小组“{group.name}”的成员。"}
            )
        if not (attests_political_quality and attests_dedication and attests_organising_ability):
            raise ValidationError(
                "党支部须逐项确认组长条件（R-25，第十条第（二）至（四）项：政治素质、事业心和责任感、组织协调能力）。"
            )
        if term_ends_on and term_ends_on <= started_on:
            raise ValidationError({"term_ends_on": "任期届满日期必须晚于任职日期。"})
        if term_ends_on is None:
            term_ends_on = group.branch.committee_term_ends_on  # follows the committee's term
        for previous in LeaderAppointment.objects.select_for_update().filter(
            group=group, role=role, ended_on__isnull=True
        ):
            if previous.member_id == member.pk:
                raise ValidationError(
                    {"member": f"“{member.name}”已是该党小组的{previous.get_role_display()}。"}
                )
            leader_end(appointment=previous, ended_on=started_on, reason="新任组长到任", by=by)
        appointment = LeaderAppointment(
            group=group,
            member=member,
            role=role,
            mode=mode,
            started_on=started_on,
            term_ends_on=term_ends_on,
            decision_number=decision_number,
            attests_political_quality=attests_political_quality,
            attests_dedication=attests_dedication,
            attests_organising_ability=attests_organising_ability,
            attestation_note=attestation_note,
            attested_by=by,
            attested_at=timezone.now(),
        )
        return audited_save(appointment, by=by, reason=f"任命{appointment.get_role_display()}")


def leader_end(*, appointment: LeaderAppointment, ended_on: dt.date, reason: str, by) -> LeaderAppointment:
    if ended_on <= appointment.started_on:
        raise ValidationError({"ended_on": "离任日期必须晚于任职日期。"})
    with transaction.atomic():
        appointment.ended_on = ended_on
        appointment.end_reason = reason
        return audited_save(appointment, by=by, reason="组长离任")
