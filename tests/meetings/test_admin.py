"""Tests of meetings/admin.py: archived meetings read-only for everyone (R-12), scoping by the selectors,
requests corrected only through the service, flat changelist queries; annual work reports (R-34)
read-only and scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from groups.services import candidate_create
from meetings import services
from meetings.annual_enums import AnnualReportState
from meetings.annual_report import annual_report_archive, annual_report_save, annual_report_submit
from meetings.enums import MeetingKind, MeetingState
from meetings.models import AnnualReport, AnnualReportTransition, Meeting, Talk
from tests import factories as f
from tests.meetings.annual_helpers import YEAR
from tests.meetings.factories import approver_for, make_meeting

# whitenoise warns when STATIC_ROOT has not been collected (tests never collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def row_counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in apps.get_app_config("meetings").get_models()}


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:meetings_{model}_{view}", args=args)


def make_staff(user):
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="meetings"))
    return type(user).objects.get(pk=user.pk)


def changelist_pks(client, model: str) -> set[int]:
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def request_post_data(meeting: Meeting, **changes) -> dict:
    data = {
        "kind": meeting.kind,
        "title": meeting.title,
        "planned_date": meeting.planned_date.isoformat(),
        "planned_start": meeting.planned_start.strftime("%H:%M") if meeting.planned_start else "",
        "planned_place": meeting.planned_place,
        "agenda": meeting.agenda,
        "request_note": meeting.request_note,
        **changes,
    }
    # Every inline's management form (the read-only inlines render none, but a forged POST might).
    for prefix in ("attendances", "agenda_items", "action_items", "transitions", "addenda"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


@pytest.fixture
def archived(world):
    return make_meeting(world.group, world.leader, kind=MeetingKind.LIFE_MEETING)


@pytest.fixture
def root_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- archived meetings are read-only, superusers included -----------------------------------
def test_superuser_cannot_change_archived_meeting(root_client, archived):
    before = row_counts()
    response = root_client.post(
        url("meeting", "change", archived.pk), request_post_data(archived, title="改写")
    )
    assert response.status_code == 403
    archived.refresh_from_db()
    assert archived.title != "改写"
    assert archived.state == MeetingState.ARCHIVED
    assert row_counts() == before


def test_superuser_sees_archived_meeting_read_only(root_client, archived):
    response = root_client.get(url("meeting", "change", archived.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="title"' not in html and 'name="_save"' not in html
    assert 'name="attendances-0-absence_reason"' not in html
    assert "出差" in html  # the absentee's reason is shown (read-only)
    assert archived.archive_number in html


def test_superuser_cannot_delete_archived_meeting(root_client, archived):
    before = row_counts()
    assert root_client.get(url("meeting", "delete", archived.pk)).status_code == 403
    assert root_client.post(url("meeting", "delete", archived.pk), {"post": "yes"}).status_code == 403
    response = root_client.post(
        url("meeting", "changelist"),
        {"action": "delete_selected", "_selected_action": [archived.pk], "post": "yes"},
    )
    assert response.status_code in {200, 302}
    assert Meeting.objects.filter(pk=archived.pk).exists()
    assert row_counts() == before


def test_superuser_cannot_revert_archived_meeting_from_history(root_client, archived):
    first = archived.history.order_by("history_date").first()
    before = row_counts()
    response = root_client.post(
        reverse("admin:meetings_meeting_simple_history", args=[archived.pk, first.history_id]), {}
    )
    assert response.status_code == 403
    archived.refresh_from_db()
    assert archived.state == MeetingState.ARCHIVED
    assert row_counts() == before


@pytest.mark.parametrize("model", ["talk", "annualplan", "meetingtransition", "meetingnotice"])
def test_read_only_admins_refuse_changes(root_client, world, archived, model):
    services.talk_record(
        group=world.group,
        talked_on=dt.date(2025, 1, 5),
        initiator=world.members[1],
        partner=world.members[2],
        topic="谈心",
        summary="要点",
        by=world.leader,
    )
    services.annual_plan_save(
        group=world.group, year=2025, items=[services.PlanItemInput(month=1, topic="学习")], by=world.leader
    )
    obj = apps.get_model("meetings", model).objects.first()
    before = row_counts()
    assert root_client.get(url(model, "change", obj.pk)).status_code == 200
    assert root_client.post(url(model, "change", obj.pk), {}).status_code == 403
    assert root_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert root_client.get(url(model, "add")).status_code == 403
    assert row_counts() == before


# --- A draft request is corrected through the service --------------------------------------------
def test_superuser_changes_draft_request_through_service(root_client, world, admin_user):
    draft = make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    response = root_client.post(url("meeting", "change", draft.pk), request_post_data(draft, title="新主题"))
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert (draft.title, draft.state) == ("新主题", MeetingState.DRAFT)
    latest = draft.history.order_by("-history_date").first()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "修改请示内容")


def test_draft_request_refusal_shown_and_nothing_saved(root_client, world):
    draft = make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    before = row_counts()
    response = root_client.post(url("meeting", "change", draft.pk), request_post_data(draft, agenda=" "))
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "这个字段是必填项" in errors or "请填写拟定议题" in errors
    assert row_counts() == before


def test_submitted_meeting_fields_read_only(root_client, world):
    submitted = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    response = root_client.post(
        url("meeting", "change", submitted.pk), request_post_data(submitted, title="x")
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.title != "x"
    assert submitted.state == MeetingState.SUBMITTED


def test_only_draft_meeting_can_be_deleted(root_client, world):
    draft = make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    submitted = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    assert root_client.post(url("meeting", "delete", submitted.pk), {"post": "yes"}).status_code == 403
    assert root_client.post(url("meeting", "delete", draft.pk), {"post": "yes"}).status_code == 302
    assert set(Meeting.objects.values_list("pk", flat=True)) == {submitted.pk}


def test_admin_cannot_add_meeting(root_client):
    assert root_client.get(url("meeting", "add")).status_code == 403


# --- Scoping ---------------------------------------------------------------------------------------
def test_meeting_changelist_scoped_by_role(client, world, admin_user):
    mine = make_meeting(world.group, world.leader)
    draft = make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    theirs = make_meeting(world.other_group, world.other_leader)
    far_group = f.PartyGroupFactory(branch=world.other_branch)
    far_member = f.GroupMembershipFactory(group=far_group).member
    f.GroupMembershipFactory(group=far_group)
    f.LeaderAppointmentFactory(group=far_group, member=far_member)
    far = make_meeting(far_group, f.user_for(far_member, "far"), approver=world.other_secretary)
    expected = {
        admin_user: {mine.pk, draft.pk, theirs.pk, far.pk},
        make_staff(world.secretary): {mine.pk, draft.pk, theirs.pk},
        make_staff(world.leader): {mine.pk, draft.pk},
        make_staff(world.member_user): {mine.pk},  # own group's archived meetings only
        make_staff(world.other_secretary): {far.pk},
    }
    for user, pks in expected.items():
        client.force_login(user)
        assert changelist_pks(client, "meeting") == pks, user.username


def test_meeting_of_other_branch_not_found_in_admin(client, world):
    theirs = make_meeting(world.other_group, world.other_leader)
    client.force_login(make_staff(world.other_secretary))
    response = client.get(url("meeting", "change", theirs.pk))
    assert response.status_code == 302  # Django's admin: "ID 为 … 的会议不存在" → index
    assert client.post(url("meeting", "delete", theirs.pk), {"post": "yes"}).status_code in {302, 403, 404}
    assert Meeting.objects.filter(pk=theirs.pk).exists()


def test_leader_may_correct_own_draft_not_other_groups(client, world):
    mine = make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    theirs = make_meeting(world.other_group, world.other_leader, state=MeetingState.DRAFT)
    client.force_login(make_staff(world.leader))
    assert (
        client.post(url("meeting", "change", mine.pk), request_post_data(mine, title="改")).status_code == 302
    )
    client.post(url("meeting", "change", theirs.pk), request_post_data(theirs, title="改"))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.title, theirs.title != "改") == ("改", True)


def test_talk_changelist_scoped(client, world):
    Talk.objects.create(
        group=world.group,
        talked_on=dt.date(2025, 1, 5),
        initiator=world.members[1],
        partner=world.members[2],
        topic="谈心",
        summary="要点",
        recorded_by=world.leader,
    )
    other = Talk.objects.create(
        group=world.other_group,
        talked_on=dt.date(2025, 1, 5),
        initiator=world.other_group.memberships.first().member,
        partner=world.other_group.memberships.last().member,
        topic="谈心",
        summary="要点",
        recorded_by=world.other_leader,
    )
    client.force_login(make_staff(world.other_leader))
    assert changelist_pks(client, "talk") == {other.pk}


# --- Flat queries ----------------------------------------------------------------------------------
def _rows(world, n: int):
    for i in range(n):
        Meeting.objects.create(
            group=world.group if i % 2 else world.other_group,
            kind=MeetingKind.GROUP_MEETING,
            title=f"会议{i}",
            planned_date=dt.date(2025, 1, 1) + dt.timedelta(days=i),
            agenda="学习",
            created_by=world.leader,
        )


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("meeting", "changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_meeting_changelist_query_count_flat(client, world):
    client.force_login(make_staff(world.secretary))
    _rows(world, 1)
    one = _changelist_queries(client)
    _rows(world, 19)
    assert len(client.get(url("meeting", "changelist")).context["cl"].result_list) == 20
    assert _changelist_queries(client) == one


# --- Cultivation opinions (R-22) --------------------------------------------------------------------
def test_cultivation_opinions_are_scoped_and_read_only_r22(client, world):
    opinions = {}
    for group, leader in ((world.group, world.leader), (world.other_group, world.other_leader)):
        candidate = candidate_create(
            group=group,
            name=f"申请人{chr(0x4E00 + group.pk)}",
            gender="M",
            birth_date=dt.date(2000, 5, 4),
            applied_on=dt.date(2024, 1, 10),
            by=world.secretary,
        )
        meeting = make_meeting(group, leader, state=MeetingState.HELD)
        opinions[group.pk] = services.cultivation_opinion_record(
            candidate=candidate, meeting=meeting, recommendation="recommend", opinion="同意", by=leader
        )
    client.force_login(make_staff(world.other_leader))
    assert changelist_pks(client, "cultivationopinion") == {opinions[world.other_group.pk].pk}
    page = client.get(url("cultivationopinion", "change", opinions[world.other_group.pk].pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    before = row_counts()
    assert (
        client.post(url("cultivationopinion", "delete", opinions[world.other_group.pk].pk)).status_code == 403
    )
    assert client.get(url("cultivationopinion", "change", opinions[world.group.pk].pk)).status_code == 302
    assert row_counts() == before


# --- Annual work reports: read-only, scoped by annual_reports_visible_to ----------------------------
def _report_in(branch, name: str):
    """A group of ``branch`` with a leader, and its report of the last finished year, submitted."""
    group = f.PartyGroupFactory(branch=branch, name=name)
    member = f.GroupMembershipFactory(group=group).member
    f.LeaderAppointmentFactory(group=group, member=member)
    leader = f.user_for(member)
    report = annual_report_save(group=group, year=YEAR, by=leader, main_work="全年工作情况。")
    return annual_report_submit(report=report, by=leader)


def _transition_pks(report) -> set[int]:
    return set(report.transitions.values_list("pk", flat=True))


def _report_rows(report) -> tuple:
    report.refresh_from_db()
    counts = (AnnualReport.objects.count(), AnnualReportTransition.objects.count())
    return (report.state, report.main_work, *counts)


def _submitted_report(world):
    report = annual_report_save(group=world.group, year=YEAR, by=world.leader, main_work="全年工作情况。")
    return annual_report_submit(report=report, by=world.leader)


def test_annual_report_changelists_list_only_the_branchs_reports_r34(client, world):
    own = _submitted_report(world)
    other = _report_in(world.other_branch, "另一支部的党小组")
    client.force_login(make_staff(world.secretary))
    assert changelist_pks(client, "annualreport") == {own.pk}
    assert changelist_pks(client, "annualreporttransition") == set(
        own.transitions.values_list("pk", flat=True)
    )
    assert client.get(url("annualreport", "change", other.pk)).status_code == 302  # not found: to the index
    client.force_login(make_staff(world.other_secretary))
    assert changelist_pks(client, "annualreport") == {other.pk}
    assert changelist_pks(client, "annualreporttransition") == set(
        other.transitions.values_list("pk", flat=True)
    )


def test_annual_report_changelist_filters_by_year_and_state_and_searches_group_names(root_client, world):
    own = _submitted_report(world)
    other = _report_in(world.other_branch, "另一支部的党小组")

    def listed(**params) -> set[int]:
        response = root_client.get(url("annualreport", "changelist"), params)
        assert response.status_code == 200
        return {obj.pk for obj in response.context["cl"].result_list}

    assert listed() == {own.pk, other.pk}
    archived = annual_report_archive(report=own, by=approver_for(world.branch))
    assert listed(state__exact=AnnualReportState.ARCHIVED) == {archived.pk}
    assert listed(state__exact=AnnualReportState.SUBMITTED) == {other.pk}
    assert listed(year__exact=YEAR) == {own.pk, other.pk}
    assert listed(year__exact=YEAR - 1) == set()
    assert listed(q="另一支部") == {other.pk}


def test_annual_reports_cannot_be_added_changed_or_deleted_in_admin_r34(root_client, world):
    report = _submitted_report(world)
    before = (
        report.state,
        report.main_work,
        AnnualReport.objects.count(),
        AnnualReportTransition.objects.count(),
    )
    assert root_client.get(url("annualreport", "add")).status_code == 403
    response = root_client.get(url("annualreport", "change", report.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="main_work"' not in html and 'name="_save"' not in html
    assert "全年工作情况。" in html
    response = root_client.post(
        url("annualreport", "change", report.pk), {"main_work": "改写", "state": "draft"}
    )
    assert response.status_code == 403
    assert root_client.post(url("annualreport", "delete", report.pk), {"post": "yes"}).status_code == 403
    transition = report.transitions.first()
    assert root_client.get(url("annualreporttransition", "add")).status_code == 403
    assert (
        root_client.post(url("annualreporttransition", "delete", transition.pk), {"post": "yes"}).status_code
        == 403
    )
    first = report.history.order_by("history_date").first()
    response = root_client.post(
        reverse("admin:meetings_annualreport_simple_history", args=[report.pk, first.history_id]), {}
    )
    assert response.status_code == 403
    report.refresh_from_db()
    after = (
        report.state,
        report.main_work,
        AnnualReport.objects.count(),
        AnnualReportTransition.objects.count(),
    )
    assert after == before


def _annual_changelist_queries(client, model: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_annual_report_changelists_query_count_flat(client, world):
    client.force_login(make_staff(world.secretary))
    _report_in(world.branch, "批量党小组0")
    one = [_annual_changelist_queries(client, m) for m in ("annualreport", "annualreporttransition")]
    for n in range(1, 20):
        _report_in(world.branch, f"批量党小组{n}")
    assert len(client.get(url("annualreport", "changelist")).context["cl"].result_list) == 20
    # Each report: drafted, then submitted.
    assert len(client.get(url("annualreporttransition", "changelist")).context["cl"].result_list) == 40
    assert [_annual_changelist_queries(client, m) for m in ("annualreport", "annualreporttransition")] == one
