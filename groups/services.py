"""Writes of the groups app. Keyword-only, one transaction each, validated, audited (``by``).

Hard rules refuse the action with the rule's message (``ValidationError``; nothing is saved):
R-09 one group at a time, R-24 the leader is a full member. Advisory rules (R-03/R-04 while a group
is being set up) come back as findings for the caller to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from groups import rules
from groups.enums import (
    CULTIVATION_ORDER,
    AppointmentMode,
    CultivationStageKind,
    FilingStatus,
    GroupChangeKind,
    LeaderGrade,
    LeaderRole,
)
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
from groups.selectors import group_members_during
from members.dues_importing import DuesImportReport, import_dues_file
from members.enums import MemberState
from members.models import Branch, CommitteeMembership, DuesPayment, Member, RuleSet, Unit
from members.services import DuesEntry, dues_record_many, member_save, money
from partygroup.audit import audited_save
from partygroup.findings import Finding, refuse_on_violations
from partygroup.months import add_months, month_label, month_start


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
    affected: Iterable[PartyGroup] = (),
) -> GroupChange:
    """Record the branch's decision; ``affected`` lists every group it touches (with ``group``)."""
    change = GroupChange(
        branch=branch,
        group=group,
        kind=kind,
        summary=summary,
        decided_on=decided_on,
        document_number=document_number,
        decided_by=by,
    )
    audited_save(change, by=by, reason=f"党支部决定：{change.get_kind_display()}")
    groups = {g.pk: g for g in affected}
    if group is not None:
        groups[group.pk] = group
    change.affected_groups.set(groups.values())
    return change


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
            affected=touched.values(),
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


# --- The member registry (党员名册): adding a member and marking one as left ----------------------


def member_add(
    *, member: Member, by, group: PartyGroup | None = None, group_started_on: dt.date | None = None
) -> Member:
    """A new member of ``member.branch``, placed at once in ``group`` when given (R-09 via
    :func:`membership_start`). One transaction: on any refusal nothing is saved."""
    if member.pk is not None:
        raise ValueError("member_add 只用于新增党员。")
    try:
        with transaction.atomic():
            member_save(member=member, by=by, reason="新增党员")
            if group is not None:
                if group.branch_id != member.branch_id:
                    raise ValidationError({"group": "只能编入本支部的党小组。"})
                membership_start(
                    member=member, group=group, started_on=group_started_on or timezone.localdate(), by=by
                )
    except BaseException:
        member.pk = None  # rolled back: the instance is new again (the form is shown once more)
        member._state.adding = True
        raise
    return member


def member_leave(*, member: Member, left_on: dt.date, by, reason: str = "") -> Member:
    """离册: the member leaves the register on ``left_on``; their current group membership (R-06 keeps
    it as history) and any current leader appointment end that day. One transaction."""
    with transaction.atomic():
        member = _lock_member(member)
        if not member.is_active:
            raise ValidationError(f"“{member.name}”已于{member.left_on:%Y-%m-%d}离册。")
        if left_on > timezone.localdate():
            raise ValidationError({"left_on": "离册日期不能晚于今天。"})
        if member.joined_on and left_on < member.joined_on:
            raise ValidationError({"left_on": "离册日期不能早于入党日期。"})
        reason = reason.strip() or "党员离册"
        still_open = Q(ended_on__isnull=True) | Q(ended_on__gt=left_on)
        for appointment in LeaderAppointment.objects.select_for_update().filter(still_open, member=member):
            if left_on <= appointment.started_on:
                started = f"{appointment.started_on:%Y-%m-%d}"
                raise ValidationError({"left_on": f"离册日期必须晚于其担任组长的任职日期（{started}）。"})
            leader_end(appointment=appointment, ended_on=left_on, reason=reason, by=by)
        for membership in GroupMembership.objects.select_for_update().filter(still_open, member=member):
            if left_on <= membership.started_on:
                raise ValidationError(
                    {"left_on": f"离册日期必须晚于编入党小组的日期（{membership.started_on:%Y-%m-%d}）。"}
                )
            membership_end(membership=membership, ended_on=left_on, by=by, reason=reason)
        for post in CommitteeMembership.objects.select_for_update().filter(still_open, member=member):
            if left_on <= post.started_on:
                raise ValidationError(
                    {"left_on": f"离册日期必须晚于其担任支委的任职日期（{post.started_on:%Y-%m-%d}）。"}
                )
            post.ended_on = left_on
            audited_save(post, by=by, reason=reason)
        member.state = MemberState.LEFT
        member.left_on = left_on
        return audited_save(member, by=by, reason=reason)


# --- Dues collected by the group (R-31; the leader's duty R-27 (7) 收缴党费) --------------------------


def group_members_in_month(group: PartyGroup, month: dt.date) -> set[int]:
    """Ids of the members who were in ``group`` at any time during ``month``."""
    first = month_start(month)
    return set(group_members_during(group, first, add_months(first, 1)).values_list("pk", flat=True))


def dues_record_month(
    *, group: PartyGroup, month: dt.date, entries: Sequence[DuesEntry], by
) -> list[DuesPayment]:
    """R-31: the leader's collection of ``month`` for the group, in ONE transaction, all or nothing.

    Every entry's member must have been in the group during the month; every payment is checked as
    ``members.services.dues_record`` checks one (paying twice, negative or absurd amounts, months
    outside membership …). The refusal lists every bad entry by name; nothing is saved.
    """
    month = month_start(month)
    roster = group_members_in_month(group, month)
    outsiders = [
        f"“{e.member.name}”{month_label(month)}不是党小组“{group.name}”的党员，不能在本组收缴其党费。"
        for e in entries
        if e.member.pk not in roster
    ]
    if outsiders:
        raise ValidationError(outsiders)
    return dues_record_many(
        month=month, entries=entries, by=by, reason=f"党小组“{group.name}”收缴{month_label(month)}党费"
    )


def dues_import_for_group(
    *, group: PartyGroup, month: dt.date, path_or_file, by, dry_run: bool, filename: str | None = None
) -> DuesImportReport:
    """R-31: the leader imports ``month``'s payments of the group's members from .xlsx/.csv
    (``members.dues_importing``: dry run, every bad cell by row and column, all or nothing)."""
    month = month_start(month)
    return import_dues_file(
        path_or_file=path_or_file,
        branch=group.branch,
        by=by,
        dry_run=dry_run,
        month=month,
        member_ids=group_members_in_month(group, month),
        scope_label=f"党小组“{group.name}”{month_label(month)}",
        filename=filename,
    )


# --- The leader's yearly review, interviews and training (R-28, R-35) --------------------------------


def leader_replacement_findings(*, group: PartyGroup, member: Member) -> list[Finding]:
    """R-28: "replacement due" when ``member``'s two latest reviews as leader of ``group`` are 不称职."""
    reviews = [
        rules.ReviewFact(year=year, grade=grade)
        for year, grade in LeaderReview.objects.filter(
            appointment__group=group, appointment__member=member
        ).values_list("year", "grade")
    ]
    return rules.check_replacement_due(
        group=group_fact(group),
        leader=member_fact(member, timezone.localdate()),
        reviews=reviews,
        rule_set=_rule_set(group.branch),
    )


def leader_review_record(
    *,
    group: PartyGroup,
    member: Member,
    year: int,
    grade: str,
    reviewed_on: dt.date,
    by,
    notes: str = "",
) -> tuple[LeaderReview, list[Finding]]:
    """R-28: the branch's yearly assessment (优秀 / 称职 / 不称职) of ``member`` as leader or deputy of
    ``group``. Refused, nothing saved: a person who was not leader or deputy of the group during
    ``year``; a review before 1 December of ``year`` (the assessment is made at the year's end) or in
    the future; a second review of the same person, group and year. Returns the review and, after two
    consecutive 不称职, the advisory "replacement due" (R-28)."""
    if grade not in LeaderGrade.values:
        raise ValidationError({"grade": f"考核等次“{grade}”无效（应为优秀、称职或不称职）。"})
    with transaction.atomic():
        member = _lock_member(member)
        appointments = list(
            LeaderAppointment.objects.filter(group=group, member=member).order_by("-started_on", "-pk")
        )
        problems = rules.leader_review_problems(
            member_name=member.name,
            group_name=group.name,
            year=year,
            reviewed_on=reviewed_on,
            today=timezone.localdate(),
            terms=[(a.started_on, a.ended_on) for a in appointments],
        )
        if problems:
            raise ValidationError(problems)
        year_start, next_year = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        appointment = next(
            a
            for a in appointments
            if a.started_on < next_year and (a.ended_on is None or a.ended_on > year_start)
        )
        if LeaderReview.objects.filter(
            appointment__group=group, appointment__member=member, year=year
        ).exists():
            raise ValidationError(
                {"year": f"“{member.name}”{year}年度的考核结果已登记（R-28：每年考核一次）。"}
            )
        review = LeaderReview(
            appointment=appointment,
            year=year,
            grade=grade,
            notes=notes.strip(),
            reviewed_on=reviewed_on,
            reviewed_by=by,
        )
        audited_save(review, by=by, reason=f"{year}年度组长考核")
        return review, leader_replacement_findings(group=group, member=member)


def _led_on(group: PartyGroup, member: Member, day: dt.date) -> bool:
    return LeaderAppointment.objects.filter(group=group, member=member).current(day).exists()


def leader_interview_record(
    *,
    group: PartyGroup,
    member: Member,
    interviewed_on: dt.date,
    interviewer: str,
    content: str,
    by,
) -> LeaderInterview:
    """R-28: the branch interviews (约谈) the leader or deputy of ``group`` who was in office that day."""
    errors: dict[str, list[str]] = {}
    if interviewed_on > timezone.localdate():
        errors.setdefault("interviewed_on", []).append("约谈日期不能晚于今天。")
    if not interviewer.strip():
        errors.setdefault("interviewer", []).append("请填写约谈人。")
    if not content.strip():
        errors.setdefault("content", []).append("请填写约谈内容。")
    if not _led_on(group, member, interviewed_on):
        errors.setdefault("member", []).append(
            f"“{member.name}”在{interviewed_on:%Y-%m-%d}不是党小组“{group.name}”的组长或副组长。"
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        interview = LeaderInterview(
            group=group,
            member=member,
            interviewed_on=interviewed_on,
            interviewer=interviewer.strip(),
            content=content.strip(),
            recorded_by=by,
        )
        return audited_save(interview, by=by, reason="约谈党小组组长")


# one record is one course or session; more than this many hours is a typo.
MAX_TRAINING_HOURS = Decimal("200")


def leader_training_record(
    *, member: Member, trained_on: dt.date, title: str, hours, organiser: str, by
) -> LeaderTraining:
    """R-35: a training attended by a leader, deputy or leader candidate of the branch (training
    before an appointment counts too). Refused: a future date, a day after the member left, hours
    not above 0 or above ``MAX_TRAINING_HOURS``, no title or organiser."""
    errors: dict[str, list[str]] = {}
    try:
        hours = money(hours, field="hours", label="学时", places=1)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if hours <= 0 or hours > MAX_TRAINING_HOURS:
            errors.setdefault("hours", []).append(f"学时应大于0且不超过{MAX_TRAINING_HOURS}。")
    if trained_on > timezone.localdate():
        errors.setdefault("trained_on", []).append("培训日期不能晚于今天。")
    if member.left_on and trained_on >= member.left_on:
        errors.setdefault("trained_on", []).append(f"该党员已于{member.left_on:%Y-%m-%d}离册。")
    if not title.strip():
        errors.setdefault("title", []).append("请填写培训名称。")
    if not organiser.strip():
        errors.setdefault("organiser", []).append("请填写主办单位。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        training = LeaderTraining(
            member=member,
            trained_on=trained_on,
            title=title.strip(),
            hours=hours,
            organiser=organiser.strip(),
            recorded_by=by,
        )
        return audited_save(training, by=by, reason="登记组长培训")


# --- Cultivation (R-22) --------------------------------------------------------------------------


def _check_contacts(*, branch: Branch, stage: str, contacts: Sequence[Member], on: dt.date) -> None:
    ids = [c.pk for c in contacts]
    active = set(
        Member.objects.filter(pk__in=ids, branch=branch, state=MemberState.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    problems = rules.contact_problems(
        contacts=[member_fact(c, on) for c in contacts], branch_id=branch.pk, stage=stage, active_ids=active
    )
    if problems:
        raise ValidationError({"contacts": problems})


def _set_contacts(candidate: CultivationCandidate, contacts: Sequence[Member], by) -> None:
    candidate._history_user = by  # the m2m change is recorded in the candidate's history
    candidate.contacts.set(contacts)


def _record_stage(candidate: CultivationCandidate, *, stage: str, started_on: dt.date, note: str, by) -> None:
    audited_save(
        CultivationStage(
            candidate=candidate,
            stage=stage,
            started_on=started_on,
            decided_by_note=note.strip(),
            recorded_by=by,
        ),
        by=by,
        reason=f"进入“{CultivationStageKind(stage).label}”阶段",
    )


def candidate_create(
    *,
    group: PartyGroup,
    name: str,
    gender: str,
    birth_date: dt.date,
    applied_on: dt.date,
    by,
    unit: Unit | None = None,
    contacts: Sequence[Member] = (),
    note: str = "",
    decided_by_note: str = "",
) -> CultivationCandidate:
    """R-22: a person who applied to join (入党申请人) on ``applied_on`` and whom ``group`` cultivates.

    Every candidate starts as an applicant; later stages follow with ``candidate_advance_stage``
    (a person who is already an activist is entered with their earlier dates). Refused: under 18 on
    the day they applied, a future date, a group not active that day, contacts that are not 1–2 full
    members of the branch.
    """
    problems = rules.applicant_age_problems(birth_date=birth_date, applied_on=applied_on)
    problems += rules.stage_transition_problems(
        current=None,
        current_started_on=None,
        new=CULTIVATION_ORDER[0],
        started_on=applied_on,
        today=timezone.localdate(),
    )
    if applied_on < group.established_on or (group.dissolved_on and applied_on >= group.dissolved_on):
        problems.append(f"党小组“{group.name}”在{applied_on:%Y-%m-%d}不存在（未建立或已撤销）。")
    if problems:
        raise ValidationError({"applied_on": problems})
    with transaction.atomic():
        _check_contacts(branch=group.branch, stage=CULTIVATION_ORDER[0], contacts=contacts, on=applied_on)
        candidate = CultivationCandidate(
            branch=group.branch,
            group=group,
            name=name.strip(),
            gender=gender,
            birth_date=birth_date,
            unit=unit,
            stage=CULTIVATION_ORDER[0],
            stage_started_on=applied_on,
            note=note.strip(),
            created_by=by,
        )
        audited_save(candidate, by=by, reason="登记入党申请人")
        _record_stage(
            candidate, stage=CULTIVATION_ORDER[0], started_on=applied_on, note=decided_by_note, by=by
        )
        if contacts:
            _set_contacts(candidate, contacts, by)
        return candidate


def candidate_advance_stage(
    *,
    candidate: CultivationCandidate,
    stage: str,
    started_on: dt.date,
    by,
    decided_by_note: str = "",
    contacts: Sequence[Member] | None = None,
    member: Member | None = None,
) -> CultivationCandidate:
    """R-22 (workflow): move the candidate to the NEXT stage only (applicant → activist → development
    candidate → probationary); skipping, going back or repeating a stage is refused, and so is a date
    before the current stage began or in the future. From the activist stage on the candidate has 1–2
    contact members (``contacts`` replaces them). On becoming probationary ``member`` links the new
    Member record (same branch). Every step is a ``CultivationStage`` row (who, when, on what basis)."""
    with transaction.atomic():
        candidate = (
            CultivationCandidate.objects.select_for_update().select_related("branch").get(pk=candidate.pk)
        )
        problems = rules.stage_transition_problems(
            current=candidate.stage,
            current_started_on=candidate.stage_started_on,
            new=stage,
            started_on=started_on,
            today=timezone.localdate(),
        )
        if problems:
            raise ValidationError({"stage": problems})
        chosen = list(contacts) if contacts is not None else list(candidate.contacts.all())
        _check_contacts(branch=candidate.branch, stage=stage, contacts=chosen, on=started_on)
        if member is not None:
            if stage != CultivationStageKind.PROBATIONARY:
                raise ValidationError({"member": "只有成为预备党员时才能关联党员记录。"})
            _check_member_link(candidate, member)
            candidate.member = member
        candidate.stage = stage
        candidate.stage_started_on = started_on
        audited_save(candidate, by=by, reason=f"进入“{CultivationStageKind(stage).label}”阶段")
        _record_stage(candidate, stage=stage, started_on=started_on, note=decided_by_note, by=by)
        if contacts is not None:
            _set_contacts(candidate, chosen, by)
        return candidate


def candidate_set_contacts(
    *, candidate: CultivationCandidate, contacts: Sequence[Member], by
) -> CultivationCandidate:
    """R-22: change the candidate's contact members (培养联系人: 1–2 full members of the branch)."""
    with transaction.atomic():
        candidate = (
            CultivationCandidate.objects.select_for_update().select_related("branch").get(pk=candidate.pk)
        )
        _check_contacts(
            branch=candidate.branch, stage=candidate.stage, contacts=contacts, on=timezone.localdate()
        )
        _set_contacts(candidate, contacts, by)
        return candidate


def _check_member_link(candidate: CultivationCandidate, member: Member) -> None:
    if member.branch_id != candidate.branch_id:
        raise ValidationError({"member": f"“{member.name}”不是本支部党员，不能关联。"})
    other = CultivationCandidate.objects.filter(member=member).exclude(pk=candidate.pk).first()
    if other is not None:
        raise ValidationError({"member": f"党员“{member.name}”已关联培养对象“{other.name}”。"})


def candidate_link_member(*, candidate: CultivationCandidate, member: Member, by) -> CultivationCandidate:
    """R-22: link a probationary candidate to their Member record once it exists."""
    with transaction.atomic():
        candidate = CultivationCandidate.objects.select_for_update().get(pk=candidate.pk)
        if candidate.stage != CultivationStageKind.PROBATIONARY:
            raise ValidationError({"member": "只有预备党员阶段的培养对象才能关联党员记录。"})
        _check_member_link(candidate, member)
        candidate.member = member
        return audited_save(candidate, by=by, reason="关联党员记录")
