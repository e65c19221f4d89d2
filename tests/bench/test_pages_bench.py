"""Tests of bench/pages_bench.py (issue 4: the role workspace pages on the city set).

The tables it writes are pure functions of the results. On a small branch shaped like a city branch
(a secretary, groups with leaders, a plain member, an archived meeting) the bench users are created
once and linked to the right members, and every page the benchmark measures answers its user with
the page itself — so a changed page or marker is caught here, not in the middle of a bench run.
Nothing is timed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from bench.pages_bench import (
    AIM,
    LEADER,
    MEMBER,
    ORG_STAFF,
    Page,
    PageResult,
    bench_users,
    page_getter,
    pages,
    result_rows,
    shorten_sql,
    slowest_note,
    summary_table,
    timed_requests,
)
from groups.enums import LeaderRole
from groups.models import LeaderAppointment
from meetings.enums import MeetingState
from members.enums import CommitteePost
from members.models import CommitteeMembership, OrganisationStaff
from tests import factories as f
from tests.meetings.factories import make_meeting


def _result(label: str, server_ms: float, *, queries: int = 30, sql_ms: float = 20.0) -> PageResult:
    page = Page(label, "secretary", f"/{label}/", "marker")
    return PageResult(
        page=page, server_ms=server_ms, queries=queries, selects=queries - 1, sql_ms=sql_ms, cpu_ms=60.0
    )


def test_result_rows_judge_each_page_against_150_ms():
    rows = result_rows([_result("fast", 149.9), _result("slow", 150.1)])
    assert [(r.name, r.value, r.unit, r.aim, r.ok) for r in rows] == [
        ("fast: server time (median of 10)", 149.9, "ms", AIM, True),
        ("slow: server time (median of 10)", 150.1, "ms", AIM, False),
    ]


def test_summary_table_puts_server_time_queries_and_raw_sql_side_by_side():
    table = summary_table([_result("dashboard", 120.0, queries=38, sql_ms=20.0)])
    assert table.splitlines() == [
        "| Page | User | Server time | Queries | Raw SQL | Outside SQL | CPU in Django |",
        "|---|---|---:|---:|---:|---:|---:|",
        "| dashboard (`/dashboard/`) | secretary | 120 ms | 38 | 20 ms | 100 ms | 60 ms |",
    ]


def test_timed_requests_calls_warmup_plus_runs_times_and_refuses_bad_counts():
    calls = []
    walls, cpus = timed_requests(lambda: calls.append(1), runs=3, warmup=2)
    assert len(calls) == 5
    assert len(walls) == len(cpus) == 3
    with pytest.raises(ValueError, match="runs must be"):
        timed_requests(lambda: None, runs=0, warmup=0)


def test_summary_table_escapes_a_pipe_in_a_label():
    table = summary_table([_result("a|b", 10.0)])
    assert "a\\|b" in table.splitlines()[2]


def test_slowest_note_escapes_the_sql_and_lists_each_page():
    result = _result("list", 50.0)
    result.slowest = [(3.5, "SELECT 1 WHERE a < 2"), (0.25, "SELECT 2")]
    note = slowest_note([result])
    assert note.startswith("<details>") and note.endswith("</details>")
    assert "<p>list — 29 SELECTs, 20.0 ms in all</p>" in note
    assert "<li>3.50 ms — <code>SELECT 1 WHERE a &lt; 2</code></li>" in note
    assert "<li>0.25 ms — <code>SELECT 2</code></li>" in note


def test_shorten_sql_keeps_the_from_clause_of_a_long_select():
    columns = ", ".join(f'"t"."c{i}"' for i in range(100))
    sql = f'SELECT {columns} FROM "t" WHERE "t"."id" = 1'
    short = shorten_sql(sql)
    assert short.startswith('SELECT "t"."c0"') and short.endswith(' … FROM "t" WHERE "t"."id" = 1')
    assert shorten_sql("SELECT 1") == "SELECT 1"


# --- On a small branch ------------------------------------------------------------------------------
@pytest.fixture
def branch_like_the_city(db):
    """The first branch: a secretary, two groups with a leader each, an archived group meeting."""
    root = f.OrganisationFactory(name="市直机关工委", kind="work_committee")
    branch = f.BranchFactory(organisation=root, name="第一党支部")
    groups, people = [], {}
    for g, names in enumerate((["组长甲", "党员甲", "党员乙"], ["组长乙", "书记甲", "党员丙"])):
        group = f.PartyGroupFactory(branch=branch, name=f"第{g + 1}党小组")
        for name in names:
            people[name] = f.MemberFactory(branch=branch, name=name)
            f.GroupMembershipFactory(group=group, member=people[name], started_on=dt.date(2020, 1, 1))
        f.LeaderAppointmentFactory(group=group, member=people[names[0]], role=LeaderRole.LEADER)
        groups.append(group)
    f.CommitteeMembershipFactory(member=people["书记甲"], post=CommitteePost.SECRETARY)
    meeting = make_meeting(
        groups[0], f.user_for(people["组长甲"], "leader-first"), state=MeetingState.ARCHIVED
    )
    return branch, groups, people, meeting


def test_bench_users_are_created_once_and_linked_to_their_roles(branch_like_the_city):
    branch, groups, people, meeting = branch_like_the_city
    first = bench_users()
    users_after_first = get_user_model().objects.count()
    second = bench_users()
    assert get_user_model().objects.count() == users_after_first
    assert {k: u.pk for k, u in first.users.items()} == {k: u.pk for k, u in second.users.items()}
    users = second.users
    assert {u.username for u in users.values()} == {"bench-secretary", LEADER, ORG_STAFF, MEMBER}
    assert second.branch == branch
    people["书记甲"].refresh_from_db()
    assert people["书记甲"].user == users["secretary"]
    assert CommitteeMembership.objects.filter(member__user=users["secretary"], branch=branch).exists()
    # the leader of the group whose leader had no account yet
    assert second.group == groups[1]
    assert list(
        LeaderAppointment.objects.filter(member__user=users["leader"]).values_list("group", flat=True)
    ) == [groups[1].pk]
    # a plain member: in a group, neither leader nor on the committee
    assert second.member == people["党员甲"]
    assert second.member.user == users["member"]
    assert list(
        OrganisationStaff.objects.filter(user=users["org staff"]).values_list("organisation", flat=True)
    ) == [branch.organisation_id]
    assert second.meeting == meeting


def test_every_measured_page_answers_its_user_with_the_page(branch_like_the_city):
    bench = bench_users()
    measured = pages(bench)
    assert [p.label for p in measured] == [
        "Secretary's dashboard",
        "Organisation overview, first page, this year",
        "Groups list",
        "Group detail",
        "Member registry, first page",
        "Member registry, searched by name",
        "Member detail",
        "Meetings list, first page",
        "Meetings list, first page, organisation staff",
        "Meeting detail (archived)",
        "Leader's workspace",
        "Member's own page",
    ]
    clients = {}
    for key, user in bench.users.items():
        clients[key] = Client()
        clients[key].force_login(user)
    for page in measured:
        response = page_getter(clients[page.user], page)()  # raises unless 200 with the marker
        assert response.status_code == 200, page.label


def test_a_page_without_its_marker_is_refused(branch_like_the_city):
    bench = bench_users()
    client = Client()
    client.force_login(bench.users["member"])
    page = Page(
        "Secretary's dashboard as a member", "member", f"/dashboard/branch/{bench.branch.pk}/", "branch-main"
    )
    with pytest.raises(RuntimeError, match="answered 403 without “branch-main”"):
        page_getter(client, page)()
