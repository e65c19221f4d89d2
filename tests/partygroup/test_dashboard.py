"""Tests of partygroup/dashboard: the branch secretary's dashboard, the organisation overview and the
member's own page — a permission matrix for every page and action, the in-place actions (R-11 approve
/ return, R-12 archive, R-05 filing and acknowledgement), the month cells and heatmap (R-10), the
findings list, the read-only drill-down, htmx fragments and flat query counts.

Roles: superuser, organisation staff of the branch's subtree and of another subtree, the branch
secretary and the other branch's secretary, the group leader and the other group's leader (same
branch), a plain member, anonymous. Outside the user's scope → 404; visible but not the role's
business → 403; wrong method → 405; anonymous → the login page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups import services as group_services
from groups.enums import FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, PartyGroup
from meetings.enums import Action, MeetingKind, MeetingState
from meetings.models import Meeting, MeetingTransition
from meetings.services import talk_record
from members.enums import MemberStatus
from partygroup import summaries
from partygroup.dashboard import views
from partygroup.dashboard.selectors import CellState, findings_by_rule, month_cells
from partygroup.findings import collect_findings
from partygroup.models import FindingSummary
from tests import factories as f
from tests.meetings.factories import make_meeting

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
LOGIN = reverse("login")
HTMX = {"HTTP_HX_REQUEST": "true"}

ROLES = (
    "superuser",
    "org_staff",
    "other_org_staff",
    "secretary",
    "other_secretary",
    "leader",
    "other_leader",
    "member",
    "anonymous",
)


@dataclass
class Env:
    """``world`` plus a superuser, staff of the other organisation and a led group in the other branch."""

    world: object
    users: dict
    far_group: PartyGroup
    far_leader: object

    @property
    def branch(self):
        return self.world.branch

    @property
    def other_branch(self):
        return self.world.other_branch


@pytest.fixture
def env(world) -> Env:
    superuser = f.UserFactory(username="root")
    superuser.is_superuser = True
    superuser.is_staff = True
    superuser.save()
    other_staff = f.OrganisationStaffFactory(
        organisation=world.other_branch.organisation, user=f.UserFactory(username="other_staff")
    ).user
    far_group = f.PartyGroupFactory(branch=world.other_branch, name="另一支部党小组")
    far_members = [f.GroupMembershipFactory(group=far_group).member for _ in range(3)]
    f.LeaderAppointmentFactory(group=far_group, member=far_members[0])
    users = {
        "superuser": superuser,
        "org_staff": world.org_staff,
        "other_org_staff": other_staff,
        "secretary": world.secretary,
        "other_secretary": world.other_secretary,
        "leader": world.leader,
        "other_leader": world.other_leader,
        "member": world.member_user,
    }
    return Env(
        world=world,
        users=users,
        far_group=far_group,
        far_leader=f.user_for(far_members[0], "far_leader"),
    )


def login(client, env: Env, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(env.users[role])


def row_counts() -> dict[str, int]:
    """Rows of every model of the groups and meetings apps (historical models included)."""
    return {
        f"{label}.{m.__name__}": m._default_manager.count()
        for label in ("groups", "meetings")
        for m in apps.get_app_config(label).get_models()
    }


def messages_of(client, response) -> list[str]:
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


def make_change(branch, by, *, filed: bool = False) -> GroupChange:
    """An R-05 decision of ``branch`` (pending filing, or filed with the higher organisation)."""
    change = GroupChange.objects.create(
        branch=branch,
        kind=GroupChangeKind.CREATE,
        summary="建立第三党小组，编入党员3名。",
        decided_on=TODAY - 10 * DAY,
        document_number="支委会〔2025〕3号",
        decided_by=by,
    )
    if filed:
        change = group_services.group_change_file(change=change, filed_on=TODAY - 5 * DAY, by=by)
    return change


# --- The permission matrix ------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    payload: dict
    changed: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    expected: dict[str, int]
    target: Callable[[Env], Target]

    def __str__(self) -> str:
        return self.name


def statuses(**kwargs) -> dict[str, int]:
    base = {"anonymous": 302, **kwargs}
    assert set(base) == set(ROLES), set(ROLES) ^ set(base)
    return base


def everyone(status: int) -> dict[str, int]:
    return statuses(**{r: status for r in ROLES if r != "anonymous"})


OWN_BRANCH_GET = statuses(
    superuser=200,
    org_staff=200,
    other_org_staff=404,
    secretary=200,
    other_secretary=404,
    leader=403,
    other_leader=403,
    member=403,
)
OTHER_BRANCH_GET = statuses(
    superuser=200,
    org_staff=404,
    other_org_staff=200,
    secretary=404,
    other_secretary=200,
    leader=404,
    other_leader=404,
    member=404,
)
# Writes of the branch committee: org staff read the branch but may not act (403).
OWN_BRANCH_POST = {**OWN_BRANCH_GET, "superuser": 302, "secretary": 302, "org_staff": 403}
OTHER_BRANCH_POST = {**OTHER_BRANCH_GET, "superuser": 302, "other_secretary": 302, "other_org_staff": 403}
OVERVIEW_GET = statuses(
    superuser=200,
    org_staff=200,
    other_org_staff=200,
    secretary=403,
    other_secretary=403,
    leader=403,
    other_leader=403,
    member=403,
)
OVERVIEW_REFRESH = {**OVERVIEW_GET, "superuser": 302, "org_staff": 302, "other_org_staff": 302}
ACKNOWLEDGE_OWN = {**OVERVIEW_GET, "superuser": 302, "org_staff": 302, "other_org_staff": 404}
ACKNOWLEDGE_OTHER = {**OVERVIEW_GET, "superuser": 302, "org_staff": 404, "other_org_staff": 302}


def _own(env: Env):
    return env.world.group, env.world.leader


def _far(env: Env):
    return env.far_group, env.far_leader


def branch_page(which: str) -> Callable[[Env], Target]:
    def build(env: Env) -> Target:
        group, leader = _own(env) if which == "own" else _far(env)
        make_meeting(group, leader, state=MeetingState.SUBMITTED)
        make_change(group.branch, leader)
        return Target(reverse("dashboard:branch", args=[group.branch_id]), {})

    return build


def meeting_step(which: str, action: str) -> Callable[[Env], Target]:
    source = MeetingState.REPORTED if action == Action.ARCHIVE else MeetingState.SUBMITTED
    target_state = {
        Action.APPROVE: MeetingState.APPROVED,
        Action.RETURN: MeetingState.RETURNED,
        Action.ARCHIVE: MeetingState.ARCHIVED,
    }[action]

    def build(env: Env) -> Target:
        group, leader = _own(env) if which == "own" else _far(env)
        meeting = make_meeting(group, leader, state=source)
        return Target(
            reverse("dashboard:meeting_step", args=[group.branch_id, meeting.pk, action]),
            {"comment": "请补充学习篇目"},
            lambda: Meeting.objects.get(pk=meeting.pk).state == target_state,
        )

    return build


def change_file(which: str) -> Callable[[Env], Target]:
    def build(env: Env) -> Target:
        branch = env.branch if which == "own" else env.other_branch
        change = make_change(branch, env.users["secretary"])
        return Target(
            reverse("dashboard:change_file", args=[branch.pk, change.pk]),
            {"filed_on": TODAY.isoformat()},
            lambda: GroupChange.objects.get(pk=change.pk).filing_status == FilingStatus.FILED,
        )

    return build


def acknowledge(which: str) -> Callable[[Env], Target]:
    def build(env: Env) -> Target:
        branch = env.branch if which == "own" else env.other_branch
        change = make_change(branch, env.users["secretary"], filed=True)
        return Target(
            reverse("dashboard:change_acknowledge", args=[change.pk]),
            {"comment": "同意备案"},
            lambda: GroupChange.objects.get(pk=change.pk).filing_status == FilingStatus.ACKNOWLEDGED,
        )

    return build


def page(name: str) -> Callable[[Env], Target]:
    return lambda env: Target(reverse(name), {})


def overview_refresh(env: Env) -> Target:
    """Changed: a background check was queued (to run once the request's transaction commits)."""
    before = len(connection.run_on_commit)
    return Target(reverse("dashboard:overview_refresh"), {}, lambda: len(connection.run_on_commit) > before)


CASES = [
    Case("branch GET own", "get", OWN_BRANCH_GET, branch_page("own")),
    Case("branch GET other", "get", OTHER_BRANCH_GET, branch_page("far")),
    Case("branch POST", "post", everyone(405), branch_page("own")),
    Case("branch GET own htmx", "htmx", OWN_BRANCH_GET, branch_page("own")),
    Case("branch GET other htmx", "htmx", OTHER_BRANCH_GET, branch_page("far")),
    Case("approve POST own", "post", OWN_BRANCH_POST, meeting_step("own", Action.APPROVE)),
    Case("approve POST other", "post", OTHER_BRANCH_POST, meeting_step("far", Action.APPROVE)),
    Case(
        "approve POST own htmx",
        "htmx",
        {**OWN_BRANCH_POST, "superuser": 200, "secretary": 200},
        meeting_step("own", Action.APPROVE),
    ),
    Case("approve GET", "get", everyone(405), meeting_step("own", Action.APPROVE)),
    Case("return POST own", "post", OWN_BRANCH_POST, meeting_step("own", Action.RETURN)),
    Case("return POST other", "post", OTHER_BRANCH_POST, meeting_step("far", Action.RETURN)),
    Case("archive POST own", "post", OWN_BRANCH_POST, meeting_step("own", Action.ARCHIVE)),
    Case("archive POST other", "post", OTHER_BRANCH_POST, meeting_step("far", Action.ARCHIVE)),
    Case("file POST own", "post", OWN_BRANCH_POST, change_file("own")),
    Case("file POST other", "post", OTHER_BRANCH_POST, change_file("far")),
    Case(
        "file POST own htmx",
        "htmx",
        {**OWN_BRANCH_POST, "superuser": 200, "secretary": 200},
        change_file("own"),
    ),
    Case("file GET", "get", everyone(405), change_file("own")),
    Case("overview GET", "get", OVERVIEW_GET, page("dashboard:overview")),
    Case("overview GET htmx", "htmx", OVERVIEW_GET, page("dashboard:overview")),
    Case("overview POST", "post", everyone(405), page("dashboard:overview")),
    Case("overview refresh POST", "post", OVERVIEW_REFRESH, overview_refresh),
    Case("overview refresh GET", "get", everyone(405), overview_refresh),
    Case("acknowledge POST own", "post", ACKNOWLEDGE_OWN, acknowledge("own")),
    Case("acknowledge POST other", "post", ACKNOWLEDGE_OTHER, acknowledge("far")),
    Case(
        "acknowledge POST own htmx",
        "htmx",
        {**ACKNOWLEDGE_OWN, "superuser": 200, "org_staff": 200},
        acknowledge("own"),
    ),
    Case("acknowledge GET", "get", everyone(405), acknowledge("own")),
    Case("me GET", "get", everyone(200), page("dashboard:me")),
    Case("me POST", "post", everyone(405), page("dashboard:me")),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_permission_matrix(env, client, case):
    """Each role gets the expected status on a fresh object; a refused request changes nothing, an
    allowed write changes what it should (the "htmx" method is a POST with HX-Request for writes)."""
    actual = {}
    for role in ROLES:
        target = case.target(env)
        login(client, env, role)
        before = row_counts()
        is_write = case.method == "post" or (case.method == "htmx" and target.payload)
        if case.method == "get":
            response = client.get(target.url)
        elif case.method == "htmx" and not target.payload:
            response = client.get(target.url, **HTMX)
        elif case.method == "htmx":
            response = client.post(target.url, target.payload, **HTMX)
        else:
            response = client.post(target.url, target.payload)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        allowed = is_write and case.expected[role] in {200, 302} and role != "anonymous"
        if allowed:
            assert target.changed(), role
        elif is_write or case.method == "post":
            assert row_counts() == before, role
            assert not target.changed(), role
    assert actual == case.expected


def test_unknown_step_is_404_and_changes_nothing(env, client):
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    login(client, env, "secretary")
    before = row_counts()
    for action in ("delete", "submit", "notify", "cancel"):
        url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, action])
        assert client.post(url, {"comment": "x"}).status_code == 404, action
    assert row_counts() == before
    assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.SUBMITTED


def test_objects_of_another_branch_through_this_branchs_url_are_404(env, client):
    """The meeting / change must belong to the branch of the URL, even for a superuser."""
    meeting = make_meeting(env.far_group, env.far_leader, state=MeetingState.SUBMITTED)
    change = make_change(env.other_branch, env.users["other_secretary"])
    before = row_counts()
    for role in ("superuser", "secretary"):
        login(client, env, role)
        url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "approve"])
        assert client.post(url, {}).status_code == 404, role
        assert client.post(url, {}, **HTMX).status_code == 404, role
        url = reverse("dashboard:change_file", args=[env.branch.pk, change.pk])
        assert client.post(url, {}).status_code == 404, role
    assert row_counts() == before


def test_missing_branch_is_404(env, client):
    login(client, env, "superuser")
    missing = env.far_group.branch_id + 1000
    assert client.get(reverse("dashboard:branch", args=[missing])).status_code == 404


# --- The branch dashboard: contents ---------------------------------------------------------------


def test_group_rows_show_counts_leader_and_deputy(env, client):
    world = env.world
    probationary = f.GroupMembershipFactory(group=world.group, member__probationary=True).member
    deputy = world.members[2]
    f.LeaderAppointmentFactory(group=world.group, member=deputy, role=LeaderRole.DEPUTY)
    login(client, env, "secretary")
    response = client.get(reverse("dashboard:branch", args=[env.branch.pk]))
    rows = {
        r.group.name: (
            r.member_count,
            r.full_count,
            r.leader.member.name,
            [d.member.name for d in r.deputies],
        )
        for r in response.context["rows"]
    }
    # 第一党小组: 4 full + 1 probationary; 第二党小组: 3 members + the secretary, all full.
    assert probationary.status == MemberStatus.PROBATIONARY
    other_leader_name = world.other_leader.member.name
    assert rows == {
        "第一党小组": (5, 4, world.leader_member.name, [deputy.name]),
        "第二党小组": (4, 4, other_leader_name, []),
    }
    body = response.content.decode()
    assert f"（{deputy.name}）" in body


def test_findings_equal_collect_findings_grouped_violations_first(env, client):
    """The dashboard lists exactly collect_findings([branch], today), grouped by rule."""
    world = env.world
    # a group of two probationary members (violations); R-10 etc. are advisories.
    small = f.PartyGroupFactory(branch=world.branch, name="第三党小组")
    for _ in range(2):
        f.GroupMembershipFactory(group=small, member__probationary=True)
    login(client, env, "secretary")
    response = client.get(reverse("dashboard:branch", args=[env.branch.pk]))
    expected = collect_findings([env.branch], TODAY)
    assert response.context["findings"] == expected
    groups = response.context["finding_groups"]
    assert Counter(f for g in groups for f in g.findings) == Counter(expected)
    assert [g.rule_id for g in groups] == [g.rule_id for g in findings_by_rule(expected)]
    flags = [g.has_violation for g in groups]
    assert flags == sorted(flags, reverse=True)  # rules with a violation first
    assert {"R-03", "R-04"} <= {g.rule_id for g in groups if g.has_violation}
    body = response.content.decode()
    for finding in expected:
        assert finding.message in body
    r03 = next(x for x in expected if x.rule_id == "R-03")
    assert f'data-bs-toggle="tooltip" title="{r03.excerpt}"' in body
    assert r03.article in body


def test_approval_queue_lists_submitted_meetings_and_party_days_of_the_branch(env, client):
    world = env.world
    meeting = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    party_day = make_meeting(
        world.other_group, world.other_leader, state=MeetingState.SUBMITTED, kind=MeetingKind.PARTY_DAY
    )
    make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    make_meeting(env.far_group, env.far_leader, state=MeetingState.SUBMITTED)
    reported = make_meeting(world.group, world.leader, state=MeetingState.REPORTED)
    login(client, env, "secretary")
    response = client.get(reverse("dashboard:branch", args=[env.branch.pk]))
    assert {m.pk for m in response.context["queue"]} == {meeting.pk, party_day.pk}
    assert [m.pk for m in response.context["to_archive"]] == [reported.pk]
    body = response.content.decode()
    assert "主题党日（R-21）" in body
    assert reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "approve"]) in body
    assert reverse("dashboard:meeting_step", args=[env.branch.pk, reported.pk, "archive"]) in body


def test_approve_in_place_replaces_the_row_and_records_the_transition(env, client):
    """R-11: an htmx approval answers with the row, now approved and without buttons."""
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    login(client, env, "secretary")
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "approve"])
    response = client.post(url, {"comment": "同意，请按时召开"}, **HTMX)
    assert response.status_code == 200
    assert response.templates[0].name == "dashboard/_queue_row.html"
    assert "base.html" not in {t.name for t in response.templates}
    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<li class="list-group-item dash-queue-row" id="queue-meeting-{meeting.pk}"'
    )
    assert "<html" not in body
    assert "已批准会议内容（R-11）。" in body
    assert "data-actions" not in body
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.APPROVED
    last = MeetingTransition.objects.filter(meeting=meeting).order_by("-at", "-id").first()
    assert (last.action, last.from_state, last.to_state, last.by, last.comment) == (
        Action.APPROVE,
        MeetingState.SUBMITTED,
        MeetingState.APPROVED,
        env.world.secretary,
        "同意，请按时召开",
    )


def test_approve_without_js_redirects_back_with_a_message(env, client):
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    login(client, env, "secretary")
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "approve"])
    response = client.post(url, {"comment": ""})
    assert response["Location"] == reverse("dashboard:branch", args=[env.branch.pk]) + "#approval-queue"
    assert messages_of(client, response) == ["已批准会议内容（R-11）。"]
    assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.APPROVED


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_return_without_comment_is_refused_and_nothing_saved(env, client, htmx):
    """R-11: returning a request needs the branch's comment; refused in Chinese, nothing saved."""
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    login(client, env, "secretary")
    before = row_counts()
    transitions = list(MeetingTransition.objects.filter(meeting=meeting).values_list("pk", flat=True))
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "return"])
    extra = HTMX if htmx else {}
    response = client.post(url, {"comment": "   "}, **extra)
    expected = "“退回修改”时必须填写意见。"
    if htmx:
        assert response.status_code == 200
        body = response.content.decode()
        assert expected in body
        assert "data-actions" in body  # the buttons stay: the secretary can try again
        assert '<details class="action-with-comment" open>' in body
    else:
        assert messages_of(client, response) == [expected]
    assert row_counts() == before
    assert list(MeetingTransition.objects.filter(meeting=meeting).values_list("pk", flat=True)) == transitions
    assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.SUBMITTED


def test_return_with_comment_in_place(env, client):
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    login(client, env, "secretary")
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "return"])
    response = client.post(url, {"comment": "请补充学习篇目"}, **HTMX)
    assert "已退回修改，意见已告知党小组组长（R-11）。" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.RETURNED
    assert list(
        MeetingTransition.objects.filter(meeting=meeting, action=Action.RETURN).values_list("comment", "by")
    ) == [("请补充学习篇目", env.world.secretary.pk)]


def test_approving_twice_says_why_and_changes_nothing(env, client):
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.APPROVED)
    login(client, env, "secretary")
    before = row_counts()
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "approve"])
    body = client.post(url, {}, **HTMX).content.decode()
    assert "会议当前状态为“已批准”，不能“批准”（仅限：已请示）。" in body
    assert row_counts() == before


def test_archive_in_place(env, client):
    """R-12: the branch archives a reported record; it gets its archive number."""
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.REPORTED)
    login(client, env, "secretary")
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "archive"])
    response = client.post(url, {}, **HTMX)
    body = response.content.decode()
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.ARCHIVED
    assert meeting.archive_number and meeting.archive_number in body
    assert "会议记录已存档（R-12）。" in body
    assert "data-actions" not in body


def test_file_in_place_and_refused_before_the_decision(env, client):
    """R-05: the branch files its decision with the higher organisation, in place."""
    change = make_change(env.branch, env.world.secretary)
    login(client, env, "secretary")
    url = reverse("dashboard:change_file", args=[env.branch.pk, change.pk])
    before = row_counts()
    early = (change.decided_on - DAY).isoformat()
    body = client.post(url, {"filed_on": early}, **HTMX).content.decode()
    assert "报备日期不能早于支部决定日期。" in body
    assert row_counts() == before
    assert GroupChange.objects.get(pk=change.pk).filing_status == FilingStatus.PENDING

    body = client.post(url, {"filed_on": TODAY.isoformat()}, **HTMX).content.decode()
    change.refresh_from_db()
    assert (change.filing_status, change.filed_on, change.filed_by) == (
        FilingStatus.FILED,
        TODAY,
        env.world.secretary,
    )
    assert "已报上级党组织备案（R-05）。" in body
    assert "data-actions" not in body
    page = client.get(reverse("dashboard:branch", args=[env.branch.pk]))
    assert list(page.context["to_file"]) == []
    assert [c.pk for c in page.context["awaiting"]] == [change.pk]


def test_acknowledge_in_place(env, client):
    change = make_change(env.branch, env.world.secretary, filed=True)
    login(client, env, "org_staff")
    page = client.get(reverse("dashboard:overview"))
    assert [c.pk for c in page.context["awaiting"]] == [change.pk]
    url = reverse("dashboard:change_acknowledge", args=[change.pk])
    body = client.post(url, {"comment": "同意"}, **HTMX).content.decode()
    change.refresh_from_db()
    assert (
        change.filing_status,
        change.acknowledged_on,
        change.acknowledged_by,
        change.organisation_comment,
    ) == (
        FilingStatus.ACKNOWLEDGED,
        TODAY,
        env.world.org_staff,
        "同意",
    )
    assert "已备案（R-05）。" in body
    assert "data-actions" not in body
    before = row_counts()
    again = client.post(url, {}, **HTMX).content.decode()
    assert "只有已报备的变更才能备案。" in again
    assert row_counts() == before


def test_read_only_drilldown_has_no_action_buttons_and_posts_are_403(env, client):
    """Org staff read a branch of their subtree: the same page, no buttons; every write is 403."""
    submitted = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    reported = make_meeting(env.world.group, env.world.leader, state=MeetingState.REPORTED)
    change = make_change(env.branch, env.world.secretary)
    url = reverse("dashboard:branch", args=[env.branch.pk])

    login(client, env, "secretary")
    full = client.get(url)
    assert full.context["read_only"] is False
    assert full.content.decode().count("data-actions") == 3

    login(client, env, "org_staff")
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["read_only"] is True
    body = response.content.decode()
    assert "data-actions" not in body
    assert '<form method="post"' not in body.split('id="branch-main"')[1]
    assert "只读查看" in body
    assert submitted.title in body and reported.title in body and change.summary in body
    before = row_counts()
    for action_url in (
        reverse("dashboard:meeting_step", args=[env.branch.pk, submitted.pk, "approve"]),
        reverse("dashboard:meeting_step", args=[env.branch.pk, submitted.pk, "return"]),
        reverse("dashboard:meeting_step", args=[env.branch.pk, reported.pk, "archive"]),
        reverse("dashboard:change_file", args=[env.branch.pk, change.pk]),
    ):
        assert client.post(action_url, {"comment": "意见"}).status_code == 403, action_url
        assert client.post(action_url, {"comment": "意见"}, **HTMX).status_code == 403, action_url
    assert row_counts() == before


def test_propaganda_member_sees_the_page_but_cannot_approve(env, client):
    """R-11: only the secretary, organisation or discipline member approves; a 宣传委员 files changes."""
    member = f.GroupMembershipFactory(group=env.world.group).member
    f.CommitteeMembershipFactory(member=member, post="propaganda")
    user = f.user_for(member, "propaganda")
    meeting = make_meeting(env.world.group, env.world.leader, state=MeetingState.SUBMITTED)
    client.force_login(user)
    response = client.get(reverse("dashboard:branch", args=[env.branch.pk]))
    assert response.status_code == 200
    assert response.context["read_only"] is False
    assert "data-actions" not in response.content.decode()
    url = reverse("dashboard:meeting_step", args=[env.branch.pk, meeting.pk, "approve"])
    assert client.post(url, {}).status_code == 403
    assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.SUBMITTED


def test_split_suggestion_from_the_rule_sets_threshold(env, client):
    """R-01: the dashboard points to the split suggestion once the branch has 20 active members."""
    login(client, env, "secretary")
    url = reverse("dashboard:branch", args=[env.branch.pk])
    response = client.get(url)
    assert (response.context["member_count"], response.context["split_threshold"]) == (8, 20)
    assert "data-split-suggestion" not in response.content.decode()
    for _ in range(12):
        f.MemberFactory(branch=env.branch)
    response = client.get(url)
    assert response.context["suggest_split"] is True
    assert "达到 20 名，一般应当划分若干党小组（R-01）" in response.content.decode()


def test_htmx_get_returns_the_main_part_only(env, client):
    login(client, env, "secretary")
    url = reverse("dashboard:branch", args=[env.branch.pk])
    response = client.get(url, **HTMX)
    body = response.content.decode()
    assert response.templates[0].name == "dashboard/_branch_main.html"
    assert "base.html" not in {t.name for t in response.templates}
    assert body.lstrip().startswith('<div id="branch-main"')
    assert "<html" not in body
    assert client.get(reverse("dashboard:branch", args=[env.other_branch.pk]), **HTMX).status_code == 404


# --- Month cells (R-10) ---------------------------------------------------------------------------


def test_month_cells_of_a_group_with_meetings_in_some_months():
    today = dt.date(2025, 8, 20)
    cells = month_cells(
        year=2025, established_on=dt.date(2020, 1, 1), dissolved_on=None, counts={3: 2, 8: 1}, today=today
    )
    assert [(c.month, c.count, c.state) for c in cells] == [
        (1, 0, CellState.MISSING),
        (2, 0, CellState.MISSING),
        (3, 2, CellState.HELD),
        (4, 0, CellState.MISSING),
        (5, 0, CellState.MISSING),
        (6, 0, CellState.MISSING),
        (7, 0, CellState.MISSING),
        (8, 1, CellState.HELD),
        (9, 0, CellState.FUTURE),
        (10, 0, CellState.FUTURE),
        (11, 0, CellState.FUTURE),
        (12, 0, CellState.FUTURE),
    ]
    assert [c.symbol for c in cells[:4]] == ["✗", "✗", "✓", "✗"]


def test_month_cells_of_a_group_founded_mid_year_and_the_current_month():
    """Founded 15 June: January–June are not due (R-10 counts complete months); August is current."""
    cells = month_cells(
        year=2025,
        established_on=dt.date(2025, 6, 15),
        dissolved_on=None,
        counts={},
        today=dt.date(2025, 8, 3),
    )
    assert [c.state for c in cells] == [CellState.NONE] * 6 + [
        CellState.MISSING,
        CellState.PENDING,
        *[CellState.FUTURE] * 4,
    ]
    founded_first = month_cells(
        year=2025, established_on=dt.date(2025, 6, 1), dissolved_on=None, counts={}, today=dt.date(2025, 8, 3)
    )
    assert founded_first[5].state == CellState.MISSING
    held_in_founding_month = month_cells(
        year=2025,
        established_on=dt.date(2025, 6, 15),
        dissolved_on=None,
        counts={6: 1},
        today=dt.date(2026, 1, 3),
    )
    assert held_in_founding_month[5].state == CellState.HELD


def test_month_cells_of_a_dissolved_group():
    cells = month_cells(
        year=2024,
        established_on=dt.date(2020, 1, 1),
        dissolved_on=dt.date(2024, 5, 10),
        counts={1: 1},
        today=dt.date(2025, 3, 1),
    )
    assert [c.state for c in cells] == [CellState.HELD] + [CellState.MISSING] * 3 + [CellState.NONE] * 8


# --- The organisation overview --------------------------------------------------------------------


def _held(group, leader, *days: dt.date) -> None:
    for day in days:
        make_meeting(group, leader, state=MeetingState.ARCHIVED, held_on=day, with_action_items=False)


def test_heatmap_cells_for_meetings_in_some_months_and_a_group_founded_mid_year(env, client):
    """Last year: 第一党小组 met twice in March and once in July; a group founded on 15 June met in
    September — its months before July are blank, July and August red (R-10)."""
    year = TODAY.year - 1
    world = env.world
    _held(world.group, world.leader, dt.date(year, 3, 5), dt.date(year, 3, 20), dt.date(year, 7, 8))
    late = f.PartyGroupFactory(branch=world.branch, name="新建党小组", established_on=dt.date(year, 6, 15))
    late_members = [
        f.GroupMembershipFactory(group=late, started_on=dt.date(year, 6, 15)).member for _ in range(3)
    ]
    f.LeaderAppointmentFactory(group=late, member=late_members[0], started_on=dt.date(year, 6, 15))
    _held(late, f.user_for(late_members[0], "late_leader"), dt.date(year, 9, 10))
    # noise: a draft in April, a life meeting in May, a meeting of the previous year
    make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    make_meeting(
        world.group,
        world.leader,
        state=MeetingState.ARCHIVED,
        kind=MeetingKind.LIFE_MEETING,
        held_on=dt.date(year, 5, 6),
    )
    _held(world.group, world.leader, dt.date(year - 1, 4, 1))

    login(client, env, "org_staff")
    response = client.get(reverse("dashboard:overview"), {"year": year})
    assert response.status_code == 200
    [block] = response.context["blocks"]
    assert block.branch == env.branch
    cells = {row.name: [(c.count, c.state) for c in row.cells] for row in block.rows}
    held, missing, none = CellState.HELD, CellState.MISSING, CellState.NONE
    expected_first = [(0, missing)] * 12
    expected_first[2] = (2, held)
    expected_first[6] = (1, held)
    assert cells["第一党小组"] == expected_first
    assert (
        cells["新建党小组"] == [(0, none)] * 6 + [(0, missing), (0, missing), (1, held)] + [(0, missing)] * 3
    )
    assert cells["第二党小组"] == [(0, missing)] * 12
    rows = {row.name: (row.held_months, row.due_months) for row in block.rows}
    assert rows == {"第一党小组": (2, 12), "新建党小组": (1, 6), "第二党小组": (0, 12)}
    body = response.content.decode()
    assert 'class="dash-heat dash-heat-held" title="3月：召开党小组会2次"' in body
    assert reverse("dashboard:branch", args=[env.branch.pk]) in body


def test_overview_scope_staff_see_their_subtree_superuser_everything(env, client):
    login(client, env, "org_staff")
    assert [b.branch for b in client.get(reverse("dashboard:overview")).context["blocks"]] == [env.branch]
    login(client, env, "other_org_staff")
    assert [b.branch for b in client.get(reverse("dashboard:overview")).context["blocks"]] == [
        env.other_branch
    ]
    login(client, env, "superuser")
    assert {b.branch for b in client.get(reverse("dashboard:overview")).context["blocks"]} == {
        env.branch,
        env.other_branch,
    }


def test_overview_filters_by_branch_and_ignores_branches_outside_the_scope(env, client):
    child = f.OrganisationFactory(parent=env.branch.organisation, name="下级党委")
    extra = [f.BranchFactory(organisation=child, name=f"下级第{i}党支部") for i in range(3)]
    login(client, env, "org_staff")
    url = reverse("dashboard:overview")
    everything = client.get(url).context["blocks"]
    assert {b.branch for b in everything} == {env.branch, *extra}
    chosen = client.get(url, {"branch": [extra[0].pk, extra[2].pk]}).context["blocks"]
    assert [b.branch for b in chosen] == [extra[0], extra[2]]
    # a branch of another organisation is not a valid choice: the filter is ignored with an error
    response = client.get(url, {"branch": [env.other_branch.pk]})
    assert response.context["form"].errors["branch"]
    assert env.other_branch not in {b.branch for b in response.context["blocks"]}


def test_overview_bad_year_falls_back_to_this_year_with_a_message(env, client):
    login(client, env, "org_staff")
    response = client.get(reverse("dashboard:overview"), {"year": "1800"})
    assert response.context["year"] == TODAY.year
    assert response.context["form"].errors["year"] == [f"年度应在2000至{TODAY.year + 1}之间。"]


def _per_rule(findings) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for finding in findings:
        counts.setdefault(finding.rule_id, [0, 0])[0 if finding.is_violation else 1] += 1
    return {rule_id: (v, a) for rule_id, (v, a) in counts.items()}


def _rule_counts(response) -> dict[str, tuple[int, int]]:
    return {rc.rule_id: (rc.violations, rc.advisories) for rc in response.context["rule_counts"]}


def test_overview_counts_the_findings_of_every_branch_in_scope_on_every_page(env, client, monkeypatch):
    """Per branch (its block) and per rule over ALL the branches of the filter — not just the page —
    from the stored counts, which equal what collect_findings finds live (R-01 … R-35)."""
    monkeypatch.setattr(views, "BRANCHES_PER_PAGE", 1)
    second = f.BranchFactory(organisation=env.branch.organisation, name="第二支部")
    for _ in range(20):  # 20 members and no groups
        f.MemberFactory(branch=second)
    summaries.refresh_summaries([env.branch.pk, second.pk])
    live = {b.pk: collect_findings([b], TODAY) for b in (env.branch, second)}
    everything = _per_rule(live[env.branch.pk] + live[second.pk])
    assert "R-01" in everything and len(everything) > 1
    login(client, env, "org_staff")
    url = reverse("dashboard:overview")
    seen = set()
    for number in (1, 2):
        response = client.get(url, {"page": number})
        [block] = response.context["blocks"]
        seen.add(block.branch)
        mine = live[block.branch.pk]
        assert (block.summary.violations, block.summary.advisories) == (
            sum(1 for x in mine if x.is_violation),
            sum(1 for x in mine if not x.is_violation),
        )
        assert _rule_counts(response) == everything  # the same on both pages
        body = response.content.decode()
        assert "发现的问题（2 个党支部）" in body
        assert "正在后台重新检查" not in body  # just checked
    assert seen == {env.branch, second}
    # the filter narrows the counts to the chosen branches
    response = client.get(url, {"branch": [second.pk]})
    assert _rule_counts(response) == _per_rule(live[second.pk])


def test_overview_without_counts_says_so_and_queues_one_check_of_those_branches(
    env, client, django_capture_on_commit_callbacks, queued
):
    login(client, env, "org_staff")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("dashboard:overview"))
    [block] = response.context["blocks"]
    assert block.summary is None
    body = response.content.decode()
    assert "尚未检查" in body and "尚无检查结果" in body
    assert "1 个党支部的结果已超过 10 分钟或尚未检查，正在后台重新检查" in body
    assert queued() == [[env.branch.pk]]
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:overview"))
    assert queued() == [[env.branch.pk]]  # asked once: not again for the same branches within MAX_AGE


def test_overview_shows_old_counts_with_their_time_while_they_are_checked_again(
    env, client, django_capture_on_commit_callbacks, queued
):
    summaries.refresh_summaries([env.branch.pk])
    old = timezone.now() - summaries.MAX_AGE - dt.timedelta(minutes=1)
    FindingSummary.objects.filter(branch=env.branch).update(computed_at=old)
    login(client, env, "org_staff")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("dashboard:overview"))
    assert _rule_counts(response) == _per_rule(collect_findings([env.branch], TODAY))
    body = response.content.decode()
    shown = timezone.localtime(old).strftime("%Y-%m-%d %H:%M")
    assert f"检查时间：{shown} 至 {shown}" in body
    assert "正在后台重新检查" in body
    assert queued() == [[env.branch.pk]]


def test_overview_refresh_queues_a_check_of_the_filtered_branches_and_returns_to_the_filter(
    env, client, django_capture_on_commit_callbacks, queued
):
    child = f.OrganisationFactory(parent=env.branch.organisation, name="下级党委")
    extra = [f.BranchFactory(organisation=child, name=f"下级第{i}党支部") for i in range(3)]
    login(client, env, "org_staff")
    query = f"branch={extra[0].pk}&branch={extra[2].pk}&year={TODAY.year}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboard:overview_refresh") + "?" + query, follow=True)
    assert response.redirect_chain == [(reverse("dashboard:overview") + "?" + query, 302)]
    assert queued() == [sorted([extra[0].pk, extra[2].pk])]
    assert "已开始重新检查 2 个党支部" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("dashboard:overview_refresh") + "?" + query, follow=True)
    assert "刚刚已开始重新检查这些党支部" in again.content.decode()
    assert len(queued()) == 1  # pressed twice at once: queued once
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:overview_refresh"))  # no filter: every visible branch
    assert queued()[-1] == sorted([env.branch.pk, *(b.pk for b in extra)])


def test_overview_lists_filings_awaiting_acknowledgement_in_scope(env, client):
    mine = make_change(env.branch, env.world.secretary, filed=True)
    make_change(env.branch, env.world.secretary)  # pending: not filed yet
    make_change(env.other_branch, env.world.other_secretary, filed=True)
    login(client, env, "org_staff")
    response = client.get(reverse("dashboard:overview"))
    assert [c.pk for c in response.context["awaiting"]] == [mine.pk]
    assert response.context["awaiting_total"] == 1
    assert reverse("dashboard:change_acknowledge", args=[mine.pk]) in response.content.decode()


# --- The member's own page ------------------------------------------------------------------------


def test_member_page_shows_own_data_history_minutes_attendance_and_talks(env, client):
    world = env.world
    member = world.member_user.member
    archived = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    make_meeting(world.group, world.leader, state=MeetingState.REPORTED)  # not archived: not listed
    make_meeting(world.other_group, world.other_leader, state=MeetingState.ARCHIVED)  # other group
    talk_record(
        group=world.group,
        talked_on=TODAY - DAY,
        initiator=world.leader_member,
        partner=member,
        topic="思想工作交流",
        summary="谈了近期学习体会。",
        by=world.leader,
    )
    login(client, env, "member")
    response = client.get(reverse("dashboard:me"))
    ctx = response.context
    body = response.content.decode()
    assert ctx["member"] == member
    assert member.masked_id_number in body and member.id_number not in body
    assert member.phone in body
    assert [m.group for m in ctx["history"]] == [world.group]
    assert [m.pk for m in ctx["meetings"]] == [archived.pk]
    assert reverse("meetings:pdf", args=[archived.pk]) in body
    expected_present = Meeting.objects.filter(
        state__in=["held", "reported", "archived"],
        held_on__year=TODAY.year,
        attendances__member=member,
        attendances__role="present",
    ).count()
    expected_absent = Meeting.objects.filter(
        held_on__year=TODAY.year, attendances__member=member, attendances__role="absent"
    ).count()
    assert (ctx["attendance"]["present"], ctx["attendance"]["absent"]) == (expected_present, expected_absent)
    assert expected_present + expected_absent == (2 if archived.held_on.year == TODAY.year else 0)
    assert [t.topic for t in ctx["talks"]] == ["思想工作交流"]
    assert f"{world.leader_member.name}与我谈话" in body


def test_member_page_group_history_after_a_move(env, client):
    world = env.world
    member = world.member_user.member
    group_services.membership_move(
        member=member, to_group=world.other_group, moved_on=TODAY - DAY, by=world.secretary
    )
    login(client, env, "member")
    history = client.get(reverse("dashboard:me")).context["history"]
    assert [(m.group.name, m.ended_on) for m in history] == [
        ("第二党小组", None),
        ("第一党小组", TODAY - DAY),
    ]


def test_member_page_without_a_member_record_explains(env, client):
    login(client, env, "org_staff")
    response = client.get(reverse("dashboard:me"))
    assert response.status_code == 200
    assert response.context["member"] is None
    assert "您的登录账号尚未关联党员信息" in response.content.decode()


# --- Flat query counts ----------------------------------------------------------------------------


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _led_group(branch, name: str, *, members: int = 3, held: bool = True):
    group = f.PartyGroupFactory(branch=branch, name=name)
    people = [f.GroupMembershipFactory(group=group).member for _ in range(members)]
    f.LeaderAppointmentFactory(group=group, member=people[0])
    f.LeaderAppointmentFactory(group=group, member=people[1], role=LeaderRole.DEPUTY)
    leader = f.user_for(people[0], f"leader_{group.pk}")
    make_meeting(group, leader, state=MeetingState.SUBMITTED)
    if held:
        make_meeting(group, leader, state=MeetingState.REPORTED, with_action_items=False)
    return group


def _fresh_branch(org, name: str):
    branch = f.BranchFactory(organisation=org, name=name)
    secretary = f.MemberFactory(branch=branch)
    f.CommitteeMembershipFactory(member=secretary)
    return branch, f.user_for(secretary, f"sec_{branch.pk}")


def test_branch_dashboard_query_count_is_flat_1_vs_20_groups(env, client):
    org = env.branch.organisation
    small, small_secretary = _fresh_branch(org, "小支部")
    large, large_secretary = _fresh_branch(org, "大支部")
    _led_group(small, "小支部党小组")
    for i in range(20):
        _led_group(large, f"大支部第{i + 1}党小组")
    make_change(small, small_secretary)
    for _ in range(20):
        make_change(large, large_secretary)
    client.force_login(small_secretary)
    small_url = reverse("dashboard:branch", args=[small.pk])
    client.get(small_url)  # warm the session
    one = _queries(client, small_url)
    client.force_login(large_secretary)
    large_url = reverse("dashboard:branch", args=[large.pk])
    client.get(large_url)
    response = client.get(large_url)
    assert len(response.context["rows"]) == 20 and len(response.context["queue"]) == 20
    assert _queries(client, large_url) == one


def _overview_queries(client, user, params) -> int:
    client.force_login(user)
    url = reverse("dashboard:overview")
    client.get(url, params)  # warm the session
    return _queries(client, url, params)


def test_overview_query_count_is_flat_1_vs_20_groups(env, client):
    org = env.branch.organisation
    small, _ = _fresh_branch(org, "小支部")
    large, _ = _fresh_branch(org, "大支部")
    _led_group(small, "小支部党小组", held=False)
    for i in range(20):
        _led_group(large, f"大支部第{i + 1}党小组", held=False)
    for group in PartyGroup.objects.filter(branch__in=[small, large]):
        leader = group.appointments.get(role=LeaderRole.LEADER).member.user
        make_meeting(group, leader, state=MeetingState.ARCHIVED, with_action_items=False)
    staff = env.world.org_staff
    one = _overview_queries(client, staff, {"branch": [small.pk]})
    twenty = _overview_queries(client, staff, {"branch": [large.pk]})
    assert twenty == one


def test_overview_query_count_is_flat_1_vs_5_branches(env, client):
    org = f.OrganisationFactory(name="测试工委")
    staff = f.OrganisationStaffFactory(organisation=org, user=f.UserFactory(username="bench_staff")).user
    first, _ = _fresh_branch(org, "第1支部")
    _led_group(first, "第1支部党小组", held=False)
    make_change(first, staff, filed=True)
    one = _overview_queries(client, staff, {})
    for i in range(2, 6):
        branch, _ = _fresh_branch(org, f"第{i}支部")
        _led_group(branch, f"第{i}支部党小组", held=False)
        make_change(branch, staff, filed=True)
    client.force_login(staff)
    response = client.get(reverse("dashboard:overview"))
    assert len(response.context["blocks"]) == 5 and len(response.context["awaiting"]) == 5
    assert _overview_queries(client, staff, {}) == one
