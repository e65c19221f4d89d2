"""manage.py seed_demo (partygroup/management/commands/seed_demo.py, partygroup/demo/).

The demo must show exactly its deliberate violations — over EVERY registered collector, nothing else:
R-01, R-03, R-04, R-07, R-08, R-09, R-24, one per cadence rule (R-10, R-17 after January, R-18, R-19,
R-20) and one per duty rule (R-28, R-30, R-31, R-35) — hold valid, historied data built through the
services — a year of meetings in every workflow state, archived minutes that print, the members' dues
ledger and thought reports, leader reviews and training, cultivation with the group's opinions — refuse
to run twice or in production, and give every role a working account. The city builder, with its three
years of meetings and its members' duties, is tested at a small scale.
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
from openpyxl import load_workbook

from groups.enums import CULTIVATION_ORDER, CultivationStageKind, FilingStatus, LeaderGrade, LeaderRole
from groups.findings import collect_group_findings, collect_leader_findings
from groups.models import (
    CultivationCandidate,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderInterview,
    LeaderReview,
    LeaderTraining,
    PartyGroup,
)
from groups.selectors import roles_of
from meetings.annual_enums import AnnualReportState
from meetings.annual_pdf import render_annual_report_pdf
from meetings.enums import (
    HELD_STATES,
    ActionItemStatus,
    AttendanceRole,
    MeetingKind,
    MeetingState,
    Recommendation,
)
from meetings.findings import collect_meeting_findings, speaker_order_findings
from meetings.models import (
    ActionFollowUp,
    ActionItem,
    AnnualPlan,
    AnnualReport,
    Attendance,
    CultivationOpinion,
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
from members.enums import CommitteePost, MemberState, MemberStatus, PointsGrade, ThoughtReportKind
from members.findings import collect_member_findings
from members.models import (
    Branch,
    CommitteeMembership,
    DuesPayment,
    Member,
    MemberPost,
    Organisation,
    OrganisationStaff,
    PointsRating,
    RuleSet,
    ThoughtReport,
    Unit,
)
from members.rule_set_defaults import ensure_rule_sets
from members.rules import DUES_MONTHLY_MAX, dues_due_months, tracking_start
from members.selectors import member_roles
from members.validators import id_number_birth_date, id_number_gender, validate_id_number
from partygroup.demo import DEMO_USERNAMES, build_demo, core, demo_report
from partygroup.demo.base import DEMO_PASSWORD, SYSTEM_USERNAME
from partygroup.demo.city import (
    CITY_SEED,
    DutyAppointment,
    DutyBranch,
    DutyGroup,
    DutyMember,
    city_duties_plan,
    city_duties_plans,
    city_duty_branches,
    city_groups,
    city_meetings_plans,
    city_plan,
)
from partygroup.findings import collect_findings
from partygroup.models import FindingSummary
from partygroup.months import block_start
from partygroup.pdf import pdf_text
from partygroup.yearend import workbook
from partygroup.yearend.selectors import export_plan
from tests.meetings.annual_helpers import SECTIONS as ANNUAL_SECTIONS

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
# The members' duties (partygroup/demo/duties.py): arrears, an overdue written report, a leader rated
# 不称职 twice, a leader without training.
EXPECTED_DUTY_FINDINGS = {
    ("R-28", "综合科党小组"),
    ("R-30", "赵雨萱"),
    ("R-31", "何磊"),
    ("R-35", "吴国平"),
}
DUTY_RULES = {"R-22", "R-28", "R-30", "R-31", "R-32", "R-33", "R-35"}
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


def expected_findings(on: dt.date) -> set[tuple[str, str]]:
    """Every finding the demo holds on day ``on``, from every collector."""
    return EXPECTED_GROUP_FINDINGS | expected_cadence_findings(on) | EXPECTED_DUTY_FINDINGS


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
        # A transactional test that ran earlier in this worker flushed the migrated rule sets.
        ensure_rule_sets(RuleSet)
        ctx = build_demo(log=lines.append)
        yield ctx, "\n".join(lines + demo_report(ctx))
        transaction.set_rollback(True)


class TestSeededDemo:
    def test_seed_demo_findings_are_exactly_the_deliberate_violations(self, demo):
        """Strict: collect_findings over EVERY registered collector finds exactly the violations the demo
        parts declare (ctx.expect) — each declared one is found, and nothing else is found, whatever the
        rule; each collector's share is checked too."""
        ctx, _output = demo
        today = timezone.localdate()
        branches = list(Branch.objects.all())

        findings = collect_findings(branches, today)
        group_findings = collect_group_findings(branches, today)
        leader_findings = collect_leader_findings(branches, today)
        meeting_findings = collect_meeting_findings(branches, today)
        member_findings = collect_member_findings(branches, today)

        declared = {(e.rule_id, e.label) for e in ctx.expected}
        assert declared == expected_findings(today)
        assert len(ctx.expected) == len(declared)
        assert {(f.rule_id, f.object_label) for f in findings} == declared
        assert len(findings) == len(declared)
        assert {(f.rule_id, f.object_label) for f in group_findings} == EXPECTED_GROUP_FINDINGS
        assert {(f.rule_id, f.object_label) for f in meeting_findings} == expected_cadence_findings(today)
        assert {(f.rule_id, f.object_label) for f in leader_findings + member_findings} == (
            EXPECTED_DUTY_FINDINGS
        )
        assert ctx.covered_rules >= GROUP_RULES | CADENCE_RULES | DUTY_RULES

    def test_check_rules_on_the_demo_lists_exactly_the_deliberate_violations(self, demo):
        _ctx, _output = demo
        out = io.StringIO()

        with pytest.raises(SystemExit) as exit_status:  # R-24 is a violation: exit 1
            call_command("check_rules", "--format", "json", stdout=out)

        rows = json.loads(out.getvalue())
        listed = [(f["rule_id"], f["object"]) for f in rows]
        assert exit_status.value.code == 1
        assert set(listed) == expected_findings(timezone.localdate())
        assert len(listed) == len(set(listed))

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

    # --- Members' duties (partygroup/demo/duties.py) --------------------------------------------------
    def test_seed_demo_dues_are_paid_every_month_except_the_arrears(self, demo):
        """R-31: every branch keeps its ledger from 1 January of last year; every active member has a
        settled payment for every month due (from the ledger start or joining to last month) except
        何磊's last three; group members' dues are collected by the group's leader, the others' by the
        branch secretary; every row is historied."""
        today = timezone.localdate()
        this_month = month_start(today)
        assert set(Branch.objects.values_list("ledger_start_on", flat=True)) == {
            dt.date(today.year - 1, 1, 1)
        }
        settled: dict[int, set[dt.date]] = {}
        for payment in DuesPayment.objects.select_related("member"):
            payment.full_clean()
            if payment.is_settled:
                settled.setdefault(payment.member_id, set()).add(payment.month)
        unpaid = {}
        for member in Member.objects.filter(state=MemberState.ACTIVE).select_related("branch"):
            start = tracking_start(member.joined_on, member.branch.ledger_start_on)
            due = dues_due_months(start=start, joined_on=member.joined_on, left_on=None, on=today)
            assert due, member
            missing = set(due) - settled.get(member.pk, set())
            if missing:
                unpaid[member.name] = missing
        assert unpaid == {"何磊": {add_months(this_month, -k) for k in (1, 2, 3)}}
        leaders = {"zuzhang_bangongshi", "zuzhang_yusuan", "zuzhang_guoku", "zuzhang_caigou"}
        leaders |= {"zuzhang_zonghe", "zuzhang_fuwu", "zuzhang_ziran"}
        secretaries = {"shuji_caizheng", "shuji_lituixiu", "shuji_ziran", "shuji_gongwei"}
        collectors = set(DuesPayment.objects.values_list("collected_by__username", flat=True))
        assert leaders <= collectors <= leaders | secretaries
        retired = DuesPayment.objects.filter(member__branch__name="市财政局离退休干部党支部")
        assert set(retired.values_list("collected_by__username", flat=True)) == {"shuji_lituixiu"}
        assert all(month_start(p.paid_on) == block_start(p.month, 3) for p in retired)  # quarterly, ahead
        lump = DuesPayment.objects.get(is_lump_sum=True)
        assert lump.member.name == "周建华" and lump.amount_paid > DUES_MONTHLY_MAX
        assert DuesPayment.history.count() == DuesPayment.objects.count()
        assert all(p.created_at <= timezone.now() for p in DuesPayment.objects.all())

    def test_seed_demo_thought_reports_are_on_time_except_one(self, demo):
        """R-30: 办公室党小组 reports monthly, everyone else at least every quarter; probationary members
        hand in a written report in every complete quarter they were members for — except 赵雨萱, who
        reported only orally since the last complete quarter began."""
        today = timezone.localdate()
        reports = list(ThoughtReport.objects.select_related("member__branch"))
        for report in reports:
            report.full_clean()
            assert report.received_on < today and report.period_end <= month_start(report.received_on)
        by_member: dict[int, list[ThoughtReport]] = {}
        for report in reports:
            by_member.setdefault(report.member_id, []).append(report)
        active = Member.objects.filter(state=MemberState.ACTIVE)
        assert set(by_member) >= set(active.values_list("pk", flat=True))
        office = PartyGroup.objects.get(name="办公室党小组", dissolved_on=None)
        for member in roster_on(office, add_months(month_start(today), -1)):
            months = {month_start(r.received_on) for r in by_member[member.pk]}
            assert add_months(month_start(today), -1) in months and len(months) >= 6, member
        last_block = add_months(block_start(today, 3), -3)
        written_late = set()
        for member in active.filter(status=MemberStatus.PROBATIONARY):
            written = [r for r in by_member[member.pk] if r.kind == ThoughtReportKind.WRITTEN]
            if month_start(member.joined_on) <= last_block and not any(
                r.received_on >= last_block for r in written
            ):
                written_late.add(member.name)
        assert written_late == {"赵雨萱"}
        zhao = Member.objects.get(name="赵雨萱")
        assert {r.kind for r in by_member[zhao.pk] if r.received_on >= last_block} == {ThoughtReportKind.ORAL}

    def test_seed_demo_leaders_are_reviewed_trained_and_interviewed(self, demo):
        """R-28: last year's review of every leader and deputy in office since the first half of the
        year, 汪俊杰 不称职 two years running and interviewed twice; R-35: every current leader and
        deputy in office for a year was trained in the past year, except 吴国平."""
        today = timezone.localdate()
        last_year = today.year - 1
        reviews = {
            (r.appointment.group.name, r.appointment.member.name): r.grade
            for r in LeaderReview.objects.filter(year=last_year).select_related(
                "appointment__group", "appointment__member"
            )
        }
        in_office = {
            (a.group.name, a.member.name)
            for a in LeaderAppointment.objects.select_related("group", "member")
            if a.started_on < dt.date(last_year, 7, 1)
            and (a.ended_on is None or a.ended_on > dt.date(last_year, 12, 1))
        }
        assert set(reviews) == in_office and len(reviews) >= 10
        assert reviews[("综合科党小组", "汪俊杰")] == LeaderGrade.INCOMPETENT
        assert {g for k, g in reviews.items() if k[1] != "汪俊杰"} == {
            LeaderGrade.EXCELLENT,
            LeaderGrade.COMPETENT,
        }
        wang = LeaderReview.objects.filter(appointment__member__name="汪俊杰").order_by("year")
        assert list(wang.values_list("year", "grade")) == [
            (last_year - 1, LeaderGrade.INCOMPETENT),
            (last_year, LeaderGrade.INCOMPETENT),
        ]
        interviews = list(LeaderInterview.objects.order_by("interviewed_on"))
        assert [(i.group.name, i.member.name) for i in interviews] == [("综合科党小组", "汪俊杰")] * 2
        assert all(i.interviewed_on < today for i in interviews)
        year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today
        untrained = set()
        for appointment in LeaderAppointment.objects.current(today).select_related("member"):
            if appointment.started_on <= year_ago and not LeaderTraining.objects.filter(
                member=appointment.member, trained_on__gt=year_ago, trained_on__lte=today
            ):
                untrained.add(appointment.member.name)
        assert untrained == {"吴国平"}

    def test_seed_demo_cultivation_has_every_stage_with_opinions_from_held_meetings(self, demo):
        """R-22: candidates in every stage, in order, contacts from the activist stage on, the
        probationary one linked to the member record; the group's opinions recorded in held (then
        archived) meetings whose agenda has seed 002's second item."""
        candidates = list(CultivationCandidate.objects.prefetch_related("contacts", "stages"))
        assert {c.stage for c in candidates} == set(CULTIVATION_ORDER)
        for candidate in candidates:
            stages = [s.stage for s in candidate.stages.all()]
            assert stages == list(CULTIVATION_ORDER[: CULTIVATION_ORDER.index(candidate.stage) + 1])
            days = [s.started_on for s in candidate.stages.all()]
            assert days == sorted(days) and days[-1] == candidate.stage_started_on
            contacts = list(candidate.contacts.all())
            if candidate.stage != CultivationStageKind.APPLICANT:
                assert 1 <= len(contacts) <= 2 and all(c.is_full_member for c in contacts), candidate
                assert {c.branch_id for c in contacts} == {candidate.branch_id}
        probationary = CultivationCandidate.objects.get(stage=CultivationStageKind.PROBATIONARY)
        assert probationary.member.name == "罗杰"
        assert probationary.stage_started_on == probationary.member.joined_on
        opinions = list(CultivationOpinion.objects.select_related("meeting", "agenda_item", "candidate"))
        assert {o.candidate.name for o in opinions} == {c.name for c in candidates}
        assert {o.recommendation for o in opinions} == {Recommendation.RECOMMEND, Recommendation.DEFER}
        for opinion in opinions:
            meeting = opinion.meeting
            assert meeting.state == MeetingState.ARCHIVED and meeting.group_id == opinion.candidate.group_id
            titles = list(meeting.agenda_items.order_by("number").values_list("title", flat=True))
            assert titles[1] == "讨论对入党申请人的意见、推荐吸收入党积极分子人选"
            assert opinion.agenda_item.meeting_id == meeting.pk
            first = opinion.candidate.stages.order_by("started_on").first().started_on
            assert first <= meeting.held_on < timezone.localdate()
            assert meeting.transitions.filter(to_state=MeetingState.REPORTED).exists()

    def test_seed_demo_posts_and_points(self, demo):
        """R-32: posts and commitments only for members without a party post, every such member with
        one; R-33: points ratings only in the branch whose rule set enables them, last year's."""
        today = timezone.localdate()
        posts = list(MemberPost.objects.select_related("member"))
        holders = set(LeaderAppointment.objects.current(today).values_list("member_id", flat=True))
        holders |= set(CommitteeMembership.objects.current(today).values_list("member_id", flat=True))
        for post in posts:
            post.full_clean()
            assert post.member_id not in holders and not post.member.is_leading_cadre
            assert post.publicised_on is not None and post.publicised_on.year == post.year
        arrived = {"龚子豪", "邵欣怡", "万明轩", "覃丹丹", "韩鑫"}  # took their posts in their old branch
        without_post = {
            m.name
            for m in Member.objects.filter(state=MemberState.ACTIVE, is_leading_cadre=False)
            if m.pk not in holders
        }
        assert {p.member.name for p in posts} == without_post - arrived
        assert {"张堃", "曾桂英"} - without_post == {"曾桂英"}  # a committee member holds a post
        ratings = list(PointsRating.objects.select_related("member__branch__organisation"))
        assert ratings and {r.year for r in ratings} == {today.year - 1}
        assert {r.member.branch.name for r in ratings} == {"市自然资源局机关党支部"}
        assert all(r.member.branch.organisation.effective_rule_set().points_rating_enabled for r in ratings)
        assert {r.grade for r in ratings} <= set(PointsGrade.values)

    def test_seed_demo_has_last_years_annual_reports_of_the_big_branch(self, demo):
        """R-34: the big branch's groups reported last year's work: drafted from the year's figures,
        submitted with the figures frozen, archived by the branch — one still awaiting the archive."""
        last_year = timezone.localdate().year - 1
        reports = {
            r.group.name: r for r in AnnualReport.objects.filter(year=last_year).select_related("group")
        }

        assert set(reports) == set(FINANCE_GROUPS)
        assert AnnualReport.objects.count() == len(FINANCE_GROUPS)
        states = {name: r.state for name, r in reports.items()}
        assert states == {
            "办公室党小组": AnnualReportState.ARCHIVED,
            "预算科党小组": AnnualReportState.ARCHIVED,
            "国库科党小组": AnnualReportState.ARCHIVED,
            "政府采购监管科党小组": AnnualReportState.SUBMITTED,
        }
        for report in reports.values():
            assert report.snapshot and report.basic_situation and report.main_work
            assert "党费" in report.main_work and report.next_year_plans.startswith("1. ")
            assert bool(report.archive_number) == (report.state == AnnualReportState.ARCHIVED)

    def test_seed_demo_annual_report_pdf_and_year_end_workbook(self, demo, tmp_path):
        """Issue 5: a demo group's archived annual report prints every section with its own figures and
        text; the year-end workbook of the whole demo organisation has every sheet, and each 合计 row
        is the sum of the rows above it."""
        last_year = timezone.localdate().year - 1
        report = AnnualReport.objects.select_related("group").get(year=last_year, group__name="办公室党小组")

        text = pdf_text(render_annual_report_pdf(report.group, last_year))
        flat = "".join(text.split())
        missing = [section for section in ANNUAL_SECTIONS if "".join(section.split()) not in flat]
        assert missing == []
        assert f"党小组{last_year}年度工作情况报告" in flat and report.archive_number in flat
        assert "".join(report.basic_situation.split())[:30] in flat
        assert all(f"{m}月" in text for m in range(1, 13))

        root = Organisation.objects.get(depth=1)
        plan = export_plan(
            organisation=root,
            branch_ids=list(Branch.objects.values_list("pk", flat=True)),
            year=last_year,
            as_of=dt.date(last_year, 12, 31),
        )
        path = tmp_path / "demo.xlsx"
        workbook.write_workbook(plan, path, report_as_of=timezone.localdate())
        book = load_workbook(path, read_only=True)
        sheets = ["说明", "组织汇总", "支部汇总", "党小组汇总", "问题汇总（按规则）", "问题明细"]
        assert book.sheetnames == sheets
        held_column = "党小组会（次）"
        totals = {}
        for name in ("组织汇总", "支部汇总", "党小组汇总"):
            rows = [list(r) for r in book[name].iter_rows(values_only=True)]
            header, body, total = rows[0], rows[1:-1], rows[-1]
            assert total[0] == "合计" and body, name
            for index, title in enumerate(header):
                values = [r[index] for r in body]
                if title == "参会率" or not all(isinstance(v, int) for v in values):
                    continue
                assert total[index] == sum(values), (name, title)
            totals[name] = total[header.index(held_column)]
        held = Meeting.objects.filter(
            kind=MeetingKind.GROUP_MEETING, held_on__year=last_year, state__in=HELD_STATES
        ).count()
        assert totals == {"组织汇总": held, "支部汇总": held, "党小组汇总": held} and held > 0
        rule_rows = [list(r) for r in book["问题汇总（按规则）"].iter_rows(values_only=True)]
        assert rule_rows[-1][0] == "合计" and rule_rows[-1][-1] == sum(r[-1] for r in rule_rows[1:-1]) > 0

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
        for expected in expected_findings(timezone.localdate()):
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
    # the overview's finding counts are there at once, one summary per branch (partygroup.summaries)
    branches = Branch.objects.count()
    assert FindingSummary.objects.filter(checked_on=timezone.localdate()).count() == branches > 0
    assert f"已检查 {branches} 个党支部的工作规则" in output


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


def test_seed_demo_city_small_scale_has_valid_duties_and_exactly_the_planned_findings():
    """The ledgers start on 1 January of last year; every member's dues of every month since (the
    planned arrears aside), quarterly thought reports, two years of leader reviews, training and
    candidates in every stage — all valid records. Strict over EVERY registered collector: the city
    set's findings are exactly the planned misses — the cadence ones (R-10, R-17 after January, R-18,
    R-19, R-20) and the duty ones (R-28 groups, R-30, R-31, R-35 members) — a realistic few."""
    seed("--force", "--scale", "city", "--branches", "3")
    today = timezone.localdate()
    start = dt.date(today.year - 1, 1, 1)
    arrears = city_duty_misses(today)["R-31"]

    assert set(Branch.objects.values_list("ledger_start_on", flat=True)) == {start}
    assert Branch.history.filter(ledger_start_on=start).count() == 3
    paid: dict[int, set[dt.date]] = {}
    for index, payment in enumerate(DuesPayment.objects.all()):
        payment.clean_fields(exclude=["member", "collected_by"])
        if index % 50 == 0:
            payment.full_clean()
        paid.setdefault(payment.member_id, set()).add(payment.month)
    for member in Member.objects.select_related("branch"):
        tracked = tracking_start(member.joined_on, member.branch.ledger_start_on)
        due = set(dues_due_months(start=tracked, joined_on=member.joined_on, left_on=None, on=today))
        assert (due <= paid.get(member.pk, set())) == (member.pk not in arrears), member
    last_year = {
        m
        for m, month in DuesPayment.objects.filter(month__year=today.year - 1).values_list(
            "member_id", "month"
        )
    }
    assert len(last_year) == Member.objects.filter(joined_on__year__lt=today.year).count()
    for index, report in enumerate(ThoughtReport.objects.all()):
        report.clean_fields(exclude=["member", "received_by"])
        if index % 50 == 0:
            report.full_clean()
        assert report.received_on < today and report.period_end == month_start(report.received_on)
        assert report.period_end.month % 3 == 0 and report.period_start >= add_months(report.period_end, -2)
    reported = set(ThoughtReport.objects.values_list("member_id", flat=True))
    assert (
        set(
            Member.objects.filter(joined_on__lt=add_months(month_start(today), -3)).values_list(
                "pk", flat=True
            )
        )
        <= reported
    )
    reviews = LeaderReview.objects.select_related("appointment")
    assert {r.year for r in reviews} == {today.year - 2, today.year - 1}
    assert reviews.filter(year=today.year - 1).count() == LeaderAppointment.objects.count()
    for review in reviews:
        review.full_clean()
    for training in LeaderTraining.objects.all():
        training.full_clean()
        assert training.trained_on < today
    candidates = list(CultivationCandidate.objects.prefetch_related("stages", "contacts"))
    assert {c.stage for c in candidates} == set(CULTIVATION_ORDER)
    assert len(candidates) == 3 * 3 + Member.objects.filter(status=MemberStatus.PROBATIONARY).count()
    for candidate in candidates:
        candidate.full_clean()
        stages = list(candidate.stages.all())
        assert [s.stage for s in stages] == list(CULTIVATION_ORDER[: len(stages)])
        assert [s.started_on for s in stages] == sorted(s.started_on for s in stages)
        assert stages[-1].started_on == candidate.stage_started_on <= today
        assert candidate.group.established_on <= stages[0].started_on
        contacts = list(candidate.contacts.all())
        assert (len(contacts) >= 1) == (candidate.stage != CultivationStageKind.APPLICANT)
        assert all(c.status == MemberStatus.FULL and c.branch_id == candidate.branch_id for c in contacts)
        assert (candidate.member_id is not None) == (candidate.stage == CultivationStageKind.PROBATIONARY)

    expected = city_expected(today)
    duty = city_duty_misses(today)
    findings = collect_findings(list(Branch.objects.all()), today)
    found = {(f.rule_id, f.object_id) for f in findings}
    planned = {(rule, pk) for misses in (expected, duty) for rule, ids in misses.items() for pk in ids}
    assert found == planned
    assert len(findings) == len(planned)
    assert {rule for rule, ids in duty.items() if ids} == {"R-28", "R-30", "R-31", "R-35"}
    assert len(duty["R-30"] | duty["R-31"]) < Member.objects.count() * 0.1


def test_city_duties_plan_same_seed_gives_same_data_and_plans_the_misses():
    """``city_duties_plan`` without the database: the same seed gives the same plan; the members,
    groups and appointments at the MISSES positions fall behind, everyone else is complete."""
    today = dt.date(2026, 11, 22)  # ledger from 2025-01-01: 23 months, this one collected already
    groups = (
        DutyGroup(pk=1, position=5, unit=None, established=dt.date(2020, 1, 1), leader=100),
        DutyGroup(pk=2, position=6, unit=None, established=dt.date(2021, 5, 1), leader=105),
    )
    members = tuple(
        DutyMember(
            100 + i, i, 1 if i < 5 else 2, dt.date(2010, 5, 1), False, f"党员{i}", "M", dt.date(1985, 1, 1)
        )
        for i in range(10)
    )
    appointments = (
        DutyAppointment(1, 0, 1, 100, LeaderRole.LEADER, dt.date(2020, 1, 1)),
        DutyAppointment(2, 9, 2, 105, LeaderRole.LEADER, dt.date(2021, 5, 1)),
    )
    branch = DutyBranch(1, 0, groups, members, appointments)

    first = city_duties_plan([branch], today=today, seed=7)
    again = city_duties_plan([branch], today=today, seed=7)

    assert first == again
    assert first != city_duties_plan([branch], today=today, seed=8)
    assert first.expected == {"R-28": {1}, "R-30": set(), "R-31": {107}, "R-35": {105}}
    paid = Counter(member for member, _month, _amount, _day in first.dues)
    assert paid == {100 + i: 23 for i in range(10) if i != 7} | {107: 21}  # October and November unpaid
    assert {day.month for _m, day, *_rest in first.reports} == {3, 6, 9, 12}
    assert len(first.reports) == 10 * 7
    grades = {(appointment, year): grade for appointment, year, grade in first.reviews}
    assert grades[(1, 2024)] == grades[(1, 2025)] == LeaderGrade.INCOMPETENT
    assert grades[(2, 2025)] != LeaderGrade.INCOMPETENT
    assert {m for m, day, _t in first.trainings if day > dt.date(2025, 11, 22)} == {100}


def city_duty_misses(today: dt.date) -> dict[str, set[int]]:
    """The members (groups for R-28) the city duties plan makes fall behind, per rule."""
    misses: dict[str, set[int]] = {}
    for _chunk, plan in city_duties_plans(city_duty_branches(today), today=today, seed=CITY_SEED):
        for rule, ids in plan.expected.items():
            misses.setdefault(rule, set()).update(ids)
    return misses


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
