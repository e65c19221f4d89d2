"""Tests of the split suggestion page (groups/views.py ``split``; R-01, R-07, R-03, R-04, R-24, R-05).

The page shows the proposal of ``suggest_split_for_branch`` (or the reasons none exists), the secretary
adjusts it — every change re-validated with ``check_proposal``, live through htmx or by a plain POST —
and accepts it, which ``split_accept`` turns into one recorded branch decision. Refusals show Chinese
messages and save nothing. The permission matrix of the page is in tests/groups/test_views.py (CASES
"split GET", "split check POST", "split accept POST").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from members.enums import CommitteePost
from members.models import Member
from tests import factories as f
from tests.groups.test_views import ATTESTS, follow_messages, row_counts

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
DOC = "机关支〔2025〕7号"
UNITS = (("综合处", 8), ("财务处", 7), ("人事处", 6), ("信息中心", 5))


@dataclass
class Branch26:
    branch: object
    secretary: object
    staff: object
    units: dict[str, list[Member]]  # unit name → members; [0] the head (full), [-1] probationary

    @property
    def url(self) -> str:
        return reverse("groups:split", args=[self.branch.pk])


@pytest.fixture
def b26(db) -> Branch26:
    """26 members in 4 units (central 2019 rules): each unit's head is a full member, its last member
    probationary; the secretary is a member of 综合处."""
    organisation = f.OrganisationFactory(rule_set=f.rule_set("central-2019"))
    branch = f.BranchFactory(organisation=organisation, name="市财政局机关党支部")
    units: dict[str, list[Member]] = {}
    for unit_name, size in UNITS:
        unit = f.UnitFactory(branch=branch, name=unit_name)
        units[unit_name] = [
            f.MemberFactory(
                branch=branch,
                unit=unit,
                name=f"{unit_name[:2]}{i + 1}",
                post=f"{unit_name}处长" if i == 0 else "",
                probationary=i == size - 1,
            )
            for i in range(size)
        ]
    secretary = units["综合处"][1]
    f.CommitteeMembershipFactory(member=secretary, post=CommitteePost.SECRETARY)
    staff = f.OrganisationStaffFactory(organisation=organisation).user
    return Branch26(branch, f.user_for(secretary, "secretary"), staff, units)


def expected_groups(b: Branch26) -> set[tuple[str, frozenset[str], str]]:
    """One group per unit (R-07), each led by the unit's head (R-26)."""
    return {
        (f"{name}党小组", frozenset(m.name for m in members), members[0].name)
        for name, members in b.units.items()
    }


def shown_groups(context) -> set[tuple[str, frozenset[str], str]]:
    names = {m.id: m.name for row in context["rows"] for m in row["members"]}
    return {
        (row["name"], frozenset(m.name for m in row["members"]), names.get(row["leader_id"]))
        for row in context["rows"]
    }


def proposal_data(context, *, moves=None, leaders=None, names=None, **extra) -> dict:
    """The POST the page makes from what it shows, with members moved (member → group index), leaders
    and names changed (group index → …)."""
    data: dict = {"count": str(len(context["rows"]))}
    for row in context["rows"]:
        index = row["index"]
        data[f"g-{index}-name"] = (names or {}).get(index, row["name"])
        leader = (leaders or {}).get(index, row["leader_id"])
        data[f"g-{index}-leader"] = "" if leader is None else str(leader)
        for m in row["members"]:
            data[f"m-{m.id}"] = str(index)
    for member, index in (moves or {}).items():
        data[f"m-{member.pk}"] = "" if index is None else str(index)
    data.update(extra)
    return data


def index_of(context, unit_name: str) -> int:
    return next(row["index"] for row in context["rows"] if row["name"] == f"{unit_name}党小组")


def decision(**overrides) -> dict:
    data = {
        "op": "accept",
        "decided_on": (TODAY - DAY).isoformat(),
        "document_number": DOC,
        "effective_on": TODAY.isoformat(),
        "attestation_note": "经支委会考察，符合党小组组长任职条件。",
        **ATTESTS,
    }
    data.update(overrides)
    return data


# --- The proposal -----------------------------------------------------------------------------------


def test_split_page_shows_the_proposal_for_26_members_in_4_units(b26, client):
    client.force_login(b26.secretary)
    response = client.get(b26.url)
    ctx = response.context
    assert shown_groups(ctx) == expected_groups(b26)
    assert (ctx["member_count"], ctx["full_count"]) == (26, 22)
    assert ctx["reasons"] == [] and ctx["errors"] == [] and ctx["unplaced"] == []
    assert ctx["notes"] == []  # every unit whole
    assert ctx["can_manage"] is True
    body = response.content.decode()
    assert "党员人数达到20人，一般应当划分若干党小组（R-01）。" in body
    assert "每个党小组3—19名党员，至少1名正式党员（R-03、R-04）" in body
    assert 'name="op" value="accept"' in body
    assert body.count('class="form-select form-select-sm split-move"') == 26


def test_split_page_is_read_only_for_org_staff(b26, client):
    client.force_login(b26.staff)
    response = client.get(b26.url)
    body = response.content.decode()
    assert shown_groups(response.context) == expected_groups(b26)
    assert response.context["can_manage"] is False
    assert 'name="op" value="accept"' not in body and "hx-post" not in body
    assert body.count(" disabled") == 26 + 2 * 4  # every member, name and leader input


def test_split_adjustment_is_revalidated_live_through_htmx(b26, client):
    """Move one member of 综合处 to 信息中心's group: valid (R-03/R-04 hold), an R-07 note, nothing saved."""
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    moved = b26.units["综合处"][2]
    target = index_of(ctx, "信息中心")
    before = row_counts()
    response = client.post(
        b26.url, proposal_data(ctx, moves={moved: target}, op="check"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.templates[0].name == "groups/_split_proposal.html"
    body = response.content.decode()
    assert "<html" not in body and 'id="split-proposal"' in body
    assert response.context["errors"] == []
    assert "调整后的方案符合规定" in body
    spread = "、".join(sorted(["综合处党小组", "信息中心党小组"], key=lambda n: index_of(ctx, n[:-3])))
    assert response.context["notes"] == [
        f"单位“综合处”的8名党员分在2个党小组（{spread}），党小组宜与处室、科室、车间对应。"
    ]
    rows = {row["name"]: row for row in response.context["rows"]}
    assert moved.name in {m.name for m in rows["信息中心党小组"]["members"]}
    assert (rows["信息中心党小组"]["size"], rows["综合处党小组"]["size"]) == (6, 7)
    assert (
        f'<option value="{target}" selected>' in body.split(f'name="m-{moved.pk}"')[1].split("</select>")[0]
    )
    assert row_counts() == before


def test_split_check_works_as_a_plain_post_and_keeps_the_decision_fields(b26, client):
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    response = client.post(
        b26.url, proposal_data(ctx, op="check", document_number=DOC, names={0: "第一组"}), follow=False
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert response.context["errors"] == []
    assert response.context["decision_form"]["document_number"].value() == DOC
    assert {row["name"] for row in response.context["rows"]} >= {"第一组"}
    assert f'value="{DOC}"' in body


def test_split_accept_of_an_adjusted_proposal_creates_exactly_the_groups_leaders_and_changes(b26, client):
    """R-05: one decision; the moved member in the new group; each head designated with the attestations."""
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    moved = b26.units["综合处"][2]
    data = proposal_data(
        ctx, moves={moved: index_of(ctx, "信息中心")}, names={index_of(ctx, "人事处"): "人事处党小组（调整）"}
    )
    response = client.post(b26.url, {**data, **decision()})
    assert response.status_code == 302, response.context and response.context["accept_errors"]
    assert response["Location"] == f"{reverse('groups:list')}?branch={b26.branch.pk}"
    assert follow_messages(client, response) == [
        "已按划分方案建立4个党小组并任命组长，撤销原党小组0个；本决定待报上级党组织备案（R-05）。"
    ]
    units = b26.units
    expected_members = {
        "综合处党小组": {m.name for m in units["综合处"]} - {moved.name},
        "财务处党小组": {m.name for m in units["财务处"]},
        "人事处党小组（调整）": {m.name for m in units["人事处"]},
        "信息中心党小组": {m.name for m in units["信息中心"]} | {moved.name},
    }
    groups = PartyGroup.objects.filter(branch=b26.branch)
    assert {
        g.name: set(GroupMembership.objects.filter(group=g).values_list("member__name", flat=True))
        for g in groups
    } == expected_members
    assert set(GroupMembership.objects.values_list("started_on", "ended_on")) == {(TODAY, None)}
    assert {(g.name, g.unit.name, g.established_on) for g in groups} == {
        ("综合处党小组", "综合处", TODAY),
        ("财务处党小组", "财务处", TODAY),
        ("人事处党小组（调整）", "人事处", TODAY),
        ("信息中心党小组", "信息中心", TODAY),
    }
    assert set(
        LeaderAppointment.objects.values_list(
            "group__name",
            "member__name",
            "role",
            "mode",
            "started_on",
            "decision_number",
            "attested_by__username",
        )
    ) == {
        (name, units[unit][0].name, LeaderRole.LEADER, AppointmentMode.DESIGNATED, TODAY, DOC, "secretary")
        for name, unit in (
            ("综合处党小组", "综合处"),
            ("财务处党小组", "财务处"),
            ("人事处党小组（调整）", "人事处"),
            ("信息中心党小组", "信息中心"),
        )
    }
    assert all(a.is_fully_attested for a in LeaderAppointment.objects.all())
    assert set(LeaderAppointment.objects.values_list("attestation_note", flat=True)) == {
        "经支委会考察，符合党小组组长任职条件。"
    }
    assert sorted(
        GroupChange.objects.values_list(
            "kind", "group__name", "decided_on", "document_number", "filing_status", "decided_by__username"
        )
    ) == sorted(
        (GroupChangeKind.CREATE, name, TODAY - DAY, DOC, FilingStatus.PENDING, "secretary")
        for name in expected_members
    )


def _group_of_two(b26, ctx):
    """Three of 信息中心's five members go to 综合处: 信息中心's group keeps 2 (R-03)."""
    target = index_of(ctx, "综合处")
    return proposal_data(ctx, moves=dict.fromkeys(b26.units["信息中心"][1:4], target))


def _probationary_leader(b26, ctx):
    return proposal_data(ctx, leaders={index_of(ctx, "综合处"): b26.units["综合处"][-1].pk})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_group_of_two, "党小组“信息中心党小组”只有2名党员，少于3名（R-03）。"),
        (_probationary_leader, "组长人选“综合8”是预备党员，党小组组长必须是正式党员（R-24）。"),
    ],
    ids=["group-of-2", "probationary-leader"],
)
def test_split_invalid_adjustment_is_refused_with_the_message_and_saves_nothing(b26, client, make, message):
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    data = make(b26, ctx)
    checked = client.post(b26.url, {**data, "op": "check"}, HTTP_HX_REQUEST="true")
    assert checked.context["errors"] == [message]
    assert message in checked.content.decode()
    before = row_counts()
    response = client.post(b26.url, {**data, **decision()})
    assert response.status_code == 200
    assert response.context["accept_errors"] == [message]
    assert message in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"document_number": " "}, "请填写支部决定的会议记录或文件编号（R-05）。"),
        ({"attests_dedication": ""}, "党支部须逐项确认组长条件（R-25"),
        ({"decided_on": (TODAY + DAY).isoformat()}, "支部决定日期不能晚于党小组建立日期。"),
    ],
    ids=["no-document-number", "not-attested", "decided-after-effective"],
)
def test_split_accept_refuses_bad_decision_data_and_saves_nothing(b26, client, overrides, message):
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    data = {**proposal_data(ctx), **decision(**overrides)}
    data = {k: v for k, v in data.items() if v != ""}  # an unticked checkbox is not posted
    before = row_counts()
    response = client.post(b26.url, data)
    assert response.status_code == 200
    assert any(message in m for m in response.context["accept_errors"]), response.context["accept_errors"]
    assert row_counts() == before


def test_split_accept_with_an_invalid_date_shows_the_field_error(b26, client):
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    before = row_counts()
    response = client.post(b26.url, {**proposal_data(ctx), **decision(effective_on="2025-13-40")})
    assert response.status_code == 200
    assert response.context["decision_form"].errors == {"effective_on": ["输入一个有效的日期。"]}
    assert row_counts() == before


def test_split_add_and_remove_a_group(b26, client):
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    response = client.post(b26.url, proposal_data(ctx, op="add_group"))
    rows = response.context["rows"]
    assert [(r["name"], r["size"]) for r in rows][-1] == ("新党小组5", 0)
    assert response.context["errors"] == [
        "党小组“新党小组5”只有0名党员，少于3名（R-03）。",
        "党小组“新党小组5”只有0名正式党员，至少需要1名，预备党员不能单独组成党小组（R-04）。",
        "党小组“新党小组5”未提出组长人选（R-24）。",
    ]
    response = client.post(b26.url, proposal_data(response.context, op="remove-4"))
    assert shown_groups(response.context) == expected_groups(b26)
    assert response.context["errors"] == []


def test_split_member_left_out_is_listed_and_refused_r09(b26, client):
    client.force_login(b26.secretary)
    ctx = client.get(b26.url).context
    left_out = b26.units["财务处"][3]
    response = client.post(b26.url, proposal_data(ctx, moves={left_out: None}, op="check"))
    assert [m.name for m in response.context["unplaced"]] == [left_out.name]
    assert response.context["errors"] == [
        f"{left_out.name}未编入任何党小组（R-09：党支部划分党小组后，每名党员都应编入一个党小组）。"
    ]


# --- The `world` branch, requested numbers and refusals ---------------------------------------------


def test_split_of_the_world_branch_replaces_its_groups_with_one_decision(world, client):
    """8 members (< 20, R-02): one group proposed; accepting it dissolves both groups (R-05/R-06)."""
    client.force_login(world.secretary)
    url = reverse("groups:split", args=[world.branch.pk])
    response = client.get(url)
    ctx = response.context
    members = set(Member.objects.filter(branch=world.branch).values_list("name", flat=True))
    assert len(members) == 8
    [row] = ctx["rows"]
    assert (row["name"], {m.name for m in row["members"]}) == ("第一党小组", members)
    leader_id = row["leader_id"]
    assert [g.name for g in ctx["current_groups"]] == ["第一党小组", "第二党小组"]
    assert "将于建立日期撤销" in response.content.decode()
    old = {g.pk for g in ctx["current_groups"]}
    response = client.post(url, {**proposal_data(ctx), **decision()})
    assert follow_messages(client, response) == [
        "已按划分方案建立1个党小组并任命组长，撤销原党小组2个；本决定待报上级党组织备案（R-05）。"
    ]
    assert set(PartyGroup.objects.filter(pk__in=old).values_list("dissolved_on", flat=True)) == {TODAY}
    new = PartyGroup.objects.get(branch=world.branch, dissolved_on__isnull=True)
    assert new.name == "第一党小组"
    assert set(GroupMembership.objects.current(TODAY).values_list("group", "member__name")) == {
        (new.pk, name) for name in members
    }
    assert set(GroupMembership.objects.filter(group__in=old).values_list("ended_on", flat=True)) == {TODAY}
    assert list(LeaderAppointment.objects.current(TODAY).values_list("group", "member")) == [
        (new.pk, leader_id)
    ]
    assert sorted(GroupChange.objects.values_list("kind", "group", "document_number")) == sorted(
        [
            *((GroupChangeKind.DISSOLVE, pk, DOC) for pk in old),
            (GroupChangeKind.CREATE, new.pk, DOC),
        ]
    )


def test_split_requested_number_of_groups(world, client):
    client.force_login(world.secretary)
    url = reverse("groups:split", args=[world.branch.pk])
    response = client.get(url, {"groups": 2})
    assert [r["size"] for r in response.context["rows"]] in ([4, 4], [5, 3], [3, 5])
    response = client.get(url, {"groups": 3})
    assert response.context["reasons"] == [
        "党员人数不足：划分3个党小组至少需要9名党员（每个党小组不少于3名，R-03），本支部只有8名。"
    ]
    assert response.context["draft"] is None
    body = response.content.decode()
    assert "无法给出符合规定的划分方案" in body and 'name="op"' not in body


def test_split_says_plainly_why_no_partition_exists(db, client):
    """25 members, one of them full: at least 2 groups (R-01) but only one can have a full member (R-04)."""
    branch = f.BranchFactory(organisation=f.OrganisationFactory(rule_set=f.rule_set("central-2019")))
    secretary = f.MemberFactory(branch=branch)
    f.CommitteeMembershipFactory(member=secretary, post=CommitteePost.SECRETARY)
    for _ in range(24):
        f.MemberFactory(branch=branch, probationary=True)
    client.force_login(f.user_for(secretary, "secretary"))
    response = client.get(reverse("groups:split", args=[branch.pk]))
    assert response.context["reasons"] == [
        "本支部有25名党员，每个党小组不超过19名（R-01），至少应划分2个党小组；"
        "但本支部只有1名正式党员，无法划分2个以上党小组（每个党小组至少1名正式党员，R-04）。"
    ]
    assert response.context["rows"] == []
    assert "每个党小组至少1名正式党员，R-04" in response.content.decode()
