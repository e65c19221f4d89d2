"""Rule checks for members' ongoing duties (R-30 thought reports, R-31 dues, R-33 points rating).

Pure functions over plain values: no database, no request. The model ``clean()`` methods and the
services call the ``*_problems`` functions (bad input → Chinese messages per field, nothing saved);
``members.findings`` loads facts for many branches and calls the ``check_*`` functions.

Definitions (docs/rules.md, R-30/R-31):

- **Tracked months.** A branch keeps these ledgers in the system from ``Branch.ledger_start_on``
  (党员台账启用日期). A member's duties are counted from their *tracking start*: the later of the
  month they joined (``Member.joined_on``, when known) and the month of the ledger start. A branch
  without a ledger start keeps no such ledgers here: nothing is due, nothing is overdue (no R-30 or
  R-31 findings; the selectors still answer for an explicit ``since``). A month is a *membership
  month* when it is not before the joining month and begins before ``left_on``.
- **Dues (R-31).** Each membership month from the tracking start up to the month before the check
  day (the current month is still being collected) is *due*. A due month is *settled* when its
  ``DuesPayment`` has ``amount_paid >= amount_due``; every other due month is *in arrears* (no
  record, or paid less: the shortfall is added up).
- **Thought reports (R-30).** A member reports at least every ``thought_report_interval_months``
  (3: "monthly, at most quarterly"): a report (or the tracking start) in January is due again by the
  end of April and overdue from 1 May. A probationary member hands in a WRITTEN report in every
  calendar-aligned block of ``probationary_report_interval_months`` (3: quarters); on the check day
  the last complete block is checked (a written report received in it or since counts), once the
  member has been tracked since that block began.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from members.enums import MemberStatus
from partygroup.findings import Finding, Severity, make_finding
from partygroup.months import (
    add_months,
    block_start,
    month_label,
    month_ranges_label,
    month_start,
    months_between,
)

# more than this for ONE month is absurd (a typo such as 12000 for 120.00) and refused, unless
# the payment is marked as a voluntary one-off large payment (一次性交纳大额党费). The amount due is
# never above it: 10,000 元 a month would mean a monthly income of half a million.
DUES_MONTHLY_MAX = Decimal("10000.00")
# dues may be paid in advance (预交), generally not more than a year ahead.
DUES_PREPAY_MONTHS = 12


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


# --- Tracking ------------------------------------------------------------------------------------
def tracking_start(joined_on: dt.date | None, ledger_start_on: dt.date | None) -> dt.date | None:
    """First month a member's duties are counted: the later of the joining month and the branch's
    ledger start; None (not tracked) when the branch has no ledger start."""
    if ledger_start_on is None:
        return None
    if joined_on is None:
        return month_start(ledger_start_on)
    return max(month_start(joined_on), month_start(ledger_start_on))


def is_probationary_on(
    *, status: str, joined_on: dt.date | None, full_member_on: dt.date | None, on: dt.date
) -> bool:
    """A probationary member (预备党员) on day ``on``: joined by then and not yet a full member."""
    if joined_on is None or joined_on > on:
        return False
    return not (status == MemberStatus.FULL and (full_member_on is None or full_member_on <= on))


def is_membership_month(month: dt.date, joined_on: dt.date | None, left_on: dt.date | None) -> bool:
    if joined_on is not None and month < month_start(joined_on):
        return False
    return left_on is None or month < left_on


# --- R-31 dues: bad input --------------------------------------------------------------------------
def dues_problems(
    *,
    month: dt.date | None,
    amount_due: Decimal | None,
    amount_paid: Decimal | None,
    paid_on: dt.date | None,
    is_lump_sum: bool,
    joined_on: dt.date | None,
    left_on: dt.date | None,
    today: dt.date,
) -> dict[str, list[str]]:
    """Why one month's dues payment cannot be recorded: field → Chinese messages (empty: fine)."""
    errors: dict[str, list[str]] = {}

    def bad(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if amount_due is not None:
        if amount_due < 0:
            bad("amount_due", "应交金额不能为负数。")
        elif amount_due > DUES_MONTHLY_MAX:
            bad("amount_due", f"应交金额{yuan(amount_due)}超过每月上限{yuan(DUES_MONTHLY_MAX)}，请核对。")
    if amount_paid is not None:
        if amount_paid < 0:
            bad("amount_paid", "实交金额不能为负数。")
        elif amount_paid > DUES_MONTHLY_MAX and not is_lump_sum:
            bad(
                "amount_paid",
                f"实交金额{yuan(amount_paid)}超过每月上限{yuan(DUES_MONTHLY_MAX)}，请核对；"
                "如为党员自愿一次性交纳大额党费，请注明“一次性交纳大额党费”。",
            )
        elif amount_paid == 0 and amount_due is not None and amount_due > 0:
            bad("amount_paid", "实交金额为0：未交纳的月份不必登记，系统会自动列为欠交（R-31）。")
    if paid_on is not None and paid_on > today:
        bad("paid_on", "交纳日期不能晚于今天。")
    if month is not None:
        if month.day != 1:
            bad("month", "月份应记为该月的第一天。")
        label = month_label(month_start(month))
        if joined_on is not None and month_start(month) < month_start(joined_on):
            bad("month", f"{label}在该党员入党（{joined_on:%Y-%m-%d}）之前，不能登记党费。")
        if left_on is not None and month_start(month) >= left_on:
            bad("month", f"该党员已于{left_on:%Y-%m-%d}离册，不能登记{label}的党费。")
        if paid_on is not None and month_start(month) > add_months(paid_on, DUES_PREPAY_MONTHS):
            last = add_months(paid_on, DUES_PREPAY_MONTHS)
            bad(
                "month",
                f"预交党费一般不超过一年：{paid_on:%Y-%m-%d}交纳的党费最多预交至{month_label(last)}。",
            )
    return errors


# --- R-31 dues: arrears ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DuesArrears:
    """A member's months in arrears (R-31) between ``first`` and ``last`` (both months, inclusive)."""

    member_id: int
    first: dt.date | None
    last: dt.date | None
    months: tuple[dt.date, ...] = ()
    shortfall: Decimal = Decimal("0.00")  # what months paid in part still lack
    due_months: int = 0

    @property
    def count(self) -> int:
        return len(self.months)

    @property
    def label(self) -> str:
        return month_ranges_label(self.months)


def dues_due_months(
    *, start: dt.date | None, joined_on: dt.date | None, left_on: dt.date | None, on: dt.date
) -> list[dt.date]:
    """The membership months from ``start`` to the month before ``on`` (the current month is open)."""
    if start is None:
        return []
    first = month_start(start)
    if joined_on is not None:
        first = max(first, month_start(joined_on))  # is_membership_month: not before joining
    months = _month_range(first, add_months(on, -1))
    if left_on is not None:
        return [month for month in months if month < left_on]  # nor from the month of leaving
    return list(months)


@lru_cache(maxsize=4096)
def _month_range(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """The months from ``first`` to ``last`` (inclusive; bounded). Cached: the members of a branch
    mostly share their first month (the ledger start), and the overview checks a thousand of them."""
    return tuple(months_between(first, last)) if first <= last else ()


def dues_arrears(
    *,
    member_id: int,
    start: dt.date | None,
    joined_on: dt.date | None,
    left_on: dt.date | None,
    on: dt.date,
    payments: Mapping[dt.date, tuple[Decimal, Decimal]],
    due: list[dt.date] | None = None,
) -> DuesArrears:
    """Arrears of one member on day ``on``; ``payments`` maps month → (amount due, amount paid).
    ``due``: the member's ``dues_due_months`` when the caller has them already."""
    if due is None:
        due = dues_due_months(start=start, joined_on=joined_on, left_on=left_on, on=on)
    months: list[dt.date] = []
    shortfall = Decimal("0.00")
    for month in due:
        payment = payments.get(month)
        if payment is None:
            months.append(month)
            continue
        amount_due, amount_paid = payment
        if amount_paid < amount_due:
            months.append(month)
            shortfall += amount_due - amount_paid
    return DuesArrears(
        member_id=member_id,
        first=due[0] if due else None,
        last=due[-1] if due else None,
        months=tuple(months),
        shortfall=shortfall,
        due_months=len(due),
    )


@dataclass(frozen=True)
class MemberDutyFacts:
    """What the R-30/R-31 checks need to know of a member on the check day."""

    id: int
    name: str
    branch_id: int
    joined_on: dt.date | None
    left_on: dt.date | None
    is_probationary: bool  # a probationary member (预备党员) on the day checked
    tracked_from: dt.date | None  # ``tracking_start``


def check_dues_arrears(*, member: MemberDutyFacts, arrears: DuesArrears, rule_set) -> list[Finding]:
    """R-31 (advisory): a member with unpaid (or part-paid) months, naming the months."""
    if not arrears.months:
        return []
    message = f"党员“{member.name}”{arrears.label}的党费未交齐（共{arrears.count}个月）"
    if arrears.shortfall:
        message += f"，其中少交{yuan(arrears.shortfall)}"
    return [
        make_finding(
            "R-31",
            severity=Severity.ADVISORY,
            obj_type="member",
            obj_id=member.id,
            label=member.name,
            message=message + "。",
            rule_set=rule_set,
            branch_id=member.branch_id,
            months=[m.isoformat() for m in arrears.months],
        )
    ]


# --- R-30 thought reports ----------------------------------------------------------------------------
def thought_report_problems(
    *,
    received_on: dt.date | None,
    period_start: dt.date | None,
    period_end: dt.date | None,
    joined_on: dt.date | None,
    left_on: dt.date | None,
    today: dt.date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def bad(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if received_on is not None:
        if received_on > today:
            bad("received_on", "汇报日期不能晚于今天。")
        if joined_on is not None and received_on < joined_on:
            bad(
                "received_on",
                f"汇报日期早于该党员入党日期（{joined_on:%Y-%m-%d}）：入党前的思想汇报请记入培养对象。",
            )
        if left_on is not None and received_on >= left_on:
            bad("received_on", f"该党员已于{left_on:%Y-%m-%d}离册。")
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if value is not None and value.day != 1:
            bad(name, "汇报期间应按月填写（记为该月第一天）。")
    if period_start is not None and period_end is not None and period_start > period_end:
        bad("period_end", "汇报期间的结束月份不能早于开始月份。")
    if (
        period_end is not None
        and received_on is not None
        and month_start(period_end) > month_start(received_on)
    ):
        bad("period_end", "汇报期间不能晚于汇报日期所在月份。")
    return errors


@dataclass(frozen=True)
class ThoughtReportStatus:
    """Where a member stands with R-30 on a day: what was received, what is due, whether it is late."""

    member_id: int
    last_report: dt.date | None
    last_written: dt.date | None
    due_by: dt.date | None  # the last day of the month by which the next report is due
    overdue: bool
    written_block: tuple[dt.date, dt.date] | None = None  # the block checked for a probationary member
    written_overdue: bool = False
    base: dt.date | None = field(default=None, compare=False)


def block_label(first: dt.date, last: dt.date) -> str:
    """2025年第一季度 for a calendar quarter, else the months (2025年1月至2月)."""
    if first.month % 3 == 1 and add_months(first, 2) == last:
        return f"{first.year}年第{'一二三四'[(first.month - 1) // 3]}季度"
    return month_ranges_label(months_between(first, last))


def thought_report_status(
    *,
    member: MemberDutyFacts,
    last_report: dt.date | None,
    last_written: dt.date | None,
    on: dt.date,
    rule_set,
) -> ThoughtReportStatus:
    """R-30 for one member on day ``on`` (reports received after ``on`` are not passed in)."""
    interval = max(1, rule_set.thought_report_interval_months)
    base = last_report or member.tracked_from
    due_from = add_months(base, interval + 1) if base is not None else None
    # Not tracked (no ledger start): nothing is overdue.
    overdue = member.tracked_from is not None and due_from is not None and on >= due_from
    due_by = due_from - dt.timedelta(days=1) if due_from is not None else None
    written_block = None
    written_overdue = False
    if member.is_probationary and member.tracked_from is not None:
        size = max(1, rule_set.probationary_report_interval_months)
        first = add_months(block_start(on, size), -size)
        if member.tracked_from <= first:
            written_block = (first, add_months(first, size - 1))
            written_overdue = last_written is None or last_written < first
    return ThoughtReportStatus(
        member_id=member.id,
        last_report=last_report,
        last_written=last_written,
        due_by=due_by,
        overdue=overdue,
        written_block=written_block,
        written_overdue=written_overdue,
        base=base,
    )


def check_thought_reports(
    *,
    member: MemberDutyFacts,
    last_report: dt.date | None,
    last_written: dt.date | None,
    on: dt.date,
    rule_set,
) -> list[Finding]:
    """R-30 (advisory): at most one finding per member — the probationary member's missing written
    report of the last complete quarter, else a report overdue under the rule set's interval."""
    status = thought_report_status(
        member=member, last_report=last_report, last_written=last_written, on=on, rule_set=rule_set
    )
    common = {
        "severity": Severity.ADVISORY,
        "obj_type": "member",
        "obj_id": member.id,
        "label": member.name,
        "rule_set": rule_set,
        "branch_id": member.branch_id,
    }
    if status.written_overdue and status.written_block is not None:
        first, last = status.written_block
        size = max(1, rule_set.probationary_report_interval_months)
        period = block_label(first, last)
        since = f"上次书面汇报于{last_written:%Y-%m-%d}" if last_written else "尚无书面汇报记录"
        expectation = "每季度" if size == 3 else f"每{size}个月"
        return [
            make_finding(
                "R-30",
                message=f"预备党员“{member.name}”{period}没有书面思想汇报（预备党员{expectation}一次书面汇报；{since}）。",
                **common,
            )
        ]
    if status.overdue:
        interval = max(1, rule_set.thought_report_interval_months)
        since = f"上次汇报于{last_report:%Y-%m-%d}" if last_report else "尚无思想汇报记录"
        return [
            make_finding(
                "R-30",
                message=f"党员“{member.name}”已超过{interval}个月没有向党小组汇报思想和工作情况（{since}）。",
                **common,
            )
        ]
    return []


# --- R-33 points rating ------------------------------------------------------------------------------
def points_rating_refusal(*, rule_set, member_id: int, member_name: str, branch_id: int) -> list[Finding]:
    """R-33 (hard while switched off): points rating is an optional module of the rule set."""
    if rule_set.points_rating_enabled:
        return []
    return [
        make_finding(
            "R-33",
            severity=Severity.VIOLATION,
            obj_type="member",
            obj_id=member_id,
            label=member_name,
            message=f"本组织适用的规则集“{rule_set.name}”未启用党员积分定等，不能登记“{member_name}”的积分。",
            rule_set=rule_set,
            branch_id=branch_id,
        )
    ]


def year_problems(
    *, year: int | None, joined_on: dt.date | None, left_on: dt.date | None, today: dt.date, what: str
) -> list[str]:
    """A yearly record (R-32 post, R-33 rating) only for a year the person was a member, not a future one."""
    if year is None:
        return []
    problems = []
    if year > today.year:
        problems.append(f"{what}的年度（{year}年）不能晚于今年。")
    if joined_on is not None and year < joined_on.year:
        problems.append(f"{year}年该党员尚未入党（{joined_on:%Y-%m-%d}入党）。")
    if left_on is not None and year > left_on.year:
        problems.append(f"该党员已于{left_on:%Y-%m-%d}离册，不能登记{year}年的{what}。")
    return problems
