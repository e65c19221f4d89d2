"""The ``所在党小组`` column of the member list import and export (docs/import.md).

``members.importing`` reads, validates and writes members; it knows nothing of groups. This
module is its column extension for the group column, registered in ``GroupsConfig.ready()``:

- validate: the cell names an ACTIVE group of the branch (else the row is bad); an empty cell
  changes nothing. R-09 (one group at a time) is checked for every row with the same pure rule
  check the services use (``groups.rules.membership_conflicts``), against the memberships
  preloaded for the whole branch in one query.
- apply: placements in bulk, with history (simple-history ``bulk_*_with_history``, ``by`` as the
  history user): a member in no group is placed from today (as ``membership_start`` would); a
  member in another group has that membership end today and a new one start today (as
  ``membership_move`` would).
- export: each member's current group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from groups import rules
from groups.models import GroupMembership, PartyGroup
from members.importing import IMPORT_REASON, ImportContext, RowError
from members.services import BULK_BATCH_SIZE

GROUP_COLUMN = "所在党小组"
PLACED = "编入党小组"
MOVED = "调整党小组"


def _fact(membership: GroupMembership, ended_on=None) -> rules.MembershipFact:
    return rules.MembershipFact(
        id=membership.pk,
        member_id=membership.member_id,
        group_id=membership.group_id,
        group_branch_id=membership.group.branch_id,
        started_on=membership.started_on,
        ended_on=ended_on or membership.ended_on,
    )


class GroupColumn:
    columns = (GROUP_COLUMN,)

    def validate(self, ctx: ImportContext) -> list[RowError]:
        wanted = [plan for plan in ctx.plans if plan.values.get(GROUP_COLUMN)]
        if not wanted:
            return []
        today = ctx.today
        groups = {g.name: g for g in PartyGroup.objects.active(today).filter(branch=ctx.branch).order_by()}
        # Memberships that are open or end after today: the only ones a placement today can overlap.
        memberships: dict[int, list[GroupMembership]] = defaultdict(list)
        for membership in (
            GroupMembership.objects.filter(member__branch=ctx.branch)
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
            .select_related("group")
            .order_by()
        ):
            memberships[membership.member_id].append(membership)
        rule_set = ctx.branch.organisation.effective_rule_set()

        errors: list[RowError] = []
        for plan in wanted:
            name = plan.values[GROUP_COLUMN]
            group = groups.get(name)
            if group is None:
                errors.append(
                    RowError(
                        plan.row,
                        GROUP_COLUMN,
                        f"本支部没有名为“{name}”的现有党小组（已撤销或尚未建立的党小组不能编入）。",
                    )
                )
                continue
            member = plan.member
            if not plan.is_new and not member.is_active:
                errors.append(RowError(plan.row, GROUP_COLUMN, "该党员已离册，不能编入党小组。"))
                continue
            own = memberships.get(member.pk, []) if member.pk else []
            current = next((m for m in own if m.ended_on is None), None)
            if current is not None and current.group_id == group.pk:
                continue  # already there
            if current is not None and current.started_on >= today:
                errors.append(
                    RowError(
                        plan.row,
                        GROUP_COLUMN,
                        f"该党员自{current.started_on:%Y-%m-%d}起在党小组“{current.group.name}”，"
                        "今天不能再调整，请在党小组管理中处理。",
                    )
                )
                continue
            existing = [_fact(m, ended_on=today if m is current else None) for m in own]
            new = rules.MembershipFact(
                id=None,
                member_id=member.pk or 0,
                group_id=group.pk,
                group_branch_id=group.branch_id,
                started_on=today,
                ended_on=None,
            )
            fact = rules.MemberFact(
                id=member.pk or 0,
                name=member.name,
                branch_id=ctx.branch.pk,
                is_full=member.was_full_member_on(today),
            )
            # one group of the member's own branch at a time.
            violations = [
                f
                for f in rules.membership_conflicts(
                    member=fact, new=new, existing=existing, rule_set=rule_set
                )
                if f.is_violation
            ]
            if violations:
                errors.extend(
                    RowError(plan.row, GROUP_COLUMN, f"{f.message}（{f.rule_id}，{f.article}）")
                    for f in violations
                )
                continue
            plan.data[GROUP_COLUMN] = (group, current)
            plan.extra_changes.append(GROUP_COLUMN)
            ctx.counts[MOVED if current is not None else PLACED] += 1
        return errors

    def apply(self, ctx: ImportContext) -> None:
        ended: list[GroupMembership] = []
        started: list[GroupMembership] = []
        for plan in ctx.plans:
            placement = plan.data.get(GROUP_COLUMN)
            if placement is None:
                continue
            group, current = placement
            if current is not None:
                current.ended_on = ctx.today
                ended.append(current)
            started.append(
                GroupMembership(member=plan.member, group=group, started_on=ctx.today, note=IMPORT_REASON)
            )
        # End the old memberships first: one open membership per member (R-09 constraint).
        if ended:
            bulk_update_with_history(
                ended,
                GroupMembership,
                ["ended_on"],
                batch_size=BULK_BATCH_SIZE,
                default_user=ctx.by,
                default_change_reason=f"{IMPORT_REASON}：{MOVED}",
            )
        if started:
            bulk_create_with_history(
                started,
                GroupMembership,
                batch_size=BULK_BATCH_SIZE,
                default_user=ctx.by,
                default_change_reason=f"{IMPORT_REASON}：{PLACED}",
            )

    def export_values(self, member_ids: QuerySet | Sequence[int]) -> dict[int, tuple[str, ...]]:
        today = timezone.localdate()
        return {
            member_id: (name,)
            for member_id, name in GroupMembership.objects.current(today)
            .filter(member_id__in=member_ids)
            .order_by()
            .values_list("member_id", "group__name")
        }


group_column = GroupColumn()
