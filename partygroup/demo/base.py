"""What the demo builders share: the context they fill, the system user, the demo accounts.

Each demo part (``partygroup.demo.core`` for organisations, members and groups; later parts for
meetings …) is a function ``build(ctx)`` that adds its data to the same ``DemoContext``, records the
accounts it creates and declares every finding it creates on purpose (``ctx.expect``). The test
``tests/partygroup/test_seed_demo.py`` checks that the findings over the demo are exactly those.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError

from groups.models import PartyGroup
from members.models import Branch, Member, Organisation, Unit
from partygroup.audit import audited_save
from partygroup.demo.people import IdNumbers

SYSTEM_USERNAME = "system"
DEMO_SEED = 20260422  # phones, ID sequences and unspecified birth dates come from this seed
# Published in docs/demo.md: demo accounts exist only where DEBUG is on or --force was given.
DEMO_PASSWORD = "demo-2026!"  # noqa: S105
COMMITTEE_AUTH_GROUP = "党支部委员会"
ORG_STAFF_AUTH_GROUP = "上级党组织工作人员"

# The Django model permissions a branch secretary needs in the admin (view, import, edit).
COMMITTEE_PERMISSIONS = (
    ("members", "view_branch"),
    ("members", "view_unit"),
    ("members", "add_unit"),
    ("members", "change_unit"),
    ("members", "view_member"),
    ("members", "add_member"),
    ("members", "change_member"),
    ("members", "view_committeemembership"),
    ("groups", "view_partygroup"),
    ("groups", "add_partygroup"),
    ("groups", "change_partygroup"),
    ("groups", "view_groupmembership"),
    ("groups", "add_groupmembership"),
    ("groups", "change_groupmembership"),
    ("groups", "view_leaderappointment"),
    ("groups", "add_leaderappointment"),
    ("groups", "change_leaderappointment"),
    ("groups", "view_groupchange"),
    ("groups", "add_groupchange"),
    ("groups", "change_groupchange"),
)


# Organisation staff read their subtree in the admin and acknowledge filings.
ORG_STAFF_PERMISSIONS = (
    ("members", "view_organisation"),
    ("members", "view_branch"),
    ("members", "view_unit"),
    ("members", "view_member"),
    ("members", "view_committeemembership"),
    ("groups", "view_partygroup"),
    ("groups", "view_groupmembership"),
    ("groups", "view_leaderappointment"),
    ("groups", "view_groupchange"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str  # empty: an existing account, left unchanged
    role: str
    note: str


@dataclass(frozen=True)
class ExpectedFinding:
    """A rule violation the demo contains on purpose, shown on the dashboards."""

    rule_id: str
    label: str  # Finding.object_label
    reason: str


@dataclass
class DemoContext:
    by: object  # the system user every write is recorded against
    today: dt.date
    log: Callable[[str], None] = print
    ids: IdNumbers = field(default_factory=IdNumbers)
    rng: random.Random = field(default_factory=lambda: random.Random(DEMO_SEED))  # noqa: S311
    organisations: dict[str, Organisation] = field(default_factory=dict)
    branches: dict[str, Branch] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    groups: dict[str, PartyGroup] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)
    expected: list[ExpectedFinding] = field(default_factory=list)
    # Rules whose findings over the demo are exactly ``expected`` (each part adds the rules it covers).
    covered_rules: set[str] = field(default_factory=set)

    def days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    def expect(self, rule_id: str, label: str, reason: str) -> None:
        self.expected.append(ExpectedFinding(rule_id, label, reason))

    def cover(self, *rule_ids: str) -> None:
        self.covered_rules.update(rule_ids)


def system_user():
    """The account demo and benchmark data are recorded against; it cannot log in."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "系统"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def permission_group(name: str, permissions: tuple[tuple[str, str], ...]) -> Group:
    """A Django permission group holding the model permissions a role needs in the admin."""
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(
        *(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in permissions
        )
    )
    return group


def check_usernames_free(usernames: list[str], *, keep: frozenset[str] = frozenset()) -> None:
    """Refuse before writing anything when a demo username is taken (except those in ``keep``)."""
    taken = sorted(
        set(get_user_model().objects.filter(username__in=usernames).values_list("username", flat=True)) - keep
    )
    if taken:
        raise ValidationError(f"以下演示账号的用户名已被占用：{'、'.join(taken)}。请使用空数据库运行。")


def create_account(
    ctx: DemoContext,
    *,
    username: str,
    role: str,
    note: str,
    member: Member | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    auth_groups: tuple[Group, ...] = (),
):
    """A login account with the demo password, linked to ``member`` when given."""
    user_model = get_user_model()
    existing = user_model.objects.filter(username=username).first()
    if existing is not None:  # only the superuser may pre-exist (see check_usernames_free)
        ctx.accounts.append(DemoAccount(username, "", role, f"{note}（账号已存在，密码未改）"))
        return existing
    first_name = member.name if member else ""
    if is_superuser:
        user = user_model.objects.create_superuser(username=username, password=DEMO_PASSWORD, email="")
    else:
        user = user_model.objects.create_user(
            username=username, password=DEMO_PASSWORD, is_staff=is_staff, first_name=first_name
        )
    if auth_groups:
        user.groups.add(*auth_groups)
    if member is not None:
        member.user = user
        audited_save(member, by=ctx.by, reason="演示数据：开通登录账号")
    ctx.accounts.append(DemoAccount(username, DEMO_PASSWORD, role, note))
    return user
