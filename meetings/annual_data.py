"""The figures of the annual work report (R-34), drafted from the year's data, for one or many groups.

``annual_report_data_many(groups, year)`` computes every group's ``AnnualReportData`` in a FIXED
number of queries whatever the number of groups (aggregates and ``values_list``, no model
instances per row): the organisation-wide export builds 3,000 groups' reports with it.
``annual_report_data(group, year)`` is the one-group case. ``AnnualReportData`` is made of plain
values and converts to and from JSON (``as_json`` / ``from_json``): the report freezes it at
submission (``AnnualReport.snapshot``).

Definitions (docs/annual-report.md):

- **Year.** ``[1 January, 1 January of the next year)``; a meeting belongs to the year of its
  ``held_on``; only held meetings count (held, reported, archived).
- **Attendance rate (R-34, R-14).** Counted over the group meetings (党小组会, R-10) held in the
  year. A held group meeting counts for a member when its date falls within one of the member's
  ``GroupMembership`` ranges for this group (half-open: ``started_on`` ≤ date < ``ended_on``). The
  member is *present* when the meeting's attendance lists them as present (参加); ``expected`` is the
  number of such meetings. The rate is ``present / expected``, shown "x/y (z%)"; a member with no
  such meeting is listed as "—". Month by month the same counts are added up over the members.
- **Decided matters (R-16).** Those of the meetings held in the year; completed *by year end* when
  done with a completion date before 1 January of the next year, *by the report date* when done on
  or before ``as_of`` (the day the figures were computed: the submission day once frozen).
- **Talks (R-20).** Talks of the group in the year; members covered are the group's members of the
  year who took part in at least one.
- **Dues (R-31).** The members in the group at the year's end (31 December), as
  ``groups.selectors.group_dues_arrears`` counts them (dues are the member's, not the group's):
  what they paid for the year's months, and their months in arrears within the year
  (``members.selectors.dues_arrears_for``), counted only from their tracking start (the branch's
  ledger start, ``members.rules.tracking_start``); a branch without a ledger shows none.
- **Thought reports (R-30).** Received in the year while the member was in the group.
- **Cultivation (R-22).** The group's candidates with a stage begun in the year or still an
  applicant, activist or development candidate at the year's end; the members who were
  probationary in the year while in the group (inspected), with their written reports.
- **Leading cadres (R-35).** The members marked 党员领导干部, with their attendance rate.
- **Findings.** Every collector's findings (``partygroup.findings.collect_findings``) on 1 January
  of the next year, about the group or a member in it at the year's end.
"""

from __future__ import annotations

import bisect
import datetime as dt
import types
import typing
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from groups.enums import CultivationStageKind, LeaderRole
from groups.models import CultivationStage, GroupMembership, LeaderAppointment, PartyGroup
from meetings.enums import (
    HELD_STATES,
    OPEN_ACTION_STATUSES,
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    MeetingKind,
    TopicCategory,
)
from meetings.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    CultivationOpinion,
    EvaluationResult,
    Meeting,
    Talk,
)
from members.enums import MemberStatus, ThoughtReportKind
from members.models import Branch, DuesPayment
from members.rules import tracking_start
from members.selectors import dues_arrears_for
from partygroup.findings import Finding, collect_findings
from partygroup.months import month_ranges_label

SNAPSHOT_VERSION = 1
# Candidates still in these stages at the year's end are listed even without a step in the year.
_OPEN_STAGES = frozenset(
    {CultivationStageKind.APPLICANT, CultivationStageKind.ACTIVIST, CultivationStageKind.DEVELOPMENT}
)
_ROLE_LABELS = {LeaderRole.LEADER: "组长", LeaderRole.DEPUTY: "副组长"}


def ratio_label(present: int, expected: int) -> str:
    """ "5/7 (71.4%)"; "—" when nothing was expected."""
    if expected <= 0:
        return "—"
    percent = f"{present * 100 / expected:.1f}".removesuffix(".0")
    return f"{present}/{expected} ({percent}%)"


def ratio(present: int, expected: int) -> float | None:
    return present / expected if expected > 0 else None


# --- The data ----------------------------------------------------------------------------------------
class _Rate:
    """The attendance rate of a row's ``present`` / ``expected`` counts (R-34)."""

    present: int
    expected: int

    @property
    def rate(self) -> float | None:
        return ratio(self.present, self.expected)

    @property
    def rate_label(self) -> str:
        return ratio_label(self.present, self.expected)


@dataclass(frozen=True)
class MonthFigures(_Rate):
    month: int  # 1 … 12
    meetings_held: int  # meetings of every kind held in the month
    group_meetings_held: int  # 党小组会
    present: int  # members present at the month's group meetings (within their membership)
    expected: int  # members expected at them


@dataclass(frozen=True)
class LabelCount:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class MemberAttendance(_Rate):
    member_id: int
    name: str
    periods: str  # the member's time in the group within the year: "01-01至12-31"
    present: int
    expected: int
    is_leading_cadre: bool = False
    post: str = ""


@dataclass(frozen=True)
class TopicRow:
    held_on: dt.date
    kind_label: str
    meeting_title: str
    title: str
    category: str
    category_label: str


@dataclass(frozen=True)
class ActionRow:
    description: str
    owner: str
    due_on: dt.date
    status_label: str


@dataclass(frozen=True)
class ActionSummary:
    decided: int = 0
    done_by_year_end: int = 0
    done_by_as_of: int = 0
    dropped: int = 0
    unfinished: tuple[ActionRow, ...] = ()


@dataclass(frozen=True)
class TalkSummary:
    count: int = 0
    members_covered: int = 0
    members_total: int = 0
    not_covered: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationRow:
    held_on: dt.date
    name: str
    grade: str
    grade_label: str


@dataclass(frozen=True)
class EvaluationSummary:
    meetings: int = 0
    results: tuple[EvaluationRow, ...] = ()
    grade_counts: tuple[LabelCount, ...] = ()


@dataclass(frozen=True)
class DuesRow:
    member_id: int
    name: str
    paid_months: int
    paid_total: Decimal
    arrears_months: int
    arrears_label: str


@dataclass(frozen=True)
class DuesSummary:
    tracked: bool = False  # the branch keeps the dues ledger in the system for (part of) the year
    members: int = 0
    paid_months: int = 0
    paid_total: Decimal = Decimal("0.00")
    arrears_months: int = 0
    rows: tuple[DuesRow, ...] = ()

    @property
    def in_arrears(self) -> tuple[DuesRow, ...]:
        return tuple(row for row in self.rows if row.arrears_months)


@dataclass(frozen=True)
class ThoughtReportRow:
    member_id: int
    name: str
    total: int
    written: int


@dataclass(frozen=True)
class ThoughtReportSummary:
    total: int = 0
    written: int = 0
    members_reported: int = 0
    members_total: int = 0
    rows: tuple[ThoughtReportRow, ...] = ()


@dataclass(frozen=True)
class CandidateRow:
    name: str
    stage: str
    stage_label: str
    stage_started_on: dt.date
    entered_in_year: tuple[str, ...] = ()  # labels of the stages begun in the year


@dataclass(frozen=True)
class ProbationaryRow:
    member_id: int
    name: str
    joined_on: dt.date | None
    full_member_on: dt.date | None  # when they became a full member in the year, else None
    written_reports: int


@dataclass(frozen=True)
class CultivationSummary:
    candidates: tuple[CandidateRow, ...] = ()
    stage_counts: tuple[LabelCount, ...] = ()
    opinions: int = 0
    probationary: tuple[ProbationaryRow, ...] = ()


@dataclass(frozen=True)
class FindingRow:
    rule_id: str
    severity: str
    severity_label: str
    object_label: str
    message: str
    article: str


@dataclass(frozen=True)
class AnnualReportData:
    """Everything the annual report prints about one group's year, as plain values (R-34)."""

    group_id: int
    group_name: str
    branch_id: int
    branch_name: str
    organisation_name: str
    year: int
    as_of: dt.date
    leaders: tuple[str, ...] = ()
    members_at_start: int = 0
    members_at_end: int = 0
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    months: tuple[MonthFigures, ...] = ()
    kinds: tuple[LabelCount, ...] = ()
    attendance: tuple[MemberAttendance, ...] = ()
    topics: tuple[TopicRow, ...] = ()
    topic_categories: tuple[LabelCount, ...] = ()
    actions: ActionSummary = ActionSummary()
    talks: TalkSummary = TalkSummary()
    evaluations: EvaluationSummary = EvaluationSummary()
    dues: DuesSummary = DuesSummary()
    thought_reports: ThoughtReportSummary = ThoughtReportSummary()
    cultivation: CultivationSummary = CultivationSummary()
    findings: tuple[FindingRow, ...] = ()

    @property
    def meetings_held(self) -> int:
        return sum(m.meetings_held for m in self.months)

    @property
    def group_meetings_held(self) -> int:
        return sum(m.group_meetings_held for m in self.months)

    @property
    def group_meeting_months(self) -> int:
        return sum(1 for m in self.months if m.group_meetings_held)

    @property
    def present(self) -> int:
        return sum(m.present for m in self.months)

    @property
    def expected(self) -> int:
        return sum(m.expected for m in self.months)

    @property
    def attendance_rate(self) -> float | None:
        return ratio(self.present, self.expected)

    @property
    def attendance_rate_label(self) -> str:
        return ratio_label(self.present, self.expected)

    @property
    def leading_cadres(self) -> tuple[MemberAttendance, ...]:
        return tuple(row for row in self.attendance if row.is_leading_cadre)

    def kind_count(self, kind: str) -> int:
        return next((k.count for k in self.kinds if k.code == kind), 0)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (dates ISO, amounts as strings), with the snapshot version."""
        return {"version": SNAPSHOT_VERSION, "data": _to_json(self)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AnnualReportData:
        if value.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"年度报告数据快照的版本“{value.get('version')}”无法识别。")
        return _from_json(cls, value["data"])


def _to_json(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_json(kind: Any, value: Any) -> Any:
    """Rebuild a value of type ``kind`` (a dataclass, tuple[X, ...], date, Decimal, X | None …)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        return _from_json(kind, value)
    if origin is tuple:
        (item_kind, _ellipsis) = typing.get_args(kind)
        return tuple(_from_json(item_kind, v) for v in value)
    if is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{f.name: _from_json(hints[f.name], value[f.name]) for f in fields(kind) if f.name in value}
        )
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value


# --- Computing it ----------------------------------------------------------------------------------------
@dataclass
class _Membership:
    member_id: int
    name: str
    start: dt.date  # clipped to the year
    end: dt.date  # clipped to the year (exclusive)
    is_leading_cadre: bool
    post: str
    status: str
    joined_on: dt.date | None
    full_member_on: dt.date | None
    started_on: dt.date
    ended_on: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day < self.end


def _periods_label(ranges: list[tuple[dt.date, dt.date]]) -> str:
    return "、".join(f"{start:%m-%d}至{end - dt.timedelta(days=1):%m-%d}" for start, end in ranges)


def _group_ids(groups: Iterable[PartyGroup] | QuerySet[PartyGroup]) -> list[int]:
    if isinstance(groups, QuerySet):
        return list(groups.order_by().values_list("pk", flat=True))
    return sorted({g.pk if isinstance(g, PartyGroup) else int(g) for g in groups})


def annual_report_data(group: PartyGroup, year: int, *, as_of: dt.date | None = None) -> AnnualReportData:
    """One group's figures for ``year`` (the same fixed number of queries as for many groups)."""
    return annual_report_data_many([group], year, as_of=as_of)[group.pk]


def annual_report_data_many(
    groups: Iterable[PartyGroup] | QuerySet[PartyGroup],
    year: int,
    *,
    as_of: dt.date | None = None,
    findings: Iterable[Finding] | None = None,
) -> dict[int, AnnualReportData]:
    """Every group's ``AnnualReportData`` for ``year`` (group id → data), in a fixed number of queries.

    ``groups``: PartyGroup instances, ids or a queryset (not scoped here: the caller authorises).
    ``as_of``: the day "completed by the report date" is counted on (default today).
    ``findings``: already collected findings for the groups' branches on 1 January of the next year
    (the export collects them once for every branch); collected here when omitted.
    """
    ids = _group_ids(groups)
    if not ids:
        return {}
    as_of = as_of or timezone.localdate()
    first = dt.date(year, 1, 1)
    end = dt.date(year + 1, 1, 1)
    last_day = dt.date(year, 12, 31)

    group_rows = list(
        PartyGroup.objects.filter(pk__in=ids)
        .values_list(
            "pk", "name", "branch_id", "branch__name", "branch__organisation__name", "branch__ledger_start_on"
        )
        .order_by("pk")
    )

    # Who was in each group during the year (clipped to the year).
    memberships: dict[int, list[_Membership]] = defaultdict(list)
    for (
        group_id,
        member_id,
        started_on,
        ended_on,
        name,
        is_cadre,
        post,
        status,
        joined_on,
        full_on,
    ) in (
        GroupMembership.objects.filter(group_id__in=ids)
        .overlapping(first, end)
        .values_list(
            "group_id",
            "member_id",
            "started_on",
            "ended_on",
            "member__name",
            "member__is_leading_cadre",
            "member__post",
            "member__status",
            "member__joined_on",
            "member__full_member_on",
        )
        .order_by("group_id", "member__name", "member_id", "started_on")
    ):
        memberships[group_id].append(
            _Membership(
                member_id=member_id,
                name=name,
                start=max(started_on, first),
                end=min(ended_on or end, end),
                is_leading_cadre=is_cadre,
                post=post,
                status=status,
                joined_on=joined_on,
                full_member_on=full_on,
                started_on=started_on,
                ended_on=ended_on,
            )
        )

    leaders: dict[int, list[tuple[str, str, dt.date]]] = defaultdict(list)
    for group_id, role, name, started_on in (
        LeaderAppointment.objects.filter(group_id__in=ids, started_on__lt=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=first))
        .values_list("group_id", "role", "member__name", "started_on")
        .order_by("group_id", "started_on", "pk")
    ):
        leaders[group_id].append((role, name, started_on))

    held = [str(s) for s in HELD_STATES]
    meetings: dict[int, list[tuple[int, str, dt.date, str]]] = defaultdict(list)
    for meeting_id, group_id, kind, held_on, title in (
        Meeting.objects.filter(group_id__in=ids, state__in=held, held_on__gte=first, held_on__lt=end)
        .values_list("pk", "group_id", "kind", "held_on", "title")
        .order_by("group_id", "held_on", "pk")
    ):
        meetings[group_id].append((meeting_id, kind, held_on, title))

    # The rows of the groups' meetings held in the year (attendance, agenda items, matters, results).
    held_in_year = Q(
        meeting__group_id__in=ids,
        meeting__state__in=held,
        meeting__held_on__gte=first,
        meeting__held_on__lt=end,
    )

    # present at a held group meeting within one of the member's ranges for this group.
    covering = GroupMembership.objects.filter(
        member_id=OuterRef("member_id"),
        group_id=OuterRef("meeting__group_id"),
        started_on__lte=OuterRef("meeting__held_on"),
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=OuterRef("meeting__held_on")))
    present_rows = Attendance.objects.filter(
        held_in_year,
        role=AttendanceRole.PRESENT,
        member__isnull=False,
        meeting__kind=MeetingKind.GROUP_MEETING,
    ).filter(Exists(covering))
    present_by_member: dict[tuple[int, int], int] = {
        (group_id, member_id): n
        for group_id, member_id, n in present_rows.values("meeting__group_id", "member_id")
        .annotate(n=Count("pk"))
        .values_list("meeting__group_id", "member_id", "n")
        .order_by()
    }
    present_by_month: dict[tuple[int, int], int] = {
        (group_id, month): n
        for group_id, month, n in present_rows.annotate(month=ExtractMonth("meeting__held_on"))
        .values("meeting__group_id", "month")
        .annotate(n=Count("pk"))
        .values_list("meeting__group_id", "month", "n")
        .order_by()
    }

    topics: dict[int, list[TopicRow]] = defaultdict(list)
    for group_id, held_on, kind, meeting_title, title, category in (
        AgendaItem.objects.filter(held_in_year)
        .values_list(
            "meeting__group_id", "meeting__held_on", "meeting__kind", "meeting__title", "title", "category"
        )
        .order_by("meeting__group_id", "meeting__held_on", "meeting_id", "number")
    ):
        topics[group_id].append(
            TopicRow(
                held_on=held_on,
                kind_label=_label(MeetingKind, kind),
                meeting_title=meeting_title,
                title=title,
                category=category,
                category_label=_label(TopicCategory, category),
            )
        )

    actions: dict[int, list[tuple[str, str, dt.date, str, dt.date | None]]] = defaultdict(list)
    for group_id, description, owner, due_on, status, completed_on in (
        ActionItem.objects.filter(held_in_year)
        .values_list("meeting__group_id", "description", "owner__name", "due_on", "status", "completed_on")
        .order_by("meeting__group_id", "due_on", "pk")
    ):
        actions[group_id].append((description, owner, due_on, status, completed_on))

    talks: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for group_id, initiator_id, partner_id in (
        Talk.objects.filter(group_id__in=ids, talked_on__gte=first, talked_on__lt=end)
        .values_list("group_id", "initiator_id", "partner_id")
        .order_by()
    ):
        talks[group_id].append((initiator_id, partner_id))

    evaluations: dict[int, list[tuple[int, dt.date, str, str]]] = defaultdict(list)
    for group_id, meeting_id, held_on, name, grade in (
        EvaluationResult.objects.filter(held_in_year, meeting__kind=MeetingKind.EVALUATION)
        .values_list("meeting__group_id", "meeting_id", "meeting__held_on", "member__name", "peer_result")
        .order_by("meeting__group_id", "meeting__held_on", "member__name", "pk")
    ):
        evaluations[group_id].append((meeting_id, held_on, name, grade))

    # the members at the year's end, as groups.selectors.group_dues_arrears counts them.
    at_end_ids = sorted({m.member_id for ms in memberships.values() for m in ms if m.covers(last_day)})
    paid: dict[int, tuple[Decimal, int]] = {
        member_id: (total or Decimal("0.00"), months)
        for member_id, total, months in DuesPayment.objects.filter(
            member_id__in=at_end_ids, month__gte=first, month__lt=end
        )
        .values("member_id")
        .annotate(total=Sum("amount_paid"), months=Count("pk"))
        .values_list("member_id", "total", "months")
        .order_by()
    }
    arrears = dues_arrears_for(at_end_ids, on=end, since=first) if at_end_ids else {}

    # reports received in the year while the member was in the group (one join, aggregated).
    reports: dict[tuple[int, int], tuple[int, int]] = {
        (group_id, member_id): (total, written)
        for group_id, member_id, total, written in GroupMembership.objects.filter(group_id__in=ids)
        .filter(
            Q(ended_on__isnull=True) | Q(member__thought_reports__received_on__lt=F("ended_on")),
            Q(member__thought_reports__received_on__gte=F("started_on")),
            member__thought_reports__received_on__gte=first,
            member__thought_reports__received_on__lt=end,
        )
        .values("group_id", "member_id")
        .annotate(
            total=Count("member__thought_reports"),
            written=Count(
                "member__thought_reports",
                filter=Q(member__thought_reports__kind=ThoughtReportKind.WRITTEN),
            ),
        )
        .values_list("group_id", "member_id", "total", "written")
        .order_by()
    }

    stages: dict[int, dict[int, list[tuple[str, str, dt.date]]]] = defaultdict(dict)
    for candidate_id, group_id, name, stage, started_on in (
        CultivationStage.objects.filter(candidate__group_id__in=ids, started_on__lt=end)
        .values_list("candidate_id", "candidate__group_id", "candidate__name", "stage", "started_on")
        .order_by("candidate__group_id", "candidate__name", "candidate_id", "started_on", "pk")
    ):
        stages[group_id].setdefault(candidate_id, []).append((name, stage, started_on))
    opinions = dict(
        CultivationOpinion.objects.filter(
            meeting__group_id__in=ids, meeting__held_on__gte=first, meeting__held_on__lt=end
        )
        .values("meeting__group_id")
        .annotate(n=Count("pk"))
        .values_list("meeting__group_id", "n")
        .order_by()
    )

    if findings is None:
        branch_ids = sorted({row[2] for row in group_rows})
        findings = collect_findings(Branch.objects.filter(pk__in=branch_ids).order_by("pk"), end)
    findings = list(findings)

    result: dict[int, AnnualReportData] = {}
    for group_id, name, branch_id, branch_name, organisation_name, ledger_start in group_rows:
        result[group_id] = _group_data(
            group_id=group_id,
            name=name,
            branch_id=branch_id,
            branch_name=branch_name,
            organisation_name=organisation_name,
            ledger_start=ledger_start,
            year=year,
            as_of=as_of,
            memberships=memberships.get(group_id, []),
            leaders=leaders.get(group_id, []),
            meetings=meetings.get(group_id, []),
            present_by_member=present_by_member,
            present_by_month=present_by_month,
            topics=topics.get(group_id, []),
            actions=actions.get(group_id, []),
            talks=talks.get(group_id, []),
            evaluations=evaluations.get(group_id, []),
            paid=paid,
            arrears=arrears,
            reports=reports,
            stages=stages.get(group_id, {}),
            opinions=opinions.get(group_id, 0),
            findings=findings,
        )
    return result


def _label_counts(choices, counts: Counter[str], *, with_zero: bool = False) -> tuple[LabelCount, ...]:
    """One ``LabelCount`` per choice in the choices' order; without ``with_zero`` only those counted."""
    return tuple(
        LabelCount(choice.value, str(choice.label), counts[choice.value])
        for choice in choices
        if with_zero or counts[choice.value]
    )


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _group_data(
    *,
    group_id: int,
    name: str,
    branch_id: int,
    branch_name: str,
    organisation_name: str,
    ledger_start: dt.date | None,
    year: int,
    as_of: dt.date,
    memberships: list[_Membership],
    leaders: list[tuple[str, str, dt.date]],
    meetings: list[tuple[int, str, dt.date, str]],
    present_by_member: dict[tuple[int, int], int],
    present_by_month: dict[tuple[int, int], int],
    topics: list[TopicRow],
    actions: list[tuple[str, str, dt.date, str, dt.date | None]],
    talks: list[tuple[int, int]],
    evaluations: list[tuple[int, dt.date, str, str]],
    paid: dict[int, tuple[Decimal, int]],
    arrears: dict,
    reports: dict[tuple[int, int], tuple[int, int]],
    stages: dict[int, list[tuple[str, str, dt.date]]],
    opinions: int,
    findings: list[Finding],
) -> AnnualReportData:
    first = dt.date(year, 1, 1)
    end = dt.date(year + 1, 1, 1)
    last_day = dt.date(year, 12, 31)

    by_member: dict[int, list[_Membership]] = defaultdict(list)
    for m in memberships:
        by_member[m.member_id].append(m)
    people = sorted(by_member.values(), key=lambda ms: (ms[0].name, ms[0].member_id))
    at_end = [ms[0] for ms in people if any(m.covers(last_day) for m in ms)]
    at_start = [ms[0] for ms in people if any(m.covers(first) for m in ms)]

    # Meetings per month and kind; expected attendance per group meeting.
    group_meeting_days = sorted(day for _pk, kind, day, _t in meetings if kind == MeetingKind.GROUP_MEETING)
    held_per_month = [0] * 13
    group_per_month = [0] * 13
    expected_per_month = [0] * 13
    kind_counts: Counter[str] = Counter()
    for _pk, kind, day, _title in meetings:
        held_per_month[day.month] += 1
        kind_counts[kind] += 1
        if kind == MeetingKind.GROUP_MEETING:
            group_per_month[day.month] += 1
            expected_per_month[day.month] += sum(1 for m in memberships if m.covers(day))
    months = tuple(
        MonthFigures(
            month=month,
            meetings_held=held_per_month[month],
            group_meetings_held=group_per_month[month],
            present=present_by_month.get((group_id, month), 0),
            expected=expected_per_month[month],
        )
        for month in range(1, 13)
    )
    kinds = _label_counts(MeetingKind, kind_counts, with_zero=True)

    attendance = []
    for ms in people:
        expected = sum(
            bisect.bisect_left(group_meeting_days, m.end) - bisect.bisect_left(group_meeting_days, m.start)
            for m in ms
        )
        attendance.append(
            MemberAttendance(
                member_id=ms[0].member_id,
                name=ms[0].name,
                periods=_periods_label([(m.start, m.end) for m in ms]),
                present=present_by_member.get((group_id, ms[0].member_id), 0),
                expected=expected,
                is_leading_cadre=ms[0].is_leading_cadre,
                post=ms[0].post,
            )
        )

    topic_categories = _label_counts(TopicCategory, Counter(topic.category for topic in topics))

    done = ActionItemStatus.DONE
    action_summary = ActionSummary(
        decided=len(actions),
        done_by_year_end=sum(1 for a in actions if a[3] == done and a[4] is not None and a[4] < end),
        done_by_as_of=sum(1 for a in actions if a[3] == done and a[4] is not None and a[4] <= as_of),
        dropped=sum(1 for a in actions if a[3] == ActionItemStatus.DROPPED),
        unfinished=tuple(
            ActionRow(description=d, owner=o, due_on=due, status_label=_label(ActionItemStatus, s))
            for d, o, due, s, _c in actions
            if s in OPEN_ACTION_STATUSES
        ),
    )

    member_ids = {ms[0].member_id for ms in people}
    covered = {pk for pair in talks for pk in pair if pk in member_ids}
    talk_summary = TalkSummary(
        count=len(talks),
        members_covered=len(covered),
        members_total=len(member_ids),
        not_covered=tuple(ms[0].name for ms in people if ms[0].member_id not in covered),
    )

    evaluation_summary = EvaluationSummary(
        meetings=len({meeting_id for meeting_id, *_rest in evaluations}),
        results=tuple(
            EvaluationRow(held_on=day, name=n, grade=g, grade_label=_label(EvaluationGrade, g))
            for _m, day, n, g in evaluations
        ),
        grade_counts=_label_counts(EvaluationGrade, Counter(grade for _m, _d, _n, grade in evaluations)),
    )

    dues_rows = []
    for member in at_end:
        total, paid_months = paid.get(member.member_id, (Decimal("0.00"), 0))
        tracked_from = tracking_start(member.joined_on, ledger_start)
        member_arrears = arrears.get(member.member_id)
        months_due = (
            [m for m in member_arrears.months if tracked_from is not None and m >= tracked_from]
            if member_arrears is not None
            else []
        )
        dues_rows.append(
            DuesRow(
                member_id=member.member_id,
                name=member.name,
                paid_months=paid_months,
                paid_total=Decimal(total).quantize(Decimal("0.01")),
                arrears_months=len(months_due),
                arrears_label=month_ranges_label(months_due),
            )
        )
    dues_summary = DuesSummary(
        tracked=ledger_start is not None and ledger_start < end,
        members=len(dues_rows),
        paid_months=sum(r.paid_months for r in dues_rows),
        paid_total=sum((r.paid_total for r in dues_rows), Decimal("0.00")),
        arrears_months=sum(r.arrears_months for r in dues_rows),
        rows=tuple(dues_rows),
    )

    report_rows = tuple(
        ThoughtReportRow(
            member_id=ms[0].member_id,
            name=ms[0].name,
            total=reports.get((group_id, ms[0].member_id), (0, 0))[0],
            written=reports.get((group_id, ms[0].member_id), (0, 0))[1],
        )
        for ms in people
    )
    report_summary = ThoughtReportSummary(
        total=sum(r.total for r in report_rows),
        written=sum(r.written for r in report_rows),
        members_reported=sum(1 for r in report_rows if r.total),
        members_total=len(report_rows),
        rows=report_rows,
    )

    candidates = []
    for history in stages.values():
        cand_name, stage, started_on = history[-1]
        entered = tuple(_label(CultivationStageKind, s) for _n, s, day in history if day >= first)
        if not entered and stage not in _OPEN_STAGES:
            continue
        candidates.append(
            CandidateRow(
                name=cand_name,
                stage=stage,
                stage_label=_label(CultivationStageKind, stage),
                stage_started_on=started_on,
                entered_in_year=entered,
            )
        )
    probationary = []
    for ms in people:
        member = ms[0]
        if _probationary_while_in_group(ms, first, end):
            full_on = member.full_member_on
            probationary.append(
                ProbationaryRow(
                    member_id=member.member_id,
                    name=member.name,
                    joined_on=member.joined_on,
                    full_member_on=full_on if full_on is not None and first <= full_on < end else None,
                    written_reports=reports.get((group_id, member.member_id), (0, 0))[1],
                )
            )
    cultivation = CultivationSummary(
        candidates=tuple(candidates),
        stage_counts=_label_counts(CultivationStageKind, Counter(c.stage for c in candidates)),
        opinions=opinions,
        probationary=tuple(probationary),
    )

    at_end_ids = {m.member_id for m in at_end}
    group_findings = tuple(
        FindingRow(
            rule_id=f.rule_id,
            severity=f.severity,
            severity_label=f.severity_label,
            object_label=f.object_label,
            message=f.message,
            article=f.article,
        )
        for f in findings
        if (f.object_type == "group" and f.object_id == group_id)
        or (f.object_type == "member" and f.object_id in at_end_ids and f.branch_id == branch_id)
    )

    leader_names = []
    for role, leader_name, _started in sorted(leaders, key=lambda r: (r[0] != LeaderRole.LEADER, r[2])):
        label = f"{leader_name}（{_ROLE_LABELS.get(role, role)}）"
        if label not in leader_names:
            leader_names.append(label)

    return AnnualReportData(
        group_id=group_id,
        group_name=name,
        branch_id=branch_id,
        branch_name=branch_name,
        organisation_name=organisation_name,
        year=year,
        as_of=as_of,
        leaders=tuple(leader_names),
        members_at_start=len(at_start),
        members_at_end=len(at_end),
        joined=tuple(ms[0].name for ms in people if any(first < m.started_on < end for m in ms)),
        left=tuple(
            ms[0].name
            for ms in people
            if any(m.ended_on is not None and first < m.ended_on < end for m in ms)
        ),
        months=months,
        kinds=kinds,
        attendance=tuple(attendance),
        topics=tuple(topics),
        topic_categories=topic_categories,
        actions=action_summary,
        talks=talk_summary,
        evaluations=evaluation_summary,
        dues=dues_summary,
        thought_reports=report_summary,
        cultivation=cultivation,
        findings=group_findings,
    )


def _probationary_while_in_group(ranges: list[_Membership], first: dt.date, end: dt.date) -> bool:
    """R-22: probationary (预备党员) on some day of the year while in the group."""
    member = ranges[0]
    if member.joined_on is None or member.joined_on >= end:
        return False
    if member.status == MemberStatus.FULL and member.full_member_on is None:
        return False  # a full member whose date of full membership is unknown
    probation_end = member.full_member_on or end
    start = max(member.joined_on, first)
    return any(max(start, m.start) < min(probation_end, m.end) for m in ranges)


# --- The leader's narrative, prefilled ----------------------------------------------------------------
def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


def draft_sections(data: AnnualReportData) -> dict[str, str]:
    """Generated sentences for the narrative sections (一、基本情况 … 四、下一年打算), from the figures;
    the leader changes them before submitting."""
    year = data.year
    leaders = "、".join(data.leaders) or "未配备"
    basic = (
        f"{data.group_name}隶属{data.branch_name}。{year}年初有党员{data.members_at_start}名，"
        f"年末有党员{data.members_at_end}名"
    )
    changes = []
    if data.joined:
        changes.append(f"年内编入{'、'.join(data.joined)}")
    if data.left:
        changes.append(f"调出{'、'.join(data.left)}")
    basic += f"（{'，'.join(changes)}）" if changes else ""
    basic += f"。党小组组长（副组长）：{leaders}。"

    kinds = "，".join(f"{k.label}{k.count}次" for k in data.kinds if k.count)
    work = [
        f"全年召开各类会议{data.meetings_held}次" + (f"，其中{kinds}" if kinds else "") + "；"
        f"{data.group_meeting_months}个月召开了党小组会，党员参加党小组会出勤率{data.attendance_rate_label}。"
    ]
    if data.topics:
        categories = "、".join(f"{c.label}{c.count}项" for c in data.topic_categories)
        work.append(f"会议共研究议题{len(data.topics)}项（{categories}）。")
    if data.actions.decided:
        work.append(
            f"会议议定事项{data.actions.decided}项，年底前完成{data.actions.done_by_year_end}项，"
            f"截至报告日完成{data.actions.done_by_as_of}项。"
        )
    work.append(
        f"开展谈心谈话{data.talks.count}次，覆盖党员{data.talks.members_covered}/{data.talks.members_total}名。"
    )
    if data.evaluations.meetings:
        grades = "、".join(f"{g.label}{g.count}名" for g in data.evaluations.grade_counts)
        work.append(f"开展民主评议党员{data.evaluations.meetings}次，评议结果：{grades}。")
    work.append(
        f"收到党员思想汇报{data.thought_reports.total}份（其中书面汇报{data.thought_reports.written}份）。"
    )
    if data.dues.tracked:
        work.append(
            f"收缴党费{_yuan(data.dues.paid_total)}（{data.dues.paid_months}人月），"
            + (
                f"年末有{len(data.dues.in_arrears)}名党员欠交党费共{data.dues.arrears_months}个月。"
                if data.dues.arrears_months
                else "年末无欠交党费。"
            )
        )
    if data.cultivation.candidates or data.cultivation.probationary:
        stages = "、".join(f"{s.label}{s.count}名" for s in data.cultivation.stage_counts)
        text = "协助党支部培养" + (stages if stages else "入党积极分子")
        if data.cultivation.probationary:
            text += f"，考察预备党员{len(data.cultivation.probationary)}名"
        work.append(text + "。")

    problems = [f"{i}. {f.message}" for i, f in enumerate(data.findings, 1)]
    if data.actions.unfinished:
        problems.append(f"{len(problems) + 1}. 尚有{len(data.actions.unfinished)}项议定事项未完成。")
    if not problems:
        problems = ["对照党小组工作规则，本年度未发现突出问题。"]

    plans = [
        f"1. 年初制定{year + 1}年度计划，按月召开党小组会，会前向党支部请示、会后及时报告。",
        "2. 加强理论学习，认真开展组织生活会和民主评议党员。",
        "3. 经常开展谈心谈话，督促党员按时汇报思想、按月交纳党费。",
    ]
    if data.actions.unfinished:
        plans.append(f"4. 抓好{len(data.actions.unfinished)}项未完成议定事项的落实。")
    return {
        "basic_situation": basic,
        "main_work": "".join(work),
        "problems": "\n".join(problems),
        "next_year_plans": "\n".join(plans),
    }
