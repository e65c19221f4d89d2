"""``manage.py check_rules``: list the rule findings (R-01 …) of every branch, or of one.

    manage.py check_rules [--branch ID] [--format text|json] [--date YYYY-MM-DD] [--save]

``--save`` also stores each branch's counts per rule for the organisation overview
(``partygroup.summaries``; a cron job keeps them fresh without anyone opening the overview).

The findings come from every collector registered with ``partygroup.findings`` (groups today;
meetings, dues … as those apps register theirs), so this command knows no rule itself.

Exit status (for cron jobs and CI):
    0  no finding of severity "violation" (advisories alone still exit 0)
    1  at least one violation
    2  bad arguments: unknown branch ID, bad date or format
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from members.models import Branch
from partygroup.findings import Finding, Severity, collect_findings
from partygroup.summaries import save_summaries

FORMATS = ("text", "json")
OBJECT_LABELS = {
    "branch": "党支部",
    "group": "党小组",
    "member": "党员",
    "leader": "组长",
    "meeting": "会议",
    "unit": "单位",
}


class Command(BaseCommand):
    help = (
        "检查党小组工作规则（R-01…R-37），列出所有党支部（或指定党支部）发现的问题。"
        "退出码：0 没有违规（只有提醒也为 0），1 有违规，2 参数错误。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--branch", metavar="ID", help="只检查此党支部（ID）")
        parser.add_argument("--format", default="text", metavar="text|json", help="输出格式，默认 text")
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="按此日期检查，默认今天")
        parser.add_argument(
            "--save", action="store_true", help="同时保存各党支部的问题统计，供组织部门总览使用"
        )

    def handle(self, *args, **options) -> None:
        output_format = options["format"]
        if output_format not in FORMATS:
            raise CommandError(f"输出格式“{output_format}”无效，可选：text、json。", returncode=2)
        on = self._parse_date(options["date"])
        branches = Branch.objects.select_related("organisation").order_by("organisation__path", "name", "pk")
        if options["branch"] is not None:
            branches = branches.filter(pk=self._parse_branch_id(options["branch"]))
        branches = list(branches)
        if options["branch"] is not None and not branches:
            raise CommandError(f"党支部 ID {options['branch']} 不存在。", returncode=2)

        findings = collect_findings(branches, on)
        if options["save"]:
            with transaction.atomic():
                save_summaries([b.pk for b in branches], findings, on=on, now=timezone.now())
        lines = (
            self._json_lines(findings)
            if output_format == "json"
            else self._text_lines(findings, branches, on)
        )
        self.stdout.write("\n".join(lines))
        if any(x.is_violation for x in findings):
            raise SystemExit(1)

    @staticmethod
    def _parse_date(value: str | None) -> dt.date:
        if value is None:
            return timezone.localdate()
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise CommandError(f"日期“{value}”无效，应为 YYYY-MM-DD，如 2024-09-01。", returncode=2) from None

    @staticmethod
    def _parse_branch_id(value: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise CommandError(f"党支部 ID“{value}”无效，应为数字。", returncode=2) from None

    @staticmethod
    def _json_lines(findings: list[Finding]) -> list[str]:
        """A JSON list with one finding per line (readable, and fast for tens of thousands)."""
        if not findings:
            return ["[]"]
        items = [json.dumps(x.as_dict(), ensure_ascii=False) for x in findings]
        return ["[", *(f"  {item}," for item in items[:-1]), f"  {items[-1]}", "]"]

    @staticmethod
    def _text_lines(findings: list[Finding], branches: list[Branch], on: dt.date) -> list[str]:
        headers = {b.pk: f"【{b.name}】（{b.organisation.name}，ID {b.pk}）" for b in branches}
        severity_labels = {str(value): str(label) for value, label in Severity.choices}
        lines = [f"党小组工作规则检查（检查日期 {on:%Y-%m-%d}，共 {len(branches)} 个党支部）"]
        current: object = object()
        for finding in findings:
            if finding.branch_id != current:
                current = finding.branch_id
                lines += ["", headers.get(finding.branch_id, "【未归属党支部】")]
            kind = OBJECT_LABELS.get(finding.object_type, finding.object_type)
            subject = f"{kind}“{finding.object_label}”"
            lines.append(
                f"  {finding.rule_id} [{severity_labels[finding.severity]}] {subject}：{finding.message}"
            )
            lines.append(f"      依据：{finding.article}")
        violations = sum(1 for x in findings if x.is_violation)
        lines.append("")
        if findings:
            lines.append(
                f"共发现问题 {len(findings)} 条：违规 {violations} 条，提醒 {len(findings) - violations} 条。"
            )
        else:
            lines.append("未发现问题。")
        return lines
