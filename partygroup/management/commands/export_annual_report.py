"""``manage.py export_annual_report --org ID --year Y -o DIR [--branch ID ...]``: the organisation-wide
export from the command line, synchronously in this process, with a progress line on the terminal.

Writes ``<organisation><year>年度党小组工作汇总.xlsx`` and ``…年度党小组工作报告.zip`` into DIR (the same
files the web export builds; ``partygroup.yearend.services.export_to_directory``). The command line
is trusted (whoever can run it can read the database), so no user is checked.

``--resume-interrupted [--stale-after SECONDS]`` instead queues again the unfinished parts of web
exports that have shown no progress for that long (default 120 s). Run it when a worker starts; with
a single worker, ``--stale-after 0`` (nothing else can be running then). See docs/export.md.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from members.models import Branch, Organisation
from partygroup.yearend import services
from partygroup.yearend.selectors import STALE_AFTER

BAR_WIDTH = 30


class ProgressLine:
    """``[#########-----]  42%  年度工作报告`` rewritten in place with ``\\r`` (no dependency); only
    when the text changes, and at most ten times a second."""

    def __init__(self, stream, *, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.shown = ""
        self.last = 0.0

    def __call__(self, fraction: float, label: str) -> None:
        if not self.enabled:
            return
        fraction = min(1.0, max(0.0, fraction))
        filled = int(BAR_WIDTH * fraction)
        line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {int(fraction * 100):3d}%  {label}"
        now = time.monotonic()
        if line == self.shown or (now - self.last < 0.1 and fraction < 1.0):
            return
        padding = " " * max(0, _width(self.shown) - _width(line))
        self._emit(f"\r{line}{padding}")
        self.shown = line
        self.last = now

    def close(self) -> None:
        if self.enabled and self.shown:
            self._emit("\n")
            self.shown = ""

    def _emit(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):  # no newline added, no error colour
            self.stream.write(text, style_func=lambda s: s, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


class Command(BaseCommand):
    help = "导出上级党组织的年度汇总工作簿（.xlsx）和各党小组年度工作报告压缩包（.zip）到指定目录。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", type=int, help="上级党组织编号（ID）")
        parser.add_argument("--year", type=int, help="年度，如 2025（本年度为截至今日的草稿）")
        parser.add_argument("-o", "--output", dest="output", help="输出目录（不存在时创建）")
        parser.add_argument(
            "--branch",
            type=int,
            action="append",
            dest="branches",
            default=[],
            help="只导出这些党支部（可重复；默认为该组织下全部党支部）",
        )
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")
        parser.add_argument(
            "--resume-interrupted",
            action="store_true",
            help="不导出，改为继续网页上已中断的导出任务（在后台任务程序启动时运行）",
        )
        parser.add_argument(
            "--stale-after",
            type=float,
            default=STALE_AFTER.total_seconds(),
            help="与 --resume-interrupted 一起使用：多少秒没有进展视为中断（默认 %(default)s）",
        )

    def handle(self, *args, **options) -> None:
        if options["resume_interrupted"]:
            self._resume(options["stale_after"])
            return
        missing = [
            flag
            for flag, key in (("--org", "org"), ("--year", "year"), ("-o", "output"))
            if options[key] is None
        ]
        if missing:
            raise CommandError(
                f"缺少参数：{'、'.join(missing)}。用法：export_annual_report --org ID --year Y -o DIR"
            )
        organisation = Organisation.objects.filter(pk=options["org"]).first()
        if organisation is None:
            raise CommandError(f"上级党组织 {options['org']} 不存在。")
        branches = None
        if options["branches"]:
            wanted = sorted(set(options["branches"]))
            found = {b.pk: b for b in Branch.objects.filter(pk__in=wanted).select_related("organisation")}
            unknown = [str(pk) for pk in wanted if pk not in found]
            if unknown:
                raise CommandError(f"党支部 {'、'.join(unknown)} 不存在。")
            branches = [found[pk] for pk in wanted]
        out_dir = Path(options["output"])
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"输出路径 {out_dir} 不是目录。")
        line = ProgressLine(self.stderr, enabled=not options["no_progress"])
        started = time.perf_counter()
        try:
            files = services.export_to_directory(
                organisation=organisation,
                year=options["year"],
                out_dir=out_dir,
                branches=branches,
                progress=line,
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        finally:
            line.close()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"已导出 {files.branches} 个党支部、{files.groups} 个党小组（用时 {seconds:.1f} 秒）：\n"
            f"  {files.workbook}\n  {files.bundle}"
        )

    def _resume(self, stale_after: float) -> None:
        if stale_after < 0:
            raise CommandError("--stale-after 不能为负数。")
        jobs = services.resume_interrupted(stale_after=dt.timedelta(seconds=stale_after))
        if not jobs:
            self.stdout.write("没有需要继续的导出任务。")
            return
        for job in jobs:
            self.stdout.write(f"已继续导出任务 #{job.pk}：{job}")
