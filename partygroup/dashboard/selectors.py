"""Reads for the dashboards: the branch secretary's page, the organisation overview, the member's own
page and the home page's role cards.

Everything is aggregated in the database in a fixed number of queries whatever the number of groups,
branches or meetings (the pages must stay flat on the city data set: 600 branches, 3,000 groups):

- the meeting months of many groups come from ONE ``values(group, month).annotate(Count)`` query;
- member and full-member counts are annotations on the groups query;
- findings come from ``partygroup.findings.collect_findings``, whose collectors run a fixed number
  of queries for any number of branches (the branch dashboard, live); the overview reads each
  branch's stored counts (``partygroup.summaries``).

The scoping itself (which branch, meeting, change the user may see) is the job of the selectors of
``members``, ``groups`` and ``meetings``; the views start from them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractMonth
from django.utils.translation import gettext as _

from groups.enums import FilingStatus, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from groups.selectors import group_changes_visible_to, roles_of
from meetings.enums import HELD_STATES, AttendanceRole, MeetingKind, MeetingState
from meetings.models import Attendance, Meeting, Talk
from meetings.rules import add_months, first_full_month, month_start
from meetings.selectors import meetings_visible_to, talks_visible_to
from members.enums import MemberState, MemberStatus
from members.models import Branch, Member
from members.selectors import organisations_visible_to, rule_sets_by_organisation
from partygroup.findings import Finding
from partygroup.models import FindingSummary
from partygroup.rulebook import RULES

MONTHS = tuple(range(1, 13))

# --- Month cells (R-10: a group meeting generally once a month) -----------------------------------


class CellState:
    HELD = "held"  # at least one held group meeting in the month
    MISSING = "missing"  # a complete past month without one (what R-10 reports)
    PENDING = "pending"  # the current month, nothing held yet: not missing before the month ends
    FUTURE = "future"
    NONE = "none"  # the group did not exist for the whole month (founded later / dissolved)


_SYMBOLS = {
    CellState.HELD: "✓",
    CellState.MISSING: "✗",
    CellState.PENDING: "·",
    CellState.FUTURE: "·",
    CellState.NONE: "",
}


@dataclass(frozen=True)
class MonthCell:
    month: int
    count: int
    state: str

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self.state]

    @property
    def label(self) -> str:
        """The cell's tooltip / accessible text, in Chinese."""
        if self.state == CellState.HELD:
            return _("%(month)s月：召开党小组会%(count)s次") % {"month": self.month, "count": self.count}
        if self.state == CellState.MISSING:
            return _("%(month)s月：未召开党小组会（R-10）") % {"month": self.month}
        if self.state == CellState.PENDING:
            return _("%(month)s月：本月尚未召开") % {"month": self.month}
        if self.state == CellState.FUTURE:
            return _("%(month)s月：尚未到期") % {"month": self.month}
        return _("%(month)s月：党小组未设立或已撤销") % {"month": self.month}


def month_cells(
    *,
    year: int,
    established_on: dt.date,
    dissolved_on: dt.date | None,
    counts: dict[int, int],
    today: dt.date,
) -> list[MonthCell]:
    """The 12 cells of ``year`` for one group: held / missing / pending / future / none.

    As R-10 counts them (``meetings.rules.check_monthly_meetings``): only months the group existed
    for entirely are due — not the founding month of a group founded after the 1st, not the month it
    was dissolved in; the current month is not missing before it ends. A held meeting always shows.
    """
    first_due = first_full_month(established_on)
    current = month_start(today)
    cells = []
    for month in MONTHS:
        start = dt.date(year, month, 1)
        count = counts.get(month, 0)
        if count:
            state = CellState.HELD
        elif start < first_due or (dissolved_on is not None and dissolved_on < add_months(start, 1)):
            state = CellState.NONE
        elif start > current:
            state = CellState.FUTURE
        elif start == current:
            state = CellState.PENDING
        else:
            state = CellState.MISSING
        cells.append(MonthCell(month=month, count=count, state=state))
    return cells


def held_month_counts(group_ids: Iterable[int], year: int) -> dict[int, dict[int, int]]:
    """Held group meetings per group and month of ``year``, in ONE aggregate query."""
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    rows = (
        Meeting.objects.filter(
            group_id__in=ids,
            kind=MeetingKind.GROUP_MEETING,
            state__in=[str(s) for s in HELD_STATES],
            held_on__gte=dt.date(year, 1, 1),
            held_on__lt=dt.date(year + 1, 1, 1),
        )
        .values("group_id", month=ExtractMonth("held_on"))
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["group_id"]][row["month"]] = row["n"]
    return counts


def _summary(cells: Sequence[MonthCell]) -> tuple[int, int]:
    """(months with a held meeting, months that were due: held + missing)."""
    held = sum(1 for c in cells if c.state == CellState.HELD)
    missing = sum(1 for c in cells if c.state == CellState.MISSING)
    return held, held + missing


# --- The branch secretary's dashboard --------------------------------------------------------------


@dataclass
class GroupRow:
    group: PartyGroup
    member_count: int
    full_count: int
    leaders: list[LeaderAppointment]
    cells: list[MonthCell]

    @property
    def leader(self) -> LeaderAppointment | None:
        return next((a for a in self.leaders if a.role == LeaderRole.LEADER), None)

    @property
    def deputies(self) -> list[LeaderAppointment]:
        return [a for a in self.leaders if a.role == LeaderRole.DEPUTY]

    @property
    def held_months(self) -> int:
        return _summary(self.cells)[0]

    @property
    def due_months(self) -> int:
        return _summary(self.cells)[1]


def _current_q(prefix: str, on: dt.date) -> Q:
    return Q(**{f"{prefix}started_on__lte": on}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": on})
    )


def branch_group_rows(branch: Branch, *, today: dt.date, year: int | None = None) -> list[GroupRow]:
    """The branch's active groups with member / full-member counts, current leader and deputies, and
    the meeting months of ``year`` (default: this year) — three queries for any number of groups."""
    year = year or today.year
    current = _current_q("memberships__", today) & Q(memberships__member__state=MemberState.ACTIVE)
    full = (
        current
        & Q(memberships__member__status=MemberStatus.FULL)
        & (
            Q(memberships__member__full_member_on__isnull=True)
            | Q(memberships__member__full_member_on__lte=today)
        )
    )
    groups = list(
        PartyGroup.objects.active(today)
        .filter(branch=branch)
        .annotate(
            member_count=Count("memberships", filter=current, distinct=True),
            full_count=Count("memberships", filter=full, distinct=True),
        )
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=LeaderAppointment.objects.current(today)
                .select_related("member")
                .order_by("started_on", "pk"),
                to_attr="current_leaders",
            )
        )
        .order_by("name", "pk")
    )
    counts = held_month_counts((g.pk for g in groups), year)
    role_order = {LeaderRole.LEADER: 0, LeaderRole.DEPUTY: 1}
    return [
        GroupRow(
            group=g,
            member_count=g.member_count,
            full_count=g.full_count,
            leaders=sorted(g.current_leaders, key=lambda a: role_order.get(a.role, 9)),
            cells=month_cells(
                year=year,
                established_on=g.established_on,
                dissolved_on=g.dissolved_on,
                counts=counts.get(g.pk, {}),
                today=today,
            ),
        )
        for g in groups
    ]


@dataclass
class RuleFindings:
    """The findings of one rule, for the dashboard's list grouped by rule."""

    rule_id: str
    findings: list[Finding]

    @property
    def title(self) -> str:
        return RULES[self.rule_id].title

    @property
    def excerpt(self) -> str:
        return RULES[self.rule_id].excerpt

    @property
    def violations(self) -> int:
        return sum(1 for f in self.findings if f.is_violation)

    @property
    def advisories(self) -> int:
        return len(self.findings) - self.violations

    @property
    def has_violation(self) -> bool:
        return self.violations > 0


def findings_by_rule(findings: Iterable[Finding]) -> list[RuleFindings]:
    """Findings grouped by rule: rules with a violation first, then by rule ID; inside a rule the
    violations first, in the order ``collect_findings`` returns them."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[finding.rule_id].append(finding)
    result = [
        RuleFindings(rule_id=rule_id, findings=sorted(items, key=lambda f: not f.is_violation))
        for rule_id, items in groups.items()
    ]
    return sorted(result, key=lambda r: (not r.has_violation, r.rule_id))


def approval_queue(user, branch: Branch) -> QuerySet[Meeting]:
    """R-11 / R-21: requests for approval (submitted meetings, themed party days included)."""
    return (
        meetings_visible_to(user)
        .filter(group__branch=branch, state=MeetingState.SUBMITTED)
        .select_related("group", "group__branch")
        .order_by("planned_date", "pk")
    )


def archive_queue(user, branch: Branch) -> QuerySet[Meeting]:
    """R-12 / R-13: meetings reported to the branch and waiting to be archived for inspection."""
    return (
        meetings_visible_to(user)
        .filter(group__branch=branch, state=MeetingState.REPORTED)
        .select_related("group", "group__branch")
        .order_by("held_on", "pk")
    )


def changes_to_file(user, branch: Branch) -> QuerySet[GroupChange]:
    """R-05: group changes the branch decided and has not filed yet (or that came back)."""
    return (
        group_changes_visible_to(user)
        .filter(branch=branch, filing_status__in=[FilingStatus.PENDING, FilingStatus.RETURNED])
        .select_related("group", "branch")
        .order_by("decided_on", "pk")
    )


def changes_awaiting_acknowledgement(user, branches=None) -> QuerySet[GroupChange]:
    """R-05: changes filed with the higher organisation and not yet acknowledged."""
    qs = group_changes_visible_to(user).filter(filing_status=FilingStatus.FILED)
    if branches is not None:
        qs = qs.filter(branch__in=branches)
    return qs.select_related("group", "branch", "filed_by").order_by("filed_on", "pk")


def active_member_count(branch: Branch) -> int:
    return Member.objects.filter(branch=branch, state=MemberState.ACTIVE).count()


def split_threshold(branch: Branch) -> int:
    """R-01: the member count from which the branch's rule set says it should be divided."""
    return rule_sets_by_organisation()[branch.organisation_id].split_threshold


# --- The organisation overview ----------------------------------------------------------------------


def overview_branches(user) -> QuerySet[Branch]:
    """Org staff: every branch of their organisations' subtrees; superusers: all branches.

    (Not ``branches_visible_to``: that adds a staff member's own branch as a member, which is not
    part of the organisation they work for.)
    """
    roles = roles_of(user)
    qs = Branch.objects.select_related("organisation")
    if roles.is_superuser:
        return qs.order_by("organisation__path", "name", "pk")
    return qs.filter(organisation__in=organisations_visible_to(user)).order_by(
        "organisation__path", "name", "pk"
    )


@dataclass
class HeatRow:
    group_id: int
    name: str
    established_on: dt.date
    dissolved_on: dt.date | None
    cells: list[MonthCell]

    @property
    def held_months(self) -> int:
        return _summary(self.cells)[0]

    @property
    def due_months(self) -> int:
        return _summary(self.cells)[1]


@dataclass
class BranchBlock:
    branch: Branch
    rows: list[HeatRow] = field(default_factory=list)
    summary: FindingSummary | None = None  # the branch's stored finding counts (partygroup.summaries)


@dataclass
class RuleCount:
    rule_id: str
    violations: int
    advisories: int

    @property
    def title(self) -> str:
        return RULES[self.rule_id].title

    @property
    def excerpt(self) -> str:
        return RULES[self.rule_id].excerpt


def heatmap(branches: Sequence[Branch], *, year: int, today: dt.date) -> list[BranchBlock]:
    """Rows = the groups that existed in ``year`` under each branch, columns = the 12 months.

    Two queries for any number of branches and groups: the groups, and ONE aggregate of the held
    group meetings per group and month.
    """
    blocks = {b.pk: BranchBlock(branch=b) for b in branches}
    if not blocks:
        return []
    groups = list(
        PartyGroup.objects.filter(
            branch_id__in=list(blocks),
            established_on__lte=dt.date(year, 12, 31),
        )
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=dt.date(year, 1, 1)))
        .values_list("pk", "name", "branch_id", "established_on", "dissolved_on")
        .order_by("branch_id", "name", "pk")
    )
    counts = held_month_counts((g[0] for g in groups), year)
    for pk, name, branch_id, established_on, dissolved_on in groups:
        blocks[branch_id].rows.append(
            HeatRow(
                group_id=pk,
                name=name,
                established_on=established_on,
                dissolved_on=dissolved_on,
                cells=month_cells(
                    year=year,
                    established_on=established_on,
                    dissolved_on=dissolved_on,
                    counts=counts.get(pk, {}),
                    today=today,
                ),
            )
        )
    return [blocks[b.pk] for b in branches]


# --- The member's own page --------------------------------------------------------------------------


def own_member(user) -> Member | None:
    member_id = roles_of(user).member_id
    if member_id is None:
        return None
    return Member.objects.select_related("branch", "branch__organisation", "unit").get(pk=member_id)


def group_history(member: Member) -> list[GroupMembership]:
    """R-06: every group the member has been in, newest first."""
    return list(
        GroupMembership.objects.filter(member=member)
        .select_related("group", "group__branch")
        .order_by("-started_on", "-pk")
    )


def own_group_archived_meetings(user, *, limit: int = 20) -> list[Meeting]:
    """R-12: the archived minutes of the user's current group (what a member may read)."""
    group_id = roles_of(user).own_group_id
    if group_id is None:
        return []
    return list(
        meetings_visible_to(user)
        .filter(group_id=group_id, state=MeetingState.ARCHIVED)
        .order_by("-held_on", "-pk")[:limit]
    )


def attendance_counts(member: Member, year: int) -> dict[str, int]:
    """How often the member was present / absent / an observer at meetings held in ``year``."""
    counts = {str(role): 0 for role in AttendanceRole.values}
    rows = (
        Attendance.objects.filter(
            member=member,
            meeting__state__in=[str(s) for s in HELD_STATES],
            meeting__held_on__gte=dt.date(year, 1, 1),
            meeting__held_on__lt=dt.date(year + 1, 1, 1),
        )
        .values("role")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["role"]] = row["n"]
    return counts


def own_talks(user, member: Member, *, limit: int = 20) -> list[Talk]:
    """R-20: the heart-to-heart talks the member took part in, newest first."""
    return list(
        talks_visible_to(user)
        .filter(Q(initiator=member) | Q(partner=member))
        .select_related("initiator", "partner", "group")
        .order_by("-talked_on", "-pk")[:limit]
    )


# --- The home page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeRoles:
    committee_branches: list[Branch]
    led_groups: list[PartyGroup]
    overview: bool  # organisation staff or superuser
    member: bool

    @property
    def work_roles(self) -> int:
        """Roles with a workspace of their own (the member's own page is not counted)."""
        return len(self.committee_branches) + len(self.led_groups) + int(self.overview)


def home_roles(user) -> HomeRoles:
    roles = roles_of(user)
    branches = (
        list(Branch.objects.filter(pk__in=sorted(roles.committee_branch_ids)).order_by("name", "pk"))
        if roles.committee_branch_ids
        else []
    )
    groups = (
        list(
            PartyGroup.objects.filter(pk__in=sorted(roles.led_group_ids))
            .select_related("branch")
            .order_by("branch__name", "name", "pk")
        )
        if roles.led_group_ids
        else []
    )
    return HomeRoles(
        committee_branches=branches,
        led_groups=groups,
        overview=roles.is_superuser or roles.is_org_staff,
        member=roles.member_id is not None,
    )
