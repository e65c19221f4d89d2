"""Tests of groups/member_views.py (the member registry, 党员名册) and the pieces it adds:
groups/member_forms.py, the registry permissions of groups/permissions.py, ``member_add`` /
``member_leave`` (groups/services.py) and ``member_reveal`` (members/services.py).

Roles (tests/org_tree.py): branch A is "own" (secretary_a, propaganda_a, leader_a1 of a1, leader_a2
of a2, member_a1, staff_mid and staff_top above it), branch C the "other branch" (secretary_c,
staff_other). Outside the user's scope → 404; visible but not the role's business → 403; wrong
method → 405; anonymous → the login page. Refused writes change no row (history rows included).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from groups import services as group_services
from groups.member_forms import MemberForm
from groups.models import GroupMembership, LeaderAppointment
from members.enums import MemberState, MemberStatus, PersonalField
from members.models import Member, PersonalDataReveal, mask_id_number, mask_phone
from members.services import member_save
from members.validators import id_check_digit
from tests import factories as f
from tests.org_tree import ROLES, build_tree, fresh_user

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

TODAY = timezone.localdate()
LOGIN = reverse("login")
BRANCH_A = {"组长甲", "党员甲", "党员乙", "组长乙", "书记甲", "党员丙", "未编组", "宣传委员"}
GROUP_A1 = {"组长甲", "党员甲", "党员乙"}
GROUP_A2 = {"组长乙", "书记甲", "党员丙"}
BRANCH_C = {"书记乙", "党员己", "党员庚"}


@pytest.fixture
def tree(db):
    return build_tree()


def login(client, tree, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(tree.users[role])


def row_counts() -> dict[str, int]:
    """Rows of every model of the members and groups apps (historical models included)."""
    return {
        f"{label}.{m.__name__}": m._default_manager.count()
        for label in ("members", "groups")
        for m in apps.get_app_config(label).get_models()
    }


def list_url(branch=None, **params) -> str:
    query = {"branch": branch.pk} if branch is not None else {}
    query.update(params)
    return reverse("registry:list") + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def names_on_page(response) -> set[str]:
    return {m.name for m in response.context["page"].object_list}


def only(*roles: str, ok: int = 200, refused: int = 404, forbidden: tuple[str, ...] = ()) -> dict[str, int]:
    """Expected statuses: ``ok`` for ``roles``, 403 for ``forbidden``, 302 for anonymous, else ``refused``."""
    expected = {}
    for role in ROLES:
        if role == "anonymous":
            expected[role] = 302
        elif role in roles:
            expected[role] = ok
        elif role in forbidden:
            expected[role] = 403
        else:
            expected[role] = refused
    return expected


def form_data(member: Member, **overrides) -> dict[str, str]:
    """What the edit page posts when the user changes nothing (ID number and phone as masked)."""

    def day(value):
        return value.isoformat() if value else ""

    data = {
        "name": member.name,
        "gender": member.gender,
        "birth_date": day(member.birth_date),
        "id_number": mask_id_number(member.id_number),
        "phone": mask_phone(member.phone),
        "email": member.email,
        "unit": str(member.unit_id or ""),
        "post": member.post,
        "status": member.status,
        "joined_on": day(member.joined_on),
        "full_member_on": day(member.full_member_on),
    }
    if member.is_leading_cadre:
        data["is_leading_cadre"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def wrong_check_digit(id_number: str) -> str:
    right = id_check_digit(id_number[:17])
    return id_number[:17] + ("0" if right != "0" else "1")


# --- Permission matrix ----------------------------------------------------------------------------

# Own branch (A) and other branch (C): who reads, who writes.
COMMITTEE_A = ("superuser", "secretary_a", "propaganda_a")
REVEAL_A = (
    "superuser",
    "secretary_a",
    "staff_top",
)  # secretary / organisation member, org staff with the right
ORG_STAFF_A = ("staff_top", "staff_mid")
OTHER_BRANCH_C = ("superuser", "secretary_c", "staff_other")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    expected: dict[str, int]


def _cases() -> list[Case]:
    return [
        Case(
            "list_own",
            "get",
            only(*COMMITTEE_A, *ORG_STAFF_A, "leader_a1", "leader_a2", forbidden=("member_a1",)),
        ),
        Case("list_other", "get", only(*OTHER_BRANCH_C)),
        # 党员乙: group a1 (leader_a1's); member_a1 is 党员甲, who sees only themself.
        Case("detail_own", "get", only(*COMMITTEE_A, *ORG_STAFF_A, "leader_a1")),
        Case("detail_other", "get", only(*OTHER_BRANCH_C)),
        Case(
            "reveal_own",
            "post",
            only(*REVEAL_A, forbidden=("staff_mid", "propaganda_a", "leader_a1")),
        ),
        Case("reveal_other", "post", only(*OTHER_BRANCH_C)),
        Case(
            "export_own",
            "post",
            only(*COMMITTEE_A, *ORG_STAFF_A, forbidden=("leader_a1", "leader_a2", "member_a1")),
        ),
        Case("export_other", "post", only(*OTHER_BRANCH_C)),
        Case("edit_own_get", "get", only(*COMMITTEE_A, forbidden=(*ORG_STAFF_A, "leader_a1"))),
        Case("edit_own", "post", only(*COMMITTEE_A, ok=302, forbidden=(*ORG_STAFF_A, "leader_a1"))),
        Case("edit_other", "post", only("superuser", "secretary_c", ok=302, forbidden=("staff_other",))),
        Case(
            "add_own_get",
            "get",
            only(*COMMITTEE_A, forbidden=(*ORG_STAFF_A, "leader_a1", "leader_a2", "member_a1")),
        ),
        Case(
            "add_own",
            "post",
            only(*COMMITTEE_A, ok=302, forbidden=(*ORG_STAFF_A, "leader_a1", "leader_a2", "member_a1")),
        ),
        Case("add_other", "post", only("superuser", "secretary_c", ok=302, forbidden=("staff_other",))),
        Case("leave_own_get", "get", only(*COMMITTEE_A, forbidden=(*ORG_STAFF_A, "leader_a1"))),
        Case("leave_own", "post", only(*COMMITTEE_A, ok=302, forbidden=(*ORG_STAFF_A, "leader_a1"))),
        Case("leave_other", "post", only("superuser", "secretary_c", ok=302, forbidden=("staff_other",))),
    ]


def _target(tree, case: Case, role: str) -> tuple[str, dict]:
    """URL and POST data of ``case``; writes that succeed get a fresh target per role."""
    own = case.name.endswith(("_own", "_own_get"))
    branch = tree.branches["A" if own else "C"]
    member = tree.members["党员乙" if own else "党员己"]
    kind = case.name.split("_")[0]
    if kind == "list":
        return list_url(branch), {}
    if kind == "detail":
        return reverse("registry:detail", args=[member.pk]), {}
    if kind == "reveal":
        return reverse("registry:reveal", args=[member.pk, "id_number"]), {}
    if kind == "export":
        return reverse("registry:export") + f"?branch={branch.pk}", {"fmt": "csv", "reveal": "on"}
    if kind == "edit":
        member.refresh_from_db()
        return reverse("registry:edit", args=[member.pk]), form_data(member, post=f"新职务{role}")
    if kind == "add":
        birth = dt.date(1990, 1, 1) + dt.timedelta(days=ROLES.index(role))
        data = {
            "name": "新党员" + "甲乙丙丁戊己庚辛壬癸子丑"[ROLES.index(role)],
            "gender": "M",
            "birth_date": birth.isoformat(),
            "id_number": f.make_id_number(birth, "M"),
            "phone": "",
            "status": MemberStatus.FULL,
            "joined_on": "2015-07-01",
            "full_member_on": "2016-07-01",
        }
        return reverse("registry:add") + f"?branch={branch.pk}", data
    if kind == "leave":
        group = tree.groups["a1" if own else "c1"]  # a fresh member of a led group for each role
        victim = f.GroupMembershipFactory(group=group).member
        return reverse("registry:leave", args=[victim.pk]), {"left_on": TODAY.isoformat(), "reason": "转出"}
    raise AssertionError(case.name)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.name)
def test_permission_matrix_each_role_gets_its_status_and_refusals_change_nothing(tree, client, case):
    actual = {}
    for role in ROLES:
        url, data = _target(tree, case, role)
        login(client, tree, role)
        before = row_counts()
        reveals = PersonalDataReveal.objects.count()
        response = client.post(url, data) if case.method == "post" else client.get(url)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        if response.status_code in (302, 200) and case.method == "post" and role != "anonymous":
            continue
        if case.method == "post":
            assert row_counts() == before, role
            assert PersonalDataReveal.objects.count() == reveals, role
    assert actual == case.expected


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("list", "post"),
        ("list", "delete"),
        ("export", "get"),
        ("detail", "post"),
        ("reveal", "get"),
        ("edit", "put"),
        ("add", "delete"),
        ("leave", "put"),
    ],
)
def test_wrong_method_is_405_and_changes_nothing(tree, client, name, method):
    member = tree.members["党员乙"]
    branch = f"?branch={tree.branches['A'].pk}"
    url = {
        "list": reverse("registry:list") + branch,
        "export": reverse("registry:export") + branch,
        "detail": reverse("registry:detail", args=[member.pk]),
        "reveal": reverse("registry:reveal", args=[member.pk, "phone"]),
        "edit": reverse("registry:edit", args=[member.pk]),
        "add": reverse("registry:add") + branch,
        "leave": reverse("registry:leave", args=[member.pk]),
    }[name]
    login(client, tree, "secretary_a")
    before = row_counts()
    reveals = PersonalDataReveal.objects.count()
    assert getattr(client, method)(url).status_code == 405
    assert row_counts() == before
    assert PersonalDataReveal.objects.count() == reveals


def test_bad_ids_are_404(tree, client):
    login(client, tree, "superuser")
    missing = (Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    for name in ("detail", "edit", "leave"):
        assert client.get(reverse(f"registry:{name}", args=[missing])).status_code == 404, name
    assert client.post(reverse("registry:reveal", args=[missing, "phone"])).status_code == 404
    member = tree.members["党员乙"]
    assert client.post(reverse("registry:reveal", args=[member.pk, "email"])).status_code == 404
    assert client.get(reverse("registry:list") + "?branch=abc").status_code == 404
    assert client.get(reverse("registry:add") + "?branch=999999").status_code == 404
    assert client.get(reverse("registry:add")).status_code == 404
    assert PersonalDataReveal.objects.count() == 0


def test_plain_member_reads_their_own_record_only(tree, client):
    login(client, tree, "member_a1")
    own = tree.members["党员甲"]
    response = client.get(reverse("registry:detail", args=[own.pk]))
    assert response.status_code == 200
    assert response.context["can_manage"] is False
    assert response.context["may_reveal"] is False
    assert client.get(reverse("registry:detail", args=[tree.members["党员乙"].pk])).status_code == 404
    assert client.post(reverse("registry:reveal", args=[own.pk, "id_number"])).status_code == 403
    assert PersonalDataReveal.objects.count() == 0


# --- Scope of the list ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", BRANCH_A),
        ("staff_top", BRANCH_A),
        ("staff_mid", BRANCH_A),
        ("secretary_a", BRANCH_A),
        ("propaganda_a", BRANCH_A),
        ("leader_a1", GROUP_A1),
        ("leader_a2", GROUP_A2),
    ],
)
def test_list_shows_the_branch_or_only_the_leaders_group(tree, client, role, expected):
    login(client, tree, role)
    response = client.get(list_url(tree.branches["A"]))
    assert response.status_code == 200
    assert names_on_page(response) == expected


def test_list_of_the_other_branch_for_its_secretary(tree, client):
    login(client, tree, "secretary_c")
    assert names_on_page(client.get(list_url(tree.branches["C"]))) == BRANCH_C


def test_list_without_branch_goes_to_the_only_branch_or_offers_a_choice(tree, client):
    login(client, tree, "secretary_a")
    response = client.get(reverse("registry:list"))
    assert response.status_code == 302
    assert response["Location"] == list_url(tree.branches["A"])
    login(client, tree, "leader_a1")
    assert client.get(reverse("registry:list"))["Location"] == list_url(tree.branches["A"])
    login(client, tree, "staff_mid")
    response = client.get(reverse("registry:list"))
    assert response.status_code == 200
    assert {b.name for b in response.context["page"].object_list} == {
        tree.branches["A"].name,
        tree.branches["B"].name,
    }
    login(client, tree, "member_a1")
    assert client.get(reverse("registry:list")).status_code == 403


def test_list_and_detail_pages_never_contain_full_personal_data(tree, client):
    """Even for a user allowed to reveal: the full values appear only after the POST."""
    login(client, tree, "secretary_a")
    members = [Member.objects.get(pk=tree.members[n].pk) for n in BRANCH_A]
    html = client.get(list_url(tree.branches["A"])).content.decode()
    for member in members:
        assert member.id_number not in html
        assert member.phone not in html
        assert member.masked_id_number in html
        assert member.masked_phone in html
    target = members[0]
    for name in ("detail", "edit", "leave"):
        html = client.get(reverse(f"registry:{name}", args=[target.pk])).content.decode()
        assert target.id_number not in html, name
        assert target.phone not in html, name
    html = client.get(reverse("registry:detail", args=[target.pk])).content.decode()
    assert target.masked_id_number in html
    assert reverse("registry:reveal", args=[target.pk, "id_number"]) in html
    assert PersonalDataReveal.objects.count() == 0


def test_detail_offers_the_reveal_button_only_to_users_allowed(tree, client):
    member = tree.members["党员乙"]
    url = reverse("registry:reveal", args=[member.pk, "id_number"])
    for role, shown in (
        ("secretary_a", True),
        ("staff_top", True),
        ("propaganda_a", False),
        ("staff_mid", False),
    ):
        login(client, tree, role)
        html = client.get(reverse("registry:detail", args=[member.pk])).content.decode()
        assert (url in html) is shown, role


# --- Reveal ---------------------------------------------------------------------------------------


def test_reveal_by_htmx_returns_the_value_logs_one_row_and_is_not_cached(tree, client):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    login(client, tree, "secretary_a")
    response = client.post(
        reverse("registry:reveal", args=[member.pk, "id_number"]),
        HTTP_HX_REQUEST="true",
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert member.id_number in html
    assert member.phone not in html
    assert "<html" not in html
    assert "no-store" in response["Cache-Control"]
    rows = list(
        PersonalDataReveal.objects.values_list(
            "user__username", "member_id", "field", "context", "ip_address"
        )
    )
    assert rows == [("secretary_a", member.pk, PersonalField.ID_NUMBER, "党员详情页", "127.0.0.1")]


def test_reveal_by_plain_post_renders_the_page_with_the_value_in_place(tree, client):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    login(client, tree, "staff_top")
    response = client.post(reverse("registry:reveal", args=[member.pk, "phone"]), REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    html = response.content.decode()
    assert member.phone in html
    assert member.id_number not in html
    assert "no-store" in response["Cache-Control"]
    assert list(PersonalDataReveal.objects.values_list("user__username", "field", "context")) == [
        ("staff_top", PersonalField.PHONE, "党员详情页")
    ]


def test_every_reveal_is_logged_once(tree, client):
    member = tree.members["党员乙"]
    login(client, tree, "secretary_a")
    for field in ("id_number", "id_number", "phone"):
        assert client.post(reverse("registry:reveal", args=[member.pk, field])).status_code == 200
    assert sorted(PersonalDataReveal.objects.values_list("field", flat=True)) == [
        "id_number",
        "id_number",
        "phone",
    ]


def test_reveal_refused_to_a_committee_member_without_the_right_logs_nothing(tree, client):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    login(client, tree, "propaganda_a")
    response = client.post(reverse("registry:reveal", args=[member.pk, "id_number"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert member.id_number not in response.content.decode()
    assert PersonalDataReveal.objects.count() == 0


def test_member_reveal_service_refuses_and_logs_nothing(tree):
    from django.core.exceptions import PermissionDenied

    from members.services import member_reveal

    member = Member.objects.select_related("branch__organisation").get(pk=tree.members["党员乙"].pk)
    with pytest.raises(PermissionDenied):
        member_reveal(member=member, field="phone", by=fresh_user(tree, "leader_a1"), context="x", ip=None)
    assert PersonalDataReveal.objects.count() == 0
    value = member_reveal(
        member=member, field="phone", by=fresh_user(tree, "secretary_a"), context="党员详情页", ip="127.0.0.1"
    )
    assert value == member.phone
    assert PersonalDataReveal.objects.count() == 1


# --- Search, filters, sort, pagination ------------------------------------------------------------


def _names(client, tree, role="secretary_a", **params) -> set[str]:
    login(client, tree, role)
    response = client.get(list_url(tree.branches["A"], **params))
    assert response.status_code == 200
    return names_on_page(response)


def test_search_by_name_and_unit(tree, client):
    unit = f.UnitFactory(branch=tree.branches["A"], name="综合处")
    for name in ("党员甲", "组长乙"):
        member = tree.members[name]
        member.unit = unit
        member.save()
    assert _names(client, tree, q="党员") == {"党员甲", "党员乙", "党员丙"}
    assert _names(client, tree, q="综合") == {"党员甲", "组长乙"}
    assert _names(client, tree, unit=unit.pk) == {"党员甲", "组长乙"}
    assert _names(client, tree, q="没有这个人") == set()


def test_search_by_the_tail_of_the_id_number_or_phone(tree, client):
    member = tree.members["党员乙"]
    member.phone = "13812349876"
    member.save()
    others = Member.objects.filter(branch=tree.branches["A"]).exclude(pk=member.pk)
    assert not any(m.phone.endswith("9876") or m.id_number.endswith("9876") for m in others)
    assert _names(client, tree, q="9876") == {"党员乙"}
    tail = member.id_number[-4:]
    expected = {m.name for m in others if m.id_number.endswith(tail) or m.phone.endswith(tail)} | {"党员乙"}
    assert _names(client, tree, q=tail) == expected


def test_search_by_full_id_number_only_for_users_who_may_reveal(tree, client):
    member = tree.members["党员乙"]
    assert _names(client, tree, "secretary_a", q=member.id_number) == {"党员乙"}
    assert _names(client, tree, "secretary_a", q=member.phone) == {"党员乙"}
    # A full value cannot be used to probe what the mask hides.
    assert _names(client, tree, "propaganda_a", q=member.id_number) == set()
    assert _names(client, tree, "propaganda_a", q=member.phone) == set()
    assert _names(client, tree, "propaganda_a", q=member.id_number[-5:]) == set()


def test_filters_by_status_state_and_group(tree, client):
    probationary = tree.members["党员丙"]
    probationary.status = MemberStatus.PROBATIONARY
    probationary.full_member_on = None
    probationary.joined_on = TODAY - dt.timedelta(days=100)
    member_save(member=probationary, by=None)
    group_services.member_leave(
        member=tree.members["未编组"], left_on=TODAY, by=fresh_user(tree, "secretary_a")
    )
    assert _names(client, tree, status="probationary") == {"党员丙"}
    assert _names(client, tree, status="full") == BRANCH_A - {"党员丙", "未编组"}
    assert _names(client, tree) == BRANCH_A - {"未编组"}  # 在册 by default
    assert _names(client, tree, state="left") == {"未编组"}
    assert _names(client, tree, state="all") == BRANCH_A
    assert _names(client, tree, group=tree.groups["a1"].pk) == GROUP_A1
    assert _names(client, tree, group="none") == {"宣传委员"}
    assert _names(client, tree, group="none", state="all") == {"宣传委员", "未编组"}
    # a group the leader cannot see is not a choice: the filter is ignored, the scope stays theirs
    assert _names(client, tree, "leader_a1", group=tree.groups["a2"].pk) == GROUP_A1
    # nonsense values are ignored, never a 500
    assert _names(client, tree, status="boss", sort="salary") == BRANCH_A - {"未编组"}


def test_sort_by_joined_date_and_group(tree, client):
    login(client, tree, "secretary_a")
    for sort, descending in (("joined_on", False), ("-joined_on", True)):
        rows = list(client.get(list_url(tree.branches["A"], sort=sort)).context["page"].object_list)
        days = [m.joined_on for m in rows]
        assert days == sorted(days, reverse=descending)
    rows = list(client.get(list_url(tree.branches["A"], sort="group")).context["page"].object_list)
    groups = [m.current_group_name for m in rows]
    assert groups[-2:] == [None, None]  # members in no group last
    blocks = [g for i, g in enumerate(groups) if g and (i == 0 or groups[i - 1] != g)]
    assert sorted(blocks) == sorted({g for g in groups if g})  # each group's members together


def test_list_shows_fifty_per_page(tree, client):
    branch = tree.branches["A"]
    for _ in range(52):
        f.MemberFactory(branch=branch)
    login(client, tree, "secretary_a")
    first = client.get(list_url(branch))
    second = client.get(list_url(branch, page=2))
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 60 - 50
    assert names_on_page(first) | names_on_page(second) == set(
        Member.objects.filter(branch=branch).values_list("name", flat=True)
    )


def test_list_shows_group_and_masked_columns(tree, client):
    login(client, tree, "secretary_a")
    response = client.get(list_url(tree.branches["A"], q="党员乙"))
    (row,) = response.context["page"].object_list
    assert row.current_group_name == tree.groups["a1"].name
    html = response.content.decode()
    assert tree.groups["a1"].name in html
    assert row.masked_id_number in html and row.masked_phone in html


# --- Flat query counts ----------------------------------------------------------------------------


def _branch_with(n: int):
    org = f.OrganisationFactory()
    branch = f.BranchFactory(organisation=org)
    group = f.PartyGroupFactory(branch=branch)
    unit = f.UnitFactory(branch=branch)
    secretary = f.GroupMembershipFactory(group=group, member__unit=unit).member
    f.CommitteeMembershipFactory(member=secretary)
    for _ in range(n - 1):
        f.GroupMembershipFactory(group=group, member__unit=unit)
    return branch, f.user_for(secretary)


def _queries(client, user, method: str, url: str, data=None) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_flat(db, client):
    small, small_user = _branch_with(1)
    large, large_user = _branch_with(20)
    assert _queries(client, small_user, "get", list_url(small)) == _queries(
        client, large_user, "get", list_url(large)
    )
    # with a search and a filter as well
    assert _queries(client, small_user, "get", list_url(small, q="1", group="none")) == _queries(
        client, large_user, "get", list_url(large, q="1", group="none")
    )


def test_export_query_count_is_flat(db, client):
    small, small_user = _branch_with(1)
    large, large_user = _branch_with(20)
    url = reverse("registry:export") + "?branch={}"
    data = {"fmt": "csv", "reveal": "on"}
    assert _queries(client, small_user, "post", url.format(small.pk), data) == _queries(
        client, large_user, "post", url.format(large.pk), data
    )


# --- Export ---------------------------------------------------------------------------------------


def _export(client, tree, role, data, **params):
    login(client, tree, role)
    query = "&".join(f"{k}={v}" for k, v in {"branch": tree.branches["A"].pk, **params}.items())
    return client.post(reverse("registry:export") + "?" + query, data, REMOTE_ADDR="127.0.0.1")


def _csv_rows(response) -> list[list[str]]:
    import csv

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_is_the_filtered_list_masked_by_default(tree, client):
    response = _export(client, tree, "secretary_a", {"fmt": "csv"}, group=tree.groups["a1"].pk)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    header, *rows = _csv_rows(response)
    assert {row[0] for row in rows} == GROUP_A1
    by_name = {m.name: m for m in Member.objects.filter(name__in=GROUP_A1)}
    id_col, phone_col = header.index("身份证号"), header.index("手机号码")
    for row in rows:
        assert row[id_col] == by_name[row[0]].masked_id_number
        assert row[phone_col] == by_name[row[0]].masked_phone
    assert PersonalDataReveal.objects.count() == 0


def test_export_reveals_and_logs_only_for_users_allowed(tree, client):
    response = _export(client, tree, "secretary_a", {"fmt": "csv", "reveal": "on"}, q="党员乙")
    header, *rows = _csv_rows(response)
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    assert [row[0] for row in rows] == ["党员乙"]
    assert rows[0][header.index("身份证号")] == member.id_number
    assert set(PersonalDataReveal.objects.values_list("member_id", "field", "context", "ip_address")) == {
        (member.pk, "id_number", "导出", "127.0.0.1"),
        (member.pk, "phone", "导出", "127.0.0.1"),
    }
    PersonalDataReveal.objects.all().delete()
    # propaganda_a (committee, no right) asks for full values: still masked, nothing logged
    response = _export(client, tree, "propaganda_a", {"fmt": "csv", "reveal": "on"}, q="党员乙")
    header, *rows = _csv_rows(response)
    assert rows[0][header.index("身份证号")] == member.masked_id_number
    assert PersonalDataReveal.objects.count() == 0


def test_export_xlsx_opens_with_the_filtered_rows(tree, client):
    response = _export(client, tree, "staff_mid", {"fmt": "xlsx"}, state="all")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == BRANCH_A


def test_export_with_a_bad_format_says_so_and_exports_nothing(tree, client):
    response = _export(client, tree, "secretary_a", {"fmt": "pdf"})
    assert response.status_code == 302
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("pdf" in m for m in messages), messages


# --- Detail: group history, posts, change history -------------------------------------------------


def test_detail_shows_group_history_posts_and_masked_change_history(tree, client):
    secretary = fresh_user(tree, "secretary_a")
    member = Member.objects.get(pk=tree.members["组长甲"].pk)
    old_phone = member.phone
    group_services.membership_move(
        member=member, to_group=tree.groups["a2"], moved_on=dt.date(2023, 3, 1), by=secretary
    )
    member.phone = "13712345678"
    member.post = "处长"
    member_save(member=member, by=secretary, reason="更新联系方式")
    login(client, tree, "secretary_a")
    response = client.get(reverse("registry:detail", args=[member.pk]))
    assert response.status_code == 200
    ctx = response.context
    assert [(m.group.name, m.started_on, m.ended_on) for m in ctx["memberships"]] == [
        ("办公室第二党小组", dt.date(2023, 3, 1), None),
        ("办公室第一党小组", dt.date(2020, 1, 1), dt.date(2023, 3, 1)),
    ]
    assert ctx["current_membership"].group == tree.groups["a2"]
    assert [(a.group.name, a.ended_on) for a in ctx["appointments"]] == [("办公室第一党小组", None)]
    latest = ctx["history"][0]
    assert latest.by == "secretary_a"
    assert latest.reason == "更新联系方式"
    assert {(c.label, c.old, c.new) for c in latest.changes} == {
        ("手机号码", mask_phone(old_phone), mask_phone("13712345678")),
        ("职务", "（空）", "处长"),
    }
    html = response.content.decode()
    assert "13712345678" not in html and old_phone not in html
    assert mask_phone("13712345678") in html


def test_detail_lists_committee_posts(tree, client):
    login(client, tree, "staff_mid")
    response = client.get(reverse("registry:detail", args=[tree.members["书记甲"].pk]))
    assert [(c.get_post_display(), c.ended_on) for c in response.context["committee_posts"]] == [
        ("支部书记", None)
    ]


# --- Edit -----------------------------------------------------------------------------------------


def _snapshot(member: Member) -> dict:
    member.refresh_from_db()
    return {f.attname: getattr(member, f.attname) for f in Member._meta.concrete_fields}


def _post_edit(client, tree, member, **overrides):
    login(client, tree, "secretary_a")
    return client.post(reverse("registry:edit", args=[member.pk]), form_data(member, **overrides))


def test_edit_with_masked_values_unchanged_keeps_them_and_records_who(tree, client):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    before = _snapshot(member)
    response = _post_edit(client, tree, member, post="科长", email="yi@example.org")
    assert response.status_code == 302
    after = _snapshot(member)
    assert {k for k in after if after[k] != before[k]} == {"post", "email", "updated_at"}
    assert (after["id_number"], after["phone"]) == (before["id_number"], before["phone"])
    record = member.history.order_by("-history_date", "-history_id").first()
    assert (record.history_user.username, record.history_change_reason) == ("secretary_a", "党员名册修改")


def test_edit_replaces_id_number_and_phone_typed_in_full(tree, client):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    new_id = f.make_id_number(member.birth_date, member.gender)
    response = _post_edit(client, tree, member, id_number=new_id.lower(), phone="138 1234 5678")
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.id_number, member.phone) == (new_id.upper(), "13812345678")


def test_edit_clears_the_phone_when_emptied(tree, client):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    assert _post_edit(client, tree, member, phone="").status_code == 302
    member.refresh_from_db()
    assert member.phone == ""


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"id_number": "WRONG"}, "id_number", "身份证号校验位错误，请核对。"),
        ({"full_member_on": "1990-01-01"}, "full_member_on", "转正日期不能早于入党日期。"),
        ({"phone": "12345"}, "phone", "手机号码应为11位中国大陆手机号（可带+86）。"),
        (
            {"id_number": "110101********0000"},
            "id_number",
            "请输入完整的身份证号；不修改时请保持原显示的脱敏值。",
        ),
        ({"name": "张三1"}, "name", "姓名含有不允许的字符“1”。"),
    ],
)
def test_edit_refusals_show_chinese_messages_and_save_nothing(tree, client, overrides, field, message):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    if overrides.get("id_number") == "WRONG":
        overrides = {"id_number": wrong_check_digit(member.id_number)}
    before_rows = row_counts()
    before = _snapshot(member)
    response = _post_edit(client, tree, member, **overrides)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert _snapshot(member) == before
    assert row_counts() == before_rows
    assert before["id_number"] not in response.content.decode()


def test_edit_form_never_prefills_the_stored_values(tree):
    member = Member.objects.get(pk=tree.members["党员乙"].pk)
    form = MemberForm(instance=member, branch=member.branch)
    html = str(form["id_number"]) + str(form["phone"])
    assert member.id_number not in html and member.phone not in html
    assert member.masked_id_number in html and member.masked_phone in html


# --- Add ------------------------------------------------------------------------------------------


def _add_data(**overrides) -> dict[str, str]:
    birth = dt.date(1992, 5, 17)
    data = {
        "name": "欧阳新",
        "gender": "F",
        "birth_date": birth.isoformat(),
        "id_number": f.make_id_number(birth, "F"),
        "phone": "13600001111",
        "status": MemberStatus.PROBATIONARY,
        "joined_on": (TODAY - dt.timedelta(days=60)).isoformat(),
    }
    data.update(overrides)
    return data


def test_add_places_the_new_member_in_the_chosen_group(tree, client):
    login(client, tree, "secretary_a")
    group = tree.groups["a1"]
    day = TODAY - dt.timedelta(days=30)
    response = client.post(
        reverse("registry:add") + f"?branch={tree.branches['A'].pk}",
        _add_data(group=str(group.pk), started_on=day.isoformat()),
    )
    assert response.status_code == 302
    member = Member.objects.get(name="欧阳新")
    assert response["Location"] == reverse("registry:detail", args=[member.pk])
    assert (member.branch, member.state, member.phone) == (
        tree.branches["A"],
        MemberState.ACTIVE,
        "13600001111",
    )
    assert list(
        GroupMembership.objects.filter(member=member).values_list("group_id", "started_on", "ended_on")
    ) == [(group.pk, day, None)]
    assert member.history.get().history_user.username == "secretary_a"


def test_add_without_group_leaves_the_member_unplaced(tree, client):
    login(client, tree, "secretary_a")
    response = client.post(reverse("registry:add") + f"?branch={tree.branches['A'].pk}", _add_data())
    assert response.status_code == 302
    assert not GroupMembership.objects.filter(member__name="欧阳新").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"started_on": "2019-01-01"}, "started_on", "编入日期不能早于党小组建立日期（2020-01-01）。"),
        ({"started_on": ""}, "started_on", "编入党小组时必须填写编入日期。"),
        ({"id_number": "WRONG"}, "id_number", "身份证号校验位错误，请核对。"),
        ({"joined_on": ""}, "joined_on", "预备党员必须填写入党日期。"),
    ],
)
def test_add_refusals_save_nothing(tree, client, overrides, field, message):
    login(client, tree, "secretary_a")
    before = row_counts()
    data = _add_data(group=str(tree.groups["a1"].pk), started_on=TODAY.isoformat())
    data.update(overrides)
    if data["id_number"] == "WRONG":
        data["id_number"] = wrong_check_digit(_add_data()["id_number"])
    response = client.post(reverse("registry:add") + f"?branch={tree.branches['A'].pk}", data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert row_counts() == before
    assert response.context["form"].instance.pk is None


def test_add_offers_only_the_branchs_active_groups_and_units(tree, client):
    unit_a = f.UnitFactory(branch=tree.branches["A"], name="甲处")
    f.UnitFactory(branch=tree.branches["C"], name="丙处")
    login(client, tree, "secretary_a")
    form = client.get(reverse("registry:add") + f"?branch={tree.branches['A'].pk}").context["form"]
    assert set(form.fields["group"].queryset) == {tree.groups["a1"], tree.groups["a2"]}
    assert set(form.fields["unit"].queryset) == {unit_a}


# --- Leave ----------------------------------------------------------------------------------------


def test_leave_ends_the_group_membership_and_the_leader_appointment(tree, client):
    member = tree.members["组长甲"]
    login(client, tree, "secretary_a")
    day = TODAY - dt.timedelta(days=1)
    response = client.post(
        reverse("registry:leave", args=[member.pk]), {"left_on": day.isoformat(), "reason": "组织关系转出"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.state, member.left_on) == (MemberState.LEFT, day)
    assert list(GroupMembership.objects.filter(member=member).values_list("group_id", "ended_on")) == [
        (tree.groups["a1"].pk, day)
    ]
    assert list(LeaderAppointment.objects.filter(member=member).values_list("ended_on", "end_reason")) == [
        (day, "组织关系转出")
    ]
    assert (
        member.history.order_by("-history_date", "-history_id").first().history_user.username == "secretary_a"
    )
    # leader_a1 no longer leads: the registry is closed to them now
    login(client, tree, "leader_a1")
    assert client.get(list_url(tree.branches["A"])).status_code == 404


@pytest.mark.parametrize(
    ("left_on", "message"),
    [
        ("2019-06-01", "离册日期必须晚于其担任组长的任职日期"),
        ((TODAY + dt.timedelta(days=1)).isoformat(), "离册日期不能晚于今天。"),
        ("", "这个字段是必填项。"),
    ],
)
def test_leave_refusals_change_nothing(tree, client, left_on, message):
    member = tree.members["组长甲"]
    Member.objects.filter(pk=member.pk).update(
        joined_on=dt.date(2000, 7, 1), full_member_on=dt.date(2001, 7, 1)
    )
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(reverse("registry:leave", args=[member.pk]), {"left_on": left_on})
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors["left_on"])
    assert row_counts() == before
    member.refresh_from_db()
    assert member.state == MemberState.ACTIVE


def test_leave_twice_is_refused(tree, client):
    member = tree.members["党员乙"]
    group_services.member_leave(member=member, left_on=TODAY, by=fresh_user(tree, "secretary_a"))
    login(client, tree, "secretary_a")
    before = row_counts()
    response = client.post(reverse("registry:leave", args=[member.pk]), {"left_on": TODAY.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [f"“党员乙”已于{TODAY:%Y-%m-%d}离册。"]
    assert row_counts() == before


def test_member_leave_is_one_transaction(tree):
    """A refusal after the appointment was ended rolls that back too (the membership starts later)."""
    member = tree.members["组长甲"]
    Member.objects.filter(pk=member.pk).update(
        joined_on=dt.date(2000, 7, 1), full_member_on=dt.date(2001, 7, 1)
    )
    membership = GroupMembership.objects.get(member=member)
    membership.started_on = dt.date(2023, 1, 1)
    membership.save()
    before = row_counts()
    with pytest.raises(ValidationError, match="离册日期必须晚于编入党小组的日期"):
        group_services.member_leave(
            member=member, left_on=dt.date(2022, 6, 1), by=fresh_user(tree, "secretary_a")
        )
    assert row_counts() == before
    assert LeaderAppointment.objects.get(member=member).ended_on is None


def test_member_leave_ends_committee_posts_too(tree):
    """A secretary who leaves the register leaves the branch committee on the same day."""
    from members.models import CommitteeMembership

    post = CommitteeMembership.objects.filter(ended_on__isnull=True).select_related("member").first()
    member = post.member
    group_services.member_leave(member=member, left_on=TODAY, by=fresh_user(tree, "secretary_a"))
    post.refresh_from_db()
    assert post.ended_on == TODAY
    assert post.history.values_list("history_change_reason", flat=True).first() == "党员离册"
