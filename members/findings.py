"""Load what the members' duty checks need for many branches at once, and run them.

``collect_member_findings(branches, on)`` is registered in ``MembersConfig.ready()`` and answers
R-30 (thought reports overdue; probationary members without a written report in the last complete
quarter) and R-31 (dues in arrears, naming the months) for the ACTIVE members of ``branches``. It
runs a FIXED number of queries whatever the number of branches or members: the members, their last
reports (one aggregate), the months each paid in full (one aggregate: count and first month), the
payments of members who may be in arrears and every part payment (one ``values_list``) and the rule
sets. The checks are
the pure functions of ``members.rules``; the definitions are in its docstring and docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, F, Min, Q

from members import rules
from members.enums import MemberState
from members.models import Branch, DuesPayment, Member
from members.selectors import active_member_rows, last_thought_reports, rule_sets_by_organisation
from partygroup.findings import Finding
from partygroup.months import month_start


def collect_member_findings(branches: Sequence[Branch], on: dt.date) -> list[Finding]:
    """R-30 and R-31 for the active members of ``branches`` on day ``on``."""
    branch_ids = sorted({b.pk for b in branches})
    if not branch_ids:
        return []
    rule_sets = rule_sets_by_organisation()
    organisation_of = {b.pk: b.organisation_id for b in branches}
    ledger_start = {b.pk: b.ledger_start_on for b in branches}

    members: list[rules.MemberDutyFacts] = []
    for pk, name, branch_id, status, joined_on, full_on, _unit, _unit_name in active_member_rows(branch_ids):
        if joined_on is not None and joined_on > on:
            continue  # not yet a member on the day checked
        members.append(
            rules.MemberDutyFacts(
                id=pk,
                name=name,
                branch_id=branch_id,
                joined_on=joined_on,
                left_on=None,
                is_probationary=rules.is_probationary_on(
                    status=status, joined_on=joined_on, full_member_on=full_on, on=on
                ),
                tracked_from=rules.tracking_start(joined_on, ledger_start[branch_id]),
            )
        )
    if not members:
        return []

    active = Member.objects.filter(branch_id__in=branch_ids, state=MemberState.ACTIVE).values("pk")
    last_reports = last_thought_reports(active, on=on)

    # R-31 without reading every payment: per member, how many tracked months are paid in full and
    # the first of them (one aggregate). A member whose due months (a contiguous range) are all paid
    # has no arrears; only the others' payments are read (with every part payment in the window, which
    # also keeps the number of queries the same whether or not anyone is in arrears).
    first = min((m.tracked_from for m in members if m.tracked_from is not None), default=None)
    payments: dict[int, dict[dt.date, tuple[Decimal, Decimal]]] = defaultdict(dict)
    due_months: dict[int, list[dt.date]] = {}
    settled: set[int] = set()  # every due month paid in full: no arrears
    if first is not None:
        in_window = DuesPayment.objects.filter(
            member_id__in=active, month__gte=first, month__lt=month_start(on)
        ).order_by()
        paid_in_full = {
            member_id: (count, first_paid)
            for member_id, count, first_paid in in_window.filter(amount_paid__gte=F("amount_due"))
            .values("member_id")
            .annotate(count=Count("pk"), first_paid=Min("month"))
            .values_list("member_id", "count", "first_paid")
        }
        unsettled: list[int] = []
        for member in members:
            due = rules.dues_due_months(
                start=member.tracked_from, joined_on=member.joined_on, left_on=None, on=on
            )
            due_months[member.id] = due
            count, first_paid = paid_in_full.get(member.id, (0, None))
            if due and not (count == len(due) and first_paid >= due[0]):
                unsettled.append(member.id)
        settled = {m.id for m in members} - set(unsettled)
        for member_id, month, amount_due, amount_paid in (
            in_window.filter(Q(amount_paid__lt=F("amount_due")) | Q(member_id__in=unsettled))
            .values_list("member_id", "month", "amount_due", "amount_paid")
            .iterator(chunk_size=5000)
        ):
            payments[member_id][month] = (amount_due, amount_paid)

    findings: list[Finding] = []
    for member in members:
        rule_set = rule_sets[organisation_of[member.branch_id]]
        last, last_written = last_reports.get(member.id, (None, None))
        findings += rules.check_thought_reports(
            member=member, last_report=last, last_written=last_written, on=on, rule_set=rule_set
        )
        if member.id in settled:
            continue
        arrears = rules.dues_arrears(
            member_id=member.id,
            start=member.tracked_from,
            joined_on=member.joined_on,
            left_on=None,
            on=on,
            payments=payments.get(member.id, {}),
            due=due_months.get(member.id),
        )
        findings += rules.check_dues_arrears(member=member, arrears=arrears, rule_set=rule_set)
    return findings
