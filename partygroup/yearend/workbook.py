"""The export's workbook (.xlsx): the year's figures per organisation, per branch and per group, and
the findings by rule (R-34 figures as ``meetings.annual_report`` computes them).

Sheets, in this order:

1. 说明 — what the workbook covers, the cut-off day, how the figures are counted.
2. 组织汇总 — one row per organisation node that holds branches of the export, with the figures of
   the branches directly under it; the 合计 row is the sum of the rows (nested nodes are their own
   rows, so nothing is counted twice).
3. 支部汇总 — one row per branch (the sum of its groups), then 合计.
4. 党小组汇总 — one row per group, then 合计.
5. 问题汇总（按规则） — findings counted by rule and severity, then 合计.
6. 问题明细 — every finding of the export's branches.

Every 合计 row is the sum of the rows above it, column by column; the attendance rate of a 合计 row
is its own present/expected (a rate is never added up). Every text cell goes through
``partygroup.exports.neutralise`` (formula injection) and loses XML-illegal control characters.
openpyxl's write-only mode keeps memory flat: group rows are written as each batch of groups is
computed, and only the branch sums stay in memory.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from groups.enums import CultivationStageKind
from meetings.enums import MeetingKind
from members.models import Branch
from partygroup.exports import neutralise
from partygroup.findings import Finding, Severity, collect_findings
from partygroup.rulebook import RULES
from partygroup.yearend import sources
from partygroup.yearend.selectors import ExportPlan

# Groups per call of annual_report_data_many (whole branches at a time): bounds memory and lets the
# builder report progress; each call runs a fixed number of queries (fewer, larger calls are faster:
# 3,000 groups take 14 s in batches of 1,000 against 18 s in batches of 200 on the loaded bench machine).
BATCH_GROUPS = 1000

SHEET_INFO = "说明"
SHEET_ORGANISATIONS = "组织汇总"
SHEET_BRANCHES = "支部汇总"
SHEET_GROUPS = "党小组汇总"
SHEET_RULES = "问题汇总（按规则）"
SHEET_FINDINGS = "问题明细"
TOTAL_LABEL = "合计"

Number = int | Decimal


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "int"  # "int", "money" (yuan, 2 decimals) or "rate" (numerator / denominator)
    numerator: str = ""
    denominator: str = ""


_CANDIDATE_STAGES = (
    CultivationStageKind.APPLICANT,
    CultivationStageKind.ACTIVIST,
    CultivationStageKind.DEVELOPMENT,
    CultivationStageKind.PROBATIONARY,
)

# The figures of a group, branch or organisation row, in column order (R-34's list).
FIGURE_COLUMNS: tuple[Column, ...] = (
    Column("members_at_end", "党员数（截至日）"),
    *(Column(f"month_{m}", f"{m}月党小组会") for m in range(1, 13)),
    Column("group_meeting_months", "召开党小组会的月数"),
    Column(f"kind_{MeetingKind.GROUP_MEETING}", "党小组会（次）"),
    Column(f"kind_{MeetingKind.LIFE_MEETING}", "组织生活会（次）"),
    Column(f"kind_{MeetingKind.EVALUATION}", "民主评议党员会议（次）"),
    Column(f"kind_{MeetingKind.PARTY_DAY}", "主题党日（次）"),
    Column("expected", "应参会人次"),
    Column("present", "实参会人次"),
    Column("attendance_rate", "参会率", "rate", "present", "expected"),
    Column("actions_decided", "议定事项（项）"),
    Column("actions_done", "年内完成（项）"),
    Column("talks", "谈心谈话（次）"),
    Column("talk_members_covered", "谈心谈话覆盖党员（人）"),
    Column("evaluated", "参加民主评议党员（人次）"),
    Column("dues_paid_total", "已交党费（元）", "money"),
    Column("dues_paid_months", "已交党费（人月）"),
    Column("dues_arrears_months", "欠交党费（人月）"),
    Column("dues_arrears_members", "欠交党费党员（人）"),
    Column("thought_reports", "思想汇报（份）"),
    Column("thought_reports_written", "其中书面汇报（份）"),
    *(Column(f"stage_{stage}", f"{stage.label}（人）") for stage in _CANDIDATE_STAGES),
    Column("probationary_inspected", "考察预备党员（人）"),
    Column("violations", "违规问题（项）"),
    Column("advisories", "提醒事项（项）"),
)
SUMMED_KEYS: tuple[str, ...] = tuple(c.key for c in FIGURE_COLUMNS if c.kind != "rate")


def empty_figures() -> dict[str, Number]:
    return {key: (Decimal("0.00") if _column(key).kind == "money" else 0) for key in SUMMED_KEYS}


def _column(key: str) -> Column:
    return _COLUMNS_BY_KEY[key]


_COLUMNS_BY_KEY = {c.key: c for c in FIGURE_COLUMNS}


def group_figures(data: Any) -> dict[str, Number]:
    """One group's row from its ``AnnualReportData`` (meetings.annual_report)."""
    figures = empty_figures()
    figures["members_at_end"] = data.members_at_end
    for month in data.months:
        figures[f"month_{month.month}"] = month.group_meetings_held
    figures["group_meeting_months"] = data.group_meeting_months
    for kind in MeetingKind:
        figures[f"kind_{kind}"] = data.kind_count(kind)
    figures["expected"] = data.expected
    figures["present"] = data.present
    figures["actions_decided"] = data.actions.decided
    figures["actions_done"] = data.actions.done_by_year_end
    figures["talks"] = data.talks.count
    figures["talk_members_covered"] = data.talks.members_covered
    figures["evaluated"] = len(data.evaluations.results)
    figures["dues_paid_total"] = Decimal(data.dues.paid_total)
    figures["dues_paid_months"] = data.dues.paid_months
    figures["dues_arrears_months"] = data.dues.arrears_months
    figures["dues_arrears_members"] = len(data.dues.in_arrears)
    figures["thought_reports"] = data.thought_reports.total
    figures["thought_reports_written"] = data.thought_reports.written
    stages = {row.code: row.count for row in data.cultivation.stage_counts}
    for stage in _CANDIDATE_STAGES:
        figures[f"stage_{stage}"] = stages.get(stage, 0)
    figures["probationary_inspected"] = len(data.cultivation.probationary)
    figures["violations"] = sum(1 for f in data.findings if f.severity == Severity.VIOLATION)
    figures["advisories"] = sum(1 for f in data.findings if f.severity != Severity.VIOLATION)
    return figures


def add_into(total: dict[str, Number], figures: dict[str, Number]) -> None:
    for key in SUMMED_KEYS:
        total[key] += figures[key]


# --- Cells ----------------------------------------------------------------------------------------------
def text(value: Any) -> str:
    """A text cell: neutralised (``= + - @`` tab CR) and without XML-illegal characters."""
    value = neutralise("" if value is None else str(value))
    return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)


class _Sheet:
    """A write-only sheet with a bold header row, frozen panes and styled number cells."""

    def __init__(self, workbook: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]):
        self.ws = workbook.create_sheet(title=title)
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for header in headers:
            cell = WriteOnlyCell(self.ws, value=text(header))
            cell.font = bold
            cells.append(cell)
        self.ws.append(cells)
        self.bold = bold

    def row(self, labels: Sequence[Any], figures: dict[str, Number] | None = None, *, total: bool = False):
        """Plain values where no style is needed (much cheaper in openpyxl), styled cells otherwise."""
        cells: list[Any] = []
        for label in labels:
            value = label if isinstance(label, int) else text(label)
            cells.append(self._styled(value, bold=True) if total else value)
        if figures is not None:
            for column in FIGURE_COLUMNS:
                cells.append(self._figure_cell(column, figures, total=total))
        self.ws.append(cells)

    def _styled(self, value: Any, *, bold: bool = False, number_format: str = "") -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=value)
        if bold:
            cell.font = self.bold
        if number_format:
            cell.number_format = number_format
        return cell

    def _figure_cell(self, column: Column, figures: dict[str, Number], *, total: bool) -> Any:
        if column.kind == "rate":
            denominator = figures[column.denominator]
            value = round(figures[column.numerator] / denominator, 4) if denominator else None
            return self._styled(value, bold=total, number_format="0.0%")
        if column.kind == "money":
            return self._styled(figures[column.key], bold=total, number_format="#,##0.00")
        return self._styled(figures[column.key], bold=True) if total else figures[column.key]


def _figure_headers() -> list[str]:
    return [c.header for c in FIGURE_COLUMNS]


# --- The workbook -----------------------------------------------------------------------------------------
def collect_plan_findings(plan: ExportPlan) -> list[Finding]:
    """Every finding of the plan's branches at the end of the cut-off day (fixed number of queries)."""
    branches = Branch.objects.filter(pk__in=[b.id for b in plan.branches]).select_related("organisation")
    return collect_findings(branches.order_by("pk"), sources.findings_day(plan.as_of))


def _batches(plan: ExportPlan, size: int) -> Iterable[list]:
    """The plan's groups in order, cut into batches of whole branches of about ``size`` groups."""
    batch: list = []
    for index, group in enumerate(plan.groups):
        batch.append(group)
        following = plan.groups[index + 1] if index + 1 < len(plan.groups) else None
        if len(batch) >= size and (following is None or following.branch_id != group.branch_id):
            yield batch
            batch = []
    if batch:
        yield batch


def write_workbook(
    plan: ExportPlan,
    path: Path,
    *,
    report_as_of: dt.date,
    findings: list[Finding] | None = None,
    progress: Callable[[int], None] | None = None,
    batch_groups: int = BATCH_GROUPS,
) -> int:
    """Write the workbook to ``path`` atomically (a temporary name, then ``os.replace``); returns
    its size in bytes. ``progress(n)`` is called with the number of groups done so far."""
    if findings is None:
        findings = collect_plan_findings(plan)
    by_branch: dict[int | None, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_branch[finding.branch_id].append(finding)

    workbook = Workbook(write_only=True)
    created = timezone.localtime()
    workbook.properties.creator = "党小组工作管理系统"
    workbook.properties.title = text(_title(plan))
    info = _Sheet(workbook, SHEET_INFO, ["项目", "内容"], [18, 90])
    organisations = _Sheet(
        workbook,
        SHEET_ORGANISATIONS,
        ["上级党组织", "党支部数", "党小组数", *_figure_headers()],
        [40, 10, 10],
    )
    branches = _Sheet(
        workbook, SHEET_BRANCHES, ["上级党组织", "党支部", "党小组数", *_figure_headers()], [32, 28, 10]
    )
    groups = _Sheet(
        workbook,
        SHEET_GROUPS,
        ["上级党组织", "党支部", "党小组", "组长", *_figure_headers()],
        [28, 24, 20, 20],
    )
    rules = _Sheet(workbook, SHEET_RULES, ["规则", "内容", "违规", "提醒", "合计"], [8, 40, 8, 8, 8])
    details = _Sheet(
        workbook,
        SHEET_FINDINGS,
        ["上级党组织", "党支部", "规则", "类别", "对象", "问题", "依据"],
        [28, 24, 8, 8, 20, 60, 40],
    )

    _write_info(info, plan, created)

    branch_sums: dict[int, dict[str, Number]] = {b.id: empty_figures() for b in plan.branches}
    group_counts: Counter[int] = Counter()
    group_total = empty_figures()
    done = 0
    for batch in _batches(plan, batch_groups):
        branch_ids = {g.branch_id for g in batch}
        batch_findings = [f for b in sorted(branch_ids) for f in by_branch.get(b, [])] + by_branch.get(
            None, []
        )
        data = sources.annual_report_data_many(
            [g.id for g in batch], plan.year, as_of=report_as_of, findings=batch_findings
        )
        for group in batch:
            branch = plan.branch(group.branch_id)
            row = data[group.id]
            figures = group_figures(row)
            groups.row([branch.organisation_label, branch.name, group.name, "、".join(row.leaders)], figures)
            add_into(group_total, figures)
            add_into(branch_sums[group.branch_id], figures)
            group_counts[group.branch_id] += 1
        done += len(batch)
        if progress is not None:
            progress(done)
    groups.row([TOTAL_LABEL, "", "", ""], group_total, total=True)

    # Branch rows: the sums of their groups, but findings counted for the whole branch.
    org_sums: dict[int, dict[str, Number]] = {}
    org_counts: Counter[int] = Counter()
    org_groups: Counter[int] = Counter()
    branch_total = empty_figures()
    for branch in plan.branches:
        figures = branch_sums[branch.id]
        own = by_branch.get(branch.id, [])
        figures["violations"] = sum(1 for f in own if f.severity == Severity.VIOLATION)
        figures["advisories"] = len(own) - figures["violations"]
        branches.row([branch.organisation_label, branch.name, group_counts[branch.id]], figures)
        add_into(branch_total, figures)
        add_into(org_sums.setdefault(branch.organisation_id, empty_figures()), figures)
        org_counts[branch.organisation_id] += 1
        org_groups[branch.organisation_id] += group_counts[branch.id]
    branches.row([TOTAL_LABEL, "", sum(group_counts.values())], branch_total, total=True)

    org_total = empty_figures()
    for organisation_id in dict.fromkeys(b.organisation_id for b in plan.branches):
        label = plan.organisation_labels.get(organisation_id, str(organisation_id))
        organisations.row(
            [label, org_counts[organisation_id], org_groups[organisation_id]], org_sums[organisation_id]
        )
        add_into(org_total, org_sums[organisation_id])
    organisations.row(
        [TOTAL_LABEL, sum(org_counts.values()), sum(org_groups.values())], org_total, total=True
    )

    _write_findings(rules, details, plan, findings)

    return _save_atomically(workbook, path)


def _title(plan: ExportPlan) -> str:
    title = f"{plan.organisation.name}{plan.year}年度党小组工作汇总"
    if plan.is_draft:
        title += f"（截至{plan.as_of.month}月{plan.as_of.day}日，草稿）"
    return title


def _write_info(sheet: _Sheet, plan: ExportPlan, created: dt.datetime) -> None:
    rows = [
        ("标题", _title(plan)),
        ("上级党组织", plan.organisation.name),
        ("年度", f"{plan.year}年"),
        ("数据截至", f"{plan.as_of:%Y-%m-%d}" + ("（本年度尚未结束，数据为草稿）" if plan.is_draft else "")),
        ("生成时间", f"{created:%Y-%m-%d %H:%M}"),
        ("党支部数", len(plan.branches)),
        ("党小组数", len(plan.groups)),
        ("口径：党小组会", "本年度已召开（含已上报、已存档）的会议，按召开日期计入月份（R-10）。"),
        (
            "口径：参会率",
            "实参会人次÷应参会人次；党员只在其编入本党小组期间召开的党小组会中计入（R-14、R-34）。",
        ),
        ("口径：议定事项", "本年度召开的会议议定的事项，年内完成的计入“年内完成”（R-16）。"),
        ("口径：党费", "截至年末在本党小组的党员本年度的交纳和欠交情况，按月计（R-31）。"),
        ("口径：发现的问题", "按规则检查截至数据截至日结束时的结果；支部汇总含支部层面的问题。"),
        ("合计行", "各汇总表的“合计”行为表内各行之和；参会率按合计人次重新计算。"),
    ]
    for label, value in rows:
        sheet.row([label, value])


def _write_findings(rules: _Sheet, details: _Sheet, plan: ExportPlan, findings: list[Finding]) -> None:
    branch_ids = {b.id for b in plan.branches}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        counts[finding.rule_id][finding.severity] += 1
    violations = advisories = 0
    for rule_id in sorted(counts, key=_rule_order):
        v = counts[rule_id][Severity.VIOLATION]
        a = sum(n for severity, n in counts[rule_id].items() if severity != Severity.VIOLATION)
        rule = RULES.get(rule_id)
        rules.row([rule_id, rule.title if rule else "", v, a, v + a])
        violations += v
        advisories += a
    rules.row([TOTAL_LABEL, "", violations, advisories, violations + advisories], total=True)
    for finding in findings:
        branch = plan.branch(finding.branch_id) if finding.branch_id in branch_ids else None
        details.row(
            [
                branch.organisation_label if branch else "",
                branch.name if branch else "",
                finding.rule_id,
                finding.severity_label,
                finding.object_label,
                finding.message,
                finding.article,
            ]
        )


def _rule_order(rule_id: str) -> tuple[int, str]:
    digits = "".join(ch for ch in rule_id if ch.isdigit())
    return (int(digits) if digits else 0, rule_id)


def _save_atomically(workbook: Workbook, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        workbook.save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.stat().st_size
