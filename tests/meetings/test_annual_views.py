"""The annual work report pages (meetings/annual_views.py, R-34): the permission matrix of every view
(read and write, own and other branch), the refusals with nothing saved, the preview of the current
year, the cards on the leader's workspace and the secretary's dashboard, flat query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.annual_enums import AnnualReportState
from meetings.annual_report import annual_report_archive, annual_report_save, annual_report_submit
from meetings.models import AnnualReport, AnnualReportTransition
from tests import factories as f
from tests.meetings.annual_helpers import YEAR, day, hold
from tests.meetings.factories import approver_for

ROLES = (
    "superuser",
    "org_staff",
    "other_staff",
    "secretary",
    "other_secretary",
    "leader",
    "other_leader",
    "member",
    "anonymous",
)


@pytest.fixture
def users(world, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "pass-1234")
    other_staff = f.OrganisationStaffFactory(organisation=world.other_branch.organisation).user
    return {
        "superuser": superuser,
        "org_staff": world.org_staff,
        "other_staff": other_staff,
        "secretary": world.secretary,
        "other_secretary": world.other_secretary,
        "leader": world.leader,
        "other_leader": world.other_leader,
        "member": world.member_user,
        "anonymous": None,
    }


def _client(client, users, role):
    if users[role] is not None:
        client.force_login(users[role])
    return client


def _draft(world) -> AnnualReport:
    return annual_report_save(group=world.group, year=YEAR, by=world.leader, main_work="全年工作情况。")


def _submitted(world) -> AnnualReport:
    return annual_report_submit(report=_draft(world), by=world.leader)


def _archived(world) -> AnnualReport:
    return annual_report_archive(report=_submitted(world), by=approver_for(world.branch))


def _state(report: AnnualReport) -> tuple:
    report.refresh_from_db()
    return (report.state, report.main_work, report.archive_number, report.transitions.count())


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and reverse("login") in response["Location"]


# --- Read: the report page and its PDF -----------------------------------------------------------------
DETAIL_SUBMITTED = {
    "superuser": 200,
    "org_staff": 200,
    "other_staff": 404,
    "secretary": 200,
    "other_secretary": 404,
    "leader": 200,
    "other_leader": 404,
    "member": 404,  # a plain member reads only the ARCHIVED report of their group
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_detail_of_a_submitted_report_by_role(world, users, client, role):
    _submitted(world)
    response = _client(client, users, role).get(reverse("annual:detail", args=[world.group.pk, YEAR]))
    assert response.status_code == DETAIL_SUBMITTED[role]
    if role == "anonymous":
        assert _is_login_redirect(response)
    if response.status_code == 200:
        body = response.content.decode()
        assert f"党小组{YEAR}年度工作情况报告" in body
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="annual-chart"' in body
        can_review = role in {"superuser", "secretary"}
        assert (
            reverse("annual:action", args=[AnnualReport.objects.get().pk, "archive"]) in body
        ) is can_review


@pytest.mark.parametrize(
    ("role", "status"),
    [("member", 200), ("other_leader", 404), ("other_secretary", 404), ("leader", 200), ("anonymous", 302)],
)
def test_detail_of_an_archived_report_is_readable_by_a_member_of_the_group(
    world, users, client, role, status
):
    report = _archived(world)
    response = _client(client, users, role).get(reverse("annual:detail", args=[world.group.pk, YEAR]))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert report.archive_number in body
        assert reverse("annual:edit", args=[world.group.pk, YEAR]) not in body


def test_detail_without_a_report_is_a_preview_prefilled_from_the_data(world, client):
    hold(world.group, world.leader, day(3))
    client.force_login(world.leader)
    response = client.get(reverse("annual:detail", args=[world.group.pk, YEAR]))
    assert response.status_code == 200
    assert response.context["is_preview"] is True
    assert "全年召开各类会议1次" in response.context["sections"][1]["text"]
    assert reverse("annual:edit", args=[world.group.pk, YEAR]) in response.content.decode()
    assert AnnualReport.objects.count() == 0


def test_current_year_is_a_read_only_preview(world, client):
    year = timezone.localdate().year
    client.force_login(world.leader)
    response = client.get(reverse("annual:detail", args=[world.group.pk, year]))
    assert response.status_code == 200
    assert "data-year-open" in response.content.decode()
    assert response.context["can_edit"] is False
    assert reverse("annual:edit", args=[world.group.pk, year]) not in response.content.decode()
    get = client.get(reverse("annual:edit", args=[world.group.pk, year]))
    assert get.status_code == 302
    post = client.post(
        reverse("annual:edit", args=[world.group.pk, year]),
        {"basic_situation": "a", "main_work": "b", "problems": "c", "next_year_plans": "d", "submit": "1"},
    )
    assert post.status_code == 200
    assert f"{year}年度尚未结束" in post.content.decode()
    assert AnnualReport.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        ("annual:detail", [999999, YEAR]),
        ("annual:detail", [None, 1999]),
        ("annual:detail", [None, timezone.localdate().year + 1]),
        ("annual:edit", [None, timezone.localdate().year + 1]),
        ("annual:pdf", [999999, YEAR]),
    ],
)
def test_bad_group_or_year_is_404(world, client, path):
    name, args = path
    args = [world.group.pk if a is None else a for a in args]
    client.force_login(world.leader)
    assert client.get(reverse(name, args=args)).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("leader", 200), ("org_staff", 200), ("member", 404), ("other_secretary", 404), ("anonymous", 302)],
)
def test_pdf_by_role(world, users, client, role, status):
    _submitted(world)
    response = _client(client, users, role).get(reverse("annual:pdf", args=[world.group.pk, YEAR]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert "filename*=utf-8''" in response["Content-Disposition"]


# --- Write: the edit page -------------------------------------------------------------------------------
EDIT = {
    "superuser": 200,
    "org_staff": 403,
    "other_staff": 404,
    "secretary": 403,
    "other_secretary": 404,
    "leader": 200,
    "other_leader": 404,
    "member": 403,
    "anonymous": 302,
}
FORM = {
    "basic_situation": "基本情况。",
    "main_work": "改写的主要工作。",
    "problems": "存在问题。",
    "next_year_plans": "下一年打算。",
}


@pytest.mark.parametrize("role", ROLES)
def test_edit_page_get_by_role(world, users, client, role):
    report = _draft(world)
    response = _client(client, users, role).get(reverse("annual:edit", args=[world.group.pk, YEAR]))
    assert response.status_code == EDIT[role]
    if response.status_code == 200:
        assert response.context["form"].initial["main_work"] == report.main_work


@pytest.mark.parametrize("role", ROLES)
def test_edit_page_post_by_role_saves_only_for_the_leader(world, users, client, role):
    report = _draft(world)
    before = _state(report)
    response = _client(client, users, role).post(reverse("annual:edit", args=[world.group.pk, YEAR]), FORM)
    allowed = EDIT[role] == 200
    assert response.status_code == (302 if allowed else EDIT[role])
    if allowed:
        assert response["Location"] == reverse("annual:detail", args=[world.group.pk, YEAR])
        assert _state(report) == (AnnualReportState.DRAFT, "改写的主要工作。", "", 1)
    else:
        assert _state(report) == before


def test_edit_page_creates_and_submits_in_one_step(world, client):
    hold(world.group, world.leader, day(3))
    client.force_login(world.leader)
    get = client.get(reverse("annual:edit", args=[world.group.pk, YEAR]))
    assert "全年召开各类会议1次" in get.context["form"].initial["main_work"]
    response = client.post(reverse("annual:edit", args=[world.group.pk, YEAR]), {**FORM, "submit": "1"})
    assert response.status_code == 302
    report = AnnualReport.objects.get()
    assert (report.state, report.main_work, report.snapshot["data"]["group_id"]) == (
        AnnualReportState.SUBMITTED,
        "改写的主要工作。",
        world.group.pk,
    )
    assert list(report.transitions.values_list("action", flat=True)) == ["create", "submit"]


def test_edit_page_refuses_an_empty_section_on_submit_and_saves_nothing(world, client):
    client.force_login(world.leader)
    response = client.post(
        reverse("annual:edit", args=[world.group.pk, YEAR]), {**FORM, "problems": "", "submit": "1"}
    )
    assert response.status_code == 200
    assert "请填写“三、存在问题”后再报送。" in response.content.decode()
    assert AnnualReport.objects.count() == 0
    assert AnnualReportTransition.objects.count() == 0


@pytest.mark.parametrize("make", [_submitted, _archived])
def test_edit_after_submission_or_archive_is_refused(world, client, make):
    report = make(world)
    before = _state(report)
    client.force_login(world.leader)
    get = client.get(reverse("annual:edit", args=[world.group.pk, YEAR]))
    assert get.status_code == 302
    post = client.post(reverse("annual:edit", args=[world.group.pk, YEAR]), FORM)
    assert post.status_code == 200
    assert _state(report) == before


# --- Write: the workflow actions --------------------------------------------------------------------------
ARCHIVE = {
    "superuser": 302,
    "org_staff": 403,
    "other_staff": 404,
    "secretary": 302,
    "other_secretary": 404,
    "leader": 403,
    "other_leader": 404,
    "member": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_archive_by_role(world, users, client, role):
    report = _submitted(world)
    before = _state(report)
    response = _client(client, users, role).post(
        reverse("annual:action", args=[report.pk, "archive"]), {"comment": "同意"}
    )
    assert response.status_code == ARCHIVE[role]
    if role in {"superuser", "secretary"}:
        state, _text, number, transitions = _state(report)
        assert (state, number, transitions) == (
            AnnualReportState.ARCHIVED,
            f"{YEAR}-{world.group.pk:05d}-NB",
            3,
        )
    else:
        assert _state(report) == before
        if role == "anonymous":
            assert _is_login_redirect(response)


SUBMIT = {
    "superuser": 302,
    "org_staff": 403,
    "other_staff": 404,
    "secretary": 403,
    "other_secretary": 404,
    "leader": 302,
    "other_leader": 404,
    "member": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_submit_by_role(world, users, client, role):
    report = _draft(world)
    before = _state(report)
    response = _client(client, users, role).post(reverse("annual:action", args=[report.pk, "submit"]))
    assert response.status_code == SUBMIT[role]
    if role in {"superuser", "leader"}:
        assert _state(report)[0] == AnnualReportState.SUBMITTED
    else:
        assert _state(report) == before


def test_return_needs_a_comment_and_is_shown_to_the_leader(world, client):
    report = _submitted(world)
    client.force_login(world.secretary)
    refused = client.post(reverse("annual:action", args=[report.pk, "return"]), {"comment": ""}, follow=True)
    assert "必须填写意见" in refused.content.decode()
    assert _state(report)[0] == AnnualReportState.SUBMITTED
    client.post(reverse("annual:action", args=[report.pk, "return"]), {"comment": "请补充存在问题"})
    assert _state(report)[0] == AnnualReportState.RETURNED
    client.force_login(world.leader)
    page = client.get(reverse("annual:detail", args=[world.group.pk, YEAR])).content.decode()
    assert "data-return-comment" in page and "请补充存在问题" in page


def test_action_wrong_method_and_unknown_action(world, client):
    report = _submitted(world)
    client.force_login(world.secretary)
    assert client.get(reverse("annual:action", args=[report.pk, "archive"])).status_code == 405
    assert client.post(reverse("annual:action", args=[report.pk, "approve"])).status_code == 404
    assert client.post(reverse("annual:action", args=[999999, "archive"])).status_code == 404
    assert client.put(reverse("annual:detail", args=[world.group.pk, YEAR])).status_code == 405
    assert _state(report)[0] == AnnualReportState.SUBMITTED


# --- The list ---------------------------------------------------------------------------------------------
LIST_GROUPS = {
    "superuser": {"group", "other_group", "far_group"},
    "org_staff": {"group", "other_group"},
    "other_staff": {"far_group"},
    "secretary": {"group", "other_group"},
    "other_secretary": {"far_group"},
    "leader": {"group"},
    "other_leader": {"other_group"},
    "member": {"group"},
}


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_the_groups_in_scope_with_their_states(world, users, client, role):
    far_group = f.PartyGroupFactory(branch=world.other_branch, name="远方党小组")
    _submitted(world)
    response = _client(client, users, role).get(reverse("annual:list"), {"year": YEAR})
    if role == "anonymous":
        assert _is_login_redirect(response)
        return
    assert response.status_code == 200
    names = {world.group.pk: "group", world.other_group.pk: "other_group", far_group.pk: "far_group"}
    rows = response.context["rows"]
    assert {names[row["group"].pk] for row in rows} == LIST_GROUPS[role]
    states = {names[row["group"].pk]: row["report"].state if row["report"] else None for row in rows}
    # A plain member does not see a report before it is archived.
    expected = None if role == "member" else AnnualReportState.SUBMITTED
    assert states.get("group", "absent") == (expected if "group" in LIST_GROUPS[role] else "absent")


def test_list_filters_by_state(world, client):
    _submitted(world)
    client.force_login(world.secretary)
    none = client.get(reverse("annual:list"), {"year": YEAR, "state": "none"}).context["rows"]
    submitted = client.get(reverse("annual:list"), {"year": YEAR, "state": "submitted"}).context["rows"]
    assert [r["group"].pk for r in none] == [world.other_group.pk]
    assert [r["group"].pk for r in submitted] == [world.group.pk]


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("annual:list"), {"year": YEAR})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_flat_for_1_and_20_reports(world, client):
    def add_reports(count: int) -> None:
        for n in range(count):
            group = f.PartyGroupFactory(
                branch=world.branch, name=f"批量党小组{AnnualReport.objects.count()}-{n}"
            )
            member = f.GroupMembershipFactory(group=group).member
            f.LeaderAppointmentFactory(group=group, member=member)
            annual_report_save(group=group, year=YEAR, by=f.user_for(member))

    add_reports(1)
    client.force_login(world.secretary)
    one = _list_queries(client)
    add_reports(19)
    twenty = _list_queries(client)
    assert one == twenty
    assert AnnualReport.objects.count() == 20


# --- Cards on other pages -------------------------------------------------------------------------------
def test_workspace_card_links_the_last_years_report(world, client):
    client.force_login(world.leader)
    body = client.get(reverse("workspace:group", args=[world.group.pk])).content.decode()
    assert 'id="annual-report"' in body
    assert reverse("annual:detail", args=[world.group.pk, YEAR]) in body
    _draft(world)
    body = client.get(reverse("workspace:group", args=[world.group.pk])).content.decode()
    assert "状态：草稿" in body


def test_dashboard_card_lists_reports_awaiting_archive(world, client):
    report = _submitted(world)
    client.force_login(world.secretary)
    body = client.get(reverse("dashboard:branch", args=[world.branch.pk])).content.decode()
    assert f'data-annual-report="{report.pk}"' in body
    annual_report_archive(report=report, by=world.secretary)
    body = client.get(reverse("dashboard:branch", args=[world.branch.pk])).content.decode()
    assert f'data-annual-report="{report.pk}"' not in body
    assert "没有待存档的年度工作报告。" in body


GROUP_CURRENT = {
    "superuser": 302,
    "org_staff": 302,
    "other_staff": 404,
    "secretary": 302,
    "other_secretary": 404,
    "leader": 302,
    "other_leader": 404,
    "member": 302,  # to the report page, which shows a member only the archived report
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_group_shortcut_goes_to_the_last_finished_year(world, users, client, role):
    response = _client(client, users, role).get(reverse("annual:group", args=[world.group.pk]))
    assert response.status_code == GROUP_CURRENT[role]
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif response.status_code == 302:
        assert response["Location"] == reverse("annual:detail", args=[world.group.pk, YEAR])
    wrong_method = client.post(reverse("annual:group", args=[world.group.pk]))
    assert wrong_method.status_code == (302 if role == "anonymous" else 405)
