"""Tests of groups/views.py: the branch committee's pages for groups and leaders (R-03 … R-09, R-24 … R-26)
and the filing of group changes (R-05).

- A permission matrix for every page and action over the roles of ``tests/org_tree.py`` (superuser, org
  staff of the subtree, of a sibling subtree and of another tree, the secretary and a committee member of
  branch A, the secretary of branch C, the leaders of A's two groups, a plain member, anonymous), on
  objects of branch A: outside the user's scope → 404, visible but read-only → 403, anonymous → login;
  every refused request changes nothing; every allowed write changes something.
- Behaviour through the pages: create with members (R-03 advisory shown), move members (R-06 history,
  an R-05 adjust change), appoint a leader (R-25 attestations with who/when; the R-24 refusal saves
  nothing), dissolve, file and acknowledge/return.
- Flat query counts for the list (1 vs 20 groups), the detail (1 vs 20 members) and the changes page.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from groups.split import suggest_split_for_branch
from members.enums import CommitteePost
from tests import factories as f
from tests.org_tree import ROLES, OrgTree, build_tree

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
LOGIN = reverse("login")
DOC = "办支〔2025〕3号"
ATTESTS = {
    "attests_political_quality": "on",
    "attests_dedication": "on",
    "attests_organising_ability": "on",
}


def row_counts() -> dict[str, int]:
    """Rows of every model (history included) of the groups and members apps."""
    return {
        m.__name__: m._default_manager.count()
        for label in ("groups", "members")
        for m in apps.get_app_config(label).get_models()
    }


def login(client, tree: OrgTree, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(tree.users[role])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client, response) -> list[str]:
    assert response.status_code == 302, response.status_code
    return messages_of(client.get(response["Location"]))


def list_url(branch, name: str = "groups:list") -> str:
    return f"{reverse(name)}?branch={branch.pk}"


@pytest.fixture
def tree(db) -> OrgTree:
    return build_tree()


# --- The permission matrix ------------------------------------------------------------------------


def statuses(**kwargs: int) -> dict[str, int]:
    result = {"anonymous": 302, **kwargs}
    assert set(result) == set(ROLES), set(ROLES) ^ set(result)
    return result


COMMITTEE_A = ("superuser", "secretary_a", "propaganda_a")
# Branch pages of A: the committee and org staff of A's subtree read; A's leaders and members see the
# branch (their own) but may not open these pages; everybody else does not see it at all.
BRANCH_READ = statuses(
    superuser=200,
    staff_top=200,
    staff_mid=200,
    staff_leaf=404,
    staff_other=404,
    secretary_a=200,
    propaganda_a=200,
    secretary_c=404,
    leader_a1=403,
    leader_a2=403,
    member_a1=403,
)
BRANCH_WRITE_GET = {**BRANCH_READ, "staff_top": 403, "staff_mid": 403}
BRANCH_WRITE_POST = {**BRANCH_WRITE_GET, **dict.fromkeys(COMMITTEE_A, 302)}
# Group a1: its leader reads the detail too; a member of the group sees it but may not open it.
GROUP_READ = statuses(
    superuser=200,
    staff_top=200,
    staff_mid=200,
    staff_leaf=404,
    staff_other=404,
    secretary_a=200,
    propaganda_a=200,
    secretary_c=404,
    leader_a1=200,
    leader_a2=404,
    member_a1=403,
)
GROUP_WRITE = {
    **GROUP_READ,
    "staff_top": 403,
    "staff_mid": 403,
    "leader_a1": 403,
    **dict.fromkeys(COMMITTEE_A, 302),
}
# Group changes are seen by the branch committee and org staff of the subtree only.
CHANGE_FILE = statuses(
    superuser=302,
    staff_top=403,
    staff_mid=403,
    staff_leaf=404,
    staff_other=404,
    secretary_a=302,
    propaganda_a=302,
    secretary_c=404,
    leader_a1=404,
    leader_a2=404,
    member_a1=404,
)
CHANGE_ACKNOWLEDGE = {
    **CHANGE_FILE,
    "staff_top": 302,
    "staff_mid": 302,
    "secretary_a": 403,
    "propaganda_a": 403,
}


@dataclass(frozen=True)
class Case:
    """One page or action: ``target(tree, n)`` gives the URL and payload of the n-th request (each
    allowed write gets a target of its own, e.g. a fresh member to place)."""

    name: str
    method: str
    expected: dict[str, int]
    target: Callable[[OrgTree, int], tuple[str, dict]]

    def __str__(self) -> str:
        return self.name

    @property
    def writers(self) -> tuple[str, ...]:
        return tuple(
            r for r, s in self.expected.items() if self.method == "post" and s == 302 and r != "anonymous"
        )


def _fresh_member(tree: OrgTree, n: int, group: PartyGroup | None = None, **kwargs):
    member = f.MemberFactory(branch=tree.branches["A"], name=f"新党员{n}", **kwargs)
    if group is not None:
        f.GroupMembershipFactory(group=group, member=member, started_on=dt.date(2020, 1, 1))
    return member


def _detail(tree, n):
    return reverse("groups:detail", args=[tree.groups["a1"].pk]), {}


def _create(tree, n):
    data = {
        "name": f"新建党小组{n}",
        "established_on": TODAY.isoformat(),
        "decided_on": TODAY.isoformat(),
        "document_number": DOC,
    }
    return list_url(tree.branches["A"], "groups:create"), data


def _place(tree, n):
    member = _fresh_member(tree, n)
    url = reverse("groups:place", args=[tree.groups["a1"].pk])
    return url, {"member": member.pk, "started_on": TODAY.isoformat()}


def _quick_place(tree, n):
    member = _fresh_member(tree, n)
    url = reverse("groups:place_member", args=[tree.branches["A"].pk])
    return url, {"member": member.pk, "group": tree.groups["a1"].pk, "started_on": TODAY.isoformat()}


def _move(tree, n):
    member = _fresh_member(tree, n, tree.groups["a1"])
    url = reverse("groups:move", args=[tree.groups["a1"].pk])
    return url, {
        "members": [member.pk],
        "to_group": tree.groups["a2"].pk,
        "effective_on": TODAY.isoformat(),
        "decided_on": TODAY.isoformat(),
        "document_number": DOC,
    }


def _end_membership(tree, n):
    member = _fresh_member(tree, n, tree.groups["a1"])
    membership = GroupMembership.objects.get(member=member)
    url = reverse("groups:membership_end", args=[tree.groups["a1"].pk, membership.pk])
    return url, {"ended_on": TODAY.isoformat(), "reason": "调离"}


def _appoint(tree, n):
    member = _fresh_member(tree, n, tree.groups["a1"])
    url = reverse("groups:appoint", args=[tree.groups["a1"].pk])
    return url, {
        "member": member.pk,
        "role": LeaderRole.DEPUTY,
        "mode": AppointmentMode.DESIGNATED,
        "started_on": (TODAY - (40 - n) * DAY).isoformat(),  # each new deputy starts after the last
        **ATTESTS,
    }


def _leader_end(tree, n):
    group = tree.groups["a1"]
    appointment = LeaderAppointment.objects.filter(group=group, role=LeaderRole.DEPUTY, ended_on=None).first()
    if appointment is None:
        appointment = f.LeaderAppointmentFactory(
            group=group, member=_fresh_member(tree, n, group), role=LeaderRole.DEPUTY
        )
    url = reverse("groups:leader_end", args=[group.pk, appointment.pk])
    return url, {"ended_on": TODAY.isoformat(), "reason": "工作调动"}


def _dissolve(tree, n):
    """Group a1 while it stands (so each role meets it as it is), then a fresh group per writer."""
    group = PartyGroup.objects.get(pk=tree.groups["a1"].pk)
    if group.dissolved_on is not None:
        group = f.PartyGroupFactory(branch=tree.branches["A"], name=f"临时党小组{n}")
    url = reverse("groups:dissolve", args=[group.pk])
    return url, {"dissolved_on": TODAY.isoformat(), "decided_on": TODAY.isoformat(), "document_number": DOC}


def _change(tree, status: str = FilingStatus.PENDING) -> GroupChange:
    return GroupChange.objects.create(
        branch=tree.branches["A"],
        group=tree.groups["a1"],
        kind=GroupChangeKind.CREATE,
        summary="建立党小组",
        decided_on=TODAY - 5 * DAY,
        document_number=DOC,
        decided_by=tree.users["superuser"],
        filing_status=status,
        filed_on=TODAY - 4 * DAY if status == FilingStatus.FILED else None,
    )


def _file(tree, n):
    return reverse("groups:change_file", args=[_change(tree).pk]), {"filed_on": TODAY.isoformat()}


def _acknowledge(tree, n):
    url = reverse("groups:change_acknowledge", args=[_change(tree, FilingStatus.FILED).pk])
    return url, {"on": TODAY.isoformat(), "comment": "同意备案"}


def _return(tree, n):
    url = reverse("groups:change_return", args=[_change(tree, FilingStatus.FILED).pk])
    return url, {"comment": "请补充会议记录"}


def split_post_data(branch, on: dt.date, **extra) -> dict:
    """The split page's POST for the branch's current suggestion, unchanged."""
    result = suggest_split_for_branch(branch=branch, on=on)
    assert result.ok, result.reasons
    data: dict = {"count": str(len(result.groups)), "effective_on": on.isoformat()}
    for index, group in enumerate(result.groups):
        data[f"g-{index}-name"] = group.name
        data[f"g-{index}-leader"] = str(group.leader_id)
        for member_id in group.member_ids:
            data[f"m-{member_id}"] = str(index)
    data.update(extra)
    return data


def _split_check(tree, n):
    branch = tree.branches["A"]
    return reverse("groups:split", args=[branch.pk]), split_post_data(branch, TODAY, op="check")


def _split_accept(tree, n):
    branch = tree.branches["A"]
    on = TODAY - (40 - n) * DAY  # each acceptance starts after the one before
    data = split_post_data(
        branch, on, op="accept", decided_on=on.isoformat(), document_number=f"{DOC}-{n}", **ATTESTS
    )
    return reverse("groups:split", args=[branch.pk]), data


def _get(url_name: str, *, branch_query: bool = False, branch_arg: bool = False):
    def target(tree, n):
        branch = tree.branches["A"]
        if branch_query:
            return list_url(branch, url_name), {}
        return reverse(url_name, args=[branch.pk] if branch_arg else []), {}

    return target


CASES = [
    Case("list GET", "get", BRANCH_READ, _get("groups:list", branch_query=True)),
    Case("changes GET", "get", BRANCH_READ, _get("groups:changes", branch_query=True)),
    Case("split GET", "get", BRANCH_READ, _get("groups:split", branch_arg=True)),
    Case("create GET", "get", BRANCH_WRITE_GET, _get("groups:create", branch_query=True)),
    Case("create POST", "post", BRANCH_WRITE_POST, _create),
    Case("quick place POST", "post", BRANCH_WRITE_POST, _quick_place),
    Case("detail GET", "get", GROUP_READ, _detail),
    Case("place POST", "post", GROUP_WRITE, _place),
    Case("move POST", "post", GROUP_WRITE, _move),
    Case("membership end POST", "post", GROUP_WRITE, _end_membership),
    Case("appoint POST", "post", GROUP_WRITE, _appoint),
    Case("leader end POST", "post", GROUP_WRITE, _leader_end),
    Case("dissolve POST", "post", GROUP_WRITE, _dissolve),
    Case("file POST", "post", CHANGE_FILE, _file),
    Case("acknowledge POST", "post", CHANGE_ACKNOWLEDGE, _acknowledge),
    Case("return POST", "post", CHANGE_ACKNOWLEDGE, _return),
    Case(
        "split check POST",
        "post",
        {**BRANCH_WRITE_GET, **dict.fromkeys(COMMITTEE_A, 200)},
        _split_check,
    ),
    Case("split accept POST", "post", BRANCH_WRITE_POST, _split_accept),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_permission_matrix(tree, client, case):
    """Each role gets the expected status; a refused request changes nothing, an allowed write something."""
    order = [r for r in ROLES if r not in case.writers] + list(case.writers)
    counter = itertools.count()
    actual = {}
    for role in order:
        url, payload = case.target(tree, next(counter))
        login(client, tree, role)
        before = row_counts()
        response = client.post(url, payload) if case.method == "post" else client.get(url)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        if role in case.writers:
            assert row_counts() != before, role
        else:
            assert row_counts() == before, role
    assert actual == case.expected


POST_ONLY = [
    ("groups:place", "group"),
    ("groups:move", "group"),
    ("groups:appoint", "group"),
    ("groups:dissolve", "group"),
    ("groups:place_member", "branch"),
    ("groups:change_file", "change"),
    ("groups:change_acknowledge", "change"),
    ("groups:change_return", "change"),
]


@pytest.mark.parametrize(("url_name", "kind"), POST_ONLY)
def test_post_only_actions_answer_get_with_405(tree, client, url_name, kind):
    obj = {"group": tree.groups["a1"], "branch": tree.branches["A"], "change": _change(tree)}[kind]
    login(client, tree, "secretary_a")
    before = row_counts()
    assert client.get(reverse(url_name, args=[obj.pk])).status_code == 405
    assert row_counts() == before


@pytest.mark.parametrize("url_name", ["groups:list", "groups:changes"])
def test_read_only_pages_answer_post_with_405(tree, client, url_name):
    login(client, tree, "secretary_a")
    assert client.post(list_url(tree.branches["A"], url_name)).status_code == 405
    assert client.post(reverse("groups:detail", args=[tree.groups["a1"].pk])).status_code == 405


def test_other_branch_objects_are_404_for_branch_a_secretary(tree, client):
    login(client, tree, "secretary_a")
    c, c1 = tree.branches["C"], tree.groups["c1"]
    for url in (
        list_url(c),
        list_url(c, "groups:changes"),
        list_url(c, "groups:create"),
        reverse("groups:split", args=[c.pk]),
        reverse("groups:detail", args=[c1.pk]),
    ):
        assert client.get(url).status_code == 404, url
    before = row_counts()
    assert client.post(reverse("groups:dissolve", args=[c1.pk]), {}).status_code == 404
    assert row_counts() == before


def test_bad_ids_are_404(tree, client):
    login(client, tree, "secretary_a")
    missing = PartyGroup.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    assert client.get(reverse("groups:detail", args=[missing])).status_code == 404
    assert client.get(f"{reverse('groups:list')}?branch=abc").status_code == 404
    assert client.get(f"{reverse('groups:list')}?branch=999999").status_code == 404
    membership = GroupMembership.objects.filter(group=tree.groups["a2"]).first()
    # a membership of another group is not found under a1
    url = reverse("groups:membership_end", args=[tree.groups["a1"].pk, membership.pk])
    before = row_counts()
    assert client.post(url, {"ended_on": TODAY.isoformat()}).status_code == 404
    assert row_counts() == before


def test_list_without_branch_goes_to_the_users_own_branch(tree, client):
    login(client, tree, "secretary_a")
    response = client.get(reverse("groups:list"))
    assert response.status_code == 302
    assert response["Location"] == list_url(tree.branches["A"])
    login(client, tree, "staff_mid")  # org staff of many branches must say which
    assert client.get(reverse("groups:list")).status_code == 404


# --- The list -------------------------------------------------------------------------------------


def test_list_shows_groups_counts_leaders_findings_and_members_in_no_group(tree, client):
    """R-08 (Loudi guideline 10–20) next to each group; R-09 members in no group with the quick action."""
    branch = tree.branches["A"]
    f.MemberFactory(branch=branch, name="预备甲", probationary=True)
    probationary = tree.members["党员乙"]
    probationary.status, probationary.full_member_on = "probationary", None
    probationary.save()
    f.LeaderAppointmentFactory(group=tree.groups["a1"], member=tree.members["党员甲"], role=LeaderRole.DEPUTY)
    old = f.PartyGroupFactory(branch=branch, name="原党小组", dissolved_on=dt.date(2021, 1, 1))
    login(client, tree, "secretary_a")
    response = client.get(list_url(branch))
    ctx = response.context
    rows = [
        (g.name, g.size, g.full_count, g.leader.member.name, g.deputy.member.name if g.deputy else None)
        for g in ctx["active_groups"]
    ]
    assert rows == [
        ("办公室第一党小组", 3, 2, "组长甲", "党员甲"),
        ("办公室第二党小组", 3, 3, "组长乙", None),
    ]
    assert [g.name for g in ctx["dissolved_groups"]] == [old.name]
    assert {(g.name, tuple(sorted(x.rule_id for x in g.findings))) for g in ctx["active_groups"]} == {
        ("办公室第一党小组", ("R-08",)),
        ("办公室第二党小组", ("R-08",)),
    }
    assert [m.name for m in ctx["unplaced"]] == sorted(["未编组", "宣传委员", "预备甲"])
    assert ctx["member_findings"] == []
    assert ctx["can_manage"] is True
    body = response.content.decode()
    assert "党小组“办公室第一党小组”现有党员3名，不在10-20人的指导范围内。" in body
    assert body.count("编入党小组</button>") == 3
    r08 = ctx["active_groups"][0].findings[0]
    assert f'title="{r08.article}：{r08.excerpt}"' in body  # the article on hover


def test_list_is_read_only_for_org_staff(tree, client):
    login(client, tree, "staff_mid")
    response = client.get(list_url(tree.branches["A"]))
    body = response.content.decode()
    assert response.context["can_manage"] is False
    assert "编入党小组</button>" not in body
    assert reverse("groups:create") not in body
    assert "只读" in body


def test_quick_place_puts_a_member_in_a_group(tree, client):
    member = tree.members["未编组"]
    login(client, tree, "secretary_a")
    response = client.post(
        reverse("groups:place_member", args=[tree.branches["A"].pk]),
        {"member": member.pk, "group": tree.groups["a2"].pk, "started_on": TODAY.isoformat()},
    )
    assert response["Location"] == list_url(tree.branches["A"])
    assert follow_messages(client, response) == ["已将“未编组”编入党小组“办公室第二党小组”。"]
    assert list(GroupMembership.objects.filter(member=member).values_list("group__name", "started_on")) == [
        ("办公室第二党小组", TODAY)
    ]


def test_quick_place_refuses_a_member_already_in_a_group_and_saves_nothing(tree, client):
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        reverse("groups:place_member", args=[tree.branches["A"].pk]),
        {"member": tree.members["党员甲"].pk, "group": tree.groups["a2"].pk, "started_on": TODAY.isoformat()},
    )
    assert follow_messages(client, response) == [
        "党员：该党员已编入党小组或已不在本支部党员名册中，不能再编入（R-09：同一时间只能编入一个党小组）。"
    ]
    assert row_counts() == before


# --- Create ---------------------------------------------------------------------------------------


def test_create_group_with_members_shows_the_r03_advisory(tree, client):
    branch = tree.branches["A"]
    unit = f.UnitFactory(branch=branch, name="综合处")
    first, second = tree.members["未编组"], tree.members["宣传委员"]
    login(client, tree, "secretary_a")
    page = client.get(list_url(branch, "groups:create"))
    assert {m.name for m in page.context["form"].fields["members"].queryset} == {"未编组", "宣传委员"}
    response = client.post(
        list_url(branch, "groups:create"),
        {
            "name": "综合处党小组",
            "unit": unit.pk,
            "established_on": TODAY.isoformat(),
            "decided_on": (TODAY - DAY).isoformat(),
            "document_number": DOC,
            "members": [first.pk, second.pk],
        },
    )
    group = PartyGroup.objects.get(name="综合处党小组")
    assert response["Location"] == reverse("groups:detail", args=[group.pk])
    shown = follow_messages(client, response)
    assert shown[0] == "已建立党小组“综合处党小组”，编入党员2名；本决定待报上级党组织备案（R-05）。"
    assert "党小组“综合处党小组”现有党员2名，少于3名。（R-03，" in shown[1]
    assert len(shown) == 2
    assert (group.branch, group.unit, group.established_on) == (branch, unit, TODAY)
    assert set(GroupMembership.objects.filter(group=group).values_list("member__name", "started_on")) == {
        ("未编组", TODAY),
        ("宣传委员", TODAY),
    }
    assert list(
        GroupChange.objects.values_list("kind", "group", "decided_on", "document_number", "filing_status")
    ) == [(GroupChangeKind.CREATE, group.pk, TODAY - DAY, DOC, FilingStatus.PENDING)]


def test_create_group_refused_by_the_service_saves_nothing(tree, client):
    branch = tree.branches["A"]
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        list_url(branch, "groups:create"),
        {
            "name": "办公室第一党小组",  # the name of an active group
            "established_on": TODAY.isoformat(),
            "decided_on": (TODAY + DAY).isoformat(),
            "document_number": DOC,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"decided_on": ["支部决定日期不能晚于党小组建立日期。"]}
    assert row_counts() == before


# --- Detail and its actions -----------------------------------------------------------------------


def test_detail_shows_roster_history_appointments_and_changes(tree, client):
    group = tree.groups["a1"]
    moved = tree.members["党员乙"]
    GroupMembership.objects.filter(member=moved).update(ended_on=dt.date(2023, 1, 1))
    _change(tree)
    login(client, tree, "leader_a1")
    response = client.get(reverse("groups:detail", args=[group.pk]))
    ctx = response.context
    assert [(m.member.name, m.started_on) for m in ctx["roster"]] == [
        ("党员甲", dt.date(2020, 1, 1)),
        ("组长甲", dt.date(2020, 1, 1)),
    ]
    assert {(m.member.name, m.ended_on) for m in ctx["history"]} == {
        ("组长甲", None),
        ("党员甲", None),
        ("党员乙", dt.date(2023, 1, 1)),
    }
    assert [(a.member.name, a.role) for a in ctx["current_appointments"]] == [("组长甲", LeaderRole.LEADER)]
    assert [c.kind for c in ctx["changes"]] == [GroupChangeKind.CREATE]
    assert (ctx["can_manage"], ctx["can_appoint"]) == (False, False)
    assert "appoint_form" not in ctx and "move_form" not in ctx
    body = response.content.decode()
    assert "待报备" in body and "只读" in body


def test_move_members_keeps_history_and_records_an_adjust_change(tree, client):
    """R-06: the old membership ends on the effective day and the new one starts; R-05: one adjust change."""
    a1, a2 = tree.groups["a1"], tree.groups["a2"]
    member = tree.members["党员甲"]
    effective = TODAY - 3 * DAY
    login(client, tree, "secretary_a")
    response = client.post(
        reverse("groups:move", args=[a1.pk]),
        {
            "members": [member.pk],
            "to_group": a2.pk,
            "effective_on": effective.isoformat(),
            "decided_on": (TODAY - 5 * DAY).isoformat(),
            "document_number": DOC,
        },
    )
    shown = follow_messages(client, response)
    assert shown[0] == "已将1名党员调整到党小组“办公室第二党小组”；本次调整待报上级党组织备案（R-05）。"
    # the advisories of both touched groups: a1 now below 3, a2 below the guideline of 10
    assert [m.split("（")[0] for m in shown[1:]] == [
        "党小组“办公室第一党小组”现有党员2名，少于3名。",
        "党小组“办公室第二党小组”现有党员4名，不在10-20人的指导范围内。",
    ]
    assert ["R-03" in shown[1], "R-08" in shown[2]] == [True, True]
    assert list(
        GroupMembership.objects.filter(member=member)
        .order_by("started_on")
        .values_list("group__name", "started_on", "ended_on")
    ) == [("办公室第一党小组", dt.date(2020, 1, 1), effective), ("办公室第二党小组", effective, None)]
    assert list(
        GroupChange.objects.values_list("kind", "group", "document_number", "summary", "decided_by__username")
    ) == [
        (
            GroupChangeKind.ADJUST,
            None,  # a change touching two groups names neither as *the* group …
            DOC,
            "将党员甲从党小组“办公室第一党小组”调整到党小组“办公室第二党小组”。",
            "secretary_a",
        )
    ]
    # … but both groups' detail pages list it (GroupChange.affected_groups).
    change = GroupChange.objects.get()
    for group in (a1, a2):
        page = client.get(reverse("groups:detail", args=[group.pk]))
        assert [c.pk for c in page.context["changes"]] == [change.pk]


def test_move_refused_by_the_service_shows_the_message_and_saves_nothing(tree, client):
    a1, a2 = tree.groups["a1"], tree.groups["a2"]
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        reverse("groups:move", args=[a1.pk]),
        {
            "members": [tree.members["党员甲"].pk],
            "to_group": a2.pk,
            "effective_on": "2019-06-01",  # before the membership began
            "decided_on": "2019-06-01",
            "document_number": DOC,
        },
    )
    assert response.status_code == 200
    assert response.context["open_form"] == "move"
    assert "调整日期必须晚于原编入日期（2020-01-01）。" in response.content.decode()
    assert row_counts() == before


def test_place_and_end_a_membership(tree, client):
    a1 = tree.groups["a1"]
    member = tree.members["未编组"]
    login(client, tree, "secretary_a")
    response = client.post(
        reverse("groups:place", args=[a1.pk]),
        {"member": member.pk, "started_on": (TODAY - 9 * DAY).isoformat()},
    )
    assert follow_messages(client, response)[0] == "已将“未编组”编入本党小组。"
    membership = GroupMembership.objects.get(member=member)
    response = client.post(
        reverse("groups:membership_end", args=[a1.pk, membership.pk]),
        {"ended_on": TODAY.isoformat(), "reason": "调离本单位"},
    )
    assert follow_messages(client, response) == ["“未编组”已调出本党小组。"]
    membership.refresh_from_db()
    assert (membership.group, membership.started_on, membership.ended_on) == (a1, TODAY - 9 * DAY, TODAY)
    assert membership.history.first().history_change_reason == "调离本单位"


def test_end_membership_before_its_start_is_refused(tree, client):
    membership = GroupMembership.objects.get(member=tree.members["党员甲"])
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        reverse("groups:membership_end", args=[tree.groups["a1"].pk, membership.pk]),
        {"ended_on": "2019-01-01"},
    )
    assert follow_messages(client, response) == ["调出日期必须晚于编入日期。"]
    assert row_counts() == before


def test_appoint_leader_records_the_attestations_with_who_and_when(tree, client):
    """R-25: the three attestations, by the acting user, at the time; R-26: mode and the committee's term."""
    branch = tree.branches["A"]
    branch.committee_term_ends_on = dt.date(2027, 6, 30)
    branch.save()
    a1 = tree.groups["a1"]
    login(client, tree, "secretary_a")
    page = client.get(reverse("groups:detail", args=[a1.pk]))
    form = page.context["appoint_form"]
    assert form.fields["term_ends_on"].initial == dt.date(2027, 6, 30)
    assert [str(form.fields[n].label) for n in form.ATTESTATIONS] == [
        "政治素质高，具备一定的政策理论水平，熟悉党的基本知识",
        "热爱党的工作，有较强的事业心和责任感，在党员和群众中有较高威信",
        "组织协调能力较强，能够团结带领党员完成党支部交办的各项任务",
    ]
    before = timezone.now()
    response = client.post(
        reverse("groups:appoint", args=[a1.pk]),
        {
            "member": tree.members["党员甲"].pk,
            "role": LeaderRole.DEPUTY,
            "mode": AppointmentMode.RECOMMENDED,
            "started_on": TODAY.isoformat(),
            "decision_number": DOC,
            "attestation_note": "经党小组党员推荐，支委会考察同意。",
            **ATTESTS,
        },
    )
    assert follow_messages(client, response) == ["已任命“党员甲”为副组长。"]
    appointment = LeaderAppointment.objects.get(role=LeaderRole.DEPUTY)
    assert (
        appointment.group,
        appointment.member.name,
        appointment.mode,
        appointment.started_on,
        appointment.term_ends_on,
        appointment.decision_number,
        appointment.is_fully_attested,
        appointment.attested_by.username,
        appointment.attestation_note,
    ) == (
        a1,
        "党员甲",
        AppointmentMode.RECOMMENDED,
        TODAY,
        dt.date(2027, 6, 30),
        DOC,
        True,
        "secretary_a",
        "经党小组党员推荐，支委会考察同意。",
    )
    assert before <= appointment.attested_at <= timezone.now()
    detail = client.get(reverse("groups:detail", args=[a1.pk])).content.decode()
    assert "三项条件均已确认" in detail and "经党小组党员推荐，支委会考察同意。" in detail


def test_appoint_a_probationary_member_is_refused_r24_and_saves_nothing(tree, client):
    a1 = tree.groups["a1"]
    probationary = _fresh_member(tree, 1, a1, probationary=True)
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        reverse("groups:appoint", args=[a1.pk]),
        {
            "member": probationary.pk,
            "role": LeaderRole.LEADER,
            "mode": AppointmentMode.DESIGNATED,
            "started_on": TODAY.isoformat(),
            **ATTESTS,
        },
    )
    assert response.status_code == 200
    assert response.context["open_form"] == "appoint"
    assert response.context["appoint_form"].errors == {
        "member": [
            "“新党员1”不是正式党员，不能担任党小组“办公室第一党小组”的组长或副组长。"
            "（R-24，《关于进一步规范娄底市直机关党小组工作的实施意见》第十条第（一）项）"
        ]
    }
    assert "不是正式党员，不能担任党小组“办公室第一党小组”的组长或副组长。（R-24" in response.content.decode()
    assert row_counts() == before
    assert list(
        LeaderAppointment.objects.current().filter(group=a1).values_list("member__name", flat=True)
    ) == ["组长甲"]


def test_appoint_without_every_attestation_is_refused_r25(tree, client):
    a1 = tree.groups["a1"]
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        reverse("groups:appoint", args=[a1.pk]),
        {
            "member": tree.members["党员甲"].pk,
            "role": LeaderRole.LEADER,
            "mode": AppointmentMode.DESIGNATED,
            "started_on": TODAY.isoformat(),
            "attests_political_quality": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["appoint_form"].non_field_errors() == [
        "党支部须逐项确认组长条件（R-25，第十条第（二）至（四）项：政治素质、事业心和责任感、组织协调能力）。"
    ]
    assert row_counts() == before


def test_end_an_appointment(tree, client):
    a1 = tree.groups["a1"]
    appointment = LeaderAppointment.objects.get(group=a1)
    login(client, tree, "secretary_a")
    response = client.post(
        reverse("groups:leader_end", args=[a1.pk, appointment.pk]),
        {"ended_on": TODAY.isoformat(), "reason": "工作调动"},
    )
    assert follow_messages(client, response) == ["“组长甲”已离任组长。"]
    appointment.refresh_from_db()
    assert (appointment.ended_on, appointment.end_reason) == (TODAY, "工作调动")


def test_dissolve_ends_memberships_and_appointments_and_records_the_decision(tree, client):
    a1 = tree.groups["a1"]
    login(client, tree, "secretary_a")
    response = client.post(
        reverse("groups:dissolve", args=[a1.pk]),
        {"dissolved_on": TODAY.isoformat(), "decided_on": (TODAY - DAY).isoformat(), "document_number": DOC},
    )
    assert follow_messages(client, response) == [
        "党小组“办公室第一党小组”已撤销；本决定待报上级党组织备案（R-05）。"
    ]
    a1.refresh_from_db()
    assert a1.dissolved_on == TODAY
    assert set(GroupMembership.objects.filter(group=a1).values_list("ended_on", flat=True)) == {TODAY}
    assert list(LeaderAppointment.objects.filter(group=a1).values_list("ended_on", "end_reason")) == [
        (TODAY, "党小组撤销")
    ]
    assert list(GroupChange.objects.values_list("kind", "group", "decided_on", "document_number")) == [
        (GroupChangeKind.DISSOLVE, a1.pk, TODAY - DAY, DOC)
    ]
    detail = client.get(reverse("groups:detail", args=[a1.pk]))
    assert detail.context["can_manage"] is False and "move_form" not in detail.context
    listed = client.get(list_url(tree.branches["A"])).context
    assert [g.name for g in listed["dissolved_groups"]] == ["办公室第一党小组"]
    assert [g.name for g in listed["active_groups"]] == ["办公室第二党小组"]


def test_dissolve_without_a_document_number_is_refused(tree, client):
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(
        reverse("groups:dissolve", args=[tree.groups["a1"].pk]),
        {"dissolved_on": TODAY.isoformat(), "decided_on": TODAY.isoformat(), "document_number": ""},
    )
    assert response.status_code == 200
    assert response.context["dissolve_form"].errors == {"document_number": ["这个字段是必填项。"]}
    assert row_counts() == before


# --- Filing (R-05) --------------------------------------------------------------------------------


def test_filing_then_acknowledging_a_change(tree, client):
    change = _change(tree)
    login(client, tree, "secretary_a")
    page = client.get(list_url(tree.branches["A"], "groups:changes"))
    assert [(c.pk, c.can_file, c.can_acknowledge) for c in page.context["page"].object_list] == [
        (change.pk, True, False)
    ]
    response = client.post(reverse("groups:change_file", args=[change.pk]), {"filed_on": TODAY.isoformat()})
    assert response["Location"] == list_url(tree.branches["A"], "groups:changes")
    assert follow_messages(client, response) == ["已报上级党组织备案。"]
    change.refresh_from_db()
    assert (change.filing_status, change.filed_on, change.filed_by.username) == (
        FilingStatus.FILED,
        TODAY,
        "secretary_a",
    )

    login(client, tree, "staff_mid")
    page = client.get(list_url(tree.branches["A"], "groups:changes"))
    assert [(c.can_file, c.can_acknowledge) for c in page.context["page"].object_list] == [(False, True)]
    response = client.post(
        reverse("groups:change_acknowledge", args=[change.pk]), {"on": TODAY.isoformat(), "comment": "同意"}
    )
    assert follow_messages(client, response) == ["已备案。"]
    change.refresh_from_db()
    assert (
        change.filing_status,
        change.acknowledged_on,
        change.acknowledged_by.username,
        change.organisation_comment,
    ) == (
        FilingStatus.ACKNOWLEDGED,
        TODAY,
        "staff_mid",
        "同意",
    )


def test_returning_a_filing_needs_a_comment_and_lets_the_branch_file_again(tree, client):
    change = _change(tree, FilingStatus.FILED)
    login(client, tree, "staff_top")
    before = row_counts()
    response = client.post(reverse("groups:change_return", args=[change.pk]), {"comment": "  "})
    assert follow_messages(client, response) == ["退回时必须填写意见。"]
    assert row_counts() == before
    response = client.post(
        reverse("groups:change_return", args=[change.pk]), {"comment": "请补充会议记录编号"}
    )
    assert follow_messages(client, response) == ["已退回，意见已告知党支部。"]
    change.refresh_from_db()
    assert (change.filing_status, change.organisation_comment) == (
        FilingStatus.RETURNED,
        "请补充会议记录编号",
    )

    login(client, tree, "secretary_a")
    page = client.get(list_url(tree.branches["A"], "groups:changes"))
    assert "请补充会议记录编号" in page.content.decode()
    assert [c.can_file for c in page.context["page"].object_list] == [True]
    response = client.post(reverse("groups:change_file", args=[change.pk]), {"filed_on": TODAY.isoformat()})
    change.refresh_from_db()
    assert change.filing_status == FilingStatus.FILED


def test_acknowledging_a_pending_change_is_refused(tree, client):
    change = _change(tree)
    login(client, tree, "staff_mid")
    before = row_counts()
    response = client.post(reverse("groups:change_acknowledge", args=[change.pk]), {"on": TODAY.isoformat()})
    assert follow_messages(client, response) == ["只有已报备的变更才能备案。"]
    assert row_counts() == before


def test_changes_filter_by_status(tree, client):
    pending, filed = _change(tree), _change(tree, FilingStatus.FILED)
    login(client, tree, "secretary_a")
    url = reverse("groups:changes")

    def listed(**params):
        response = client.get(url, {"branch": tree.branches["A"].pk, **params})
        return [c.pk for c in response.context["page"].object_list]

    assert sorted(listed()) == sorted([pending.pk, filed.pk])
    assert listed(status=FilingStatus.PENDING) == [pending.pk]
    assert listed(status=FilingStatus.FILED) == [filed.pk]


# --- Flat query counts ----------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def counting(db):
    """A branch with one group of three; the secretary logged in."""
    organisation = f.OrganisationFactory()
    branch = f.BranchFactory(organisation=organisation)
    group = f.PartyGroupFactory(branch=branch, name="党小组00")
    for _ in range(3):
        f.GroupMembershipFactory(group=group)
    secretary = f.GroupMembershipFactory(group=group).member
    f.CommitteeMembershipFactory(member=secretary, post=CommitteePost.SECRETARY)
    f.LeaderAppointmentFactory(group=group, member=secretary)
    f.MemberFactory(branch=branch)  # in no group
    return branch, group, f.user_for(secretary, "secretary")


def test_list_query_count_is_flat_1_vs_20_groups(client, counting):
    branch, _group, user = counting
    client.force_login(user)
    url = list_url(branch)
    client.get(url)
    one = _queries(client, url)
    for n in range(1, 20):
        group = f.PartyGroupFactory(branch=branch, name=f"党小组{n:02d}")
        leader = f.GroupMembershipFactory(group=group).member
        f.GroupMembershipFactory(group=group)
        f.LeaderAppointmentFactory(group=group, member=leader)
        f.MemberFactory(branch=branch)  # another member in no group
    response = client.get(url)
    assert len(response.context["active_groups"]) == 20
    assert len(response.context["unplaced"]) == 20
    assert _queries(client, url) == one


def test_detail_query_count_is_flat_1_vs_20_members(client, counting):
    branch, _group, user = counting
    small = f.PartyGroupFactory(branch=branch, name="小组")
    f.GroupMembershipFactory(group=small)
    client.force_login(user)
    client.get(reverse("groups:detail", args=[small.pk]))
    one = _queries(client, reverse("groups:detail", args=[small.pk]))
    for _ in range(19):
        f.GroupMembershipFactory(group=small)
    response = client.get(reverse("groups:detail", args=[small.pk]))
    assert len(response.context["roster"]) == 20
    assert _queries(client, reverse("groups:detail", args=[small.pk])) == one


def test_changes_query_count_is_flat_1_vs_20_changes(client, counting):
    branch, group, user = counting

    def change():
        GroupChange.objects.create(
            branch=branch,
            group=group,
            kind=GroupChangeKind.ADJUST,
            summary="调整",
            decided_on=TODAY,
            document_number=DOC,
            decided_by=user,
            filing_status=FilingStatus.FILED,
            filed_on=TODAY,
            filed_by=user,
        )

    change()
    client.force_login(user)
    url = list_url(branch, "groups:changes")
    client.get(url)
    one = _queries(client, url)
    for _ in range(19):
        change()
    assert len(client.get(url).context["page"].object_list) == 20
    assert _queries(client, url) == one
