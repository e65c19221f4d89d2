"""manage.py seed_demo (partygroup/management/commands/seed_demo.py, partygroup/demo/).

The demo must show exactly its deliberate violations (R-01, R-03, R-04, R-07, R-08, R-09, R-24),
hold valid, historied data built through the services, refuse to run twice or in production, and
give every role a working account. The city builder is tested at a small scale.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.utils import timezone

from groups.enums import FilingStatus, LeaderRole
from groups.findings import collect_group_findings
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from groups.selectors import roles_of
from members.enums import CommitteePost, MemberState, MemberStatus
from members.models import (
    Branch,
    CommitteeMembership,
    Member,
    Organisation,
    OrganisationStaff,
    Unit,
)
from members.selectors import member_roles
from members.validators import id_number_birth_date, id_number_gender, validate_id_number
from partygroup.demo import DEMO_USERNAMES, build_demo, demo_report
from partygroup.demo.base import DEMO_PASSWORD, SYSTEM_USERNAME
from partygroup.demo.city import city_plan
from partygroup.findings import collect_findings

pytestmark = pytest.mark.django_db

# The group rules' deliberate violations, as (rule ID, object label) — docs/demo.md tells why.
EXPECTED_GROUP_FINDINGS = {
    ("R-01", "市自然资源局机关党支部"),
    ("R-03", "机关服务中心党小组"),
    ("R-04", "宣传科党小组"),
    ("R-07", "预算科"),
    ("R-08", "自然资源局机关党小组"),
    ("R-09", "韩鑫"),
    ("R-24", "政府采购监管科党小组"),
}
GROUP_RULES = {"R-01", "R-03", "R-04", "R-07", "R-08", "R-09", "R-24"}


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = [
        Organisation,
        Branch,
        Unit,
        Member,
        CommitteeMembership,
        OrganisationStaff,
        PartyGroup,
        GroupMembership,
        LeaderAppointment,
        GroupChange,
        get_user_model(),
    ]
    return {m.__name__: m.objects.count() for m in models}


def findings_now() -> set[tuple[str, str]]:
    return {(f.rule_id, f.object_label) for f in collect_findings(Branch.objects.all(), timezone.localdate())}


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """One demo shared by the read-only tests of a class, rolled back afterwards (like setUpTestData);
    each test still runs in its own savepoint (the ``db`` fixture of the module's mark)."""
    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = build_demo(log=lines.append)
        yield ctx, "\n".join(lines + demo_report(ctx))
        transaction.set_rollback(True)


class TestSeededDemo:
    def test_seed_demo_findings_are_exactly_the_deliberate_violations(self, demo):
        """The group rule checks find exactly the 7 deliberate violations, and for every rule a demo part
        covers, collect_findings finds exactly what the parts declare (meetings rules join when their part
        does)."""
        ctx, _output = demo
        today = timezone.localdate()

        group_findings = collect_group_findings(list(Branch.objects.all()), today)
        assert {(f.rule_id, f.object_label) for f in group_findings} == EXPECTED_GROUP_FINDINGS
        assert len(group_findings) == len(EXPECTED_GROUP_FINDINGS)
        assert ctx.covered_rules >= GROUP_RULES
        declared = {(e.rule_id, e.label) for e in ctx.expected}
        assert {d for d in declared if d[0] in GROUP_RULES} == EXPECTED_GROUP_FINDINGS
        assert {f for f in findings_now() if f[0] in ctx.covered_rules} == declared

    def test_seed_demo_builds_the_organisation_of_the_issue(self, demo):

        root = Organisation.objects.get(depth=1)
        assert root.name == "市直机关工委"
        children = {o.name: o for o in Organisation.objects.get_children(root)}
        assert set(children) == {"市财政局机关党委", "市自然资源局机关党委"}
        # the Loudi 2023 rule set on one node, the central 2019 rule set inherited elsewhere.
        rule_sets = {b.name: b.organisation.effective_rule_set().code for b in Branch.objects.all()}
        assert rule_sets == {
            "市财政局机关第一党支部": "central-2019",
            "市财政局离退休干部党支部": "central-2019",
            "市直机关工委机关党支部": "central-2019",
            "市自然资源局机关党支部": "loudi-2023",
        }
        assert children["市财政局机关党委"].rule_set is None
        sizes = {b.name: b.members.filter(state=MemberState.ACTIVE).count() for b in Branch.objects.all()}
        assert sizes == {
            "市财政局机关第一党支部": 26,
            "市财政局离退休干部党支部": 12,
            "市自然资源局机关党支部": 22,
            "市直机关工委机关党支部": 8,
        }
        finance = Branch.objects.get(name="市财政局机关第一党支部")
        groups = {g.name: g.unit.name for g in PartyGroup.objects.active().filter(branch=finance)}
        assert groups == {
            "办公室党小组": "办公室",
            "预算科党小组": "预算科",
            "国库科党小组": "国库科",
            "政府采购监管科党小组": "政府采购监管科",
        }
        assert not PartyGroup.objects.filter(branch__name="市财政局离退休干部党支部").exists()
        # Members sit in the group of their 处室, except the deliberate R-07 case; cadres have no unit.
        misplaced = {
            (m.member.name, m.member.unit.name if m.member.unit else None)
            for m in GroupMembership.objects.current()
            .filter(group__branch=finance)
            .select_related("group__unit", "member__unit")
            if m.member.unit_id != m.group.unit_id
        }
        assert misplaced == {("周建华", None), ("李喆", None), ("王琰", None), ("朱敏", "预算科")}
        cadres = set(Member.objects.filter(is_leading_cadre=True).values_list("name", "post"))
        assert cadres == {("周建华", "局长"), ("李喆", "副局长"), ("王琰", "副局长"), ("段振宇", "副局长")}

    def test_seed_demo_members_are_valid_and_realistic(self, demo):

        members = list(Member.objects.select_related("unit", "branch"))
        names = {m.name for m in members}
        assert {"李喆", "王琰", "张堃", "刘𠇔"} <= names  # 𠇔 is outside the BMP
        assert len(names) == len(members)
        id_numbers = [m.id_number for m in members]
        assert len(set(id_numbers)) == len(members)
        for member in members:
            member.full_clean()
            validate_id_number(member.id_number)
            assert id_number_gender(member.id_number) == member.gender
            assert id_number_birth_date(member.id_number) == member.birth_date
            assert re.fullmatch(r"1[3-9]\d{9}", member.phone)
        statuses = {(m.status, m.state) for m in members}
        assert statuses == {
            (MemberStatus.FULL, MemberState.ACTIVE),
            (MemberStatus.PROBATIONARY, MemberState.ACTIVE),
            (MemberStatus.FULL, MemberState.LEFT),
        }
        probationary = [m for m in members if m.status == MemberStatus.PROBATIONARY]
        # Probationary members joined within two years (one year, extended by at most one year).
        assert all(m.joined_on >= timezone.localdate() - dt.timedelta(days=730) for m in probationary)

    def test_seed_demo_records_history_and_every_filing_state(self, demo):

        system = get_user_model().objects.get(username=SYSTEM_USERNAME)
        statuses = set(GroupChange.objects.values_list("filing_status", flat=True))
        assert statuses == {
            FilingStatus.PENDING,
            FilingStatus.FILED,
            FilingStatus.ACKNOWLEDGED,
            FilingStatus.RETURNED,
        }
        assert set(PartyGroup.objects.exclude(dissolved_on=None).values_list("name", flat=True)) == {
            "机关第一党小组",
            "机关第二党小组",
        }
        returned = GroupChange.objects.get(filing_status=FilingStatus.RETURNED)
        assert "朱敏" in returned.summary and returned.organisation_comment
        # the leader was a full member when appointed; a later data fix made him probationary.
        procure = PartyGroup.objects.get(name="政府采购监管科党小组")
        leaders = list(
            procure.appointments.filter(role=LeaderRole.LEADER)
            .order_by("started_on")
            .values_list("member__name", "ended_on", "end_reason")
        )
        assert [(n, e is None, r) for n, e, r in leaders] == [
            ("梁建军", False, "新任组长到任"),
            ("谢涛", True, ""),
        ]
        xie = Member.objects.get(name="谢涛")
        reasons = list(xie.history.order_by("history_date").values_list("status", "history_change_reason"))
        assert reasons[0][0] == MemberStatus.FULL
        assert reasons[-2][0] == MemberStatus.PROBATIONARY
        assert reasons[-2][1].startswith("数据更正")
        # Every write is recorded against the system user, who cannot log in.
        assert set(Member.history.values_list("history_user__username", flat=True)) == {SYSTEM_USERNAME}
        assert set(GroupMembership.history.values_list("history_user__username", flat=True)) == {
            SYSTEM_USERNAME
        }
        assert not system.has_usable_password() and not system.is_active
        # a member's group history survives the 2021 re-organisation and the 2025 move.
        zhu = list(
            GroupMembership.objects.filter(member__name="朱敏")
            .order_by("started_on")
            .values_list("group__name")
        )
        assert zhu == [("机关第一党小组",), ("预算科党小组",), ("国库科党小组",)]

    def test_seed_demo_accounts_log_in_with_the_printed_password(self, demo):
        _ctx, output = demo

        users = get_user_model().objects.exclude(username=SYSTEM_USERNAME)
        assert set(users.values_list("username", flat=True)) == set(DEMO_USERNAMES)
        for username in DEMO_USERNAMES:
            assert re.search(rf"^\s+{username}\s+{re.escape(DEMO_PASSWORD)}\s", output, re.MULTILINE), (
                username
            )
            assert Client().login(username=username, password=DEMO_PASSWORD), username
        assert not Client().login(username=SYSTEM_USERNAME, password=DEMO_PASSWORD)
        for expected in EXPECTED_GROUP_FINDINGS:
            assert f"{expected[0]}  {expected[1]}：" in output

    def test_seed_demo_gives_each_account_its_role(self, demo):
        users = {u.username: u for u in get_user_model().objects.all()}

        assert users["admin"].is_superuser and users["admin"].is_staff
        secretaries = {
            "shuji_caizheng": "市财政局机关第一党支部",
            "shuji_lituixiu": "市财政局离退休干部党支部",
            "shuji_ziran": "市自然资源局机关党支部",
            "shuji_gongwei": "市直机关工委机关党支部",
        }
        for username, branch_name in secretaries.items():
            user = users[username]
            branch = Branch.objects.get(name=branch_name)
            assert member_roles(user).committee_posts == {branch.pk: frozenset({CommitteePost.SECRETARY})}
            assert user.is_staff and not user.is_superuser
            assert user.has_perm("members.add_member") and user.has_perm("members.change_member")
            assert user.has_perm("groups.view_partygroup")
            assert not user.has_perm("members.delete_member")
        finance = Branch.objects.get(name="市财政局机关第一党支部")
        assert member_roles(users["zuzhi_caizheng"]).committee_posts == {
            finance.pk: frozenset({CommitteePost.ORGANISATION})
        }
        leaders = {
            "zuzhang_bangongshi": "办公室党小组",
            "zuzhang_yusuan": "预算科党小组",
            "zuzhang_guoku": "国库科党小组",
            "zuzhang_caigou": "政府采购监管科党小组",
        }
        for username, group_name in leaders.items():
            group = PartyGroup.objects.get(name=group_name, dissolved_on=None)
            assert roles_of(users[username]).led_group_ids == frozenset({group.pk})
            assert not users[username].is_staff
        plain = roles_of(users["dangyuan_caizheng"])
        assert plain.led_group_ids == frozenset() and plain.committee_posts == {}
        assert plain.own_group_id == PartyGroup.objects.get(name="办公室党小组").pk
        staff = {
            (s.user.username, s.organisation.name, s.can_view_personal_data)
            for s in OrganisationStaff.objects.select_related("user", "organisation")
        }
        assert staff == {("org_gongwei", "市直机关工委", True), ("org_caizheng", "市财政局机关党委", False)}
        for username in ("org_gongwei", "org_caizheng"):
            user = users[username]
            assert user.is_staff and user.has_perm("groups.view_groupchange")
            assert not user.has_perm("members.change_member")
            assert member_roles(user).committee_posts == {}


def test_seed_demo_if_empty_twice_does_not_duplicate():
    seed("--force", "--if-empty")
    before = row_counts()

    output = seed("--force", "--if-empty")

    assert row_counts() == before
    assert "跳过" in output
    assert before["Member"] == 70 and before["Organisation"] == 3


def test_seed_demo_on_existing_data_refuses_without_if_empty():
    seed("--force")
    before = row_counts()

    with pytest.raises(CommandError, match=r"已有3个上级党组织.*--if-empty"):
        seed("--force")

    assert row_counts() == before


def test_seed_demo_refuses_when_debug_is_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match=r"DEBUG 未开启.*--force"):
        seed()
    with pytest.raises(CommandError, match="DEBUG 未开启"):
        seed("--scale", "city", "--branches", "1")

    assert Organisation.objects.count() == 0
    assert get_user_model().objects.count() == 0


def test_seed_demo_runs_without_force_when_debug_is_on(settings):
    settings.DEBUG = True

    output = seed()

    assert Member.objects.count() == 70
    assert re.search(rf"^\s+shuji_caizheng\s+{re.escape(DEMO_PASSWORD)}\s+支部书记", output, re.MULTILINE)
    assert "R-24  政府采购监管科党小组：" in output and "演示数据已写入，用时" in output


def test_seed_demo_taken_username_refuses_and_saves_nothing():
    get_user_model().objects.create_user(username="shuji_ziran", password="x-1234567")

    with pytest.raises(CommandError, match="shuji_ziran"):
        seed("--force")

    assert Organisation.objects.count() == 0
    assert Member.objects.count() == 0
    assert set(get_user_model().objects.values_list("username", flat=True)) == {"shuji_ziran"}


def test_seed_demo_keeps_an_existing_admin_account():
    admin = get_user_model().objects.create_superuser(username="admin", password="own-password-1", email="")

    output = seed("--force")

    admin.refresh_from_db()
    assert admin.check_password("own-password-1")
    assert re.search(r"^\s+admin\s+（未改）", output, re.MULTILINE)


def test_seed_demo_branches_option_needs_city_scale():
    with pytest.raises(CommandError, match="--branches"):
        seed("--force", "--branches", "3")
    with pytest.raises(CommandError, match="1 到 5000"):
        seed("--force", "--scale", "city", "--branches", "0")

    assert Organisation.objects.count() == 0


# --- --scale city --------------------------------------------------------------------------------
def test_seed_demo_city_small_scale_is_valid_and_complete():
    output = seed("--force", "--scale", "city", "--branches", "3")

    assert row_counts() == {
        "Organisation": 1,
        "Branch": 3,
        "Unit": 15,
        "Member": 150,
        "CommitteeMembership": 9,
        "OrganisationStaff": 0,
        "PartyGroup": 15,
        "GroupMembership": 150,
        "LeaderAppointment": 18,
        "GroupChange": 15,
        "User": 1,  # the system user; the city set has no login accounts
    }
    assert "党员 150/150" in output and "用时" in output
    members = list(Member.objects.select_related("unit", "branch"))
    assert len({m.id_number for m in members}) == 150
    for member in members:
        member.full_clean()
        assert id_number_gender(member.id_number) == member.gender
    assert Member.objects.filter(status=MemberStatus.PROBATIONARY).count() == 6
    # Every branch: 5 groups of 10 aligned with units, full-member leaders, 3 committee posts.
    for branch in Branch.objects.all():
        sizes = [GroupMembership.objects.current().filter(group=g).count() for g in branch.groups.all()]
        assert sizes == [10] * 5
        posts = set(
            CommitteeMembership.objects.current().filter(branch=branch).values_list("post", flat=True)
        )
        assert posts == {CommitteePost.SECRETARY, CommitteePost.ORGANISATION, CommitteePost.DISCIPLINE}
    assert set(LeaderAppointment.objects.current().values_list("member__status", flat=True)) == {
        MemberStatus.FULL
    }
    assert set(GroupChange.objects.values_list("filing_status", flat=True)) == {FilingStatus.ACKNOWLEDGED}
    # The city data set is clean: the group rule checks find nothing (it holds no meetings yet).
    assert collect_group_findings(list(Branch.objects.all()), timezone.localdate()) == []
    # Written with history (bulk_create_with_history), recorded against the system user.
    assert Member.history.count() == 150
    assert set(Member.history.values_list("history_user__username", flat=True)) == {SYSTEM_USERNAME}


def test_seed_demo_city_refuses_on_existing_data():
    seed("--force")

    with pytest.raises(CommandError, match="已有3个上级党组织"):
        seed("--force", "--scale", "city", "--branches", "1")
    output = seed("--force", "--scale", "city", "--branches", "1", "--if-empty")

    assert "跳过" in output
    assert Branch.objects.count() == 4


def test_city_plan_same_seed_gives_same_data():
    today = dt.date(2026, 11, 1)

    first = city_plan(branches=2, seed=7, today=today)
    again = city_plan(branches=2, seed=7, today=today)
    other = city_plan(branches=2, seed=8, today=today)

    assert first == again
    assert [m.id_number for b in first for m in b.members] != [m.id_number for b in other for m in b.members]
    assert [len(b.members) for b in first] == [50, 50]
