"""``manage.py render_minutes ID -o FILE``: write a meeting's minutes as PDF (R-14).

An operator's tool (it reads any meeting: whoever runs manage.py already holds the database).
Refuses with a Chinese message: an unknown ID, a meeting without minutes, no CJK font installed.
When FILE is a directory the PDF gets its standard name (``minutes_filename``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.models import Meeting
from meetings.pdf import MinutesUnavailableError, minutes_filename, minutes_pdf
from partygroup.pdf import CJKFontMissingError


class Command(BaseCommand):
    help = "将会议记录生成为 PDF（A4，按党小组会议记录模板）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("meeting_id", type=int, help="会议 ID")
        parser.add_argument(
            "-o",
            "--output",
            required=True,
            help="输出的 PDF 文件路径；如为目录，则使用标准文件名",
        )

    def handle(self, *args, meeting_id: int, output: str, **options) -> None:
        meeting = Meeting.objects.select_related("group").filter(pk=meeting_id).first()
        if meeting is None:
            raise CommandError(f"ID 为 {meeting_id} 的会议不存在。")
        target = Path(output)
        if target.is_dir():
            target = target / minutes_filename(meeting)
        if not target.parent.is_dir():
            raise CommandError(f"输出目录“{target.parent}”不存在。")
        try:
            pdf = minutes_pdf(meeting)
        except (MinutesUnavailableError, CJKFontMissingError) as error:
            raise CommandError(str(error)) from error
        # Write to a temporary file first, so a failure never leaves half a PDF behind.
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".pdf.part", delete=False) as part:
            part.write(pdf)
        os.replace(part.name, target)
        self.stdout.write(f"已生成 {target}（{len(pdf) // 1024} KB）。")
