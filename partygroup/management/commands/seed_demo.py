"""``manage.py seed_demo``: the demo organisation (default) or the city benchmark set (``--scale city``).

Refuses when ``DEBUG`` is off unless ``--force`` (demo accounts have published passwords), and
refuses when any organisation exists; ``--if-empty`` turns that refusal into a quiet success, which
is what ``make run`` uses. There is no ``--reset``: start from an empty database instead
(``manage.py flush`` or a new database).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.models import Branch, Organisation
from partygroup.demo import build_demo, demo_report
from partygroup.demo.base import system_user
from partygroup.demo.city import CITY_BRANCHES, CITY_SEED, build_city
from partygroup.summaries import refresh_summaries

MAX_BRANCHES = 5000


class Command(BaseCommand):
    help = "写入演示数据（默认），或用 --scale city 写入城市规模的性能测试数据。"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            choices=["demo", "city"],
            default="demo",
            help="demo：小型演示组织（默认）；city：600个党支部、30000名党员的性能测试数据",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="已有上级党组织数据时直接跳过（退出码 0）"
        )
        parser.add_argument(
            "--force", action="store_true", help="DEBUG 未开启时也写入（演示账号的密码是公开的，慎用）"
        )
        parser.add_argument(
            "--branches",
            type=int,
            default=None,
            help=f"仅用于 --scale city：党支部数（默认 {CITY_BRANCHES}）",
        )
        parser.add_argument(
            "--seed", type=int, default=CITY_SEED, help="仅用于 --scale city：随机种子（相同种子数据相同）"
        )

    def handle(self, *args, scale: str, if_empty: bool, force: bool, branches, seed: int, **options):
        if branches is not None and scale != "city":
            raise CommandError("--branches 只能与 --scale city 一起使用。")
        branches = CITY_BRANCHES if branches is None else branches
        if not 1 <= branches <= MAX_BRANCHES:
            raise CommandError(f"--branches 应在 1 到 {MAX_BRANCHES} 之间。")
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG 未开启（生产配置），拒绝写入演示数据：演示账号的密码是公开的。确需写入请加 --force。"
            )
        existing = Organisation.objects.count()
        if existing:
            if if_empty:
                self.stdout.write(f"数据库中已有{existing}个上级党组织，跳过演示数据（--if-empty）。")
                return
            raise CommandError(
                f"数据库中已有{existing}个上级党组织，拒绝写入演示数据以免与现有数据混在一起。"
                "请使用空数据库（如 manage.py flush），或加 --if-empty 跳过。"
            )
        started = time.monotonic()
        try:
            if scale == "city":
                counts = build_city(branches=branches, seed=seed, by=system_user(), log=self.stdout.write)
                self._city_summary(counts, time.monotonic() - started)
            else:
                ctx = build_demo(log=self.stdout.write)
                self._demo_summary(ctx, time.monotonic() - started)
        except ValidationError as exc:
            raise CommandError("演示数据写入失败，未保存任何数据：" + "；".join(exc.messages)) from exc
        # The overview's finding counts, so it shows them at once (afterwards the overview and
        # ``check_rules --save`` keep them fresh).
        checked = refresh_summaries(Branch.objects.values_list("pk", flat=True))
        self.stdout.write(f"已检查 {checked} 个党支部的工作规则（组织部门总览的问题统计）。")

    def _city_summary(self, counts: dict[str, int], elapsed: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"城市规模数据已写入，用时 {elapsed:.1f} 秒："))
        for label, count in counts.items():
            self.stdout.write(f"  {label}：{count}")

    def _demo_summary(self, ctx, elapsed: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"演示数据已写入，用时 {elapsed:.1f} 秒。"))
        for line in demo_report(ctx):
            self.stdout.write(line)
