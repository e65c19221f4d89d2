"""Demo and benchmark data for ``manage.py seed_demo`` (docs/demo.md).

``build_demo`` runs the demo parts in order, each a function ``build(ctx)`` filling one
``DemoContext``: ``core`` builds organisations, branches, members, groups and leaders; ``meetings``
a year of meetings, talks and plans through the meetings services; ``duties`` the members' duties
(dues, thought reports, leader reviews and training, cultivation, posts, points). Each part may use
everything the earlier parts put in the context and declares its own deliberate violations with
``ctx.expect``.
``partygroup.demo.city`` builds the large benchmark data set with bulk inserts instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from partygroup.demo import core, duties, meetings
from partygroup.demo.base import DemoContext, check_usernames_free, system_user

# The demo parts, in order.
DEMO_PARTS: tuple[Callable[[DemoContext], None], ...] = (core.build, meetings.build, duties.build)
DEMO_USERNAMES: tuple[str, ...] = core.DEMO_USERNAMES + meetings.DEMO_USERNAMES + duties.DEMO_USERNAMES


def build_demo(*, log: Callable[[str], None] = print) -> DemoContext:
    """Write the whole demo in one transaction: on any error nothing is saved."""
    with transaction.atomic():
        check_usernames_free(list(DEMO_USERNAMES), keep=frozenset({"admin"}))
        ctx = DemoContext(by=system_user(), today=timezone.localdate(), log=log)
        for part in DEMO_PARTS:
            part(ctx)
        return ctx


def demo_report(ctx: DemoContext) -> list[str]:
    """The lines printed after the demo is written: the accounts and the deliberate violations."""
    lines = ["", "演示账号（仅供演示，请勿用于生产环境）："]
    width = max(len(a.username) for a in ctx.accounts)
    for account in ctx.accounts:
        password = account.password or "（未改）"
        lines.append(f"  {account.username:<{width}}  {password:<12}  {account.role}：{account.note}")
    lines += ["", "演示数据中故意设置的问题（仪表板上应显示）："]
    lines += [f"  {e.rule_id}  {e.label}：{e.reason}" for e in ctx.expected]
    return lines
