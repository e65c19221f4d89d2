"""``manage.py render_annual_report --group ID --year Y -o FILE``: write a group's annual work report
as PDF (R-34).

An operator's tool (it reads any group: whoever runs manage.py already holds the database). Prints the
saved report if there is one (a submitted or archived one with its frozen figures), else a draft
from the year's data. Refuses with a Chinese message: an unknown group, a year outside 2000 … the
current year, a missing output directory, no CJK font installed. When FILE is a directory the PDF
gets its standard name (``annual_report_filename``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from groups.models import PartyGroup
from meetings.annual_pdf import annual_report_filename
from meetings.annual_report import annual_report_pdf
from partygroup.pdf import CJKFontMissingError


class Command(BaseCommand):
    help = "将党小组年度工作情况报告生成为 PDF（A4，含各月会议和出勤图表）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", type=int, required=True, help="党小组 ID")
        parser.add_argument("--year", type=int, required=True, help="年度，如 2025")
        parser.add_argument(
            "-o", "--output", required=True, help="输出的 PDF 文件路径；如为目录，则使用标准文件名"
        )

    def handle(self, *args, group: int, year: int, output: str, **options) -> None:
        party_group = PartyGroup.objects.select_related("branch").filter(pk=group).first()
        if party_group is None:
            raise CommandError(f"ID 为 {group} 的党小组不存在。")
        this_year = timezone.localdate().year
        if not 2000 <= year <= this_year:
            raise CommandError(f"年度“{year}”无效（应在2000年至{this_year}年之间）。")
        target = Path(output)
        if target.is_dir():
            target = target / annual_report_filename(party_group, year)
        if not target.parent.is_dir():
            raise CommandError(f"输出目录“{target.parent}”不存在。")
        try:
            pdf = annual_report_pdf(party_group, year)
        except CJKFontMissingError as error:
            raise CommandError(str(error)) from error
        # Write to a temporary file first, so a failure never leaves half a PDF behind.
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".pdf.part", delete=False) as part:
            part.write(pdf)
        os.replace(part.name, target)
        note = "（本年度尚未结束，仅为预览）" if year >= this_year else ""
        self.stdout.write(f"已生成 {target}（{len(pdf) // 1024} KB）{note}。")
