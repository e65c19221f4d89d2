"""Tests of the home page (partygroup/views.py ``home``) and the menu per role (templates/_nav.html,
partygroup/templatetags/dashboard_nav.py).

One workspace → straight there; several → a chooser with a card per role; a plain member → their
own page; no role → a plain Chinese explanation. The menu shows each role's entries and never
breaks when a page of another part of the app is missing (guarded ``{% url … as … %}``).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from members.enums import CommitteePost
from tests import factories as f

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

HOME = reverse("home")


def _reverse_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def leader_workspace_url(group) -> str:
    return _reverse_or_none("workspace:group", group.pk) or f"{reverse('meetings:list')}?group={group.pk}"


def card_titles(response) -> list[str]:
    return [card.title for card in response.context["cards"]]


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_post_is_405(world, client):
    client.force_login(world.secretary)
    assert client.post(HOME).status_code == 405


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("secretary", lambda w: reverse("dashboard:branch", args=[w.branch.pk])),
        ("org_staff", lambda w: reverse("dashboard:overview")),
        ("leader", lambda w: leader_workspace_url(w.group)),
        ("member_user", lambda w: reverse("dashboard:me")),
    ],
)
def test_one_role_goes_straight_to_its_page(world, client, role, target):
    """The secretary, leader and member are members too: their own page is not a second workspace."""
    client.force_login(getattr(world, role))
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == target(world)


def test_several_roles_get_a_chooser_with_a_card_per_role(world, client):
    """A group leader who is also on the branch committee and on the organisation's staff."""
    f.CommitteeMembershipFactory(member=world.leader_member, post=CommitteePost.ORGANISATION)
    f.OrganisationStaffFactory(organisation=world.branch.organisation, user=world.leader)
    client.force_login(world.leader)
    response = client.get(HOME)
    assert response.status_code == 200
    assert card_titles(response) == [
        "支部工作台 — 办公室党支部",
        "党小组工作台 — 第一党小组",
        "组织部门总览",
        "我的党员信息",
    ]
    urls = [card.url for card in response.context["cards"]]
    assert urls == [
        reverse("dashboard:branch", args=[world.branch.pk]),
        leader_workspace_url(world.group),
        reverse("dashboard:overview"),
        reverse("dashboard:me"),
    ]
    body = response.content.decode()
    for url in urls:
        assert f'href="{url}"' in body


def test_choose_parameter_shows_the_chooser_for_one_role(world, client):
    client.force_login(world.secretary)
    response = client.get(HOME, {"choose": "1"})
    assert response.status_code == 200
    assert card_titles(response) == ["支部工作台 — 办公室党支部", "我的党员信息"]


def test_superuser_without_other_roles_goes_to_the_overview(db, client):
    user = f.UserFactory(username="root")
    user.is_superuser = True
    user.save()
    client.force_login(user)
    assert client.get(HOME)["Location"] == reverse("dashboard:overview")


def test_no_role_gets_a_plain_explanation(db, client):
    client.force_login(f.UserFactory(username="nobody"))
    response = client.get(HOME)
    assert response.status_code == 200
    assert response.context["cards"] == []
    body = response.content.decode()
    assert "您的账号目前还没有可用的工作台。" in body
    assert "请联系所在党支部书记或组织委员" in body


def test_member_who_left_has_no_role(world, client):
    member = world.member_user.member
    member.state = "left"
    member.left_on = member.joined_on
    member.save()
    client.force_login(world.member_user)
    response = client.get(HOME)
    assert response.status_code == 200
    assert response.context["cards"] == []


# --- The menu ---------------------------------------------------------------------------------------


def nav_links(user) -> dict[str, str]:
    """The menu's entries for ``user``: link text → href (rendered like base.html does)."""
    request = RequestFactory().get("/")
    request.user = user
    request.resolver_match = None
    html = Template('{% include "_nav.html" %}').render(Context({"request": request, "user": user}))
    links = {}
    for part in html.split('<a class="nav-link')[1:]:
        href = part.split('href="', 1)[1].split('"', 1)[0]
        text = part.split(">", 1)[1].split("</a>", 1)[0]
        links[text] = href
    return links


def _optional(text: str, url_name: str) -> set[str]:
    """The entry ``text`` when the page ``url_name`` exists (pages of other parts of the app)."""
    return {text} if _reverse_or_none(url_name) else set()


def test_menu_of_the_branch_secretary(world):
    links = nav_links(world.secretary)
    expected = {"首页", "支部工作台", "组织生活", "谈心谈话", "我的党员信息"}
    expected |= _optional("党小组", "groups:list") | _optional("党员名册", "registry:list")
    expected |= _optional("组长考核与培养", "duties:led_candidates")
    expected |= _optional("党费与思想汇报", "ledger:home") | _optional("年度工作报告", "annual:list")
    assert set(links) == expected
    assert links["支部工作台"] == reverse("dashboard:branch", args=[world.branch.pk])


def test_menu_of_organisation_staff(world):
    links = nav_links(world.org_staff)
    expected = {"首页", "组织总览", "组织生活", "谈心谈话"}
    expected |= _optional("党员名册", "registry:list")
    expected |= _optional("年度汇总导出", "yearend:index")
    expected |= _optional("党费与思想汇报", "ledger:home") | _optional("年度工作报告", "annual:list")
    assert set(links) == expected
    assert links["组织总览"] == reverse("dashboard:overview")


def test_menu_of_a_group_leader(world):
    links = nav_links(world.leader)
    expected = {"首页", "组织生活", "谈心谈话", "我的党员信息"}
    expected |= _optional("我的工作台", "workspace:home") | _optional("培养对象", "duties:led_candidates")
    expected |= _optional("党费与思想汇报", "ledger:home") | _optional("年度工作报告", "annual:list")
    assert set(links) == expected


def test_menu_of_a_plain_member(world):
    links = nav_links(world.member_user)
    assert set(links) == {"首页", "组织生活", "谈心谈话", "我的党员信息"}
    assert links["我的党员信息"] == reverse("dashboard:me")


def test_menu_of_the_secretary_of_several_branches_points_to_the_chooser(world):
    member = world.secretary.member
    second = f.BranchFactory(organisation=world.branch.organisation, name="第二支部")
    membership = f.CommitteeMembershipFactory(member=member, post=CommitteePost.ORGANISATION)
    # the committee post of another branch (the model requires a member of that branch; bypass clean)
    membership.branch = second
    membership.save()
    links = nav_links(type(world.secretary).objects.get(pk=world.secretary.pk))
    assert links["支部工作台"] == f"{HOME}?choose=1"


def test_menu_for_anonymous_is_harmless():
    assert nav_links(AnonymousUser()) == {
        "首页": HOME,
        "组织生活": reverse("meetings:list"),
        "谈心谈话": reverse("meetings:talks"),
    }
