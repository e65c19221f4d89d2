"""manage.py seed_demo (partygroup/management/commands/seed_demo.py, partygroup/demo/).

The demo must show exactly its deliberate violations (R-01, R-03, R-04, R-07, R-08, R-09, R-24 and one
per cadence rule: R-10, R-17 after January, R-18, R-19, R-20), hold valid, historied data built through the
services — a year of meetings in every workflow state, archived minutes that print — refuse to run twice
or in production, and give every role a working account. The city builder, with its three years of
meetings, is tested at a small scale.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter

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
from meetings.enums import HELD_STATES, ActionItemStatus, AttendanceRole, MeetingKind, MeetingState
from meetings.findings import collect_meeting_findings, speaker_order_findings
from meetings.models import (
    ActionFollowUp,
    ActionItem,
    AnnualPlan,
    Attendance,
    Meeting,
    MeetingAddendum,
    MeetingTransition,
    Minutes,
    Talk,
)
from meetings.pdf import minutes_pdf
from meetings.rules import add_months, first_full_month, month_start, months_between
from meetings.selectors import meetings_visible_to, roster_on
from meetings.services import open_action_items
from members.enums import CommitteePost, MemberState, MemberStatus
from members.models import (
    Branch,
    CommitteeMembership,
    Member,
    Organisation,
    OrganisationStaff,
    RuleSet,
    Unit,
)
from members.selectors import member_roles
from members.validators import id_number_birth_date, id_number_gender, validate_id_number
from partygroup.demo import DEMO_USERNAMES, build_demo, core, demo_report
from partygroup.demo.base import DEMO_PASSWORD, SYSTEM_USERNAME
from partygroup.demo.city import CITY_SEED, city_groups, city_meetings_plans, city_plan
from partygroup.findings import collect_findings
from partygroup.pdf import pdf_text

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
# The cadence rules' deliberate violations (partygroup/demo/meetings.py, docs/demo.md).
CADENCE_RULES = {"R-10", "R-17", "R-18", "R-19", "R-20"}
FINANCE_GROUPS = ("办公室党小组", "预算科党小组", "国库科党小组", "政府采购监管科党小组")


def expected_cadence_findings(on: dt.date) -> set[tuple[str, str]]:
    """One per cadence rule; R-17 (no plan this year) is only a finding after January (central-2019's due
    month), so the test holds on any day of the year."""
    expected = {
        ("R-10", "宣传科党小组"),
        ("R-18", "自然资源局机关党小组"),
        ("R-19", "综合科党小组"),
        ("R-20", "何磊"),
    }
    if on.month > RuleSet.objects.get(code="central-2019").annual_plan_due_month:
        expected.add(("R-17", "机关服务中心党小组"))
    return expected


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
        """The group collector and the meetings collector (R-10, R-17 … R-20) together find exactly the
        deliberate violations the demo parts declare, no more; and for every rule a demo part covers,
        collect_findings (all registered collectors) finds exactly what the parts declare."""
        ctx, _output = demo
        today = timezone.localdate()
        branches = list(Branch.objects.all())

        group_findings = collect_group_findings(branches, today)
        meeting_findings = collect_meeting_findings(branches, today)

        assert {(f.rule_id, f.object_label) for f in group_findings} == EXPECTED_GROUP_FINDINGS
        assert len(group_findings) == len(EXPECTED_GROUP_FINDINGS)
        assert {(f.rule_id, f.object_label) for f in meeting_findings} == expected_cadence_findings(today)
        assert len(meeting_findings) == len(expected_cadence_findings(today))
        assert ctx.covered_rules >= GROUP_RULES | CADENCE_RULES
        declared = {(e.rule_id, e.label) for e in ctx.expected}
        assert declared == EXPECTED_GROUP_FINDINGS | expected_cadence_findings(today)
        covered = [f for f in collect_findings(branches, today) if f.rule_id in ctx.covered_rules]
        assert {(f.rule_id, f.object_label) for f in covered} == declared
        assert len(covered) == len(declared)

    def test_check_rules_on_the_demo_lists_exactly_the_deliberate_violations(self, demo):
        ctx, _output = demo
        out = io.StringIO()

        with pytest.raises(SystemExit) as exit_status:  # R-24 is a violation: exit 1
            call_command("check_rules", "--format", "json", stdout=out)

        listed = {
            (f["rule_id"], f["object"])
            for f in json.loads(out.getvalue())
            if f["rule_id"] in ctx.covered_rules
        }
        assert exit_status.value.code == 1
        assert listed == EXPECTED_GROUP_FINDINGS | expected_cadence_findings(timezone.localdate())

    # --- Meetings (partygroup/demo/meetings.py) -------------------------------------------------------
    def test_seed_demo_has_meetings_in_every_state_and_kind(self, demo):
        today = timezone.localdate()
        meetings = list(Meeting.objects.select_related("group"))

        assert {m.state for m in meetings} == set(MeetingState.values)
        assert {m.kind for m in meetings} == set(MeetingKind.values)
        for meeting in meetings:  # held meetings are dated in the past, with their minutes
            assert (meeting.held_on is not None) == (meeting.state in HELD_STATES), meeting
            if meeting.held_on:
                assert meeting.held_on < today and meeting.minutes.held_on == meeting.held_on
            else:
                assert not Minutes.objects.filter(meeting=meeting).exists()
        archived = [m for m in meetings if m.state == MeetingState.ARCHIVED]
        numbers = [m.archive_number for m in archived]
        assert all(numbers) and len(set(numbers)) == len(numbers) > 100
        assert not [m for m in meetings if m.archive_number and m.state != MeetingState.ARCHIVED]
        # Every role has something waiting: the secretaries' approval queues, a returned request.
        users = {u.username: u for u in get_user_model().objects.all()}
        queue = {
            name: {
                m.group.name for m in meetings_visible_to(users[name]).filter(state=MeetingState.SUBMITTED)
            }
            for name in ("shuji_caizheng", "shuji_ziran", "zuzhang_guoku")
        }
        assert queue == {
            "shuji_caizheng": {"国库科党小组"},
            "shuji_ziran": {"自然资源局机关党小组"},
            "zuzhang_guoku": {"国库科党小组"},
        }
        returned = Meeting.objects.get(state=MeetingState.RETURNED)
        assert "回避" in returned.transitions.get(to_state=MeetingState.RETURNED).comment
        cancelled = Meeting.objects.get(state=MeetingState.CANCELLED)
        assert cancelled.transitions.get(to_state=MeetingState.CANCELLED).comment
        assert Meeting.objects.get(state=MeetingState.NOTIFIED).notices.count() == 1

    def test_seed_demo_big_branch_has_a_year_of_organisational_life(self, demo):
        """R-10 … R-21 in the big branch's 4 groups: a group meeting every complete month, life meetings
        every half year with the R-18 record, the yearly evaluation (R-19), approved party days (R-21)."""
        today = timezone.localdate()
        this_month = month_start(today)
        window = set(months_between(add_months(this_month, -12), add_months(this_month, -1)))
        for name in FINANCE_GROUPS:
            group = PartyGroup.objects.get(name=name, dissolved_on=None)
            held = Meeting.objects.held().filter(group=group)
            months = {
                month_start(d)
                for d in held.filter(kind=MeetingKind.GROUP_MEETING).values_list("held_on", flat=True)
            }
            assert months >= window, name
            assert set(held.values_list("kind", flat=True)) == set(MeetingKind.values), name
            lives = list(held.filter(kind=MeetingKind.LIFE_MEETING).order_by("held_on"))
            assert lives[-1].held_on >= add_months(this_month, -6)
            for life in lives:  # before / during / after, rectification measures
                record = life.life_record
                assert record.before_talks and record.during_criticism and record.after_followup
                assert life.action_items.filter(is_rectification=True).count() == 2
            for evaluation in held.filter(kind=MeetingKind.EVALUATION):  # every member evaluated
                roster = {m.pk for m in roster_on(group, evaluation.held_on)}
                assert set(evaluation.evaluations.values_list("member_id", flat=True)) == roster
            for party_day in held.filter(kind=MeetingKind.PARTY_DAY):  # approved before held
                steps = list(party_day.transitions.order_by("at", "pk").values_list("to_state", flat=True))
                assert steps.index(MeetingState.APPROVED) < steps.index(MeetingState.HELD)
        resubmitted = [
            m
            for m in Meeting.objects.filter(kind=MeetingKind.PARTY_DAY, state=MeetingState.ARCHIVED)
            if m.transitions.filter(to_state=MeetingState.RETURNED).exists()
        ]
        assert resubmitted  # returned once with a comment, corrected, then approved

    def test_seed_demo_minutes_are_complete_and_in_speaking_order(self, demo):
        """R-14: everyone of the roster present or absent with a reason, observers from outside the group;
        R-15: members first and the leader last (the leader first in life meetings)."""
        held = list(Meeting.objects.held().select_related("group", "group__branch__organisation"))
        reasons: set[str] = set()
        observers: set[tuple[str, str]] = set()
        for meeting in held:
            assert speaker_order_findings(meeting) == [], meeting
            roster = {m.pk for m in roster_on(meeting.group, meeting.held_on)}
            rows = list(meeting.attendances.select_related("member"))
            assert {a.member_id for a in rows if a.role != AttendanceRole.OBSERVER} == roster
            reasons |= {a.absence_reason for a in rows if a.role == AttendanceRole.ABSENT}
            observers |= {(a.display_name, a.person_title) for a in rows if a.role == AttendanceRole.OBSERVER}
            assert all(a.member_id not in roster for a in rows if a.role == AttendanceRole.OBSERVER)
        assert {"病假", "公休假", "借调省财政厅工作"} <= reasons and "" not in reasons
        assert {
            ("刘海燕", "支部组织委员"),
            ("周建华", "局长"),
            ("邓志远", "局机关党委专职副书记"),
        } <= observers
        office = (
            Meeting.objects.held().filter(group__name="办公室党小组", kind=MeetingKind.GROUP_MEETING).first()
        )
        assert "组织关系在我们党小组的周建华局长参加会议" in office.minutes.opening

    def test_seed_demo_decided_matters_are_followed_up_until_done(self, demo):
        """R-16: decided matters with owners and due dates, followed up in later meetings until done."""
        items = ActionItem.objects.filter(meeting__group__branch__name="市财政局机关第一党支部")
        statuses = set(items.values_list("status", flat=True))
        assert {ActionItemStatus.OPEN, ActionItemStatus.DONE} <= statuses
        for item in items.filter(status=ActionItemStatus.DONE).select_related("meeting"):
            assert item.completed_on and item.follow_ups.exists()
            assert item.meeting.held_on <= item.completed_on <= timezone.localdate()
        follow_ups = list(ActionFollowUp.objects.select_related("meeting", "action_item__meeting"))
        assert {f.status_after for f in follow_ups} == {ActionItemStatus.IN_PROGRESS, ActionItemStatus.DONE}
        assert all(f.meeting.held_on > f.action_item.meeting.held_on for f in follow_ups)
        assert items.filter(is_rectification=True, status=ActionItemStatus.DONE).exists()
        office = PartyGroup.objects.get(name="办公室党小组", dissolved_on=None)
        assert open_action_items(office)  # the latest matters are still open

    def test_seed_demo_talks_and_plans_cover_every_group(self, demo):
        """R-20: talks between two members of the group on that day; R-17: this year's plans."""
        today = timezone.localdate()
        for talk in Talk.objects.select_related("group"):
            assert talk.talked_on < today
            assert {talk.initiator_id, talk.partner_id} <= {
                m.pk for m in roster_on(talk.group, talk.talked_on)
            }
        he = Member.objects.get(name="何磊")
        last = Talk.objects.filter(partner=he).latest("talked_on").talked_on
        assert last < add_months(month_start(today), -6)
        planned = set(AnnualPlan.objects.filter(year=today.year).values_list("group__name", flat=True))
        active = set(PartyGroup.objects.active().values_list("name", flat=True))
        assert planned == active - {"机关服务中心党小组"}
        assert AnnualPlan.objects.filter(group__name="机关服务中心党小组", year=today.year - 1).exists()

    def test_seed_demo_workflow_is_recorded_by_the_right_people_when_it_happened(self, demo):
        """Each step by the leader or a committee member (R-11, R-13); the stamps moved to the days around
        the meeting, in order, never in the future; the archive date is the one the PDF prints."""
        now = timezone.now()
        by_action: dict[str, set[str]] = {}
        for action, username in MeetingTransition.objects.values_list("action", "by__username"):
            by_action.setdefault(action, set()).add(username)
        leaders = {"zuzhang_bangongshi", "zuzhang_yusuan", "zuzhang_guoku", "zuzhang_caigou", "admin"}
        leaders |= {"zuzhang_zonghe", "zuzhang_fuwu", "zuzhang_ziran"}
        committee = {"shuji_caizheng", "zuzhi_caizheng", "shuji_gongwei", "shuji_ziran"}
        assert by_action["submit"] <= leaders and by_action["report"] <= leaders
        assert by_action["approve"] == committee and by_action["archive"] <= committee
        for meeting in Meeting.objects.filter(state=MeetingState.ARCHIVED):
            steps = list(meeting.transitions.order_by("pk"))
            stamps = [t.at for t in steps]
            assert stamps == sorted(stamps) and stamps[-1] <= now
            assert timezone.localdate(stamps[0]) < meeting.held_on <= timezone.localdate(meeting.archived_at)
            assert timezone.localdate(meeting.notices.get().sent_at) < meeting.held_on
            assert meeting.history.count() >= len(steps)
        addendum = MeetingAddendum.objects.get()
        assert addendum.meeting.state == MeetingState.ARCHIVED and "补正" in addendum.text

    def test_seed_demo_archived_minutes_print_as_filed(self, demo):
        """The PDF of an archived demo meeting (meetings.pdf.minutes_pdf) carries its archive number,
        the template's fields, the absentee's reason, the observer and the decided matters."""
        meeting = (
            Meeting.objects.filter(
                group__name="国库科党小组", kind=MeetingKind.GROUP_MEETING, state=MeetingState.ARCHIVED
            )
            .order_by("-held_on")
            .first()
        )

        text = "".join(pdf_text(minutes_pdf(meeting)).split())

        assert meeting.archive_number in text
        archived_on = timezone.localdate(meeting.archived_at)
        assert (
            f"本记录已于{archived_on.year}年{archived_on.month:02d}月{archived_on.day:02d}日存档备查" in text
        )
        for label in (
            "党小组会议记录",
            "时间：",
            "地点：",
            "主持人：",
            "参加人员：",
            "缺席人员：",
            "列席人员：",
        ):
            assert label in text, label
        assert "何磊（借调省财政厅工作）" in text
        assert "邓志远（局机关党委专职副书记）" in text
        assert "胡勇" in text and "草稿" not in text
        for item in meeting.action_items.all():
            assert item.description[:12] in text
        for agenda_item in meeting.agenda_items.all():
            assert agenda_item.title[:12] in text

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
        for expected in EXPECTED_GROUP_FINDINGS | expected_cadence_findings(timezone.localdate()):
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
            "zuzhang_zonghe": "综合科党小组",
            "zuzhang_fuwu": "机关服务中心党小组",
            "zuzhang_ziran": "自然资源局机关党小组",
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


@pytest.fixture
def core_only(monkeypatch):
    """The command's own behaviour (refusals, --if-empty, the admin account) does not depend on the
    meetings part, which takes most of the demo's time: these tests run the core part only. The whole
    demo is built once, by the ``demo`` fixture of TestSeededDemo."""
    monkeypatch.setattr("partygroup.demo.DEMO_PARTS", (core.build,))


def test_seed_demo_if_empty_twice_does_not_duplicate(core_only):
    seed("--force", "--if-empty")
    before = row_counts()

    output = seed("--force", "--if-empty")

    assert row_counts() == before
    assert "跳过" in output
    assert before["Member"] == 70 and before["Organisation"] == 3


def test_seed_demo_on_existing_data_refuses_without_if_empty(core_only):
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


def test_seed_demo_runs_without_force_when_debug_is_on(settings, core_only):
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


def test_seed_demo_keeps_an_existing_admin_account(core_only):
    admin = get_user_model().objects.create_superuser(username="admin", password="own-password-1", email="")

    output = seed("--force")

    admin.refresh_from_db()
    assert admin.check_password("own-password-1")
    assert re.search(r"^\s+admin\s+（未改）", output, re.MULTILINE)


def test_seed_demo_refuses_when_admin_is_not_a_superuser_and_saves_nothing():
    """宣传科党小组's records are entered by the superuser admin (its leader left); an existing admin
    without superuser rights stops the demo with a clear message, and nothing is saved."""
    get_user_model().objects.create_user(username="admin", password="own-password-1")

    with pytest.raises(CommandError, match="超级用户 admin"):
        seed("--force")

    assert Organisation.objects.count() == 0
    assert Meeting.objects.count() == 0
    assert set(get_user_model().objects.values_list("username", flat=True)) == {"admin"}


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
    # The group rule checks find nothing in the city data set.
    assert collect_group_findings(list(Branch.objects.all()), timezone.localdate()) == []
    # Written with history (bulk_create_with_history), recorded against the system user.
    assert Member.history.count() == 150
    assert set(Member.history.values_list("history_user__username", flat=True)) == {SYSTEM_USERNAME}


def test_seed_demo_city_small_scale_has_three_years_of_valid_meetings():
    output = seed("--force", "--scale", "city", "--branches", "3")
    today = timezone.localdate()

    meetings = list(Meeting.objects.all())
    assert "会议" in output and "谈心谈话" in output
    # Each of the 15 groups: a group meeting in every complete month of the last 36 since it was
    # founded (the R-10 groups miss one of the last 12) and one this month, life meetings every 6
    # months, an evaluation every 12 (minus the deliberate misses).
    groups = list(PartyGroup.objects.order_by("pk"))
    this_month = month_start(today)
    missed_by = city_misses(today)["R-10"]
    for group in groups:
        own = [m for m in meetings if m.group_id == group.pk]
        months = Counter(month_start(m.planned_date) for m in own if m.kind == MeetingKind.GROUP_MEETING)
        assert set(months.values()) == {1}
        first = max(add_months(this_month, -36), first_full_month(group.established_on))
        missing = set(months_between(first, add_months(this_month, -1))) - set(months)
        if group.pk in missed_by:
            assert len(missing) == 1 and min(missing) >= add_months(this_month, -12)
        else:
            assert missing == set()
        assert this_month in months
        assert len([m for m in own if m.kind == MeetingKind.LIFE_MEETING]) in {5, 6}
        assert len([m for m in own if m.kind == MeetingKind.EVALUATION]) in {2, 3}
    for index, meeting in enumerate(meetings):
        meeting.clean_fields(exclude=["group", "created_by"])
        if index % 25 == 0:  # the whole validation (foreign keys, constraints: queries) for a sample
            meeting.full_clean()
        assert (meeting.held_on is not None) == (meeting.state in HELD_STATES)
        assert meeting.held_on is None or group_of(groups, meeting).established_on <= meeting.held_on < today
        assert bool(meeting.archive_number) == (meeting.state == MeetingState.ARCHIVED)
    archive_numbers = [m.archive_number for m in meetings if m.archive_number]
    assert len(archive_numbers) == len(set(archive_numbers)) > 0
    assert {m.state for m in meetings} >= {MeetingState.ARCHIVED, MeetingState.REPORTED}
    # Attendance for last year's meetings (the annual report's year), every talk between two members
    # of the group who were in it that day, a plan per group and year.
    attended = {a.meeting_id for a in Attendance.objects.all()}
    assert attended == {m.pk for m in meetings if m.held_on and m.held_on.year == today.year - 1}
    for index, attendance in enumerate(Attendance.objects.all()):
        attendance.clean_fields(exclude=["meeting", "member"])
        if index % 25 == 0:
            attendance.full_clean()
    spans = {
        (m.group_id, m.member_id): (m.started_on, m.ended_on or dt.date.max)
        for m in GroupMembership.objects.all()
    }
    for talk in Talk.objects.all():
        talk.clean_fields(exclude=["group", "initiator", "partner", "recorded_by"])
        for person in (talk.initiator_id, talk.partner_id):
            start, end = spans[(talk.group_id, person)]
            assert start <= talk.talked_on < min(end, today)
    without_plan = set(PartyGroup.objects.values_list("pk", flat=True)) - set(
        AnnualPlan.objects.filter(year=today.year).values_list("group_id", flat=True)
    )
    assert without_plan == city_misses(today)["R-17"] != set()


def test_seed_demo_city_cadence_findings_are_exactly_the_planned_misses():
    """The few groups and members the city plan makes fall behind (MISSES) are exactly what the
    cadence check finds: R-10, R-18, R-19 one group each, R-17 one group (after January), R-20 members."""
    seed("--force", "--scale", "city", "--branches", "3")
    today = timezone.localdate()
    expected = city_expected(today)

    findings = collect_meeting_findings(list(Branch.objects.all()), today)

    found = {(f.rule_id, f.object_id) for f in findings}
    assert found == {(rule, pk) for rule, ids in expected.items() for pk in ids}
    assert len(findings) == len(found)
    assert {rule for rule, ids in expected.items() if ids} >= {"R-10", "R-18", "R-19", "R-20"}


def group_of(groups: list[PartyGroup], meeting: Meeting) -> PartyGroup:
    return next(g for g in groups if g.pk == meeting.group_id)


def city_misses(today: dt.date) -> dict[str, set[int]]:
    """The groups (members for R-20) the city plan makes fall behind, per rule."""
    misses: dict[str, set[int]] = {}
    for _chunk, plan in city_meetings_plans(city_groups(today), today=today, seed=CITY_SEED):
        for rule, ids in plan.expected.items():
            misses.setdefault(rule, set()).update(ids)
    return misses


def city_expected(today: dt.date) -> dict[str, set[int]]:
    """What the cadence check must find: the misses; R-17 only once the rule set's due month has passed."""
    expected = city_misses(today)
    if today.month <= Organisation.objects.get().effective_rule_set().annual_plan_due_month:
        expected["R-17"] = set()
    return expected


def test_seed_demo_city_refuses_on_existing_data(core_only):
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
