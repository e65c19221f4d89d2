"""Tests of groups/admin.py: scoping by the selectors, writes through the services, flat queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.enums import FilingStatus, GroupChangeKind, LeaderRole
from groups.models import (
    CultivationCandidate,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderReview,
    PartyGroup,
)
from tests import factories as f

# whitenoise warns when STATIC_ROOT has not been collected (tests never collectstatic); see the report.
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

MODELS = (PartyGroup, GroupMembership, GroupChange, LeaderAppointment)
R24_ART = "《中央和国家机关党小组工作规则（试行）》第十条第（一）项"


def row_counts():
    return {m.__name__: (m.objects.count(), m.history.count()) for m in MODELS}


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:groups_{model}_{view}", args=args)


def make_staff(user, *, codenames=None):
    """Give ``user`` admin access with the groups app's model permissions (all, or ``codenames``)."""
    user.is_staff = True
    user.save()
    perms = Permission.objects.filter(content_type__app_label="groups")
    if codenames is not None:
        perms = perms.filter(codename__in=codenames)
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def outside_group(world):
    return f.PartyGroupFactory(branch=world.other_branch, name="外支部党小组")


@pytest.fixture
def secretary_client(client, world):
    client.force_login(make_staff(world.secretary))
    return client


def changelist_pks(client, model: str, query: str = "") -> set[int]:
    response = client.get(admin_url(model, "changelist") + query)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- scoping -------------------------------------------------------------------------------------
def test_group_changelist_lists_only_the_secretarys_branch(secretary_client, world, outside_group):
    assert changelist_pks(secretary_client, "partygroup") == {world.group.pk, world.other_group.pk}


def test_group_changelist_of_each_role(client, world, outside_group, admin_user):
    make_staff(world.other_secretary)
    make_staff(world.org_staff, codenames=["view_partygroup"])
    expected = {
        world.other_secretary: {outside_group.pk},
        world.org_staff: {world.group.pk, world.other_group.pk},
        admin_user: {world.group.pk, world.other_group.pk, outside_group.pk},
    }
    for user, pks in expected.items():
        client.force_login(user)
        assert changelist_pks(client, "partygroup") == pks, user


def test_group_change_page_of_another_branch_is_not_reachable(secretary_client, outside_group):
    response = secretary_client.get(admin_url("partygroup", "change", outside_group.pk))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    page = secretary_client.get(response.url)
    assert "外支部党小组" not in page.content.decode()


def test_group_history_of_another_branch_is_forbidden(secretary_client, outside_group):
    assert secretary_client.get(admin_url("partygroup", "history", outside_group.pk)).status_code == 403
    version = outside_group.history.first().history_id
    url = reverse("admin:groups_partygroup_simple_history", args=(outside_group.pk, version))
    assert secretary_client.get(url).status_code == 403


def test_group_history_of_own_branch_is_readable_but_not_revertible(secretary_client, world):
    assert secretary_client.get(admin_url("partygroup", "history", world.group.pk)).status_code == 200
    version = world.group.history.first().history_id
    url = reverse("admin:groups_partygroup_simple_history", args=(world.group.pk, version))
    assert secretary_client.get(url).status_code == 200
    before = row_counts()
    assert secretary_client.post(url, {"name": "改名"}).status_code == 403
    assert row_counts() == before


def test_membership_and_appointment_changelists_are_scoped(secretary_client, world, outside_group):
    outsider = f.GroupMembershipFactory(group=outside_group)
    f.LeaderAppointmentFactory(group=outside_group, member=outsider.member)
    assert changelist_pks(secretary_client, "groupmembership") == set(
        GroupMembership.objects.filter(group__branch=world.branch).values_list("pk", flat=True)
    )
    assert changelist_pks(secretary_client, "leaderappointment") == set(
        LeaderAppointment.objects.filter(group__branch=world.branch).values_list("pk", flat=True)
    )
    assert secretary_client.get(admin_url("groupmembership", "change", outsider.pk)).status_code == 302


def test_branch_filter_lists_only_visible_branches(secretary_client, world, outside_group):
    response = secretary_client.get(admin_url("partygroup", "changelist"))
    filter_choices = [
        c["display"]
        for spec in response.context["cl"].filter_specs
        for c in spec.choices(response.context["cl"])
    ]
    assert "办公室党支部" in filter_choices
    assert "另一党支部" not in filter_choices


# --- PartyGroup pages ----------------------------------------------------------------------------
def test_group_change_page_shows_leader_and_current_members_read_only(secretary_client, world):
    ended = f.GroupMembershipFactory(
        group=world.group, member__name="已调出", started_on=dt.date(2020, 1, 1), ended_on=dt.date(2021, 1, 1)
    )
    response = secretary_client.get(admin_url("partygroup", "change", world.group.pk))
    assert response.status_code == 200
    inline = response.context["inline_admin_formsets"][0]
    assert {form.original.member_id for form in inline} == {m.pk for m in world.members}
    assert ended.member_id not in {form.original.member_id for form in inline}
    assert not inline.has_add_permission and not inline.has_change_permission
    content = response.content.decode()
    assert world.leader_member.name in content


def test_group_changelist_shows_leader_and_member_count(secretary_client, world):
    response = secretary_client.get(admin_url("partygroup", "changelist"))
    rows = {g.pk: g for g in response.context["cl"].result_list}
    assert [a.member.name for a in rows[world.group.pk].current_leaders] == [world.leader_member.name]
    assert rows[world.group.pk].current_member_count == 4
    assert rows[world.other_group.pk].current_member_count == 4  # 3 members and the secretary


def test_group_search_finds_by_name(secretary_client, world):
    assert changelist_pks(secretary_client, "partygroup", "?q=第一") == {world.group.pk}


def test_group_add_goes_through_group_create_r05_and_warns_r03(secretary_client, world):
    response = secretary_client.post(
        admin_url("partygroup", "add"),
        {
            "branch": world.branch.pk,
            "name": "第三党小组",
            "established_on": "2024-09-01",
            "decided_on": "2024-08-20",
            "document_number": "支委会〔2024〕3号",
            "summary": "",
        },
        follow=True,
    )
    group = PartyGroup.objects.get(name="第三党小组")
    change = GroupChange.objects.get(group=group)
    assert (change.kind, change.filing_status, change.document_number, change.decided_by) == (
        GroupChangeKind.CREATE,
        FilingStatus.PENDING,
        "支委会〔2024〕3号",
        world.secretary,
    )
    assert list(group.history.values_list("history_user__username", "history_change_reason")) == [
        ("secretary", "建立党小组")
    ]
    assert (
        "R-03：党小组“第三党小组”现有党员0名，少于3名。（《中央和国家机关党小组工作规则（试行）》第一条）"
        in (messages_of(response))
    )


def test_group_add_refusal_saves_nothing(secretary_client, world):
    before = row_counts()
    response = secretary_client.post(
        admin_url("partygroup", "add"),
        {
            "branch": world.branch.pk,
            "name": "第三党小组",
            "established_on": "2024-09-01",
            "decided_on": "2024-09-02",
            "document_number": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "decided_on": ["支部决定日期不能晚于党小组建立日期。"]
    }
    assert row_counts() == before


def test_group_add_offers_only_managed_branches(secretary_client, world):
    before = row_counts()
    response = secretary_client.post(
        admin_url("partygroup", "add"),
        {
            "branch": world.other_branch.pk,
            "name": "越权组",
            "established_on": "2024-09-01",
            "decided_on": "2024-09-01",
            "document_number": "1",
        },
    )
    assert list(response.context["adminform"].form.errors) == ["branch"]
    assert row_counts() == before


def test_secretary_renames_a_group_of_the_branch_with_history(secretary_client, world):
    response = secretary_client.post(
        admin_url("partygroup", "change", world.group.pk),
        {
            "name": "综合党小组",
            "unit": "",
            "note": "更名",
            # the read-only inline of current members still posts its management form
            "memberships-TOTAL_FORMS": "4",
            "memberships-INITIAL_FORMS": "4",
            **{
                f"memberships-{i}-id": m.pk
                for i, m in enumerate(world.group.memberships.order_by("member", "started_on"))
            },
            **{f"memberships-{i}-group": world.group.pk for i in range(4)},
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.group.refresh_from_db()
    assert (world.group.name, world.group.note, world.group.branch_id) == (
        "综合党小组",
        "更名",
        world.branch.pk,
    )
    assert world.group.history.first().history_user == world.secretary


def test_org_staff_cannot_add_or_change_groups(client, world):
    client.force_login(make_staff(world.org_staff))
    assert client.get(admin_url("partygroup", "add")).status_code == 403
    response = client.post(admin_url("partygroup", "change", world.group.pk), {"name": "改名"})
    assert response.status_code == 403
    world.group.refresh_from_db()
    assert world.group.name == "第一党小组"


# --- LeaderAppointment through leader_appoint (R-24, R-25) -----------------------------------------
def appoint_data(group, member, **overrides):
    data = {
        "group": group.pk,
        "member": member.pk,
        "role": LeaderRole.DEPUTY,
        "mode": "designated",
        "started_on": "2024-09-01",
        "term_ends_on": "",
        "decision_number": "支委会〔2024〕9号",
        "attests_political_quality": "on",
        "attests_dedication": "on",
        "attests_organising_ability": "on",
        "attestation_note": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_leader_admin_form_refuses_a_probationary_member_r24(secretary_client, world):
    candidate = f.GroupMembershipFactory(group=world.group, member__probationary=True).member
    before = row_counts()
    response = secretary_client.post(
        admin_url("leaderappointment", "add"), appoint_data(world.group, candidate)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "member": [
            f"“{candidate.name}”不是正式党员，不能担任党小组“第一党小组”的组长或副组长。（R-24，{R24_ART}）"
        ]
    }
    assert "R-24" in response.content.decode()
    assert row_counts() == before


def test_leader_admin_form_refuses_without_r25_attestation(secretary_client, world):
    before = row_counts()
    response = secretary_client.post(
        admin_url("leaderappointment", "add"),
        appoint_data(world.group, world.members[1], attests_dedication=None),
    )
    assert response.context["adminform"].form.non_field_errors() == [
        "党支部须逐项确认组长条件（R-25，第十条第（二）至（四）项：政治素质、事业心和责任感、组织协调能力）。"
    ]
    assert row_counts() == before


def test_leader_admin_form_appoints_through_the_service(secretary_client, world):
    response = secretary_client.post(
        admin_url("leaderappointment", "add"), appoint_data(world.group, world.members[1])
    )
    assert response.status_code == 302
    appointment = LeaderAppointment.objects.get(member=world.members[1])
    assert (appointment.group_id, appointment.role, appointment.attested_by, appointment.decision_number) == (
        world.group.pk,
        LeaderRole.DEPUTY,
        world.secretary,
        "支委会〔2024〕9号",
    )
    assert list(appointment.history.values_list("history_user__username", "history_change_reason")) == [
        ("secretary", "任命副组长")
    ]


def test_leader_admin_form_refuses_a_group_of_another_branch(secretary_client, world, outside_group):
    member = f.GroupMembershipFactory(group=outside_group).member
    before = row_counts()
    response = secretary_client.post(
        admin_url("leaderappointment", "add"), appoint_data(outside_group, member)
    )
    assert set(response.context["adminform"].form.errors) == {"group", "member"}
    assert row_counts() == before


def test_leader_admin_change_ends_the_appointment_through_the_service(secretary_client, world):
    appointment = LeaderAppointment.objects.get(group=world.group, member=world.leader_member)
    response = secretary_client.post(
        admin_url("leaderappointment", "change", appointment.pk),
        {"ended_on": "2024-09-01", "end_reason": "工作调动"},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.ended_on, appointment.end_reason) == (dt.date(2024, 9, 1), "工作调动")
    assert appointment.history.first().history_change_reason == "组长离任"


def test_leader_admin_change_refuses_an_end_before_the_start(secretary_client, world):
    appointment = LeaderAppointment.objects.get(group=world.group, member=world.leader_member)
    before = row_counts()
    response = secretary_client.post(
        admin_url("leaderappointment", "change", appointment.pk),
        {"ended_on": "2021-01-01", "end_reason": "x"},
    )
    assert response.context["adminform"].form.errors == {"ended_on": ["离任日期必须晚于任职日期。"]}
    assert row_counts() == before


# --- GroupMembership through membership_start (R-09) ----------------------------------------------
def test_membership_admin_refuses_a_member_already_in_a_group_r09(secretary_client, world):
    before = row_counts()
    response = secretary_client.post(
        admin_url("groupmembership", "add"),
        {
            "member": world.members[1].pk,
            "group": world.other_group.pk,
            "started_on": "2024-09-01",
            "note": "",
        },
    )
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["group"]
    assert "R-09" in errors["group"][0]
    assert row_counts() == before


def test_membership_admin_places_a_member_through_the_service(secretary_client, world):
    newcomer = f.MemberFactory(branch=world.branch)
    response = secretary_client.post(
        admin_url("groupmembership", "add"),
        {"member": newcomer.pk, "group": world.group.pk, "started_on": "2024-09-01", "note": "新调入"},
    )
    assert response.status_code == 302
    membership = GroupMembership.objects.get(member=newcomer)
    assert (membership.group_id, membership.started_on, membership.note) == (
        world.group.pk,
        dt.date(2024, 9, 1),
        "新调入",
    )
    assert membership.history.first().history_user == world.secretary


# --- GroupChange filing actions (R-05) ------------------------------------------------------------
@pytest.fixture
def changes(world):
    def change(status, number):
        return GroupChange.objects.create(
            branch=world.branch,
            group=world.group,
            kind=GroupChangeKind.ADJUST,
            summary="调整",
            decided_on=dt.date(2024, 8, 1),
            document_number=number,
            decided_by=world.secretary,
            filing_status=status,
            filed_on=None if status == FilingStatus.PENDING else dt.date(2024, 8, 2),
        )

    return {
        "pending": change(FilingStatus.PENDING, "1"),
        "filed": change(FilingStatus.FILED, "2"),
        "other": GroupChange.objects.create(
            branch=world.other_branch,
            kind=GroupChangeKind.CREATE,
            summary="外支部",
            decided_on=dt.date(2024, 8, 1),
            document_number="9",
            decided_by=world.other_secretary,
        ),
    }


def run_action(client, action, *changes):
    return client.post(
        admin_url("groupchange", "changelist"),
        {"action": action, "index": 0, "_selected_action": [c.pk for c in changes]},
        follow=True,
    )


def test_group_change_changelist_is_scoped_and_filters_by_filing_status(secretary_client, changes):
    assert changelist_pks(secretary_client, "groupchange") == {changes["pending"].pk, changes["filed"].pk}
    assert changelist_pks(secretary_client, "groupchange", "?filing_status__exact=filed") == {
        changes["filed"].pk
    }


def test_r05_file_action_files_pending_changes_and_refuses_filed_ones(secretary_client, world, changes):
    response = run_action(secretary_client, "file_changes", changes["pending"], changes["filed"])
    changes["pending"].refresh_from_db()
    changes["filed"].refresh_from_db()
    assert (changes["pending"].filing_status, changes["pending"].filed_on, changes["pending"].filed_by) == (
        FilingStatus.FILED,
        timezone.localdate(),
        world.secretary,
    )
    assert changes["filed"].filing_status == FilingStatus.FILED
    assert sorted(messages_of(response)) == sorted(
        [
            f"“{changes['filed']}”：该变更当前状态为“已报上级备案”，不能再次报备。",
            "已报上级备案 1 项（R-05）。",
        ]
    )


def test_secretary_is_not_offered_the_acknowledge_action(secretary_client, changes):
    response = secretary_client.get(admin_url("groupchange", "changelist"))
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "file_changes" in actions
    assert "acknowledge_changes" not in actions
    run_action(secretary_client, "acknowledge_changes", changes["filed"])
    changes["filed"].refresh_from_db()
    assert changes["filed"].filing_status == FilingStatus.FILED


def test_r05_org_staff_acknowledges_filed_changes_and_is_refused_pending_ones(client, world, changes):
    client.force_login(make_staff(world.org_staff, codenames=["view_groupchange"]))
    response = run_action(client, "acknowledge_changes", changes["filed"], changes["pending"])
    changes["filed"].refresh_from_db()
    changes["pending"].refresh_from_db()
    assert (changes["filed"].filing_status, changes["filed"].acknowledged_by) == (
        FilingStatus.ACKNOWLEDGED,
        world.org_staff,
    )
    assert changes["pending"].filing_status == FilingStatus.PENDING
    assert sorted(messages_of(response)) == sorted(
        [f"“{changes['pending']}”：只有已报备的变更才能备案。", "已确认备案 1 项（R-05）。"]
    )


def test_org_staff_may_not_file_for_the_branch(client, world, changes):
    client.force_login(make_staff(world.org_staff, codenames=["view_groupchange"]))
    response = client.get(admin_url("groupchange", "changelist"))
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "file_changes" not in actions
    assert "acknowledge_changes" in actions


# --- flat query count ----------------------------------------------------------------------------
def _changelist_queries(client, model: str) -> int:
    url = admin_url(model, "changelist")
    client.get(url)  # warm up caches (content types, session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _add_groups(branch, count: int) -> None:
    for _ in range(count):
        group = f.PartyGroupFactory(branch=branch)
        members = [f.GroupMembershipFactory(group=group).member for _ in range(3)]
        f.LeaderAppointmentFactory(group=group, member=members[0])


@pytest.mark.parametrize("model", ["partygroup", "groupmembership", "leaderappointment"])
def test_changelist_query_count_is_flat_for_1_and_20_groups(client, db, model):
    branch = f.BranchFactory()
    secretary = f.CommitteeMembershipFactory(member__branch=branch).member
    client.force_login(make_staff(f.user_for(secretary, "sec")))
    _add_groups(branch, 1)
    one = _changelist_queries(client, model)
    _add_groups(branch, 19)
    twenty = _changelist_queries(client, model)
    assert one == twenty


# --- Leader reviews, cultivation (R-22) ----------------------------------------------------------
def test_leader_review_added_in_the_admin_warns_replacement_due_r28(secretary_client, world):
    appointment = LeaderAppointment.objects.get(group=world.group, member=world.leader_member)
    f.LeaderReviewFactory(appointment=appointment, year=2023, grade="incompetent")
    data = {"appointment": appointment.pk, "year": 2024, "grade": "incompetent", "reviewed_on": "2024-12-20"}
    response = secretary_client.post(admin_url("leaderreview", "add"), data, follow=True)
    assert response.status_code == 200
    assert list(LeaderReview.objects.order_by("year").values_list("year", "grade")) == [
        (2023, "incompetent"),
        (2024, "incompetent"),
    ]
    [warning] = messages_of(response)[:1]
    assert warning.startswith(
        f"R-28：党小组“{world.group.name}”的组长“{world.leader_member.name}”2023年、2024年连续两次"
    )


def test_leader_review_for_a_year_before_the_appointment_is_a_form_error_r28(secretary_client, world):
    appointment = LeaderAppointment.objects.get(group=world.group, member=world.leader_member)
    data = {"appointment": appointment.pk, "year": 2021, "grade": "competent", "reviewed_on": "2021-12-20"}
    response = secretary_client.post(admin_url("leaderreview", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        f"“{world.leader_member.name}”在2021年不是党小组“{world.group.name}”的组长或副组长，不能对其进行年度考核。"
    ]
    assert not LeaderReview.objects.exists()


def test_candidates_are_scoped_and_added_through_the_service_r22(secretary_client, world, outside_group):
    contact = world.members[1]
    data = {
        "group": world.group.pk,
        "name": "陈晓东",
        "gender": "M",
        "birth_date": "2000-05-04",
        "applied_on": "2024-03-01",
        "contacts": [contact.pk],
        "note": "",
        "decided_by_note": "递交入党申请书",
    }
    assert secretary_client.post(admin_url("cultivationcandidate", "add"), data).status_code == 302
    candidate = CultivationCandidate.objects.get()
    assert (candidate.stage, list(candidate.contacts.all())) == ("applicant", [contact])
    outsider = CultivationCandidate.objects.create(
        branch=outside_group.branch,
        group=outside_group,
        name="外人",
        gender="F",
        birth_date=dt.date(1999, 1, 1),
        stage="applicant",
        stage_started_on=dt.date(2024, 1, 1),
        created_by=world.other_secretary,
    )
    assert changelist_pks(secretary_client, "cultivationcandidate") == {candidate.pk}
    page = secretary_client.get(admin_url("cultivationcandidate", "change", candidate.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert secretary_client.get(admin_url("cultivationcandidate", "change", outsider.pk)).status_code == 302
