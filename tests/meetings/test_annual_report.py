"""The annual work report (R-34): its figures (meetings/annual_data.py), the services and the PDF
(meetings/annual_report.py, meetings/annual_pdf.py) and ``manage.py render_annual_report``."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups import services as group_services
from groups.enums import CultivationStageKind
from meetings import services
from meetings.annual_data import AnnualReportData, annual_report_data, annual_report_data_many, ratio_label
from meetings.annual_enums import AnnualReportState, ReportAction
from meetings.annual_pdf import report_figures
from meetings.annual_report import (
    annual_report_archive,
    annual_report_pdf,
    annual_report_return,
    annual_report_save,
    annual_report_submit,
    annual_reports_visible_to,
)
from meetings.enums import ActionItemStatus, MeetingKind, MeetingState, TopicCategory
from meetings.models import ActionItem, AnnualReport, AnnualReportTransition
from members.enums import CommitteePost
from partygroup.pdf import pdf_text
from tests import factories as f
from tests.meetings.annual_helpers import SECTIONS, YEAR, build_year, day, hold
from tests.meetings.factories import approver_for

TODAY = timezone.localdate()


def _rates(data: AnnualReportData) -> dict[str, tuple[str, str]]:
    return {row.name: (row.periods, row.rate_label) for row in data.attendance}


# --- Attendance (R-34: counted only over the member's own months) ---------------------------------------
def test_ratio_label_shows_fraction_and_percent_or_a_dash():
    assert [ratio_label(2, 3), ratio_label(3, 4), ratio_label(6, 6), ratio_label(0, 0)] == [
        "2/3 (66.7%)",
        "3/4 (75%)",
        "6/6 (100%)",
        "—",
    ]


def test_r34_attendance_of_member_who_joined_in_june_counts_only_meetings_after_joining(world):
    scene = build_year(world)
    data = annual_report_data(world.group, YEAR)
    row = next(r for r in data.attendance if r.member_id == scene.joiner.pk)
    # Jul, Sep (absent), Nov: the Jan, Mar and Jun (10 June, before joining on 15 June) meetings do not count.
    assert (row.present, row.expected, row.rate_label, row.periods) == (2, 3, "2/3 (66.7%)", "06-15至12-31")


def test_r34_attendance_of_member_who_moved_in_september_counts_only_their_months_in_each_group(world):
    scene = build_year(world)
    both = annual_report_data_many([world.group, world.other_group], YEAR)
    old = next(r for r in both[world.group.pk].attendance if r.member_id == scene.mover.pk)
    new = next(r for r in both[world.other_group.pk].attendance if r.member_id == scene.mover.pk)
    # Old group: Jan, Mar (absent), Jun, Jul — not Sep or Nov, after the move on 1 September.
    assert (old.present, old.expected, old.rate_label, old.periods) == (3, 4, "3/4 (75%)", "01-01至08-31")
    # New group: only its October meeting.
    assert (new.present, new.expected, new.rate_label, new.periods) == (1, 1, "1/1 (100%)", "09-01至12-31")


def test_r34_attendance_lists_every_member_of_the_year_with_their_own_rate(world):
    scene = build_year(world)
    leader, a, b = world.members[0], world.members[1], world.members[2]
    data = annual_report_data(world.group, YEAR)
    assert _rates(data) == {
        leader.name: ("01-01至12-31", "6/6 (100%)"),
        a.name: ("01-01至12-31", "6/6 (100%)"),
        b.name: ("01-01至12-31", "6/6 (100%)"),
        scene.joiner.name: ("06-15至12-31", "2/3 (66.7%)"),
        scene.mover.name: ("01-01至08-31", "3/4 (75%)"),
    }
    assert (data.present, data.expected, data.attendance_rate_label) == (23, 25, "23/25 (92%)")


def test_r34_member_without_a_meeting_in_their_time_is_shown_as_a_dash(world):
    late = f.MemberFactory(branch=world.branch, name="周十二")
    f.GroupMembershipFactory(group=world.group, member=late, started_on=day(12, 20))
    hold(world.group, world.leader, day(3))
    row = next(r for r in annual_report_data(world.group, YEAR).attendance if r.member_id == late.pk)
    assert (row.present, row.expected, row.rate_label) == (0, 0, "—")


def test_r34_month_by_month_figures_count_meetings_and_attendance(world):
    build_year(world)
    hold(world.group, world.leader, day(3, 20), kind=MeetingKind.PARTY_DAY)
    data = annual_report_data(world.group, YEAR)
    assert [
        (m.month, m.meetings_held, m.group_meetings_held, m.present, m.expected) for m in data.months
    ] == [
        (1, 1, 1, 4, 4),
        (2, 0, 0, 0, 0),
        (3, 2, 1, 3, 4),  # the themed party day counts as a meeting, not for the group-meeting rate
        (4, 0, 0, 0, 0),
        (5, 0, 0, 0, 0),
        (6, 1, 1, 4, 4),
        (7, 1, 1, 5, 5),
        (8, 0, 0, 0, 0),
        (9, 1, 1, 3, 4),
        (10, 0, 0, 0, 0),
        (11, 1, 1, 4, 4),
        (12, 0, 0, 0, 0),
    ]
    assert [(k.code, k.count) for k in data.kinds] == [
        ("group_meeting", 6),
        ("life_meeting", 0),
        ("evaluation", 0),
        ("party_day", 1),
    ]
    assert (data.meetings_held, data.group_meeting_months) == (7, 6)


def test_r34_meetings_not_held_or_of_another_year_do_not_count(world):
    hold(world.group, world.leader, day(5))
    hold(world.group, world.leader, dt.date(YEAR - 1, 12, 10))
    make_draft = services.meeting_create(
        group=world.group,
        kind=MeetingKind.GROUP_MEETING,
        title="未召开的会议",
        planned_date=day(8),
        agenda="学习",
        by=world.leader,
    )
    assert make_draft.state == MeetingState.DRAFT
    data = annual_report_data(world.group, YEAR)
    assert [m.month for m in data.months if m.meetings_held] == [5]


# --- The other sections ---------------------------------------------------------------------------------
def test_r34_topics_decided_matters_talks_and_evaluations(world):
    owner = world.members[1]
    matters = (
        services.ActionItemInput(description="整理学习心得", owner=owner, due_on=day(4)),
        services.ActionItemInput(description="走访困难党员", owner=owner, due_on=day(12)),
        services.ActionItemInput(description="完善学习台账", owner=owner, due_on=day(12, 30)),
    )
    meeting = hold(
        world.group,
        world.leader,
        day(3),
        topics=(("学习党章", TopicCategory.STUDY), ("推荐入党积极分子", TopicCategory.DEVELOPMENT)),
        action_items=matters,
    )
    hold(world.group, world.leader, day(11), kind=MeetingKind.EVALUATION)
    first, second, _third = ActionItem.objects.filter(meeting=meeting).order_by("pk")
    # Arranged directly: one completed in the year, one after the year's end.
    ActionItem.objects.filter(pk=first.pk).update(status=ActionItemStatus.DONE, completed_on=day(4, 1))
    ActionItem.objects.filter(pk=second.pk).update(
        status=ActionItemStatus.DONE, completed_on=dt.date(YEAR + 1, 1, 5)
    )
    services.talk_record(
        group=world.group,
        talked_on=day(5),
        initiator=world.leader_member,
        partner=world.members[2],
        topic="思想动态",
        summary="交流工作和学习情况",
        by=world.leader,
    )
    data = annual_report_data(world.group, YEAR)
    assert [(t.held_on, t.title, t.category_label) for t in data.topics] == [
        (day(3), "学习党章", "组织开展学习"),
        (day(3), "推荐入党积极分子", "研究推荐和发展党员工作"),
        (day(11), "学习党章", "组织开展学习"),
    ]
    assert [(c.label, c.count) for c in data.topic_categories] == [
        ("组织开展学习", 2),
        ("研究推荐和发展党员工作", 1),
    ]
    assert (
        data.actions.decided,
        data.actions.done_by_year_end,
        data.actions.done_by_as_of,
        [a.description for a in data.actions.unfinished],
    ) == (3, 1, 2, ["完善学习台账"])
    assert (data.talks.count, data.talks.members_covered, data.talks.members_total) == (1, 2, 4)
    assert set(data.talks.not_covered) == {world.members[1].name, world.members[3].name}
    assert data.evaluations.meetings == 1
    assert sorted((r.name, r.grade_label) for r in data.evaluations.results) == sorted(
        (m.name, label)
        for m, label in zip(
            sorted(world.members, key=lambda m: (m.name, m.pk)), ["优秀", "合格"] * 2, strict=True
        )
    )


def test_r31_dues_paid_and_arrears_of_the_year_from_the_ledger_start(world):
    branch = world.branch
    branch.ledger_start_on = day(3, 1)
    branch.save()
    member = world.members[1]
    for month in range(3, 13):
        if month != 5:
            f.DuesPaymentFactory(member=member, month=day(month, 1), amount_due="40.00")
    data = annual_report_data(world.group, YEAR)
    row = next(r for r in data.dues.rows if r.member_id == member.pk)
    assert (row.paid_months, row.paid_total, row.arrears_months, row.arrears_label) == (
        9,
        Decimal("360.00"),
        1,
        f"{YEAR}年5月",
    )
    # Tracked from March (the ledger start): the other members owe March to December.
    others = [r for r in data.dues.rows if r.member_id != member.pk]
    assert {r.arrears_months for r in others} == {10}
    assert (data.dues.tracked, data.dues.paid_total, data.dues.arrears_months) == (
        True,
        Decimal("360.00"),
        31,
    )


def test_r31_branch_without_ledger_shows_no_arrears(world):
    data = annual_report_data(world.group, YEAR)
    assert (data.dues.tracked, data.dues.arrears_months, data.dues.in_arrears) == (False, 0, ())


def test_r30_thought_reports_count_only_while_in_the_group(world):
    scene = build_year(world)
    f.ThoughtReportFactory(member=scene.joiner, received_on=day(5, 20))  # before joining on 15 June
    f.ThoughtReportFactory(member=scene.joiner, received_on=day(7, 20))
    f.ThoughtReportFactory(member=scene.joiner, received_on=day(10, 20), kind="oral")
    f.ThoughtReportFactory(member=scene.mover, received_on=day(2, 20))
    f.ThoughtReportFactory(member=scene.mover, received_on=day(9, 20))  # after moving
    both = annual_report_data_many([world.group, world.other_group], YEAR)
    rows = {r.member_id: (r.total, r.written) for r in both[world.group.pk].thought_reports.rows}
    assert (rows[scene.joiner.pk], rows[scene.mover.pk]) == ((2, 1), (1, 1))
    other_rows = {r.member_id: (r.total, r.written) for r in both[world.other_group.pk].thought_reports.rows}
    assert other_rows[scene.mover.pk] == (1, 1)
    assert (
        both[world.group.pk].thought_reports.total,
        both[world.group.pk].thought_reports.members_reported,
    ) == (
        3,
        2,
    )


def test_r22_cultivation_candidates_and_probationary_members(world):
    activist = group_services.candidate_create(
        group=world.group,
        name="赵积极",
        gender="M",
        birth_date=dt.date(1995, 3, 1),
        applied_on=dt.date(YEAR - 1, 9, 1),
        by=world.secretary,
    )
    group_services.candidate_advance_stage(
        candidate=activist,
        stage=CultivationStageKind.ACTIVIST,
        started_on=day(4, 1),
        by=world.secretary,
        contacts=[world.members[1]],
    )
    probationary = f.MemberFactory(
        branch=world.branch,
        name="钱预备",
        status="probationary",
        joined_on=dt.date(YEAR - 1, 7, 1),
        full_member_on=None,
    )
    f.GroupMembershipFactory(group=world.group, member=probationary, started_on=dt.date(YEAR - 1, 7, 1))
    f.ThoughtReportFactory(member=probationary, received_on=day(4, 15))
    data = annual_report_data(world.group, YEAR)
    assert [(c.name, c.stage_label, c.entered_in_year) for c in data.cultivation.candidates] == [
        ("赵积极", "入党积极分子", ("入党积极分子",))
    ]
    assert [(s.label, s.count) for s in data.cultivation.stage_counts] == [("入党积极分子", 1)]
    assert [(p.name, p.written_reports) for p in data.cultivation.probationary] == [("钱预备", 1)]


def test_r35_leading_cadres_with_their_attendance(world):
    cadre = world.members[2]
    cadre.is_leading_cadre = True
    cadre.post = "副局长"
    cadre.save()
    hold(world.group, world.leader, day(2), absent=(cadre,))
    hold(world.group, world.leader, day(4))
    data = annual_report_data(world.group, YEAR)
    assert [(r.name, r.post, r.rate_label) for r in data.leading_cadres] == [
        (cadre.name, "副局长", "1/2 (50%)")
    ]


def test_findings_of_the_year_are_those_of_the_group_and_its_members(world):
    hold(world.group, world.leader, day(6))
    data = annual_report_data(world.group, YEAR)
    r10 = [x for x in data.findings if x.rule_id == "R-10"]
    assert [x.object_label for x in r10] == [world.group.name]
    assert f"{YEAR}年1月" in r10[0].message and f"{YEAR}年6月" not in r10[0].message
    other_names = set(world.other_group.memberships.values_list("member__name", flat=True))
    assert {x.object_label for x in data.findings} <= {world.group.name, *(m.name for m in world.members)}
    assert not other_names & {x.object_label for x in data.findings if x.object_label != world.group.name}


def test_data_round_trips_through_json(world):
    build_year(world)
    data = annual_report_data(world.group, YEAR)
    assert AnnualReportData.from_json(data.as_json()) == data


def test_r34_bulk_data_takes_the_same_number_of_queries_for_one_and_five_groups(world):
    groups = [world.group]
    for n in range(4):
        group = f.PartyGroupFactory(branch=world.branch, name=f"第{n + 3}党小组")
        people = [f.GroupMembershipFactory(group=group).member for _ in range(3)]
        f.LeaderAppointmentFactory(group=group, member=people[0])
        leader = f.user_for(people[0], f"leader{group.pk}")
        hold(group, leader, day(4), absent=(people[2],))
        f.ThoughtReportFactory(member=people[1], received_on=day(5))
        groups.append(group)
    hold(world.group, world.leader, day(4))
    annual_report_data_many(groups, YEAR)  # warm caches (content types, rule sets)
    with CaptureQueriesContext(connection) as one:
        single = annual_report_data_many(groups[:1], YEAR)
    with CaptureQueriesContext(connection) as five:
        many = annual_report_data_many(groups, YEAR)
    assert len(one.captured_queries) == len(five.captured_queries)
    assert set(single) == {world.group.pk} and set(many) == {g.pk for g in groups}
    assert many[world.group.pk] == single[world.group.pk]
    assert {g: many[g].attendance_rate_label for g in many if g != world.group.pk} == {
        g.pk: "2/3 (66.7%)" for g in groups[1:]
    }


# --- Services: the workflow and its refusals ---------------------------------------------------------------
def _committee(world):
    return approver_for(world.branch)


def test_r34_save_creates_a_draft_prefilled_from_the_data(world):
    hold(world.group, world.leader, day(3))
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader)
    assert report.state == AnnualReportState.DRAFT
    assert report.basic_situation.startswith(f"{world.group.name}隶属{world.branch.name}。")
    assert "全年召开各类会议1次" in report.main_work
    assert report.snapshot == {}
    assert list(report.transitions.values_list("action", "from_state", "to_state", "by")) == [
        (ReportAction.CREATE, "", AnnualReportState.DRAFT, world.leader.pk)
    ]


@pytest.mark.parametrize("offset", [0, 1])
def test_r34_report_for_a_year_not_ended_is_refused_and_nothing_saved(world, offset):
    year = TODAY.year + offset
    with pytest.raises(ValidationError) as exc:
        annual_report_save(group=world.group, year=year, by=world.leader, main_work="提前写的总结")
    assert f"{year}年度尚未结束" in exc.value.messages[0]
    assert AnnualReport.objects.count() == 0
    assert AnnualReportTransition.objects.count() == 0


def test_r34_report_for_a_year_before_the_group_existed_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        annual_report_save(group=world.group, year=world.group.established_on.year - 1, by=world.leader)
    assert "没有" in exc.value.messages[0]
    assert AnnualReport.objects.count() == 0


def test_r34_submit_by_a_non_leader_is_refused_and_nothing_changes(world):
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader)
    for user in (world.secretary, world.member_user, world.other_leader, world.org_staff):
        with pytest.raises(PermissionDenied):
            annual_report_submit(report=report, by=user)
    report.refresh_from_db()
    assert (report.state, report.snapshot) == (AnnualReportState.DRAFT, {})
    assert list(report.transitions.values_list("action", flat=True)) == [ReportAction.CREATE]


def test_r34_edit_by_a_non_leader_is_refused(world):
    annual_report_save(group=world.group, year=YEAR, by=world.leader)
    with pytest.raises(PermissionDenied):
        annual_report_save(group=world.group, year=YEAR, by=world.secretary, problems="书记改的")
    assert AnnualReport.objects.get().problems != "书记改的"


def test_r34_archive_by_a_non_committee_user_is_refused_and_nothing_changes(world):
    report = annual_report_submit(
        report=annual_report_save(group=world.group, year=YEAR, by=world.leader), by=world.leader
    )
    propaganda = f.MemberFactory(branch=world.branch)
    f.CommitteeMembershipFactory(member=propaganda, post=CommitteePost.PROPAGANDA)
    refused = [
        world.leader,
        world.member_user,
        world.org_staff,
        world.other_secretary,
        f.user_for(propaganda),
    ]
    for user in refused:
        with pytest.raises(PermissionDenied):
            annual_report_archive(report=report, by=user)
        with pytest.raises(PermissionDenied):
            annual_report_return(report=report, by=user, comment="请修改")
    report.refresh_from_db()
    assert (report.state, report.archive_number, report.archived_at) == (
        AnnualReportState.SUBMITTED,
        "",
        None,
    )
    assert list(report.transitions.values_list("action", flat=True)) == [
        ReportAction.CREATE,
        ReportAction.SUBMIT,
    ]


def test_r34_full_workflow_records_every_step(world):
    committee = _committee(world)
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader)
    annual_report_submit(report=report, by=world.leader, comment="请审阅")
    with pytest.raises(ValidationError) as exc:
        annual_report_return(report=report, by=committee, comment="  ")
    assert "必须填写意见" in exc.value.messages[0]
    annual_report_return(report=report, by=committee, comment="请补充存在问题")
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader, problems="学习不够深入。")
    annual_report_submit(report=report, by=world.leader)
    report = annual_report_archive(report=report, by=committee, comment="同意存档")
    assert (report.state, report.archive_number, report.problems) == (
        AnnualReportState.ARCHIVED,
        f"{YEAR}-{world.group.pk:05d}-NB",
        "学习不够深入。",
    )
    assert list(report.transitions.values_list("action", "from_state", "to_state", "by", "comment")) == [
        ("create", "", "draft", world.leader.pk, ""),
        ("submit", "draft", "submitted", world.leader.pk, "请审阅"),
        ("return", "submitted", "returned", committee.pk, "请补充存在问题"),
        ("submit", "returned", "submitted", world.leader.pk, ""),
        ("archive", "submitted", "archived", committee.pk, "同意存档"),
    ]


def test_r34_archived_report_is_read_only_for_everyone(world, django_user_model):
    committee = _committee(world)
    report = annual_report_submit(
        report=annual_report_save(group=world.group, year=YEAR, by=world.leader), by=world.leader
    )
    annual_report_archive(report=report, by=committee)
    before = AnnualReport.objects.get()
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "pass-1234")
    for user in (world.leader, superuser):
        with pytest.raises(ValidationError) as exc:
            annual_report_save(group=world.group, year=YEAR, by=user, main_work="存档后修改")
        assert "已存档，只读" in exc.value.messages[0]
    for action in (annual_report_submit, annual_report_archive):
        with pytest.raises(ValidationError):
            action(report=report, by=superuser)
    after = AnnualReport.objects.get()
    assert (after.main_work, after.state, after.updated_at) == (
        before.main_work,
        before.state,
        before.updated_at,
    )
    assert after.history.count() == before.history.count()


def test_r34_submitted_report_cannot_be_edited(world):
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader)
    annual_report_submit(report=report, by=world.leader)
    with pytest.raises(ValidationError) as exc:
        annual_report_save(group=world.group, year=YEAR, by=world.leader, main_work="报送后修改")
    assert "已报送党支部" in exc.value.messages[0]
    assert AnnualReport.objects.get().main_work != "报送后修改"


def test_r34_submission_with_an_empty_section_is_refused(world):
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader, problems="  ")
    with pytest.raises(ValidationError) as exc:
        annual_report_submit(report=report, by=world.leader)
    assert exc.value.messages == ["请填写“三、存在问题”后再报送。"]
    report.refresh_from_db()
    assert (report.state, report.snapshot) == (AnnualReportState.DRAFT, {})


def test_r34_snapshot_does_not_change_after_later_edits_to_meetings(world):
    hold(world.group, world.leader, day(3), absent=(world.members[1],))
    report = annual_report_submit(
        report=annual_report_save(group=world.group, year=YEAR, by=world.leader), by=world.leader
    )
    frozen = report_figures(report, group=world.group, year=YEAR)
    assert (frozen.meetings_held, frozen.attendance_rate_label) == (1, "3/4 (75%)")
    # Later: a meeting of that year recorded late, and the absentee's record changed to present.
    hold(world.group, world.leader, day(8))
    meeting = world.group.meetings.get(held_on=day(3))
    meeting.attendances.filter(member=world.members[1]).update(role="present", absence_reason="")
    live = annual_report_data(world.group, YEAR)
    assert (live.meetings_held, live.attendance_rate_label) == (2, "8/8 (100%)")
    report.refresh_from_db()
    assert report_figures(report, group=world.group, year=YEAR) == frozen
    annual_report_archive(report=report, by=_committee(world))
    report.refresh_from_db()
    assert report_figures(report, group=world.group, year=YEAR) == frozen


def test_returned_report_shows_live_figures_again(world):
    report = annual_report_submit(
        report=annual_report_save(group=world.group, year=YEAR, by=world.leader), by=world.leader
    )
    annual_report_return(report=report, by=_committee(world), comment="请补录会议")
    hold(world.group, world.leader, day(8))
    report.refresh_from_db()
    assert report_figures(report, group=world.group, year=YEAR).meetings_held == 1


def test_reports_visible_to_each_role(world):
    own = annual_report_save(group=world.group, year=YEAR, by=world.leader)
    other = annual_report_save(group=world.other_group, year=YEAR, by=world.other_leader)
    assert set(annual_reports_visible_to(world.secretary)) == {own, other}
    assert set(annual_reports_visible_to(world.org_staff)) == {own, other}
    assert set(annual_reports_visible_to(world.leader)) == {own}
    assert set(annual_reports_visible_to(world.member_user)) == set()
    assert set(annual_reports_visible_to(world.other_secretary)) == set()
    annual_report_archive(report=annual_report_submit(report=own, by=world.leader), by=_committee(world))
    assert set(annual_reports_visible_to(world.member_user)) == {own}


# --- The PDF and the command -----------------------------------------------------------------------------


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_r34_pdf_has_every_section_the_chart_labels_and_page_numbers(world):
    scene = build_year(world)
    report = annual_report_submit(
        report=annual_report_save(group=world.group, year=YEAR, by=world.leader), by=world.leader
    )
    annual_report_archive(report=report, by=_committee(world))
    text = pdf_text(annual_report_pdf(world.group, YEAR))
    flat = _flat(text)
    assert f"党小组{YEAR}年度工作情况报告" in flat
    missing = [s for s in SECTIONS if _flat(s) not in flat]
    assert missing == []
    # The chart's labels: drawn by meetings.charts as SVG text, extracted from the PDF.
    chart = [f"{YEAR}年各月会议召开和出勤情况", "召开会议次数", "党小组会出勤率"]
    assert [label for label in chart if label not in flat] == []
    assert all(f"{m}月" in text for m in range(1, 13))
    pages = re.findall(r"第 (\d+) 页 共 (\d+) 页", text)
    assert pages and pages[0] == ("1", pages[0][1]) and {total for _n, total in pages} == {str(len(pages))}
    assert f"存档编号：{YEAR}-{world.group.pk:05d}-NB" in flat
    assert f"{scene.joiner.name}" in flat and "2/3(66.7%)" in flat and "3/4(75%)" in flat


def test_r34_pdf_of_an_unsaved_draft_uses_the_given_data(world):
    hold(world.group, world.leader, day(3))
    data = annual_report_data(world.group, YEAR)
    text = _flat(pdf_text(annual_report_pdf(world.group, YEAR, data=data)))
    assert "草稿（未保存）" in text
    assert "全年召开会议1次" in text


def test_render_annual_report_command_writes_the_pdf(world, tmp_path):
    hold(world.group, world.leader, day(3))
    target = tmp_path / "report.pdf"
    call_command(
        "render_annual_report", "--group", str(world.group.pk), "--year", str(YEAR), "-o", str(target)
    )
    assert target.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group", "999999", "--year", str(YEAR)], "不存在"),
        (["--year", "1990"], "无效"),
        (["--year", str(TODAY.year + 1)], "无效"),
    ],
)
def test_render_annual_report_command_refuses_bad_input(world, tmp_path, args, message):
    if "--group" not in args:
        args = ["--group", str(world.group.pk), *args]
    with pytest.raises(CommandError) as exc:
        call_command("render_annual_report", *args, "-o", str(tmp_path / "x.pdf"))
    assert message in str(exc.value)
    assert list(tmp_path.iterdir()) == []
