"""Load what the meeting cadence checks need for many branches at once, and run them.

``collect_meeting_findings(branches, on)`` is registered in ``MeetingsConfig.ready()`` and answers
R-10 (a complete month without a held group meeting), R-17 (no annual plan after the due month),
R-18 (no organisational life meeting within the interval), R-19 (no democratic evaluation within
the interval) and R-20 (members without a heart-to-heart talk within the interval), with the
intervals of each organisation's rule set. It runs a FIXED number of queries whatever the number of
branches, groups or meetings (aggregates and ``values_list``; no model instances per meeting), so
the city data set — 3,000 groups, three years of meetings — is checked in well under 5 s.
The checks themselves are the pure functions of ``meetings.rules``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Max

from groups.models import GroupMembership, LeaderAppointment
from groups.selectors import active_group_rows
from meetings import rules
from meetings.enums import HELD_STATES, MeetingKind
from meetings.models import AnnualPlan, Meeting, Speech, Talk
from members.enums import MemberState
from members.models import Branch
from members.selectors import rule_sets_by_organisation
from partygroup.findings import Finding

# R-10 looks at the 12 complete months before the day of the check.
MONTHLY_WINDOW_MONTHS = 12


def collect_meeting_findings(branches: Sequence[Branch], on: dt.date) -> list[Finding]:
    """R-10, R-17, R-18, R-19, R-20 for the active groups of ``branches`` on day ``on``."""
    branch_ids = sorted({b.pk for b in branches})
    if not branch_ids:
        return []
    rule_sets = rule_sets_by_organisation()
    organisation_of = {b.pk: b.organisation_id for b in branches}

    groups = active_group_rows(branch_ids, on)
    if not groups:
        return []
    held = [str(s) for s in HELD_STATES]

    first, _last = rules.cadence_window(on, MONTHLY_WINDOW_MONTHS)
    held_months: dict[int, set[dt.date]] = defaultdict(set)
    # The days, not TruncMonth: the database's timestamps would each go through a converter (a tenth
    # of this collector's time on the overview's 20 branches); the month is taken here.
    for group_id, held_on in (
        Meeting.objects.filter(
            group__branch_id__in=branch_ids,
            kind=MeetingKind.GROUP_MEETING,
            state__in=held,
            held_on__gte=first,
            held_on__lt=rules.month_start(on),
        )
        .values_list("group_id", "held_on")
        .distinct()
        .order_by()
    ):
        held_months[group_id].add(held_on.replace(day=1))

    last_held: dict[tuple[int, str], dt.date] = {}
    for group_id, kind, last in (
        Meeting.objects.filter(
            group__branch_id__in=branch_ids,
            kind__in=[MeetingKind.LIFE_MEETING, MeetingKind.EVALUATION],
            state__in=held,
            held_on__lte=on,
        )
        .values("group_id", "kind")
        .annotate(last=Max("held_on"))
        .values_list("group_id", "kind", "last")
        .order_by()
    ):
        last_held[(group_id, kind)] = last

    plan_years: dict[int, set[int]] = defaultdict(set)
    for group_id, year in AnnualPlan.objects.filter(
        group__branch_id__in=branch_ids, year=on.year
    ).values_list("group_id", "year"):
        plan_years[group_id].add(year)

    roster: dict[int, list[tuple[int, str, dt.date]]] = defaultdict(list)
    for member_id, name, group_id, started_on in (
        GroupMembership.objects.current(on)
        .filter(group__branch_id__in=branch_ids, member__state=MemberState.ACTIVE)
        .values_list("member_id", "member__name", "group_id", "started_on")
        .order_by("member__name", "member_id")
    ):
        roster[group_id].append((member_id, name, started_on))

    last_talk: dict[int, dt.date] = {}
    talks = Talk.objects.filter(group__branch_id__in=branch_ids, talked_on__lte=on)
    for side in ("initiator_id", "partner_id"):
        for member_id, last in (
            talks.values(side).annotate(last=Max("talked_on")).values_list(side, "last").order_by()
        ):
            if member_id not in last_talk or last > last_talk[member_id]:
                last_talk[member_id] = last

    findings: list[Finding] = []
    for group_id, name, branch_id, established_on in groups:
        rule_set = rule_sets[organisation_of[branch_id]]
        facts = rules.GroupCadenceFacts(
            group_id=group_id,
            group_name=name,
            branch_id=branch_id,
            established_on=established_on,
            held_group_meeting_months=frozenset(held_months.get(group_id, ())),
            last_life_meeting=last_held.get((group_id, MeetingKind.LIFE_MEETING)),
            last_evaluation=last_held.get((group_id, MeetingKind.EVALUATION)),
            plan_years=frozenset(plan_years.get(group_id, ())),
        )
        findings += rules.check_monthly_meetings(
            facts, on=on, rule_set=rule_set, window_months=MONTHLY_WINDOW_MONTHS
        )
        findings += rules.check_annual_plan(facts, on=on, rule_set=rule_set)
        findings += rules.check_life_meeting(facts, on=on, rule_set=rule_set)
        findings += rules.check_evaluation(facts, on=on, rule_set=rule_set)
        findings += rules.check_talks(
            [
                rules.MemberTalkFacts(
                    member_id=member_id,
                    member_name=member_name,
                    branch_id=branch_id,
                    in_group_since=started_on,
                    last_talk=last_talk.get(member_id),
                )
                for member_id, member_name, started_on in roster.get(group_id, [])
            ],
            on=on,
            rule_set=rule_set,
        )
    return findings


def speaker_order_findings(meeting: Meeting) -> list[Finding]:
    """R-15 (advisory) for one meeting's minutes: members first and the leader last, or in a life
    meeting the leader first. For the meeting page and the PDF; two queries."""
    day = meeting.held_on or meeting.planned_date
    leader_ids = set(
        LeaderAppointment.objects.current(day)
        .filter(group_id=meeting.group_id)
        .values_list("member_id", flat=True)
    )
    by_item: dict[int, tuple[str, list[rules.SpeechEntry]]] = {}
    for item_id, title, speaker_id, speaker_name in (
        Speech.objects.filter(agenda_item__meeting=meeting)
        .order_by("agenda_item__number", "order")
        .values_list("agenda_item_id", "agenda_item__title", "speaker_id", "speaker_name")
    ):
        by_item.setdefault(item_id, (title, []))[1].append(
            rules.SpeechEntry(speaker_id=speaker_id, name=speaker_name)
        )
    rule_set = meeting.group.branch.organisation.effective_rule_set()
    findings: list[Finding] = []
    for title, speeches in by_item.values():
        findings += rules.check_speaker_order(
            kind=meeting.kind,
            item_title=title,
            speeches=speeches,
            leader_ids=leader_ids,
            meeting_id=meeting.pk,
            meeting_label=str(meeting.title),
            branch_id=meeting.group.branch_id,
            rule_set=rule_set,
        )
    return findings
