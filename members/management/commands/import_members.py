"""``manage.py import_members FILE --branch ID [--dry-run] [--user USERNAME]`` (docs/import.md)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from members.importing import ImportFileError, import_members_file
from members.models import Branch


class Command(BaseCommand):
    help = (
        "从 .xlsx 或 .csv 文件导入党员名单到指定党支部。先校验整个文件："
        "有任何错误行则逐行列出并不写入任何数据（退出码 1）。--dry-run 只检查、不写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="党员名单文件（.xlsx 或 .csv）")
        parser.add_argument("--branch", type=int, required=True, help="党支部 ID")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
        parser.add_argument("--user", default="", help="记为操作人的用户名（写入修改历史）")

    def handle(self, *args, file: str, branch: int, dry_run: bool, user: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        target = Branch.objects.select_related("organisation").filter(pk=branch).first()
        if target is None:
            raise CommandError(f"党支部 ID {branch} 不存在。")
        by = None
        if user:
            by = get_user_model().objects.filter(username=user).first()
            if by is None:
                raise CommandError(f"用户“{user}”不存在。")
        try:
            report = import_members_file(path_or_file=path, branch=target, by=by, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(f"{exc.message}未导入任何数据。") from exc

        self.stdout.write(f"党支部：{target}（ID {target.pk}）；文件：{path.name}")
        for line in report.error_lines():
            self.stdout.write(line)
        if report.new_units:
            verb = "将新建" if dry_run or report.errors else "已新建"
            self.stdout.write(f"{verb}单位：{'、'.join(report.new_units)}")
        self.stdout.write(report.summary())
        if report.errors:
            raise CommandError(f"文件中有{len(report.errors)}处错误，未导入任何数据。")
